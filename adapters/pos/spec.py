"""The declarative description of a POS REST API (one TOML file per POS, see
``examples/pos/`` and ``docs/pos.md``). Validated strictly: an unknown or misspelled key
is an error that names the key, so a typo never silently drops a field."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
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

from connector.mapping.timestamps import valid_zone
from connector.schedule import parse_duration

FieldPath = str | list[str]
"""A dotted path into a record (``cart.total``), or several candidates: the first whose
value is usable (present, not a sentinel, and readable as the field's kind) wins."""

RESERVED_PLACEHOLDERS = frozenset({"since", "until", "page"})
_PLACEHOLDER = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def placeholders(template: str) -> set[str]:
    return set(_PLACEHOLDER.findall(template))


def _check_zone(value: str | None) -> str | None:
    return None if value is None else valid_zone(value)


def _duration(value: str | None) -> str | None:
    if value is not None:
        parse_duration(value)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SecretSpec(_Strict):
    """A secret the POS needs, by role (``location_key``...): ``env`` is the environment
    variable that holds it unless the source names another (``secrets`` in the source,
    e.g. one Dutchie key per store)."""

    env: Annotated[str, Field(pattern=r"^[A-Z_][A-Z0-9_]*$")]
    optional: bool = False
    description: str = ""


SECRET_SLOTS = ("token", "value", "username", "password", "client_id", "client_secret")
"""Auth keys that hold a secret reference: a role of ``[secrets]``, or else the name of
an environment variable (the older ``*_env`` spelling of each key means the same)."""


class AuthSpec(_Strict):
    """Secrets are named by reference (a ``[secrets]`` role or an environment variable),
    never written here."""

    kind: Literal["none", "bearer", "header", "basic", "query", "oauth2"]
    token: str | None = None
    value: str | None = None
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_env: str | None = None
    value_env: str | None = None
    username_env: str | None = None
    password_env: str | None = None
    client_id_env: str | None = None
    client_secret_env: str | None = None
    header: str | None = None
    prefix: str = ""
    param: str | None = None
    token_url: str | None = None
    grant_type: Literal["client_credentials", "password", "form"] = "client_credentials"
    form: dict[str, str] = Field(default_factory=dict)
    """Extra token-request form fields: name → secret reference."""
    token_field: str = "access_token"  # noqa: S105 - a JSON key, not a secret
    expires_field: str = "expires_in"
    scheme: str = "Bearer"
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra request headers: name → secret reference (e.g. Treez ``client_id``)."""

    @model_validator(mode="after")
    def _needs(self) -> AuthSpec:
        for slot in SECRET_SLOTS:
            if getattr(self, slot) is not None and getattr(self, f"{slot}_env") is not None:
                raise ValueError(f"auth: set {slot} or {slot}_env, not both")
        required = {"bearer": ("token",), "header": ("header", "value"),
                    "basic": ("username",), "query": ("param", "value"),
                    "oauth2": ("token_url",), "none": ()}[self.kind]
        missing = [name for name in required if (
            self.secret_ref(name) if name in SECRET_SLOTS else getattr(self, name)) is None]
        if missing:
            raise ValueError(f"auth kind {self.kind!r} needs {', '.join(missing)}")
        if self.kind == "oauth2" and self.grant_type == "password" and (
                self.secret_ref("username") is None or self.secret_ref("password") is None):
            raise ValueError("auth grant_type 'password' needs username and password")
        return self

    def secret_ref(self, slot: str) -> str | None:
        value: str | None = getattr(self, slot) or getattr(self, f"{slot}_env")
        return value

    def references(self) -> Iterator[tuple[str, str]]:
        """(where, reference) for every secret this auth uses."""
        for slot in SECRET_SLOTS:
            ref = self.secret_ref(slot)
            if ref is not None:
                yield f"auth.{slot}", ref
        for name, ref in self.form.items():
            yield f"auth.form.{name}", ref
        for name, ref in self.headers.items():
            yield f"auth.headers.{name}", ref


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
    timezone: str | None = None
    """A time written without an offset is in this zone (``UTC`` for a field the API
    documents as UTC, e.g. Dutchie ``lastModifiedDateUTC``); default: the POS's zone."""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _check_zone(value)


FieldSpec = FieldPath | Transform


class IncrementalSpec(_Strict):
    """The watermark: sent as ``param`` (or into ``{since}`` of the path) in ``format``,
    advanced from each record's ``field``; the next run starts ``lookback`` earlier.

    ``max_window``: the longest span one query may cover (Dutchie: 1440 h); a read from
    an old watermark (or a first read from a start) walks windows of at most that,
    checkpointing after each.

    ``first_read``: ``open`` sends no bounds at all on a first read (everything the API
    lists, records with sentinel dates included); ``from_start`` walks from ``initial``,
    else the source's ``start_date``, else 2000-01-01. Default: ``from_start`` when the
    API cannot be asked without a lower bound (``{since}`` in the path) or a query's span
    is capped (``max_window``), else ``open``.

    ``watermark``: where the next pass starts (before its ``lookback``): ``auto`` is the
    newest record time seen (by the server's clock), else the upper bound of the last
    window when the pass saw no record; ``run_start`` is the time the pass started (what
    some clients of newest-first lists do, where a record updated during the walk moves
    to a page already read).

    ``timezone``: the zone the API reads a sent date or time without offset in
    (``date``/``us_date`` formats); default the POS's."""

    param: str | None = None
    upper_param: str | None = None
    format: Literal["iso", "iso_ms_offset", "epoch_ms", "date", "us_date"] = "iso"
    field: FieldSpec
    lookback: str = "10m"
    initial: str | None = None
    max_window: str | None = None
    first_read: Literal["open", "from_start"] | None = None
    watermark: Literal["auto", "run_start"] = "auto"
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _check_zone(value)

    @field_validator("lookback", "max_window")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return _duration(value)

    @field_validator("max_window")
    @classmethod
    def _positive_window(cls, value: str | None) -> str | None:
        if value is not None and parse_duration(value) <= 0:
            raise ValueError(f"max_window {value!r}: a window must span some time (e.g. 7d)")
        return value

    @field_validator("initial")
    @classmethod
    def _initial(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"{value!r}: a date or ISO time such as 2024-01-01")
        return value

    @model_validator(mode="after")
    def _window(self) -> IncrementalSpec:
        if self.max_window is not None and self.upper_param is None:
            raise ValueError("max_window needs upper_param: a window must be bounded above")
        if self.initial is not None and self.first_read == "open":
            raise ValueError("initial is where a first read starts: it needs first_read = "
                             "\"from_start\"")
        return self

    @property
    def date_only(self) -> bool:
        return self.format in ("date", "us_date")


class ItemsSpec(_Strict):
    path: str
    sku: FieldPath
    qty: FieldPath = "quantity"


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


AUTO = "auto"
"""A record selector that takes a bare array, or the list in a common envelope."""


class StreamSpec(_Strict):
    path: str
    params: dict[str, str] = Field(default_factory=dict)
    records: str | list[str] = AUTO
    """Where the list of records is in the body: a dotted path, ``""`` for the body
    itself, ``"auto"`` (a bare array, or the list under a common envelope key such as
    ``data``, ``values``, ``results``), or a list of those tried in order."""
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
    """Orders: field path → values that mean the sale was voided or cancelled: a
    delivered order that later matches has what was not refunded taken back."""
    completed_when: dict[str, list[str]] = Field(default_factory=dict)
    """Orders: field path → values of a completed sale; any other order (in progress,
    awaiting pickup...) is skipped as not completed, and read again when it changes."""
    refunds: list[RefundSpec] = Field(default_factory=list)
    erased_when: dict[str, list[str]] = Field(default_factory=dict)
    """Customers: field path → values that mean the API deleted the person or erased
    their data (Blaze ``Member.deleted``): never sent, and one already synced is purged
    from the state DB (docs/privacy.md). Only a flag the API documents belongs here."""
    consent_source: str | None = None
    """Required to map ``sms_opt_in``/``email_opt_in``: where the opt-in was collected."""
    amounts: Literal["dollars", "cents"] | None = None
    """Orders: the unit of ``total`` and of refund amounts (required when mapped)."""
    scope: Literal["store", "org"] = "store"
    """Customers: ``org`` when the list is the whole organisation's (the same customers
    whichever store's source reads it): their ids are then shared by every source of
    this POS in the tenant, so a customer is sent once per workspace, not once per
    source, and no store constant is stamped on them."""

    @model_validator(mode="after")
    def _first_read(self) -> StreamSpec:
        inc = self.incremental
        if inc is not None and inc.first_read == "open" and "{since}" in self.path:
            raise ValueError("incremental.first_read: \"open\" is impossible with {since} in "
                             "the path (the API needs a lower bound)")
        return self

    def first_read(self) -> str:
        """``open`` or ``from_start`` (see :class:`IncrementalSpec`)."""
        inc = self.incremental
        if inc is None:
            return "open"
        if inc.first_read is not None:
            return inc.first_read
        needs = inc.max_window is not None or inc.initial is not None or "{since}" in self.path
        return "from_start" if needs else "open"

    def selectors(self) -> list[str]:
        return [self.records] if isinstance(self.records, str) else list(self.records)


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
    timezone: str | None = None
    """The zone of times the API writes without an offset, and of ``date`` watermarks;
    unset: the store's own (the source's ``timezone``, else the tenant's)."""
    auth: AuthSpec
    secrets: dict[str, SecretSpec] = Field(default_factory=dict)
    """Secrets by role → the environment variable that holds each by default."""
    vars: dict[str, str] = Field(default_factory=dict)
    """The source variables this description uses, with what each means (checked: a
    source that misspells or misses one is a configuration error)."""
    namespace_ids: bool = False
    """Prefix customer/order ids with ``{location}`` (ids unique only per store)."""
    sentinels: list[str] = Field(default_factory=lambda: ["N/A", "n/a", "NULL", "null"])
    streams: dict[Literal["customers", "orders", "locations"], StreamSpec]

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return _check_zone(value)

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
            if name == "orders" and stream.amounts is None and (
                    "total" in stream.fields or stream.refunds):
                raise ValueError("orders.amounts: required key is missing: the unit of "
                                 "total and refund amounts, \"dollars\" or \"cents\"")
            if stream.erased_when and name != "customers":
                raise ValueError(f"{name}.erased_when: only customers are erased")
            if stream.scope == "org" and name != "customers":
                raise ValueError(f"{name}.scope: only a customers stream can be org-wide")
            if stream.scope == "org" and "store_id" in stream.constants:
                raise ValueError("customers.constants.store_id: an org-wide customer list "
                                 "says nothing about a store; map store_id from a field "
                                 "of the record, or leave it out")
        return streams

    @model_validator(mode="after")
    def _references(self) -> PosSpec:
        for where, ref in self.auth.references():
            if ref not in self.secrets and not re.match(r"^[A-Z_][A-Z0-9_]*$", ref):
                # the value is not echoed: it may be the secret itself, pasted here
                raise ValueError(f"{where}: neither a role of [secrets] "
                                 f"({sorted(self.secrets)}) nor an environment variable "
                                 "name (UPPER_CASE); a secret itself never goes in this "
                                 "file: put it in an environment variable and name that")
        if self.vars:
            used = self.used_vars()
            undeclared = sorted(used - set(self.vars))
            if undeclared:
                raise ValueError(f"vars: {undeclared} used in paths or constants but not "
                                 f"declared (declared: {sorted(self.vars)})")
        return self

    def templates(self) -> Iterator[tuple[str, str]]:
        """(where, template) of every text that may hold ``{placeholders}``."""
        if self.auth.token_url:
            yield "auth.token_url", self.auth.token_url
        for name, stream in self.streams.items():
            yield f"streams.{name}.path", stream.path
            for key, value in stream.params.items():
                yield f"streams.{name}.params.{key}", value
            for key, value in stream.constants.items():
                yield f"streams.{name}.constants.{key}", value

    def used_vars(self) -> set[str]:
        used = {v for _, t in self.templates() for v in placeholders(t)}
        if self.namespace_ids:
            used.add("location")
        return used - RESERVED_PLACEHOLDERS


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
