"""The shipped presets (examples/pos/*.toml) against fakes serving each POS's documented
paths, auth and shapes, through the whole engine into the sandbox."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sandbox.testing import SandboxAdmin
from tests.support import WS_DOWNTOWN, pos_source
from tests.sync.conftest import Harness

PRESETS = Path(__file__).resolve().parents[2] / "examples" / "pos"


def events(admin: SandboxAdmin, kind: str, workspace: str = WS_DOWNTOWN) -> list[int]:
    return [e["amount_cents"] for e in admin.events(workspace) if e["type"] == kind]


def test_dutchie_preset(make_harness: Callable[..., Harness], admin: SandboxAdmin,
                        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.pos_fake.dutchie import DutchiePos  # noqa: PLC0415 - optional helper module
    from tests.pos_fake import running_pos  # noqa: PLC0415

    fake = DutchiePos(now=datetime.now(UTC) - timedelta(hours=2))
    monkeypatch.setenv("DUTCHIE_LOCATION_KEY", fake.location_key)
    ada = fake.add_customer(modified_format="us")
    bob = fake.add_customer(phone="N/A", cellPhone="(415) 555-0177")
    nobody = fake.add_customer(phone="N/A", cellPhone=None)
    sale = fake.add_transaction(ada["customerId"], items=[(101, 2, 20.0)])
    second = fake.add_transaction(bob["customerId"], items=[(102, 1, 10.0)])
    fake.add_transaction(nobody["customerId"], items=[(103, 1, 5.0)])
    fake.add_return(sale["transactionId"], "12.05")
    with running_pos(fake) as pos:
        h = make_harness(sources=pos_source(PRESETS / "dutchie.toml", pos.base_url,
                                            variables={"location": "001"}))
        report, _ = h.run()
        assert report.total.events_sent == {"order.completed": 2, "order.refunded": 1}
        assert report.total.skipped["no_phone"] == 2  # the customer and their sale
        assert sorted(events(admin, "order.completed")) == sorted(
            round(t["total"] * 100) for t in (sale, second))
        assert events(admin, "order.refunded") == [1205]
        fake.void(second["transactionId"])
        report, _ = h.run()
        assert report.total.events_sent == {"order.refunded": 1}
        report, _ = h.run()
        assert sum(report.total.events_sent.values()) == 0
    assert sorted(events(admin, "order.refunded")) == sorted(
        [1205, round(second["total"] * 100)])
    requests: list[Any] = fake.requests
    assert any(r.query.get("fromLastModifiedDateUTC") for r in requests)
