"""Render raw values for error messages and logs without leaking contact details.

Rejection messages end up in log files, run summaries and the dead-letter queue, which are
read by people who have no business seeing a customer's phone number or email address. Every
message that echoes a phone or an email goes through :func:`mask_phone` / :func:`mask_email`;
other raw values go through :func:`excerpt` so that a runaway cell cannot flood a log line.
"""

from __future__ import annotations

import re

_DIGIT = re.compile(r"\d")
_MASK = "***"


def mask_phone(s: str) -> str:
    """``"(415) 555-2671"`` → ``"***71"``: only the last two digits survive.

    Two digits are enough to tell rows apart when reading a report, and far too few to call
    anyone. A value without digits masks to ``"***"``.
    """
    digits = _DIGIT.findall(s)
    return _MASK + "".join(digits[-2:])


def mask_email(s: str) -> str:
    """``"Jane.Smith@example.com"`` → ``"J***@example.com"``.

    The domain is kept (it is what usually explains a rejection: a typo'd or reserved domain);
    the local part is reduced to its first character. Text without ``@`` keeps its first
    character only, since it may be a phone number or a name typed into the email field.
    """
    text = s.strip()
    local, at, domain = text.rpartition("@")
    if not at:
        return text[:1] + _MASK
    return local[:1] + _MASK + "@" + domain


def excerpt(s: str, limit: int = 40) -> str:
    """Quote a raw (non-personal) value for a message, cut to ``limit`` characters."""
    if len(s) <= limit:
        return repr(s)
    return repr(s[:limit]) + f"... ({len(s)} chars)"
