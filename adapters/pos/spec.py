"""The declarative description of a POS REST API (one TOML file per POS, see
``examples/pos/``). Validated strictly: an unknown or misspelled key is an error that
names the key, so a typo never silently drops a field."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

FieldPath = str | list[str]
"""A dotted path into a record (``cart.total``), or several tried in order."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthSpec(_Strict):
    """Secrets are named by environment variable (``*_env``), never written here."""

    kind: Literal["none", "bearer", "header", "basic", "query", "oauth2"]
    token_env: str | None = None
    header: str | None = None
    prefix: str = ""
    param: str | None = None
    value_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    token_url: str | None = None
    grant_type: Literal["client_credentials", "password", "form"] = "client_credentials"
    client_id_env: str | None = None
    client_secret_env: str | None = None
    form: dict[str, str] = Field(default_factory=dict)
    """Extra token-request form fields: name → environment variable."""
    token_field: str = "access_token"  # noqa: S105 - a JSON key, not a secret
    expires_field: str = "expires_in"
    scheme: str = "Bearer"
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers: name → environment variable (e.g. Treez ``client_id``)."""

    @model_validator(mode="after")
    def _needs(self) -> AuthSpec:
        required = {"bearer": ("token_env",), "header": ("header", "value_env"),
                    "basic": ("username_env",), "query": ("param", "value_env"),
                    "oauth2": ("token_url",), "none": ()}[self.kind]
        missing = [name for name in required if getattr(self, name) is None]
        if missing:
            raise ValueError(f"auth kind {self.kind!r} needs {', '.join(missing)}")
        if self.kind == "oauth2" and self.grant_type == "password" and (
                self.username_env is None or self.password_env is None):
            raise ValueError("auth grant_type 'password' needs username_env and password_env")
        return self


class PaginationSpec(_Strict):
    kind: Literal["none", "page", "offset", "cursor", "next_url", "link"] = "none"
    page_param: str = "page"
    start: int = 1
    size_param: str | None = None
    size: Annotated[int, Field(ge=1, le=10_000)] = 100
    offset_param: str = "offset"
    cursor_param: str = "cursor"
    cursor_path: str = "next_cursor"
    next_url_path: str = "next"
    stop: Literal["empty", "short"] = "empty"
    """page/offset: stop at an empty page, or at the first page shorter than ``size``."""
    max_pages: Annotated[int, Field(ge=1)] = 10_000
    total_path: str | None = None
    """Where a page tells how many records the query matches in all (BLAZE ``total``):
    lets a backfill show an ETA."""


class IncrementalSpec(_Strict):
    """The watermark: sent as ``param`` (or into ``{since}`` of the path) in ``format``,
    advanced from each record's ``field``; the next run starts ``lookback`` earlier."""

    param: str | None = None
    upper_param: str | None = None
    format: Literal["iso", "iso_ms_offset", "epoch_ms", "date"] = "iso"
    field: FieldPath
    lookback: str = "10m"
    initial: str = "2000-01-01T00:00:00Z"


class ItemsSpec(_Strict):
    path: str
    sku: FieldPath
    qty: FieldPath = "quantity"


class Transform(_Strict):
    """A field with transforms; a bare string/list in ``fields`` means ``path`` only."""

    path: FieldPath
    cents: bool = False
    """The source value is in cents; converted to dollars text."""
    absolute: bool = False
    sentinels: list[str] = Field(default_factory=list)
    """Values that mean "none" for this field (besides the global ones)."""
    epoch_ms: bool = False
    opt_out: bool = False
    """An opt-OUT flag mapped to an opt-in field: true → "false" (opted out), anything
    else → nothing (not opting out is not opting in)."""
    default: str | None = None


FieldSpec = FieldPath | Transform


class RefundSpec(_Strict):
    """How this POS says "money went back".

    - ``separate``: a refund/return transaction in the same stream: ``when`` picks it,
      ``original`` points at the sale, ``amount`` is its size (sign ignored).
    - ``status``: the original carries the refunded total so far (``amount``), when
      ``when`` holds; a void (``void_when``) takes back everything not yet refunded.
    - ``items``: each refunded line item (``items`` list, ``when`` on the item) is one
      refund of ``amount``, keyed by the item's ``id``.
    """

    shape: Literal["separate", "status", "items"]
    when: dict[str, list[str]] = Field(default_factory=dict)
    """field path → accepted values (as text, case-insensitive; ``"*"``: any non-empty
    value); all must hold."""
    original: FieldPath | None = None
    amount: FieldSpec = "total"
    items: str | None = None
    id: FieldPath = "id"
    refunded_at: FieldPath | None = None


class StreamSpec(_Strict):
    path: str
    params: dict[str, str] = Field(default_factory=dict)
    records: str = ""
    """Dotted path to the list of records in the body; empty = the body is the list."""
    single: bool = False
    """The body (at ``records``) is one record, not a list (e.g. Dutchie ``/whoami``)."""
    constants: dict[str, str] = Field(default_factory=dict)
    """Canonical fields with a fixed value, ``{var}`` filled from the source's vars
    (e.g. ``store_id = "{location}"`` for an API keyed per store)."""
    pagination: PaginationSpec = PaginationSpec()
    incremental: IncrementalSpec | None = None
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    items: ItemsSpec | None = None
    skip_when: dict[str, list[str]] = Field(default_factory=dict)
    """Orders: field path → values that mean "not a completed sale" (void, draft...)."""
    refunds: list[RefundSpec] = Field(default_factory=list)
    consent_source: str | None = None
    """Required to map ``sms_opt_in``/``email_opt_in``: where the opt-in was collected."""


KNOWN_FIELDS = {
    "customers": {"customer_id", "phone", "email", "first_name", "last_name", "full_name",
                  "sms_opt_in", "email_opt_in", "opt_in_at", "store_id", "updated_at"},
    "orders": {"order_id", "customer_id", "phone", "store_id", "completed_at", "total",
               "status"},
    "locations": {"store_id", "name", "nickname", "address1", "address2", "city", "state",
                  "zip", "country", "phone", "email", "contact_name", "is_default"},
}


class PosSpec(_Strict):
    name: str
    base_url: str | None = None
    timezone: str = "UTC"
    auth: AuthSpec
    namespace_ids: bool = False
    """Prefix customer/order ids with ``{location}`` (ids unique only per store)."""
    sentinels: list[str] = Field(default_factory=lambda: ["N/A", "n/a", "NULL", "null"])
    streams: dict[Literal["customers", "orders", "locations"], StreamSpec]

    @field_validator("streams")
    @classmethod
    def _fields(cls, streams: dict[str, StreamSpec]) -> dict[str, StreamSpec]:
        for name, stream in streams.items():
            unknown = sorted((set(stream.fields) | set(stream.constants)) - KNOWN_FIELDS[name])
            if unknown:
                raise ValueError(f"{name}.fields: unknown canonical field(s) {unknown}; "
                                 f"known: {sorted(KNOWN_FIELDS[name])}")
            consent = {"sms_opt_in", "email_opt_in"} & set(stream.fields)
            if consent and not stream.consent_source:
                raise ValueError(
                    f"{name}: mapping {sorted(consent)} needs consent_source (where the "
                    "opt-in was collected); a bare boolean is not consent without it")
            for key in consent:
                paths = _paths(stream.fields[key])
                if any("loyal" in p.lower() for p in paths):
                    raise ValueError(f"{name}.fields.{key}: {paths} is a loyalty flag; "
                                     "loyalty membership is never consent")
        return streams


def _paths(spec: FieldSpec) -> list[str]:
    path = spec.path if isinstance(spec, Transform) else spec
    return [path] if isinstance(path, str) else list(path)


def load_spec(path: Path) -> PosSpec:
    """Read and validate a description; ``ValueError`` names the file and each bad key."""
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ValueError(f"{path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return PosSpec.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ())
                             if "[" not in str(p) and not str(p).startswith("function-"))
            message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            if err.get("type") == "extra_forbidden":
                message = "unknown key (check the spelling against docs/pos.md)"
            elif err.get("type") == "missing":
                message = "required key is missing"
            problems.append(f"{where or '<root>'}: {message}")
        raise ValueError(f"{path}: " + "; ".join(problems)) from exc
