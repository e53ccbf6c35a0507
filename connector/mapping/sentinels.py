"""Decide whether a source cell holds a value at all."""

from __future__ import annotations

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
    text = raw.strip()
    if not text or text.casefold() in SENTINELS:
        return None
    return text
