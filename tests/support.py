"""Shared test helpers: config files, drop folders, one-pass runs against a sandbox."""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Mapping, Sequence
from pathlib import Path

from connector.config import Settings, load_settings

TEST_KEY = "sk_test_connector_tests_0001"
STICKER_TEST_KEY = "sk_test_sticker_partner_0001"
WS_ONLINE = "ws_test_online"
WS_DOWNTOWN = "ws_test_downtown"
WS_EASTSIDE = "ws_test_eastside"

CUSTOMER_HEADER = ["customer_id", "phone", "email", "first_name", "last_name", "sms_opt_in",
                   "email_opt_in", "opt_in_source", "opt_in_at", "store_id", "updated_at"]
ORDER_HEADER = ["order_id", "customer_id", "phone", "store_id", "completed_at", "total",
                "items", "status"]
REFUND_HEADER = ["refund_id", "order_id", "refunded_at", "amount"]
STORE_HEADER = ["store_id", "name", "address1", "address2", "city", "state", "zip",
                "phone", "is_default"]

OWNER: dict[str, object] = {
    "internal_user_id": "owner", "first_name": "Dana", "last_name": "Kendall",
    "email": "dana@example.com", "phone": "(415) 555-0101"}
MANAGER: dict[str, object] = {
    "internal_user_id": "manager", "first_name": "Sam", "last_name": "Reyes",
    "email": "sam@example.com"}


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def sticker_section(users: Sequence[Mapping[str, object]] = (OWNER,),
                    **fields: object) -> str:
    """A ``[tenants.sticker]`` section (appended after the tenant's sources)."""
    lines = ["[tenants.sticker]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in fields.items()]
    lines += ["", "[tenants.sticker.billing_address]", 'line1 = "100 Market St"',
              'city = "San Francisco"', 'state = "CA"', 'zip = "94105"']
    for user in users:
        lines += ["", "[[tenants.sticker.users]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in user.items()]
    return "\n".join(lines) + "\n"


def write_config(root: Path, base_url: str, *, state_url: str | None = None,
                 sticky: dict[str, object] | None = None, batch_size: int = 500,
                 sticker: str | None = None,
                 sticker_api: dict[str, object] | None = None,
                 sources: str | None = None,
                 workspaces: dict[str, str] | None = None,
                 passes: dict[str, object] | None = None,
                 webhooks: dict[str, object] | None = None) -> Path:
    """``sticker``: a ``[tenants.sticker]`` section (see :func:`sticker_section`); the
    ``[sticker]`` API section then points at the sandbox's ``/sticker`` prefix.
    ``passes``: the tenant's ``[tenants.passes]`` keys (the section turns passes on);
    ``webhooks``: the ``[webhooks]`` keys."""
    root.mkdir(parents=True, exist_ok=True)
    sticky_keys = {"max_attempts": 8, "retry_budget_seconds": 60, **(sticky or {})}
    sticky_lines = "\n".join(f"{k} = {v!r}" for k, v in sticky_keys.items())
    sticker_keys = {"max_attempts": 4, "retry_budget_seconds": 30,
                    "rate_limit_per_second": 50, **(sticker_api or {})}
    sticker_lines = "\n".join(f"{k} = {v!r}" for k, v in sticker_keys.items())
    (root / "drop").mkdir(exist_ok=True)
    path = root / "config.toml"
    csv_source = csv_block("pos", "./drop", batch_size)
    passes_section = "" if passes is None else "[tenants.passes]\n" + "\n".join(
        f"{k} = {_toml_value(v)}" for k, v in passes.items()) + "\n"
    webhooks_section = "" if webhooks is None else "[webhooks]\n" + "\n".join(
        f"{k} = {_toml_value(v)}" for k, v in webhooks.items()) + "\n"
    extra_workspaces = "\n".join(f'"{k}" = "{v}"' for k, v in (workspaces or {}).items())
    path.write_text(f"""
[state]
url = "{state_url or 'sqlite:///./state.db'}"

[sticky]
base_url = "{base_url}"
{sticky_lines}

[sticker]
base_url = "{base_url}/sticker"
{sticker_lines}

{webhooks_section}
[[tenants]]
id = "t1"
name = "Test Dispensary"
default_workspace = "{WS_ONLINE}"
phone_region = "US"
timezone = "America/Los_Angeles"

[tenants.workspaces]
"001" = "{WS_DOWNTOWN}"
"002" = "{WS_EASTSIDE}"
{extra_workspaces}
{sources if sources is not None else csv_source}
{sticker or ""}
{passes_section}""", encoding="utf-8")
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


SHOPIFY_TOKEN_ENV = "STICKY_SYNC_TEST_SHOPIFY_TOKEN"


def shopify_source(base_url: str, **fields: object) -> str:
    """A ``[[tenants.sources]]`` block for a Shopify source served at ``base_url``."""
    values: dict[str, object] = {
        "kind": "shopify", "name": "shopify", "shop": "sticky-test", "base_url": base_url,
        "access_token_env": SHOPIFY_TOKEN_ENV, "max_attempts": 4, **fields}
    return "[[tenants.sources]]\n" + "\n".join(
        f"{k} = {_toml_value(v)}" for k, v in values.items()) + "\n"


def pos_source(spec: Path | str, base_url: str, *, name: str = "pos-api",
               variables: dict[str, str] | None = None,
               secrets: dict[str, str] | None = None, **fields: object) -> str:
    """A ``[[tenants.sources]]`` block for a described REST POS served at ``base_url``;
    ``secrets``: role → environment variable."""
    values: dict[str, object] = {"kind": "pos", "name": name, "spec": str(spec),
                                 "base_url": base_url, "max_attempts": 3, **fields}
    lines = [f"{k} = {_toml_value(v)}" for k, v in values.items()]
    for key, table in (("vars", variables), ("secrets", secrets)):
        if table:
            lines.append(f"{key} = {{ " + ", ".join(f"{k} = {_toml_value(v)}"
                                                     for k, v in table.items()) + " }")
    return "[[tenants.sources]]\n" + "\n".join(lines) + "\n"


def csv_block(name: str, drop_dir: str, batch_size: int) -> str:
    """One ``[[tenants.sources]]`` block of a CSV drop read as soon as a file is there."""
    return f"""
[[tenants.sources]]
kind = "csv"
name = "{name}"
drop_dir = "{drop_dir}"
stable_seconds = 0
batch_size = {batch_size}
"""


def csv_sources(*names: str, batch_size: int = 200) -> str:
    """CSV drops named ``names``, each watching ``./drop-<name>`` (several sources of one
    tenant)."""
    return "".join(csv_block(name, f"./drop-{name}", batch_size) for name in names)


def free_port() -> int:
    """A loopback port free at the moment (for a server whose URL must be known before it
    starts, e.g. in a config file)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
