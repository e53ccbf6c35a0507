"""The one exception of this adapter: a file that cannot be trusted as a whole."""

from __future__ import annotations


class FileLevelError(Exception):
    """Bad header, empty or undecodable file: it is rejected whole, never row by row.

    ``reason`` is a short stable code (``missing_column``...); ``field`` the canonical
    column concerned, if any.
    """

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field
