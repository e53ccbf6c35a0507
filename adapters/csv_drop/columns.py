"""Which column of a drop file holds which canonical field.

Header names are normalized (``" E-Mail Address "`` -> ``email_address``) and looked up
in a per-kind table built from the canonical names, the built-in aliases and the
configured aliases (which win). The table is only a lookup: values are never inspected.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from adapters.csv_drop.errors import FileLevelError

StreamKind = Literal["customers", "orders", "refunds", "locations"]
KINDS: Final[tuple[StreamKind, ...]] = ("customers", "orders", "refunds", "locations")

LAYOUTS: Final[Mapping[StreamKind, tuple[str, ...]]] = {
    "customers": (
        "customer_id", "phone", "email", "first_name", "last_name", "sms_opt_in",
        "email_opt_in", "opt_in_source", "opt_in_at", "store_id", "updated_at",
    ),
    "orders": (
        "order_id", "customer_id", "phone", "store_id", "completed_at", "total", "items",
        "status",
    ),
    "refunds": ("refund_id", "order_id", "refunded_at", "amount"),
    "locations": (
        "store_id", "name", "nickname", "address1", "address2", "city", "state", "zip",
        "country", "phone", "email", "contact_name", "is_default", "delivery_instructions",
    ),
}

SHARED_ALIASES: Final[Mapping[str, tuple[str, ...]]] = {
    "phone": ("mobile", "mobile_phone", "cell", "cell_phone", "phone_number"),
    "email": ("email_address", "e_mail"),
    "first_name": ("firstname", "given_name"),
    "last_name": ("lastname", "surname", "family_name"),
    "customer_id": ("customer", "customer_number", "client_id"),
    "order_id": ("order", "order_number"),
    "store_id": ("location_id", "store", "location"),
    "updated_at": ("last_modified", "modified_at"),
    "opt_in_at": ("sms_opt_in_at", "consent_at", "opted_in_at"),
    "opt_in_source": ("consent_source", "sms_opt_in_source"),
    "sms_opt_in": ("sms_consent", "text_opt_in", "accepts_sms"),
    "email_opt_in": ("email_consent", "accepts_email"),
}
"""Built-in aliases (normalized header -> canonical), for every kind that has the field."""

KIND_ALIASES: Final[Mapping[StreamKind, Mapping[str, tuple[str, ...]]]] = {
    "customers": {},
    # A refunds file's "transaction_id" may be the refund's own id: only orders get it.
    "orders": {
        "order_id": ("transaction_id", "ticket_id"),
        "total": ("order_total", "amount", "grand_total"),
    },
    "refunds": {"refunded_at": ("created_at", "date")},
    "locations": {
        "store_id": ("store_number", "store_no", "store_#", "location_number",
                     "location_#", "shipping_location_id"),
        "name": ("store_name", "location_name", "dba", "dba_name"),
        "nickname": ("short_name", "alias"),
        "address1": ("address", "address_1", "address_line_1", "line1", "line_1", "street",
                     "street_address", "address_street"),
        "address2": ("address_2", "address_line_2", "line2", "line_2", "suite", "unit"),
        "city": ("town", "address_city"),
        "state": ("province", "state_code", "state_province", "address_state", "region"),
        "zip": ("zip_code", "zipcode", "postal_code", "postalcode", "postcode",
                "address_zip"),
        "phone": ("store_phone", "contact_phone", "telephone"),
        "email": ("store_email", "contact_email"),
        "contact_name": ("contact", "manager", "store_manager", "contact_person"),
        "is_default": ("default", "primary", "is_primary", "default_location"),
        "delivery_instructions": ("instructions", "delivery_notes", "delivery_note"),
    },
}
"""Built-in aliases that only make sense for one kind."""

CONSENT_FIELDS: Final = frozenset({"sms_opt_in", "email_opt_in"})

_SEPARATORS = re.compile(r"[\s./\-]+")


def normalize(name: str) -> str:
    """``" Mobile-Phone "`` -> ``mobile_phone``, ``State/Province`` -> ``state_province``;
    also used for configured alias names."""
    return _SEPARATORS.sub("_", name.replace("\ufeff", "").strip().lower()).strip("_")


AliasTables = Mapping[StreamKind, Mapping[str, str]]


def alias_tables(configured: Mapping[str, Sequence[str]] | None = None) -> AliasTables:
    """Per kind, normalized header name -> canonical field.

    Raises ``ValueError`` for configuration mistakes: an unknown canonical field, one
    alias given to two fields of one kind, or a loyalty column offered as consent
    (loyalty membership is not SMS/email consent).
    """
    configured = configured or {}
    known = {name for layout in LAYOUTS.values() for name in layout}
    for canonical, names in configured.items():
        if canonical not in known:
            raise ValueError(f"column alias for unknown field {canonical!r}")
        if canonical in CONSENT_FIELDS:
            for alias in _names(names):
                if "loyalty" in normalize(alias):
                    raise ValueError(
                        f"{alias!r} cannot be an alias of {canonical!r}: "
                        "loyalty membership is not consent")
    return {kind: _table(kind, configured) for kind in KINDS}


def _names(names: Sequence[str]) -> list[str]:
    # A bare string is a Sequence[str] too; treat it as one alias, not as letters.
    return [names] if isinstance(names, str) else list(names)


def _table(kind: StreamKind, configured: Mapping[str, Sequence[str]]) -> dict[str, str]:
    layout = LAYOUTS[kind]
    table = {name: name for name in layout}
    for source in (SHARED_ALIASES, KIND_ALIASES[kind]):
        for canonical, aliases in source.items():
            if canonical in layout:
                table.update(dict.fromkeys(aliases, canonical))
    chosen: dict[str, str] = {}
    for canonical, names in configured.items():
        if canonical not in layout:
            continue
        for alias in map(normalize, _names(names)):
            if chosen.get(alias, canonical) != canonical:
                raise ValueError(
                    f"column alias {alias!r} is configured for both "
                    f"{chosen[alias]!r} and {canonical!r}")
            chosen[alias] = canonical
    table.update(chosen)
    return table


@dataclass(frozen=True, slots=True)
class Columns:
    """A file's header resolved: where each canonical field is, and the raw keys."""

    header: tuple[str, ...]
    """Header names as written (surrounding whitespace stripped), in file order."""
    keys: tuple[str, ...]
    """Unique ``raw`` key per column (the header name, disambiguated if repeated/blank)."""
    fields: Mapping[str, int]
    """Canonical field -> column index; unmapped fields are absent."""
    near_misses: tuple[tuple[str, str], ...] = ()
    """(header as written, canonical field) for unused headers that look like a field
    the file lacks (``Phnoe`` -> ``phone``): probably misspelt, so reported."""


_REQUIRED: Final[Mapping[StreamKind, tuple[str, ...]]] = {
    "customers": ("phone",),
    "orders": ("order_id", "total"),
    "refunds": ("refund_id", "order_id", "amount"),
    "locations": ("store_id", "name", "address1", "city", "state", "zip"),
}
_ONE_OF: Final[Mapping[StreamKind, tuple[str, ...]]] = {"orders": ("customer_id", "phone")}


def resolve(kind: StreamKind, header: Sequence[str], table: Mapping[str, str],
            file_name: str) -> Columns:
    """Map ``header`` for a ``kind`` file; raises :class:`FileLevelError` if unusable."""
    names = header_names(header)
    fields: dict[str, int] = {}
    for index, name in enumerate(names):
        canonical = table.get(normalize(name))
        if canonical is None:
            continue
        if canonical in fields:
            first = names[fields[canonical]]
            raise FileLevelError(
                "duplicate_column",
                f"{file_name}: columns {first!r} and {name!r} both map to {canonical!r}",
                canonical)
        fields[canonical] = index
    misses = near_misses(names, fields, table)
    for canonical in _REQUIRED[kind]:
        if canonical not in fields:
            raise FileLevelError(
                "missing_column", f"{file_name} has no {canonical!r} column"
                + _hint(names, misses, canonical), canonical)
    one_of = _ONE_OF.get(kind, ())
    if one_of and not any(name in fields for name in one_of):
        wanted = " or ".join(repr(name) for name in one_of)
        raise FileLevelError(
            "missing_column", f"{file_name} has no {wanted} column"
            + _hint(names, misses, *one_of), one_of[0])
    return Columns(header=names, keys=unique_keys(names), fields=fields,
                   near_misses=tuple(misses))


NEAR = 0.8
"""How alike (difflib ratio) an unused header and a field name must be to be reported."""


def near_misses(names: Sequence[str], fields: Mapping[str, int],
                table: Mapping[str, str]) -> list[tuple[str, str]]:
    """Unused headers that look like the name (or an alias) of a field the file lacks."""
    wanted = {alias: canonical for alias, canonical in table.items()
              if canonical not in fields}
    found: list[tuple[str, str]] = []
    for index, name in enumerate(names):
        key = normalize(name)
        if not key or key in table or index in fields.values():
            continue
        match = difflib.get_close_matches(key, list(wanted), n=1, cutoff=NEAR)
        if match:
            found.append((name, wanted[match[0]]))
    return found


def columns_line(header: str, canonical: str) -> str:
    """The config line that maps ``header`` to ``canonical`` (in the source's block)."""
    return f"columns = {{ {canonical} = [{json.dumps(header)}] }}"


def _hint(names: Sequence[str], misses: Sequence[tuple[str, str]],
          *canonical: str) -> str:
    found = ", ".join(repr(n) for n in names[:20]) or "none"
    close = [(h, c) for h, c in misses if c in canonical]
    text = f" (headers found: {found})"
    if close:
        header, field = close[0]
        text += (f"; {header!r} looks like {field!r}: if it is, add "
                 f"`{columns_line(header, field)}` to this source's [[tenants.sources]] "
                 "block")
    else:
        text += (f"; if one of them holds {canonical[0]!r}, name it in the source's "
                 f"`columns` (e.g. `{columns_line('Header', canonical[0])}`)")
    return text


def header_names(header: Sequence[str]) -> tuple[str, ...]:
    """Header cells as written, minus surrounding whitespace (and a stray BOM)."""
    return tuple(cell.replace("\ufeff", "").strip() for cell in header)


def unique_keys(names: Sequence[str]) -> tuple[str, ...]:
    """``["Notes", "", "Notes"]`` -> ``("Notes", "column_2", "Notes (2)")``."""
    keys: list[str] = []
    seen: set[str] = set()
    for index, name in enumerate(names, start=1):
        base = name or f"column_{index}"
        key, n = base, 1
        while key in seen:
            n += 1
            key = f"{base} ({n})"
        seen.add(key)
        keys.append(key)
    return tuple(keys)
