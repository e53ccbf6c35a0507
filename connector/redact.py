"""Scrubbing free text before it reaches a log line or an error message: API keys,
bearer tokens, e-mail addresses and phone numbers are masked."""

from __future__ import annotations

import re

_KEY = re.compile(r"\b(sk|pk|rk|whsec|shpat|shpss)_(test_|live_)?[A-Za-z0-9_]{4,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}")
_EMAIL = re.compile(
    r"(?<![\w.+-])([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_PHONE = re.compile(r"(?<![\w+(])[+(]?\d[\d\s().-]{5,}\d(?![\w])")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_GID = re.compile(r"gid://[\w-]+/\w+/\d+")
"""A Shopify global id: its number (often 13 digits) is an id, not a phone number."""


def _mask_phone_match(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    if not 7 <= len(digits) <= 15 or _DATE.match(text):
        return text
    return "***" + digits[-2:]


def scrub(text: str) -> str:
    text = _KEY.sub(lambda m: f"{m.group(1)}_{m.group(2) or ''}***", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} ***", text)
    text = _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}", text)
    out: list[str] = []
    end = 0
    for gid in _GID.finditer(text):  # ids kept whole, the text around them scrubbed
        out.append(_PHONE.sub(_mask_phone_match, text[end:gid.start()]))
        out.append(gid.group(0))
        end = gid.end()
    out.append(_PHONE.sub(_mask_phone_match, text[end:]))
    return "".join(out)
