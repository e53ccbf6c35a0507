"""Text that reaches Sticky is clean, valid Unicode; one bad byte does not garble a file.
Over the real pipeline: drop folder → engine → sandbox."""

from __future__ import annotations

from collections.abc import Callable

from sandbox.testing import SandboxAdmin
from tests.support import CUSTOMER_HEADER, WS_DOWNTOWN, csv_text, e164, phone
from tests.sync.conftest import Harness


def _drop_bytes(h: Harness, name: str, content: bytes) -> None:
    tmp = h.drop / f".{name}.tmp"
    tmp.write_bytes(content)
    tmp.replace(h.drop / name)


def test_nul_and_control_characters_never_reach_sticky(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness()
    text = csv_text(CUSTOMER_HEADER, [
        ["C1", phone(1), "ada\x07@example.com", "Jo\x00sé", "O\x1bBrien", "", "", "", "",
         "001", ""]])
    _drop_bytes(h, "customers_1.csv", text.encode("utf-8"))
    report, _ = h.run()
    assert report.total.customers_created == 1
    [customer] = admin.customers(WS_DOWNTOWN)
    assert customer["first_name"] == "José"
    assert customer["email"] is None  # an e-mail holding a control character is refused
    assert customer["metadata"]["last_name"] == "OBrien"
    assert "\x00" not in str(customer)
