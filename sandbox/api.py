"""Types shared by emulated APIs: requests as handlers see them, results, route tables."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal

from sandbox.errors import ApiError, invalid
from sandbox.stats import S


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
class ApiRequest(Generic[S]):
    workspace: str  # "" for APIs without a workspace header
    method: str
    path: str
    query: Mapping[str, str]  # last value wins for repeated parameters
    body: object  # parsed JSON or NOT_JSON
    idempotency_key: str | None
    stats: S
    api_key: str = ""  # the authenticated key (what the authenticator returned)
    raw_body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names

    def json_object(self) -> dict[str, object]:
        """The body as a JSON object, else 400 ``invalid_json``."""
        if not isinstance(self.body, dict):
            raise invalid("invalid_json", "The request body must be a JSON object.")
        return self.body


@dataclass(frozen=True)
class ApiResult:
    status: int
    body: dict[str, object]


Handler = Callable[[ApiRequest[S]], ApiResult]
RouteTable = Mapping[str, Mapping[str, Handler[S]]]  # path -> method -> handler
Authenticator = Callable[[str | None], str]  # returns the key; raises ApiError (401)
ErrorRenderer = Callable[[ApiError], dict[str, object]]
RateScope = Literal["workspace", "api_key"]


def flat_error_body(error: ApiError) -> dict[str, object]:
    """Sticky's error shape: ``{"type", "code", "message", "param"}``."""
    return error.body()


@dataclass(frozen=True)
class ApiDefinition(Generic[S]):
    """What the generic pipeline needs to serve one API.

    ``workspace_header``: required on every request when set (matched
    case-insensitively); data, rate windows and counters are then kept per workspace.
    Without it, counters are kept under ``name``.
    ``rate_scope``: the rate window is per workspace or per API key.
    ``render_error``: the JSON body of an error the pipeline (or a handler) raises.
    ``idempotency``: whether ``Idempotency-Key`` is honoured (else the header is ignored).
    ``error_faults``: whether the ``error_rate`` and ``storm_*`` faults apply (latency and
    drops always do).
    """

    name: str
    authenticate: Authenticator
    routes: RouteTable[S]
    stats_factory: Callable[[], S]
    workspace_header: str | None = None
    rate_scope: RateScope = "workspace"
    render_error: ErrorRenderer = flat_error_body
    idempotency: bool = True
    error_faults: bool = True

    def __post_init__(self) -> None:
        if self.rate_scope == "workspace" and self.workspace_header is None:
            raise ValueError("rate_scope 'workspace' needs a workspace_header")
