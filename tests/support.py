"""Shared test helpers: config files, drop folders, one-pass runs against a sandbox."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from connector.config import Settings, load_settings

TEST_KEY = "sk_test_connector_tests_0001"
WS_ONLINE = "ws_test_online"
WS_DOWNTOWN = "ws_test_downtown"
WS_EASTSIDE = "ws_test_eastside"

CUSTOMER_HEADER = ["customer_id", "phone", "email", "first_name", "last_name", "sms_opt_in",
                   "email_opt_in", "opt_in_source", "opt_in_at", "store_id", "updated_at"]
ORDER_HEADER = ["order_id", "customer_id", "phone", "store_id", "completed_at", "total",
                "items", "status"]
REFUND_HEADER = ["refund_id", "order_id", "refunded_at", "amount"]


def write_config(root: Path, base_url: str, *, state_url: str | None = None,
                 sticky: dict[str, object] | None = None, batch_size: int = 500) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    sticky_keys = {"max_attempts": 8, "retry_budget_seconds": 60, **(sticky or {})}
    sticky_lines = "\n".join(f"{k} = {v!r}" for k, v in sticky_keys.items())
    (root / "drop").mkdir(exist_ok=True)
    path = root / "config.toml"
    path.write_text(f"""
[state]
url = "{state_url or 'sqlite:///./state.db'}"

[sticky]
base_url = "{base_url}"
{sticky_lines}

[[tenants]]
id = "t1"
name = "Test Dispensary"
default_workspace = "{WS_ONLINE}"
phone_region = "US"
timezone = "America/Los_Angeles"

[tenants.workspaces]
"001" = "{WS_DOWNTOWN}"
"002" = "{WS_EASTSIDE}"

[[tenants.sources]]
kind = "csv"
name = "pos"
drop_dir = "./drop"
stable_seconds = 0
batch_size = {batch_size}
""", encoding="utf-8")
    return path


def settings_for(path: Path) -> Settings:
    return load_settings(path, environ={})


def csv_text(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return out.getvalue()


def drop_file(drop: Path, name: str, header: Sequence[str],
              rows: Sequence[Sequence[object]]) -> Path:
    path = drop / name
    tmp = drop / f".{name}.tmp"
    tmp.write_text(csv_text(header, rows), encoding="utf-8")
    tmp.replace(path)
    return path


def phone(n: int, area: str = "415") -> str:
    """A valid US number in the fictional 555-01xx range (accepted by our rules)."""
    return f"({area}) 555-{100 + n % 100:04d}"


def e164(n: int, area: str = "415") -> str:
    return f"+1{area}555{100 + n % 100:04d}"
