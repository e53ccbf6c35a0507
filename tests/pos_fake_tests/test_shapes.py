"""The presets serve the real field names of the samples in /work/shared/fixtures/pos, the
phones are valid US numbers in 555-01xx, and running_pos serves a bare app too."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx2
import phonenumbers
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.pos_fake import BlazePos, DutchiePos, FlowhubPos, TreezPos, running_pos
from tests.pos_fake.data import AREA_CODES, PHONE_STYLES, format_phone
from tests.pos_fake_tests.support import NOW

FIXTURES = Path("/work/shared/fixtures/pos")
# Fields the fakes add beyond the sample (each documented in domain.md).
EXTRA = {"dutchie item": {"returnDate"}}


def _keys(record: dict[str, Any]) -> set[str]:
    return {k for k in record if not k.startswith("_")}


def _sample(name: str) -> Any:
    path = FIXTURES / name
    if not path.exists():
        pytest.skip(f"{path} not available")
    return json.loads(path.read_text())


def _four(customers: int, orders: int) -> tuple[DutchiePos, TreezPos, FlowhubPos, BlazePos]:
    dutchie, treez = DutchiePos(now=NOW), TreezPos(now=NOW)
    flowhub, blaze = FlowhubPos(now=NOW), BlazePos(now=NOW)
    dutchie.generate(customers, orders, seed=1)
    treez.generate(customers, orders, seed=1)
    flowhub.generate(customers, orders, seed=1)
    blaze.generate(customers, orders, seed=1)
    return dutchie, treez, flowhub, blaze


def _generated() -> dict[str, tuple[set[str], set[str]]]:
    """name → (sample keys, fake keys)."""
    dutchie, treez, flowhub, blaze = _four(30, 60)
    d_customer = _sample("dutchie_pos_customer.sample.json")
    d_tx = _sample("dutchie_pos_transaction.sample.json")
    t_customer = _sample("treez_customer.sample.json")
    t_ticket = _sample("treez_ticket.sample.json")
    f_customer = _sample("flowhub_customer.sample.json")
    f_order = _sample("flowhub_order.sample.json")["orders"][0]
    b_member = _sample("blaze_member.sample.json")["values"][0]
    b_tx = _sample("blaze_transaction.sample.json")
    dt = next(iter(dutchie.transactions.values()))
    treez_store = treez.dispensaries[treez.default_dispensary]
    tc = next(iter(treez_store.customers.values()))
    tt = next(iter(treez_store.tickets.values()))
    ft = next(iter(flowhub.orders.values()))
    bt = next(iter(blaze.transactions.values()))
    return {
        "dutchie customer": (_keys(d_customer), _keys(next(iter(dutchie.customers.values())))),
        "dutchie transaction": (_keys(d_tx), _keys(dt)),
        "dutchie item": (_keys(d_tx["items"][0]), _keys(dt["items"][0])),
        "treez customer": (_keys(t_customer), _keys(tc)),
        "treez address": (_keys(t_customer["addresses"][0]), _keys(tc["addresses"][0])),
        "treez ticket": (_keys(t_ticket), _keys(tt)),
        "treez item": (_keys(t_ticket["items"][0]), _keys(tt["items"][0])),
        "treez payment": (_keys(t_ticket["payments"][0]), _keys(tt["payments"][0])),
        "flowhub customer": (_keys(f_customer), _keys(next(iter(flowhub.customers.values())))),
        "flowhub order": (_keys(f_order), _keys(ft)),
        "flowhub item": (_keys(f_order["itemsInCart"][0]), _keys(ft["itemsInCart"][0])),
        "flowhub totals": (_keys(f_order["totals"]), _keys(ft["totals"])),
        "blaze member": (_keys(b_member), _keys(next(iter(blaze.members.values())))),
        "blaze address": (
            _keys(b_member["address"]),
            _keys(next(iter(blaze.members.values()))["address"]),
        ),
        "blaze transaction": (_keys(b_tx), _keys(bt)),
        "blaze cart": (_keys(b_tx["cart"]), _keys(bt["cart"])),
        "blaze item": (_keys(b_tx["cart"]["items"][0]), _keys(bt["cart"]["items"][0])),
    }


def test_records_have_exactly_the_sample_field_names() -> None:
    for name, (sample, served) in _generated().items():
        assert served == sample | EXTRA.get(name, set()), name


def test_every_area_code_and_style_is_a_valid_us_number() -> None:
    for codes in AREA_CODES.values():
        for area in codes:
            for line in (0, 42, 99):
                for style in PHONE_STYLES:
                    text = format_phone(area, line, style)
                    parsed = phonenumbers.parse(text, "US")
                    assert phonenumbers.is_valid_number(parsed), text
                    assert parsed.national_number == int(f"{area}55501{line:02d}"), text


def _phones(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in {"phone", "cellPhone", "primaryPhone", "cpn", "phoneNumber"}:
                if isinstance(inner, str) and inner not in ("", "N/A"):
                    found.append(inner)
            else:
                found.extend(_phones(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(_phones(inner))
    return found


def test_generated_phones_are_valid_fictional_numbers_in_varied_formats() -> None:
    dutchie, treez, flowhub, blaze = _four(80, 0)
    records = [
        *dutchie.customers.values(),
        *treez.dispensaries[treez.default_dispensary].customers.values(),
        *flowhub.customers.values(),
        *blaze.members.values(),
    ]
    phones = _phones(records)
    assert len(phones) > 250
    shapes = set()
    for text in phones:
        parsed = phonenumbers.parse(text, "US")
        assert phonenumbers.is_valid_number(parsed), text
        national = str(parsed.national_number)
        assert re.fullmatch(r"\d{3}55501\d{2}", national), text
        shapes.add(re.sub(r"\d", "9", text))
    assert len(shapes) >= 6
    emails = [r.get("email") or r.get("emailAddress") for r in records]
    assert all(e.endswith("@example.com") for e in emails if e and e != "N/A")


def test_running_pos_serves_a_bare_starlette_app() -> None:
    async def hello(_request: Request) -> PlainTextResponse:
        return PlainTextResponse("hi")

    app = Starlette(routes=[Route("/hello", hello)])
    with running_pos(app) as pos:
        assert pos.fake is None
        assert pos.url("hello") == pos.base_url + "/hello"
        assert httpx2.get(pos.url("/hello")).text == "hi"
