"""The wallet-pass export a person opens neutralises formulas (the loyalty export uses
the same writer, connector/commands/tables.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from typer.testing import CliRunner

from connector.cli import app
from tests.support import CUSTOMER_HEADER, drop_file, phone
from tests.sync.conftest import Harness

FORMULAS = ["=1+1", "+HYPERLINK(\"http://evil\",\"x\")", "-2+3", "@SUM(A1:A2)",
            "=cmd|' /C calc'!A0"]


def test_the_pass_export_neutralises_formulas(
        make_harness: Callable[..., Harness]) -> None:
    h = make_harness(passes={"mint_on_create": True})
    drop_file(h.drop, "customers_1.csv", CUSTOMER_HEADER, [
        [f"C{n}", phone(n), "", value, "", "", "", "", "", "001", ""]
        for n, value in enumerate(FORMULAS)])
    h.run()
    result = CliRunner().invoke(app, ["passes", "export", "--config",
                                      str(h.root / "config.toml")])
    assert result.exit_code == 0, result.output
    exported = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted(r["first_name"] for r in exported) == sorted(
        "'" + v.strip() for v in FORMULAS)
    assert all(r["phone"].startswith("+1") for r in exported)  # E.164 left alone
