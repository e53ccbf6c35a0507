"""What a real POS API does to a reader, against GenericPos over real HTTP: envelopes or
bare arrays, capped query windows, first reads without an invented bound, per-field time
zones, watermarks never ahead of the request, junk candidates, a flaky token endpoint,
secrets by role, amounts a hundred times off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from adapters.pos import PosAdapter, load_spec
from adapters.records import CustomerRecord, OrderRecord
from connector.errors import AuthenticationFailed, ConfigurationError, SourceUnreadable
from tests.adapters.support import MemoryState, records, run
from tests.pos_fake import GenericPos, running_pos

ENV = {"POS_TOKEN": "test-token", "POS_CLIENT": "test-client-id",
       "POS_SECRET": "test-client-secret", "OTHER_TOKEN": "test-token"}
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)


def write(tmp_path: Path, body: str, auth: str = 'kind = "bearer"\ntoken = "POS_TOKEN"',
          head: str = "") -> Path:
    path = tmp_path / "pos.toml"
    path.write_text(f'name = "generic"\n{head}\n[auth]\n{auth}\n{body}', encoding="utf-8")
    return path


def make(spec: Path, base_url: str, *, environ: dict[str, str] | None = None,
         clock: float | None = None, **kwargs: Any) -> PosAdapter:
    return PosAdapter(name="pos", spec=load_spec(spec), base_url=base_url,
                      environ=ENV if environ is None else environ, sleep=lambda _: None,
                      clock=(lambda: clock) if clock is not None else NOW.timestamp,
                      **kwargs)


CUSTOMERS = """
[streams.customers]
path = "/api/customers"
records = {records}
[streams.customers.pagination]
{paging}
[streams.customers.fields]
customer_id = "id"
phone = ["mobile", "phone"]
email = ["email_work", "email"]
updated_at = {updated}
"""


def customers_spec(tmp_path: Path, *, records: str = '"auto"',
                   paging: str = 'kind = "page"\nsize_param = "per_page"\nsize = 2',
                   updated: str = '"updated_at"', incremental: str = "",
                   head: str = "") -> Path:
    body = CUSTOMERS.format(records=records, paging=paging, updated=updated) + incremental
    return write(tmp_path, body, head=head)


def customer(n: int, updated: str = "2026-05-01T10:00:00Z", **extra: Any) -> dict[str, Any]:
    return {"id": f"c{n}", "phone": f"(415) 555-{100 + n:04d}", "updated_at": updated,
            **extra}


@pytest.mark.parametrize("pagination", ["page", "link", "none"])
def test_auto_takes_an_envelope_and_a_bare_array_alike(tmp_path: Path,
                                                       pagination: str) -> None:
    # page answers {"data": [...], "total"}, link and none a bare array
    fake = GenericPos(pagination=pagination, page_size=2)  # type: ignore[arg-type]
    for n in range(3):
        fake.add_customer(customer(n))
    paging = {"page": 'kind = "page"\nsize_param = "per_page"\nsize = 2',
              "link": 'kind = "link"', "none": 'kind = "none"'}[pagination]
    spec = customers_spec(tmp_path, paging=paging)
    with running_pos(fake) as pos:
        found = records(run(make(spec, pos.base_url), MemoryState()))
    assert sorted((r.customer_id for r in found if isinstance(r, CustomerRecord)),
                  key=str) == [
        "c0", "c1", "c2"]


def test_candidate_selectors_and_the_keys_found_when_none_matches(tmp_path: Path) -> None:
    fake = GenericPos(pagination="page", page_size=2)
    fake.add_customer(customer(1))
    with running_pos(fake) as pos:
        spec = customers_spec(tmp_path, records='["customers", "data"]')
        assert len(records(run(make(spec, pos.base_url), MemoryState()))) == 1
        spec = customers_spec(tmp_path, records='["customers", "results"]')
        with pytest.raises(SourceUnreadable) as caught:
            run(make(spec, pos.base_url), MemoryState())
    message = str(caught.value)
    assert "['customers', 'results']" in message and "data (list)" in message
    assert "total (int)" in message and "streams.customers.records" in message


WINDOWED = """
[streams.orders]
path = "/api/orders"
records = "data"
amounts = "dollars"
[streams.orders.pagination]
kind = "page"
size_param = "per_page"
size = 3
[streams.orders.incremental]
param = "updated_since"
upper_param = "updated_before"
field = "updated_at"
lookback = "1h"
max_window = "48h"
[streams.orders.fields]
order_id = "id"
phone = "phone"
total = "total"
completed_at = "updated_at"
"""


def order(n: int, when: datetime, total: str = "40.00") -> dict[str, Any]:
    return {"id": f"o{n}", "phone": "(415) 555-0101", "total": total,
            "updated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_first_read_of_a_long_history_walks_capped_windows_and_resumes(
        tmp_path: Path) -> None:
    """A history longer than the cap: every query spans at most 48 h, the cursor moves
    window by window, a kill resumes in the window it was in, nothing is missed."""
    start = NOW - timedelta(days=9)
    fake = GenericPos(pagination="page", page_size=3)
    for n in range(18):  # one order every 12 hours over 9 days
        fake.add_order(order(n, start + timedelta(hours=12 * n)))
    spec = write(tmp_path, WINDOWED)
    state = MemoryState()
    with running_pos(fake) as pos:
        reader = make(spec, pos.base_url, start_date=start.date())
        batches = reader.read(state, 100)
        seen: list[str] = []
        for _ in range(4):  # four pages, then the process is "killed"
            batch = next(batches)
            seen += [str(r.order_id) for r in batch.records if isinstance(r, OrderRecord)]
            state.put_cursor(batch.stream, batch.position)
        killed_at = dict(state.cursors["orders"])
        rest = records(run(make(spec, pos.base_url, start_date=start.date()), state))
        seen += [str(r.order_id) for r in rest if isinstance(r, OrderRecord)]
    assert sorted(set(seen), key=lambda s: int(s[1:])) == [f"o{n}" for n in range(18)]
    queries = [r.query for r in fake.requests_to("/api/orders")]
    for query in queries:
        lower = datetime.fromisoformat(query["updated_since"].replace("Z", "+00:00"))
        upper = datetime.fromisoformat(query["updated_before"].replace("Z", "+00:00"))
        assert timedelta(0) < upper - lower <= timedelta(hours=48)
        assert upper <= NOW
    windows = {(q["updated_since"], q["updated_before"]) for q in queries}
    assert len(windows) == 5  # 9 days (from the start date's midnight) in 48-hour windows
    assert killed_at["done"] is False and killed_at["since"] is not None
    cursor = state.cursors["orders"]
    # the newest record seen: the server's clock (the last order, 12 hours ago)
    assert cursor["done"] is True and cursor["watermark"] == "2026-05-20T00:00:00Z"
    # the next pass starts an hour (the lookback) before it
    fake.clear_requests()
    with running_pos(fake) as pos:
        run(make(spec, pos.base_url, clock=(NOW + timedelta(hours=1)).timestamp()), state)
    sent = {r.query["updated_since"] for r in fake.requests_to("/api/orders")}
    assert sent == {"2026-05-19T23:00:00Z"}  # one window, read until an empty page


def test_a_first_read_sends_no_invented_lower_bound(tmp_path: Path) -> None:
    """Open by default: a record whose modification date is a sentinel is read too."""
    fake = GenericPos(pagination="page", page_size=2)
    fake.add_customer(customer(1, "1900-01-01T00:00:00"))
    fake.add_customer(customer(2, "2026-05-01T10:00:00Z"))
    incremental = ('[streams.customers.incremental]\nparam = "updated_since"\n'
                   'field = "updated_at"\n')
    spec = customers_spec(tmp_path, incremental=incremental)
    state = MemoryState()
    with running_pos(fake) as pos:
        found = records(run(make(spec, pos.base_url), state))
    assert sorted((r.customer_id for r in found if isinstance(r, CustomerRecord)),
                  key=str) == [
        "c1", "c2"]
    assert all("updated_since" not in r.query for r in fake.requests_to("/api/customers"))
    assert state.cursors["customers"]["watermark"] == "2026-05-01T10:00:00Z"  # not 1900


def test_a_field_documented_as_utc_is_read_as_utc_in_a_local_pos(tmp_path: Path) -> None:
    fake = GenericPos(pagination="none")
    fake.add_customer(customer(1, "2026-05-01T10:00:00"))  # no zone written
    with running_pos(fake) as pos:
        utc = customers_spec(tmp_path, paging='kind = "none"',
                             updated='{ path = "updated_at", timezone = "UTC" }')
        [as_utc] = records(run(make(utc, pos.base_url, timezone="America/Denver"),
                               MemoryState()))
        local = customers_spec(tmp_path, paging='kind = "none"')
        [as_local] = records(run(make(local, pos.base_url, timezone="America/Denver"),
                                 MemoryState()))
    assert isinstance(as_utc, CustomerRecord) and isinstance(as_local, CustomerRecord)
    assert as_utc.updated_at == "2026-05-01T10:00:00+00:00"
    assert as_local.updated_at == "2026-05-01T16:00:00+00:00"  # Denver is UTC-6 in May


def test_no_watermark_sent_is_ever_ahead_of_the_request(tmp_path: Path) -> None:
    """A record stamped in the future (a zone mix-up) does not carry the watermark past
    the moment of the request: the next pass still asks from before now."""
    fake = GenericPos(pagination="page", page_size=2)
    fake.add_customer(customer(1, "2026-05-21T06:00:00Z"))  # 18 hours "ahead"
    incremental = ('[streams.customers.incremental]\nparam = "updated_since"\n'
                   'field = "updated_at"\nlookback = "5m"\n')
    spec = customers_spec(tmp_path, incremental=incremental)
    state = MemoryState()
    with running_pos(fake) as pos:
        run(make(spec, pos.base_url), state)
        fake.clear_requests()
        run(make(spec, pos.base_url, clock=(NOW + timedelta(minutes=10)).timestamp()), state)
    assert state.cursors["customers"]["watermark"] <= "2026-05-20T12:10:00Z"
    sent = [r.query["updated_since"] for r in fake.requests_to("/api/customers")]
    assert sent and all(s <= "2026-05-20T12:10:00Z" for s in sent)


def test_the_first_usable_candidate_wins_over_the_first_present(tmp_path: Path) -> None:
    fake = GenericPos(pagination="none")
    for n, junk in enumerate(["0", "none", "(555) 123-4567", "888-888-8888"]):
        fake.add_customer(customer(n, mobile=junk, email_work="not-an-address",
                                   email=f"c{n}@example.com"))
    fake.add_customer({"id": "only-junk", "mobile": "0", "phone": "none"})
    spec = customers_spec(tmp_path, paging='kind = "none"')
    with running_pos(fake) as pos:
        found = {r.customer_id: r for r in records(run(make(spec, pos.base_url),
                                                       MemoryState()))
                 if isinstance(r, CustomerRecord)}
    for n in range(4):
        assert found[f"c{n}"].phone == f"(415) 555-{100 + n:04d}"
        assert found[f"c{n}"].email == f"c{n}@example.com"
    # nothing usable: the first present value goes on, to be rejected with its field
    assert found["only-junk"].phone == "0"


OAUTH = ('kind = "oauth2"\ntoken_url = "/oauth/token"\nclient_id = "client"\n'
         'client_secret = "secret"')
ROLES = ('[secrets]\nclient = { env = "POS_CLIENT" }\nsecret = { env = "POS_SECRET" }\n')


def test_the_token_endpoint_is_retried_like_any_request(tmp_path: Path) -> None:
    fake = GenericPos(auth="oauth2_client_credentials", pagination="none")
    fake.add_customer(customer(1))
    spec = write(tmp_path, CUSTOMERS.format(records='"auto"', paging='kind = "none"',
                                            updated='"updated_at"'), auth=OAUTH, head=ROLES)
    waits: list[float] = []
    with running_pos(fake) as pos:
        fake.server_errors_next = 2  # the token endpoint answers 503 twice
        fake.rate_limited_next = 0
        reader = PosAdapter(name="pos", spec=load_spec(spec), base_url=pos.base_url,
                            environ=ENV, sleep=waits.append)
        found = records(run(reader, MemoryState()))
    assert [r.customer_id for r in found if isinstance(r, CustomerRecord)] == ["c1"]
    assert len(fake.requests_to("/oauth/token")) == 3 and len(waits) == 2


def test_a_refused_client_aborts_naming_the_secrets(tmp_path: Path) -> None:
    fake = GenericPos(auth="oauth2_client_credentials", pagination="none")
    spec = write(tmp_path, CUSTOMERS.format(records='"auto"', paging='kind = "none"',
                                            updated='"updated_at"'), auth=OAUTH, head=ROLES)
    with running_pos(fake) as pos:
        reader = make(spec, pos.base_url, environ={**ENV, "POS_SECRET": "wrong"})
        with pytest.raises(AuthenticationFailed) as caught:
            run(reader, MemoryState())
    assert fake.token_requests == 1  # a refusal is not retried
    assert "secret 'secret' (environment variable POS_SECRET)" in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_a_source_points_a_role_at_its_own_variable(tmp_path: Path) -> None:
    fake = GenericPos(pagination="none")
    fake.add_customer(customer(1))
    spec = write(tmp_path, CUSTOMERS.format(records='"auto"', paging='kind = "none"',
                                            updated='"updated_at"'),
                 auth='kind = "bearer"\ntoken = "store_key"',
                 head='[secrets]\nstore_key = { env = "POS_TOKEN" }\n')
    with running_pos(fake) as pos:
        own = make(spec, pos.base_url, environ={"STORE_2_KEY": "test-token"},
                   secrets={"store_key": "STORE_2_KEY"})
        assert len(records(run(own, MemoryState()))) == 1
    with pytest.raises(ConfigurationError) as caught:
        make(spec, "http://pos.test", environ={}, secrets={"store_key": "STORE_3_KEY"})
    assert "secret 'store_key' (environment variable STORE_3_KEY) is not set" in str(
        caught.value)


def test_amounts_a_hundred_times_off_are_said_in_the_summary(tmp_path: Path) -> None:
    fake = GenericPos(pagination="page", page_size=3)
    for n, cents in enumerate(["4025", "1999", "12050", "3300"]):  # cents, read as dollars
        fake.add_order(order(n, NOW - timedelta(hours=n + 1), total=cents))
    spec = write(tmp_path, WINDOWED)
    with running_pos(fake) as pos:
        reader = make(spec, pos.base_url, start_date=(NOW - timedelta(days=1)).date())
        run(reader, MemoryState())
    assert reader.notices == ["amounts_look_off"]
    [remark] = reader.remarks
    assert "$4,012.50" not in remark and "median order total" in remark
    assert "too high" in remark and "streams.orders.amounts" in remark and "'dollars'" in remark
    fine = GenericPos(pagination="page", page_size=3)
    for n, dollars in enumerate(["40.25", "19.99", "120.50"]):
        fine.add_order(order(n, NOW - timedelta(hours=n + 1), total=dollars))
    with running_pos(fine) as pos:
        ok = make(spec, pos.base_url, start_date=(NOW - timedelta(days=1)).date())
        run(ok, MemoryState())
    assert ok.notices == [] and ok.remarks == []
