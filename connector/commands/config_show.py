"""``sticky-sync config``: the effective configuration, one key a line, with where each
value came from (the file, the environment, or the default) and secrets masked, like
``meltano config list``. Tenants, sources and users are named by their id."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, SecretStr
from rich.console import Console
from rich.table import Table

from connector.config import CONFIG_ENV, ENV_PREFIX, Settings
from connector.config_errors import env_variable

MASK = "********"
LABELS = ("id", "name", "internal_user_id")


def _label(item: BaseModel, index: int) -> str:
    for key in LABELS:
        value = getattr(item, key, None)
        if isinstance(value, str) and value:
            return value
    return str(index)


def _leaves(value: Any, loc: tuple[Any, ...], path: str
            ) -> Iterator[tuple[str, tuple[Any, ...], Any]]:
    """(dotted path with labels, raw location, value) for every key set in ``value``."""
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            sub = getattr(value, name)
            yield from _leaves(sub, (*loc, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list) and value and all(isinstance(v, BaseModel) for v in value):
        for index, item in enumerate(value):
            yield from _leaves(item, (*loc, index), f"{path}[{_label(item, index)}]")
    elif isinstance(value, dict) and value:
        for key, sub in value.items():
            yield from _leaves(sub, (*loc, key), f"{path}.{key}")
    else:
        yield path, loc, value


def _in_file(data: Any, loc: tuple[Any, ...]) -> bool:
    node = data
    for part in loc:
        in_list = isinstance(part, int) and isinstance(node, list) and part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        else:
            return False
    return True


def _shown(value: Any) -> str:
    if isinstance(value, SecretStr):
        return MASK if value.get_secret_value() else "(empty)"
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "[]"
    if isinstance(value, dict):
        return "{}"
    return str(value)


def effective_config(settings: Settings, config_path: Path | None,
                     environ: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    env = os.environ if environ is None else environ
    path = config_path or (Path(env[CONFIG_ENV]) if env.get(CONFIG_ENV) else None)
    data: dict[str, Any] = {}
    if path is not None:
        with path.expanduser().open("rb") as fh:
            data = tomllib.load(fh)
    rows: list[dict[str, str]] = []
    for key, loc, value in _leaves(settings, (), ""):
        variable = env_variable(loc, ENV_PREFIX)
        if variable is not None and variable in env:
            origin = f"environment ({variable})"
        elif _in_file(data, loc):
            origin = f"file ({path.name})" if path is not None else "file"
        else:
            origin = "default"
        rows.append({"key": key, "value": _shown(value), "origin": origin})
    return rows


def render_config(rows: list[dict[str, str]], console: Console) -> None:
    table = Table(title="effective configuration")
    for column in ("key", "value", "from"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(row["key"], row["value"], row["origin"])
    console.print(table)
