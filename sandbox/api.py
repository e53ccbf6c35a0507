"""Types shared by emulated APIs: requests as handlers see them, results, route tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sandbox.errors import invalid
from sandbox.stats import WorkspaceStats


class _NotJson:
    def __repr__(self) -> str:
        return "NOT_JSON"


NOT_JSON: object = _NotJson()
"""Parsed-body sentinel for a body that is empty or not valid JSON."""


def parse_json(raw: bytes) -> object:
    """The decoded JSON body, or :data:`NOT_JSON`."""
    if not raw.strip():
        return NOT_JSON
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return NOT_JSON


def canonical_body(parsed: object, raw: bytes) -> bytes:
    """Key-order-independent form of a body, for idempotency fingerprints."""
    if parsed is NOT_JSON:
        return b"raw:" + raw
    return json.dumps(parsed, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class ApiRequest:
    workspace: str
    method: str
    path: str
    query: Mapping[str, str]  # last value wins for repeated parameters
    body: object  # parsed JSON or NOT_JSON
    idempotency_key: str | None
    stats: WorkspaceStats

    def json_object(self) -> dict[str, object]:
        """The body as a JSON object, else 400 ``invalid_json``."""
        if not isinstance(self.body, dict):
            raise invalid("invalid_json", "The request body must be a JSON object.")
        return self.body


@dataclass(frozen=True)
class ApiResult:
    status: int
    body: dict[str, object]


Handler = Callable[[ApiRequest], ApiResult]
RouteTable = Mapping[str, Mapping[str, Handler]]  # path -> method -> handler
Authenticator = Callable[[str | None], None]  # raises ApiError (401) for a bad header


@dataclass(frozen=True)
class ApiDefinition:
    """What the generic pipeline needs to serve one API."""

    name: str
    workspace_header: str  # e.g. "Sticky-Workspace" (matched case-insensitively)
    authenticate: Authenticator
    routes: RouteTable
