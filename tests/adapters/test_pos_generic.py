"""The generic POS adapter against GenericPos over real HTTP: every pagination and auth
style, resume across runs, sentinels, and malformed pages that stop the run cleanly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from adapters.pos import PosAdapter, load_spec
from adapters.records import CustomerRecord
from connector.errors import ConfigurationError, SourceUnreadable
from tests.adapters.support import MemoryState, records, run
from tests.pos_fake import GenericPos, running_pos

ENV = {"POS_TOKEN": "test-token", "POS_KEY": "test-api-key", "POS_USER": "test-user",
       "POS_PASSWORD": "test-password", "POS_CLIENT": "test-client-id",
       "POS_SECRET": "test-client-secret"}

AUTH = {
    "bearer": 'kind = "bearer"\ntoken_env = "POS_TOKEN"',
    "header": 'kind = "header"\nheader = "X-Api-Key"\nvalue_env = "POS_KEY"',
    "basic": 'kind = "basic"\nusername_env = "POS_USER"\npassword_env = "POS_PASSWORD"',
    "query": 'kind = "query"\nparam = "api_key"\nvalue_env = "POS_KEY"',
    "oauth2_client_credentials": 'kind = "oauth2"\ntoken_url = "/oauth/token"\n'
    'client_id_env = "POS_CLIENT"\nclient_secret_env = "POS_SECRET"',
    "oauth2_password": 'kind = "oauth2"\ntoken_url = "/oauth/token"\n'
    'grant_type = "password"\nclient_id_env = "POS_CLIENT"\n'
    'client_secret_env = "POS_SECRET"\nusername_env = "POS_USER"\n'
    'password_env = "POS_PASSWORD"',
}

PAGINATION = {
    "page": ('records = "data"', 'kind = "page"\nsize_param = "per_page"\nsize = 2'),
    "offset": ('records = "data"',
               'kind = "offset"\noffset_param = "offset"\nsize_param = "limit"\nsize = 2'),
    "cursor": ('records = "data"\nparams = { limit = "2" }',
               'kind = "cursor"\ncursor_param = "cursor"\ncursor_path = "next_cursor"'),
    "next_url": ('records = "results"\nparams = { limit = "2" }',
                 'kind = "next_url"\nnext_url_path = "next"'),
    "link": ('records = ""\nparams = { limit = "2" }', 'kind = "link"'),
    "none": ('records = ""', 'kind = "none"'),
}


def describe(tmp_path: Path, auth: str = "bearer", pagination: str = "page") -> Path:
    selector, paging = PAGINATION[pagination]
    path = tmp_path / "generic.toml"
    path.write_text(f"""
name = "generic"
[auth]
{AUTH[auth]}
[streams.customers]
path = "/api/customers"
{selector}
[streams.customers.pagination]
{paging}
[streams.customers.incremental]
param = "updated_since"
field = "updated_at"
lookback = "5m"
[streams.customers.fields]
customer_id = "id"
phone = ["mobile", "phone"]
email = "email"
first_name = "first"
updated_at = "updated_at"
""", encoding="utf-8")
    return path


def customer(n: int, updated: str = "2026-05-01T10:00:00Z", **extra: Any) -> dict[str, Any]:
    return {"id": f"c{n}", "phone": f"(415) 555-{100 + n:04d}", "email": f"c{n}@example.com",
            "first": f"Name{n}", "updated_at": updated, **extra}


@pytest.fixture
def fake() -> GenericPos:
    return GenericPos(pagination="page", page_size=2)


def adapter(spec: Path, base_url: str) -> PosAdapter:
    return PosAdapter(name="pos", spec=load_spec(spec), base_url=base_url, environ=ENV,
                      sleep=lambda _: None)




@pytest.mark.parametrize("pagination", sorted(PAGINATION))
def test_every_pagination_style_reads_every_record_once(tmp_path: Path,
                                                        pagination: str) -> None:
    fake = GenericPos(pagination=pagination, page_size=2)  # type: ignore[arg-type]
    for n in range(5):
        fake.add_customer(customer(n, f"2026-05-01T10:0{n}:00Z"))
    state = MemoryState()
    with running_pos(fake) as pos:
        found = records(run(adapter(describe(tmp_path, pagination=pagination),
                                    pos.base_url), state))
    assert sorted(str(r.customer_id) for r in found if isinstance(r, CustomerRecord)) == [
        f"c{n}" for n in range(5)]
    assert state.cursors["customers"]["done"] is True
    assert state.cursors["customers"]["max_seen"] == "2026-05-01T10:04:00Z"
    pages = [r for r in fake.requests if r.path == "/api/customers"]
    assert len(pages) == (1 if pagination == "none" else 3 + (pagination in {"page",
                                                                               "offset"}))


@pytest.mark.parametrize("auth", sorted(AUTH))
def test_every_auth_style(tmp_path: Path, auth: str) -> None:
    fake = GenericPos(auth=auth, pagination="page", page_size=2)  # type: ignore[arg-type]
    fake.add_customer(customer(1))
    with running_pos(fake) as pos:
        found = records(run(adapter(describe(tmp_path, auth=auth), pos.base_url),
                            MemoryState()))
    assert [r.customer_id for r in found] == ["c1"]  # type: ignore[union-attr]
    assert all(status == 200 for status in fake.statuses)
    if auth == "query":
        assert all(r.query.get("api_key") == "test-api-key" for r in fake.requests)


def test_an_expired_oauth_token_is_fetched_again(tmp_path: Path) -> None:
    fake = GenericPos(auth="oauth2_client_credentials", pagination="page", page_size=1,
                      token_ttl=3600)
    for n in range(3):
        fake.add_customer(customer(n))
    spec = describe(tmp_path, auth="oauth2_client_credentials")
    with running_pos(fake) as pos:
        reader = adapter(spec, pos.base_url)
        batches = reader.read(MemoryState(), 100)
        first = next(batches)
        fake.expire_tokens()  # the server drops it before our cached expiry
        rest = list(batches)
    assert len(first.records) + sum(len(b.records) for b in rest) == 3
    assert fake.token_requests == 2  # one at start, one after the 401
    assert 401 in fake.statuses


def test_incremental_resume_sends_the_watermark_minus_the_lookback(tmp_path: Path) -> None:
    fake = GenericPos(pagination="page", page_size=2)
    fake.add_customer(customer(1, "2026-05-01T10:00:00Z"))
    fake.add_customer(customer(2, "2026-05-01T11:00:00Z"))
    spec = describe(tmp_path)
    state = MemoryState()
    with running_pos(fake) as pos:
        first = records(run(adapter(spec, pos.base_url), state))
        fake.add_customer(customer(3, "2026-05-02T09:00:00Z"))
        fake.clear_requests()
        second = records(run(adapter(spec, pos.base_url), state))
    assert len(first) == 2
    # c2 again: it lies inside the lookback (the ledger makes that overlap free).
    assert [r.customer_id for r in second] == ["c2", "c3"]  # type: ignore[union-attr]
    assert fake.requests[0].query["updated_since"] == "2026-05-01T10:55:00Z"
    assert state.cursors["customers"]["max_seen"] == "2026-05-02T09:00:00Z"


def test_sentinels_become_nothing(tmp_path: Path) -> None:
    fake = GenericPos(pagination="none")
    fake.add_customer(customer(1, mobile="N/A", email="N/A", first="NULL"))
    with running_pos(fake) as pos:
        [record] = records(run(adapter(describe(tmp_path, pagination="none"),
                                       pos.base_url), MemoryState()))
    assert isinstance(record, CustomerRecord)
    assert (record.phone, record.email, record.first_name) == ("(415) 555-0101", None, None)


@pytest.mark.parametrize(("fault", "expected"), [
    ("html_error_next", "not JSON"),
    ("missing_selector_next", r"has no record list at \['data'\]"),
])
def test_a_malformed_page_stops_the_run_without_moving_the_cursor(
        tmp_path: Path, fault: str, expected: str) -> None:
    fake = GenericPos(pagination="page", page_size=2)
    for n in range(5):
        fake.add_customer(customer(n, f"2026-05-01T10:0{n}:00Z"))
    state = MemoryState()
    spec = describe(tmp_path)
    with running_pos(fake) as pos:
        reader = adapter(spec, pos.base_url)
        batches = reader.read(state, 100)
        state.put_cursor("customers", next(batches).position)  # page 1 settled
        setattr(fake, fault, 1)
        with pytest.raises(SourceUnreadable, match=expected):
            next(batches)
    cursor = state.cursors["customers"]
    assert cursor["done"] is False and cursor["page"] == 2  # resumes at the failed page
    assert cursor["since"] is None and cursor["watermark"] is None  # still a first read


def test_a_looping_cursor_stops_the_run(tmp_path: Path) -> None:
    fake = GenericPos(pagination="cursor", page_size=2)
    for n in range(5):
        fake.add_customer(customer(n))
    fake.loop_cursor = True
    with running_pos(fake) as pos, pytest.raises(SourceUnreadable, match="loops"):
        run(adapter(describe(tmp_path, pagination="cursor"), pos.base_url), MemoryState())


def test_a_missing_secret_is_a_configuration_error(tmp_path: Path) -> None:


    with pytest.raises(ConfigurationError, match="POS_TOKEN is not set"):
        PosAdapter(name="pos", spec=load_spec(describe(tmp_path)), base_url="http://x",
                   environ={})
