"""Erased customers, the pure part: who a source erased, and whether a stored value (a
cell of a kept CSV file, a quarantined copy) belongs to one of them (docs/privacy.md).

A source marks a person erased in its own documented way: Shopify's ``REDACTED``
marketing state (../shared/reference/shopify.md §1.4 and pitfall 7), a POS description's
``erased_when`` (Blaze ``Member.deleted``). Matching compares *salted digests*: values
are normalised (E.164 phones, lower-case e-mails) and digested with the state DB's salt,
so nothing here needs the erased values themselves.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from adapters.records import CustomerRecord, OrderRecord
from connector.errors import InvalidRecord, SkipRecord
from connector.mapping.context import MappingContext
from connector.mapping.email import normalize_email
from connector.mapping.keys import customer_key, phone_customer_key
from connector.mapping.phone import normalize_phone
from connector.mapping.values import clean
from state.erasures import EMAIL, KEY, PHONE, Digests, ErasedPerson

CUSTOMER_ERASED = "customer_erased"
"""The skip reason of every record of an erased customer."""

Digest = Callable[[str, str], str]
"""``(kind, normalised value) → salted digest`` (``StateStore.erasures.digest``)."""

_PHONE_LIKE = re.compile(r"[0-9+().\-\s]{7,32}")


def erased_person(record: CustomerRecord | OrderRecord, ctx: MappingContext) -> ErasedPerson | None:
    """The customer a record says was erased (a customer record marked erased, or an order
    whose customer is), or None when the record says nothing of the kind or names no
    customer the connector could have keyed."""
    if isinstance(record, CustomerRecord):
        if not record.erased:
            return None
        source_id = clean(record.customer_id)
        space = record.id_space or ctx.source
        phone = _phone(record.phone, ctx)
        email = _email(record.email)
    else:
        if not record.customer_erased:
            return None
        source_id = clean(record.customer_id)
        space = record.customer_id_space or ctx.source
        phone = _phone(record.phone, ctx)
        email = None
    if source_id is not None:
        key = customer_key(space, source_id)
    elif phone is not None:
        key = phone_customer_key(phone)
    else:
        return None
    return ErasedPerson(key, f"erased at the source {ctx.source}",
                        phones=(phone,) if phone else (), emails=(email,) if email else ())


def erased_skip(what: str) -> SkipRecord:
    """The skip of a record of an erased customer (its message names no customer)."""
    return SkipRecord(CUSTOMER_ERASED, f"{what}: its customer was erased at the source; "
                      "nothing of theirs is sent, and what the connector held about them "
                      "is purged", field="customer_id")


def _phone(raw: str | None, ctx: MappingContext) -> str | None:
    try:
        return normalize_phone(raw, ctx.phone_region)
    except InvalidRecord:
        return None


def _email(raw: str | None) -> str | None:
    try:
        email = normalize_email(raw)
    except InvalidRecord:
        return None
    return email.lower() if email else None


class ErasureMatcher:
    """Tells whether values belong to an erased customer, by their digests."""

    def __init__(self, digest: Digest, region: str) -> None:
        self.digest = digest
        self.region = region

    def value(self, text: str, digests: Digests) -> bool:
        """A cell holding an erased customer's phone or e-mail."""
        value = text.strip()
        if not value:
            return False
        if "@" in value and digests.emails:
            return self.digest(EMAIL, value.lower()) in digests.emails
        if digests.phones and _PHONE_LIKE.fullmatch(value) and sum(
                c.isdigit() for c in value) >= 7:
            try:
                phone = normalize_phone(value, self.region)
            except InvalidRecord:
                return False
            return self.digest(PHONE, phone) in digests.phones
        return False

    def key(self, space: str, customer_id: str | None, digests: Digests) -> bool:
        source_id = clean(customer_id)
        return source_id is not None and self.digest(
            KEY, customer_key(space, source_id)) in digests.keys

    def row(self, cells: Sequence[str], digests: Digests, *, id_column: int | None = None,
            space: str | None = None) -> bool:
        """A CSV row of an erased customer: one of its cells is their phone or e-mail,
        or its customer id column (``id_column``, ids of ``space``) is theirs."""
        if id_column is not None and space is not None and id_column < len(cells) and (
                self.key(space, cells[id_column], digests)):
            return True
        return any(self.value(cell, digests) for cell in cells)

    def document(self, doc: Any, digests: Digests) -> bool:
        """A stored JSON document (a raw source row, a quarantined record) that holds an
        erased customer's phone, e-mail, or, for a record, their customer id."""
        if isinstance(doc, Mapping):
            origin = doc.get("origin")
            if isinstance(origin, Mapping) and "customer_id" in doc:
                space = doc.get("id_space") or doc.get("customer_id_space") or origin.get(
                    "source")
                customer = doc.get("customer_id")
                if isinstance(space, str) and isinstance(customer, str) and self.key(
                        space, customer, digests):
                    return True
            return any(self.document(v, digests) for v in doc.values())
        if isinstance(doc, list | tuple):
            return any(self.document(v, digests) for v in doc)
        return isinstance(doc, str) and self.value(doc, digests)

