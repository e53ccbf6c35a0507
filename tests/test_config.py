"""Configuration: the example documents every key, bad configs say exactly what is wrong."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from connector.config import CsvSourceSettings, Settings, load_settings
from connector.errors import ConfigurationError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "config.example.toml"

VALID = """
[sticky]
base_url = "http://127.0.0.1:9"
[[tenants]]
id = "t1"
name = "T"
default_workspace = "ws_a"
[[tenants.sources]]
kind = "csv"
name = "pos"
drop_dir = "drop"
"""


def model_keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys.add(prefix + name)
        annotation: Any = info.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            inner = getattr(candidate, "__args__", (candidate,))
            for sub in inner:
                if isinstance(sub, type) and issubclass(sub, BaseModel):
                    keys |= model_keys(sub, f"{prefix}{name}.")
    return keys


def toml_keys(data: Any, prefix: str = "") -> set[str]:
    keys: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            keys.add(prefix + key)
            if key not in {"workspaces", "columns"}:  # maps keyed by user data
                keys |= toml_keys(value, f"{prefix}{key}.")
    elif isinstance(data, list):
        for item in data:
            keys |= toml_keys(item, prefix)
    return keys


def test_the_example_config_loads_and_documents_every_key() -> None:
    settings = load_settings(EXAMPLE, environ={})
    assert isinstance(settings.tenants[0].sources[0], CsvSourceSettings)
    text = EXAMPLE.read_text(encoding="utf-8")
    documented = toml_keys(tomllib.loads(text)) | {
        "sticky.api_key_file", "sticky.api_key", "sticker.api_key_file",
        "sticker.api_key", "webhooks.host", "webhooks.port"}  # shown commented out / env only
    assert "api_key_file" in text and "STICKY_SYNC_STICKY__API_KEY" in text
    missing = model_keys(Settings) - documented
    assert missing == set(), f"keys missing from config.example.toml: {sorted(missing)}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("change", "expected"), [
    (lambda t: t.replace('default_workspace = "ws_a"\n', ""),
     "tenants[t1].default_workspace: required key is missing"),
    (lambda t: t.replace('drop_dir = "drop"', 'drop_dri = "drop"'),
     "tenants[t1].sources[pos].drop_dri: unknown key (did you mean 'drop_dir'?)"),
    (lambda t: t.replace('name = "T"', 'name = "T"\nphone_region = "XX"'),
     "tenants[t1].phone_region: 'XX' is not a region code"),
    (lambda t: t.replace('name = "T"', 'name = "T"\ntimezone = "Mars/Olympus"'),
     "tenants[t1].timezone: 'Mars/Olympus' is not an IANA time zone"),
    (lambda t: t.replace('drop_dir = "drop"', 'drop_dir = "drop"\nschedule = "often"'),
     "tenants[t1].sources[pos].schedule: 'often' is neither"),
    (lambda t: t.replace('drop_dir = "drop"', 'drop_dir = "drop"\nschedule = "61 * * * *"'),
     "is not a valid cron expression"),
    (lambda t: t.replace('kind = "csv"', 'kind = "ftp"'), "tenants[t1].sources[pos]"),
    (lambda t: t.replace('base_url = "http://127.0.0.1:9"', 'base_url = "api.sticky.co"'),
     "sticky.base_url: must be an http(s) URL"),
    (lambda t: t.replace("[sticky]", "[sticky]\nrate_limit_per_second = 0"),
     "sticky.rate_limit_per_second"),
    (lambda t: t + '\n[[tenants.sources]]\nkind = "csv"\nname = "pos"\ndrop_dir = "x"\n',
     "source names must be unique within a tenant: ['pos']"),
    (lambda t: t.replace("[sticky]", '[sticky]\napi_key = "sk_live_abc"'),
     "sticky.api_key: API keys may not be written in the config file"),
    (lambda t: t.replace("[[tenants]]", "[[tenants]"), "not valid TOML"),
], ids=["missing", "typo", "region", "timezone", "schedule", "cron", "kind", "base_url",
        "rate", "duplicate_source", "inline_key", "toml"])
def test_a_bad_config_names_the_key_and_what_is_expected(tmp_path: Path, change: Any,
                                                         expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(write(tmp_path, change(VALID)), environ={})
    assert expected in str(caught.value)
    assert "sk_live_abc" not in str(caught.value)


def test_no_config_at_all_says_how_to_give_one() -> None:
    with pytest.raises(ConfigurationError, match="--config FILE or set STICKY_SYNC_CONFIG"):
        load_settings(None, environ={})
    with pytest.raises(ConfigurationError, match="does not exist"):
        load_settings("/nonexistent/sticky.toml", environ={})


def test_environment_overrides_one_key_and_keeps_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STICKY_SYNC_STICKY__RATE_LIMIT_PER_SECOND", "40")
    monkeypatch.setenv("STICKY_SYNC_STICKY__API_KEY", "sk_test_from_env")
    settings = load_settings(write(tmp_path, VALID), environ={})
    assert settings.sticky.rate_limit_per_second == 40
    assert settings.sticky.base_url == "http://127.0.0.1:9"
    key = settings.sticky.resolved_api_key()
    assert key is not None and key.get_secret_value() == "sk_test_from_env"
    assert "sk_test_from_env" not in repr(settings)


def test_key_file_and_relative_paths_resolve_against_the_config_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STICKY_SYNC_STICKY__API_KEY", raising=False)
    (tmp_path / "sticky.key").write_text("sk_test_in_a_file\n", encoding="utf-8")
    text = VALID.replace("[sticky]", '[state]\nurl = "sqlite:///./var/s.db"\n[sticky]\n'
                                     'api_key_file = "sticky.key"')
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    settings = load_settings(write(tmp_path, text), environ={})
    assert settings.state.url == f"sqlite:///{tmp_path}/var/s.db"
    assert settings.tenants[0].sources[0].drop_dir == tmp_path / "drop"  # type: ignore[union-attr]
    key = settings.sticky.resolved_api_key()
    assert key is not None and key.get_secret_value() == "sk_test_in_a_file"


def test_config_path_from_the_environment(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    assert load_settings(None, environ={"STICKY_SYNC_CONFIG": str(path)}).tenants[0].id == "t1"


STICKER = """
[tenants.sticker]
{extra}
[tenants.sticker.billing_address]
line1 = "1 A St"
city = "Oakland"
state = "{state}"
zip = "94607"
[[tenants.sticker.users]]
internal_user_id = "owner"
first_name = "Dana"
last_name = "K"
email = "{email}"
"""


def sticker_config(extra: str = "", state: str = "Calif.", email: str = "d@example.com",
                   second_tenant: str | None = None) -> str:
    text = VALID + STICKER.format(extra=extra, state=state, email=email)
    if second_tenant is not None:
        text += ('[[tenants]]\nid = "t2"\nname = "T2"\ndefault_workspace = "ws_b"\n'
                 + STICKER.format(extra=second_tenant, state="OR", email="e@example.com"))
    return text


def test_a_tenant_becomes_one_organization_with_normalized_facts(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, sticker_config()), environ={})
    org = settings.tenants[0].organization()
    assert org is not None
    assert (org.internal_org_id, org.name) == ("t1", "T")  # defaults: the tenant's id, name
    assert org.billing_address is not None
    assert org.billing_address["province"] == "California"
    assert org.users[0].email == "d@example.com"


@pytest.mark.parametrize(("text", "expected"), [
    (sticker_config(state="Narnia"), "tenants[t1].sticker.billing_address: state: 'Narnia' "
                                     "is not a US state"),
    (sticker_config(state="Guam"), "not one of the 50 states or DC"),
    (sticker_config(email="dana@"), "tenants[t1].sticker.users[owner].email"),
    (sticker_config(extra='internal_org_id = "acme"', second_tenant='internal_org_id = "acme"'),
     "different businesses must not share an organization id: ['acme']"),
    (sticker_config(second_tenant='internal_org_id = "t1"'),
     "must not share an organization id: ['t1']"),
    (sticker_config().replace("[sticky]", '[sticker]\napi_key = "sk_live_abc"\n[sticky]'),
     "sticker.api_key: API keys may not be written in the config file; set "
     "STICKY_SYNC_STICKER__API_KEY"),
    (sticker_config() + '[[tenants.sticker.users]]\ninternal_user_id = "owner"\n'
     'first_name = "A"\nlast_name = "B"\nemail = "a@example.com"\n',
     "internal_user_id must be unique: ['owner']"),
], ids=["state", "territory", "email", "shared_org", "default_collides", "inline_key",
        "duplicate_user"])
def test_a_bad_sticker_section_names_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(write(tmp_path, text), environ={})
    assert expected in str(caught.value)
    assert "sk_live_abc" not in str(caught.value)
