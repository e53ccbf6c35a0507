"""Email cells → a lowercased, syntactically valid address, or ``None`` for "no email"."""

from __future__ import annotations

from functools import lru_cache

from email_validator import EmailNotValidError, validate_email

from connector.errors import InvalidRecord
from connector.mapping.masking import mask_email
from connector.mapping.sentinels import has_control, printable

# What cashiers type when the customer gives no email. Compared case-insensitively.
_NO_EMAIL_TEXTS = frozenset({
    "n/a", "na", "n.a.", "none", "null", "nil", "0", "no", "x", "unknown", "declined",
    "refused", "noemail", "no email", "no_email", "no-email", "nomail", "no mail",
})
# Local parts that say "no email" whatever the domain: none@gmail.com, noemail@store.com.
_NO_EMAIL_LOCAL_PARTS = frozenset({
    "n/a", "na", "none", "null", "nil", "no", "unknown", "declined", "refused",
    "noemail", "no.email", "no_email", "no-email", "nomail", "no.mail",
    "noreply", "no-reply", "no_reply", "donotreply", "do-not-reply", "donotemail",
})
# Domains nobody receives a customer's mail at. example.com is *not* here: it is reserved,
# but our sandbox and demo data use it.
_PLACEHOLDER_DOMAINS = frozenset({
    "noemail.com", "nomail.com", "none.com", "na.com", "no.com", "test.com", "fake.com",
})
# Whole addresses that are placeholders on a real provider's domain.
_PLACEHOLDER_ADDRESSES = frozenset({
    "test@email.com", "email@email.com", "a@a.com", "x@x.com", "xx@xx.com", "xxx@xxx.com",
    "abc@abc.com", "asdf@asdf.com", "test@gmail.com",
})
CACHED_ADDRESSES = 16_384
"""Cells remembered with their normalized address (a customer's row read again)."""
_MAX_TEXT = 320  # RFC 5321 path limit; longer input is rejected before parsing


def is_placeholder_email(text: str) -> bool:
    """True when ``text`` means "no email": empty, ``n/a``, ``noemail``, ``none@none.com``...

    These are dropped to ``None`` rather than rejected: a customer without an email is a
    normal customer; it is the field, not the record, that is empty.
    """
    value = text.strip().casefold()
    if not value or value in _NO_EMAIL_TEXTS or value in _PLACEHOLDER_ADDRESSES:
        return True
    if not any(c.isalnum() for c in value):  # "-", "--", "@", "."
        return True
    local, at, domain = value.rpartition("@")
    return bool(at) and (local in _NO_EMAIL_LOCAL_PARTS or domain in _PLACEHOLDER_DOMAINS)


def normalize_email(raw: str | None, *, field: str = "email") -> str | None:
    """Return the address stripped, validated and fully lowercased, or ``None`` if absent.

    Validation is syntax only (``email_validator`` without deliverability checks): no DNS,
    so the function stays pure and fast. The whole address is lowercased, local part too,
    because that is the form the Sticky API stores and de-duplicates on; mailbox providers
    that distinguish case in the local part are not a practical concern for SMS loyalty.
    Invalid addresses raise ``InvalidRecord("invalid_email")`` with the address masked.
    """
    return _normalized(raw, field)


@lru_cache(maxsize=CACHED_ADDRESSES)
def _normalized(raw: str | None, field: str) -> str | None:
    if raw is None or is_placeholder_email(raw):
        return None
    text = raw.strip()
    if has_control(text) or any(c in text for c in "\t\n\r"):
        raise InvalidRecord("invalid_email", f"{field}: {mask_email(printable(text))} "
                            "contains a control character", field=field)
    if len(text) > _MAX_TEXT:
        raise _invalid(field, text, f"is too long ({len(text)} characters)")
    try:
        info = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise _invalid(field, text, _scrub(str(exc), text)) from exc
    return info.normalized.lower()


def _invalid(field: str, text: str, problem: str) -> InvalidRecord:
    return InvalidRecord(
        "invalid_email",
        f"{field}: {mask_email(text)!r} is not a valid email address: {problem}",
        field=field,
    )


def _scrub(detail: str, text: str) -> str:
    """Remove the address and its local part from the validator's explanation, just in case."""
    masked = mask_email(text)
    local = text.rpartition("@")[0]
    detail = detail.replace(text, masked)
    if len(local) > 1:
        detail = detail.replace(local, masked.partition("@")[0])
    return detail
