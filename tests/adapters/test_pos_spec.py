"""POS descriptions: the presets load; a bad description names the exact key."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.pos import load_spec
from adapters.pos.spec import PosSpec, Transform
from adapters.pos.values import field, matches, select
from connector.config import load_settings
from connector.errors import ConfigurationError

PRESETS = Path(__file__).resolve().parents[2] / "examples" / "pos"


@pytest.mark.parametrize("name", ["dutchie", "treez", "flowhub", "blaze"])
def test_every_preset_is_a_valid_description(name: str) -> None:
    spec = load_spec(PRESETS / f"{name}.toml")
    assert spec.name == name and {"customers", "orders"} <= set(spec.streams)


BASE = """
name = "x"
base_url = "http://pos.test"
[auth]
kind = "bearer"
token_env = "X_TOKEN"
[streams.customers]
path = "/c"
[streams.customers.fields]
customer_id = "id"
phone = "phone"
"""


@pytest.mark.parametrize(("change", "expected"), [
    (lambda t: t.replace('kind = "bearer"', 'kind = "magic"'), "auth.kind: Input should be"),
    (lambda t: t.replace('token_env = "X_TOKEN"', ""), "auth kind 'bearer' needs token"),
    (lambda t: t.replace('path = "/c"', 'path = "/c"\npaging = "page"'),
     "streams.customers.paging: unknown key"),
    (lambda t: t + 'sms_opt_in = "smsOk"\n', "needs consent_source"),
    (lambda t: t.replace('path = "/c"', 'path = "/c"\nconsent_source = "x"')
     + 'sms_opt_in = "isLoyaltyMember"\n', "loyalty membership is never consent"),
    (lambda t: t + 'telephone = "phone"\n', "unknown canonical field(s) ['telephone']"),
    (lambda t: t.replace("[auth]", "[auth]\ngrant_type = \"password\"").replace(
        'kind = "bearer"', 'kind = "oauth2"\ntoken_url = "/t"'),
     "grant_type 'password' needs username and password"),
], ids=["kind", "secret", "typo", "consent", "loyalty", "field", "grant"])
def test_a_bad_description_names_the_key(tmp_path: Path, change: object,
                                         expected: str) -> None:
    path = tmp_path / "pos.toml"
    path.write_text(change(BASE), encoding="utf-8")  # type: ignore[operator]
    with pytest.raises(ValueError) as caught:
        load_spec(path)
    assert expected in str(caught.value) and str(path) in str(caught.value)


def test_the_config_reports_a_bad_description_at_load(tmp_path: Path) -> None:
    (tmp_path / "pos.toml").write_text(BASE.replace('kind = "bearer"', 'kind = "x"'),
                                       encoding="utf-8")
    (tmp_path / "c.toml").write_text("""
[[tenants]]
id = "t"
name = "T"
default_workspace = "ws"
[[tenants.sources]]
kind = "pos"
name = "pos"
spec = "pos.toml"
""", encoding="utf-8")
    with pytest.raises(ConfigurationError) as caught:
        load_settings(tmp_path / "c.toml", environ={})
    assert "tenants[t].sources[pos]: spec: " in str(caught.value)
    assert "auth.kind" in str(caught.value)


def test_values_paths_transforms_and_sentinels() -> None:
    record = {"cart": {"total": -48.2, "items": [{"status": "Refunded"}]}, "phone": "N/A",
              "cell": "4155550123", "modified": 1746200000000, "dob": "1900-01-01T00:00:00",
              "cents": 1234, "optOut": "true", "flag": False}
    assert field(record, "cart.total") == "-48.2"
    assert field(record, ["phone", "cell"], ["N/A"]) == "4155550123"
    assert field(record, "dob") is None
    assert field(record, Transform(path="cents", cents=True)) == "12.34"
    assert field(record, Transform(path="cart.total", absolute=True)) == "48.20"
    assert field(record, Transform(path="modified", epoch_ms=True)) == (
        "2025-05-02T15:33:20+00:00")
    assert field(record, Transform(path="optOut", opt_out=True)) == "false"
    assert field({"optOut": "false"}, Transform(path="optOut", opt_out=True)) is None
    assert field(record, "flag") == "false"
    assert matches(record, {"cart.items.0.status": ["refunded"]})
    assert matches({"originalSaleId": "s1"}, {"originalSaleId": ["*"]})
    assert not matches({"originalSaleId": ""}, {"originalSaleId": ["*"]})
    assert select({"data": [1]}, ["data"]) == [1] and select({"data": {}}, ["data"]) is None
    assert select({"a": 1}, [""], single=True) == [{"a": 1}]


def test_spec_type_is_exported() -> None:
    assert PosSpec.model_fields["streams"].is_required()
