"""`sticky-sync check` contacts every source and says what did not check out, naming the
key to fix; `sticky-sync discover` lists a source's stores and the TOML lines to map them.
Everything over real HTTP: the Shopify fake, the POS fakes, the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from connector.cli import app
from tests.pos_fake import running_pos
from tests.pos_fake.dutchie import DutchiePos
from tests.pos_fake.flowhub import FlowhubPos
from tests.pos_fake.server import RunningPos
from tests.pos_fake.treez import TreezPos
from tests.shopify_fake import ShopifyFake
from tests.shopify_fake.server import RunningShopify
from tests.support import (
    CUSTOMER_HEADER,
    SHOPIFY_TOKEN_ENV,
    WS_DOWNTOWN,
    drop_file,
    free_port,
    phone,
    pos_source,
    shopify_source,
)
from tests.sync.conftest import Harness

runner = CliRunner()
PRESETS = Path(__file__).resolve().parents[2] / "examples" / "pos"


@pytest.fixture
def treez(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningPos]:
    fake = TreezPos(dispensaries=("partners-oakland",))
    fake.add_customer()
    fake.add_ticket(100001, items=[("P1", 1, 20.0)])
    monkeypatch.setenv("TREEZ_CLIENT_ID", "treez-client-id")
    monkeypatch.setenv("TREEZ_API_KEY", "treez-api-key")
    with running_pos(fake) as running:
        yield running


def treez_source(base_url: str, **fields: object) -> str:
    variables = fields.pop("variables", None) or {"dispensary": "partners-oakland",
                                                   "location": "001"}
    return pos_source(PRESETS / "treez.toml", base_url, name="treez",
                      variables=variables, **fields)  # type: ignore[arg-type]


def check(h: Harness) -> tuple[int, str]:
    result = runner.invoke(app, ["check", "--config", str(h.root / "config.toml")])
    return result.exit_code, result.output


def test_a_good_config_checks_out_and_says_what_it_contacted(
        make_harness: Callable[..., Harness], shop: RunningShopify,
        treez: RunningPos) -> None:
    h = make_harness(sources=shopify_source(shop.base_url) + treez_source(treez.base_url))
    code, output = check(h)
    assert code == 0, output
    assert "state DB" in output
    assert "new (the first run creates it, readable by this user only)" in output
    assert "ok   t1/shopify (shopify): the token works; shop" in output
    assert "ok   t1/shopify: API version 2026-07 served" in output
    assert "scopes granted: read_all_orders, read_customers, read_locations" in output
    assert "ok   t1/treez (pos, treez):" in output and "a token was obtained" in output
    assert "ok   t1/treez: customers: 1 record(s) on the first page" in output
    assert "ok   t1/treez: orders: 1 record(s) on the first page" in output
    assert "ok   Sticky workspace ws_test_downtown" in output
    treez_fake = treez.fake
    assert treez_fake is not None
    assert all(r.method == "GET" or "gettokens" in r.path for r in treez_fake.requests)
    # nothing was read for real: no cursor, no run
    h.run()  # creates the state DB
    code, output = check(h)
    assert code == 0 and "holds 2 runs" in output


def test_a_wrong_shopify_token_fails_naming_the_variable(
        make_harness: Callable[..., Harness], shop: RunningShopify,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SHOPIFY_TOKEN_ENV, "shpat_wrong")
    h = make_harness(sources=shopify_source(shop.base_url))
    code, output = check(h)
    assert code == 2, output
    assert "FAIL t1/shopify:" in output and "access token was refused" in output
    assert f"check {SHOPIFY_TOKEN_ENV}" in output and "shpat_wrong" not in output
    monkeypatch.delenv(SHOPIFY_TOKEN_ENV)
    code, output = check(h)
    assert code == 2 and f"set {SHOPIFY_TOKEN_ENV}" in output


def test_missing_scopes_and_an_expired_api_version_are_named(
        make_harness: Callable[..., Harness], fake: ShopifyFake,
        shop: RunningShopify) -> None:
    fake.drop_scope("read_locations")
    fake.drop_scope("read_all_orders")
    h = make_harness(sources=shopify_source(shop.base_url, api_version="2025-04"))
    code, output = check(h)
    assert code == 2, output
    assert "FAIL t1/shopify: api_version 2025-04 is not supported any more: Shopify " \
           "answered as 2026-01" in output
    assert "FAIL t1/shopify: the app lacks the scope(s) read_locations" in output
    assert "note t1/shopify: without read_all_orders Shopify shows only the last 60 days" \
        in output


def test_protected_customer_data_refused_or_not_verifiable(
        make_harness: Callable[..., Harness], fake: ShopifyFake,
        shop: RunningShopify) -> None:
    h = make_harness(sources=shopify_source(shop.base_url))
    code, output = check(h)  # a shop without customers: cannot be verified, says so
    assert code == 0, output
    assert "note t1/shopify: protected customer data not verified: the shop has no " \
           "customer to read" in output
    fake.add_customer(phone="+14155550150")
    code, output = check(h)
    assert code == 0 and "ok   t1/shopify: protected customer data (name, e-mail, " \
        "phone) readable" in output
    fake.protected_customer_data = False
    code, output = check(h)
    assert code == 4, output
    assert "FAIL t1/shopify: protected customer data refused:" in output
    assert "not approved to access the Customer object" in output


def test_a_missing_pos_secret_is_named_by_role_and_variable(
        make_harness: Callable[..., Harness], treez: RunningPos,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TREEZ_API_KEY")
    h = make_harness(sources=treez_source(treez.base_url,
                                          secrets={"client_id": "TREEZ_CLIENT_ID_2"}))
    code, output = check(h)
    assert code == 2, output
    assert "secret 'client_id' (environment variable TREEZ_CLIENT_ID_2) is not set" in output
    assert "secret 'api_key' (environment variable TREEZ_API_KEY) is not set" in output


def test_a_refused_treez_client_is_named_even_when_answered_200(
        make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch) -> None:
    fake = TreezPos(refuse_with_200=True)
    monkeypatch.setenv("TREEZ_CLIENT_ID", "treez-client-id")
    monkeypatch.setenv("TREEZ_API_KEY", "not-the-key")
    with running_pos(fake) as pos:
        h = make_harness(sources=treez_source(pos.base_url))
        code, output = check(h)
    assert code == 2, output
    assert "FAIL t1/treez: source treez: token request: refused (FAIL:" in output
    assert "secret 'api_key' (environment variable TREEZ_API_KEY)" in output
    assert "not-the-key" not in output
    assert len(fake.requests_to("/v2.0/dispensary/partners-oakland/config")) == 1


def test_a_misspelt_vars_key_is_refused_at_load(make_harness: Callable[..., Harness],
                                                tmp_path: Path, treez: RunningPos) -> None:
    with pytest.raises(Exception) as caught:  # the harness loads the config itself
        make_harness(sources=treez_source(treez.base_url, variables={
            "dispensery": "partners-oakland", "location": "001"}))
    assert "vars: dispensery not used by treez.toml" in str(caught.value)
    result = runner.invoke(app, ["check", "--config", str(tmp_path / "config.toml")])
    assert result.exit_code == 2
    assert "dispensery" in result.output and "dispensary" in result.output


def test_an_unreachable_pos_is_named_with_its_host(make_harness: Callable[..., Harness],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREEZ_CLIENT_ID", "x")
    monkeypatch.setenv("TREEZ_API_KEY", "y")
    port = free_port()
    h = make_harness(sources=treez_source(f"http://127.0.0.1:{port}", max_attempts=1))
    code, output = check(h)
    assert code == 4, output
    assert f"127.0.0.1:{port}" in output and "ConnectError" in output
    assert "base_url" in output


def test_a_state_db_in_a_missing_folder_fails(make_harness: Callable[..., Harness],
                                              tmp_path: Path) -> None:
    h = make_harness(state_url="sqlite:///./no-such-folder/state.db")
    code, output = check(h)
    assert code == 2, output
    assert "no-such-folder, which does not exist" in output
    assert not (tmp_path / "no-such-folder").exists()  # nothing was created
    result = runner.invoke(app, ["run", "--config", str(h.root / "config.toml")])
    assert result.exit_code == 2
    assert "state.url: the folder" in result.output and "does not exist" in result.output
    assert not (tmp_path / "no-such-folder").exists()  # run refuses it too
    # the default ./var/ next to the config is the one folder created when missing
    h = make_harness(state_url="sqlite:///./var/state.db")
    code, output = check(h)
    assert code == 0 and "new (the first run creates" in output
    result = runner.invoke(app, ["run", "--config", str(h.root / "config.toml")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "var" / "state.db").exists()


def test_a_field_path_that_resolves_on_no_record_fails(
        make_harness: Callable[..., Harness], treez: RunningPos, tmp_path: Path) -> None:
    spec = tmp_path / "treez-typo.toml"
    spec.write_text((PRESETS / "treez.toml").read_text().replace(
        'order_id = "ticket_id"', 'order_id = "ticketId"'), encoding="utf-8")
    h = make_harness(sources=pos_source(spec, treez.base_url, name="treez", variables={
        "dispensary": "partners-oakland", "location": "001"}))
    code, output = check(h)
    assert code == 2, output
    assert "FAIL t1/treez: orders: order_id found in none of the 1 records: check " \
           "streams.orders in treez-typo.toml.fields" in output


def test_a_drop_folder_is_checked(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""]])
    code, output = check(h)
    assert code == 0, output
    assert "processed/ and rejected/ ready; 1 file(s) to read" in output
    (h.drop / "processed").rmdir()
    h.drop.chmod(0o500)
    try:
        code, output = check(h)
    finally:
        h.drop.chmod(0o700)
    if code == 0:  # running as root: permissions do not apply
        pytest.skip("root ignores folder permissions")
    assert code == 2 and "not readable and writable" in output


# -- discover --------------------------------------------------------------------------------
def test_discover_shopify_locations(make_harness: Callable[..., Harness], fake: ShopifyFake,
                                   shop: RunningShopify) -> None:
    mapped = fake.add_location("Downtown")
    fake.add_location("Eastside", address1="9 Elm St", city="Oakland")
    h = make_harness(sources=shopify_source(shop.base_url),
                     workspaces={str(mapped.id): WS_DOWNTOWN})
    result = runner.invoke(app, ["discover", "--source", "shopify", "--config",
                                 str(h.root / "config.toml"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_name = {s["name"]: s for s in data["stores"]}
    assert by_name["Downtown"]["workspace"] == WS_DOWNTOWN
    assert by_name["Eastside"]["workspace"] is None
    assert "9 Elm St, Oakland" in by_name["Eastside"]["where"]
    east = by_name["Eastside"]["store_id"]
    assert any(line.startswith(f'"{east}" = "ws_..."') for line in data["toml"])
    assert not any(line.startswith(f'"{mapped.id}"') for line in data["toml"])


def test_discover_pos_stores(make_harness: Callable[..., Harness],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FlowhubPos(locations=())
    fake.add_location("Detroit", import_id="001")
    fake.add_location("Lansing", import_id="lansing-7")
    monkeypatch.setenv("FLOWHUB_CLIENT_ID", "flowhub-client-id")
    monkeypatch.setenv("FLOWHUB_API_KEY", "flowhub-api-key")
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(PRESETS / "flowhub.toml", pos.base_url,
                                            name="flowhub", variables={"import_id": "001"}))
        result = runner.invoke(app, ["discover", "--source", "flowhub", "--config",
                                     str(h.root / "config.toml")])
    assert result.exit_code == 0, result.output
    assert "Lansing" in result.output and "Detroit" in result.output
    assert '"lansing-7" = "ws_..."   # Lansing' in result.output
    assert f"{WS_DOWNTOWN}" in result.output  # 001 is mapped
    assert "this source stamps store id '001' on its orders" in result.output


def test_discover_drop_folder_store_ids(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, [
        ["C1", phone(1), "", "", "", "", "", "", "", "001", ""],
        ["C2", phone(2), "", "", "", "", "", "", "", "017", ""],
        ["C3", phone(3), "", "", "", "", "", "", "", "017", ""]])
    result = runner.invoke(app, ["discover", "--source", "pos", "--config",
                                 str(h.root / "config.toml"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {s["store_id"]: s["where"] for s in data["stores"]} == {
        "001": "1 row(s)", "017": "2 row(s)"}
    assert data["toml"][1:] == ['"017" = "ws_..."   # ?, 2 row(s)']


def test_check_reads_the_newest_window_of_a_capped_stream(
        make_harness: Callable[..., Harness], monkeypatch: pytest.MonkeyPatch) -> None:
    """Dutchie's first read starts in 2000; check asks the newest 1440 hours instead,
    where the records are, so the field paths are checked on real records."""
    fake = DutchiePos(now=datetime.now(UTC) - timedelta(minutes=5))
    customer = fake.add_customer()
    fake.add_transaction(customer["customerId"], items=[(101, 1, 20.0)])
    monkeypatch.setenv("DUTCHIE_LOCATION_KEY", fake.location_key)
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(PRESETS / "dutchie.toml", pos.base_url,
                                            name="dutchie", variables={"location": "001"}))
        code, output = check(h)
    assert code == 0, output
    assert "ok   t1/dutchie: orders: 1 record(s) on the first page" in output
    [window] = fake.requests_to("/reporting/transactions")
    since = datetime.fromisoformat(window.query["FromLastModifiedDateUTC"].replace("Z",
                                                                                 "+00:00"))
    assert datetime.now(UTC) - since <= timedelta(hours=1441)
