"""Decide whether a source cell holds a value at all, and make its text fit to send.

Every value is cleaned here before any rule reads it: NUL and the other C0/C1 control
characters are removed (line breaks and tabs become one space), and so are lone
surrogates (what an undecodable byte becomes), so that every text sent is valid Unicode.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_BREAK = re.compile(r"[\t\n\r]+")


def has_control(text: str) -> bool:
    """A control character (other than a line break or tab) or a lone surrogate."""
    return _CONTROL.search(text) is not None


def printable(text: str) -> str:
    """``text`` without control characters or lone surrogates; breaks and tabs → a space."""
    return _BREAK.sub(" ", _CONTROL.sub("", text))

# Compared case-insensitively. Kept short on purpose: a word here silently becomes "no value"
# for every field of every source, so only spellings that never carry data belong in it.
# Fields with their own placeholder vocabulary (phones, emails) extend it locally.
SENTINELS: frozenset[str] = frozenset({"n/a", "na", "null", "none", "-"})


def clean(raw: str | None) -> str | None:
    """Strip ``raw``; return ``None`` for an empty cell or a "no value" sentinel.

    ``clean("  Jane ")`` → ``"Jane"``; ``clean("N/A")``, ``clean("NULL")``, ``clean(" ")``
    → ``None``.
    """
    if raw is None:
        return None
    # isprintable(): no control character, line break, tab or lone surrogate (the
    # common case, checked in C), so nothing for printable() to remove
    text = (raw if raw.isprintable() else printable(raw)).strip()
    if not text or text.casefold() in SENTINELS:
        return None
    return text
