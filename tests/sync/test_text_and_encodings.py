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


def test_one_stray_byte_leaves_the_file_utf8_and_refuses_only_its_row(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    """A UTF-8 export with one Windows-1252 byte in one row: every accented name arrives
    intact (the file is not re-read as Windows-1252) and the bad row is reported."""
    h = make_harness()
    names = ["José", "Zoë", "Ångström", "Chloé", "Renée"]
    rows = [[f"C{n}", phone(n), "", name, "", "", "", "", "", "001", ""]
            for n, name in enumerate(names)]
    content = csv_text(CUSTOMER_HEADER, rows).encode("utf-8")
    content = content.replace("Chloé".encode(), b"Chlo\xe9")  # one stray byte in row 4
    _drop_bytes(h, "customers_1.csv", content)
    report, _ = h.run()
    assert report.total.customers_created == 4
    assert report.total.rejected == {"undecodable_row": 1}
    assert sorted(c["first_name"] for c in admin.customers(WS_DOWNTOWN)) == sorted(
        ["José", "Zoë", "Ångström", "Renée"])
    assert e164(3) not in [c["phone"] for c in admin.customers(WS_DOWNTOWN)]
    errors = (h.drop / "rejected" / "customers_1.csv.errors.csv").read_text("utf-8-sig")
    assert "undecodable_row" in errors and "Chlo\\\\xe9" in errors
    assert ",4,undecodable_row," in errors  # the row number


def test_a_file_that_is_not_utf8_at_all_is_still_read_as_windows_1252(
        make_harness: Callable[..., Harness], admin: SandboxAdmin) -> None:
    h = make_harness()
    rows = [[f"C{n}", phone(n), "", name, "", "", "", "", "", "001", ""]
            for n, name in enumerate(["José", "Zoë"])]
    _drop_bytes(h, "customers_1.csv", csv_text(CUSTOMER_HEADER, rows).encode("cp1252"))
    report, _ = h.run()
    assert report.total.customers_created == 2 and not report.total.rejected
    assert sorted(c["first_name"] for c in admin.customers(WS_DOWNTOWN)) == ["José", "Zoë"]
