"""The state DB as one adapter sees it: bound to its (tenant, source)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from adapters.base import Position, RecordedRejection
from state import StateStore


def _direct(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


class BoundSourceState:
    def __init__(self, store: StateStore, tenant: str, source: str, *,
                 via: Callable[..., Any] = _direct) -> None:
        """``via(fn, *args)`` runs a state-DB call where it must run (the run's state
        thread, when the adapter is read on a thread of its own)."""
        self._store = store
        self._tenant = tenant
        self._source = source
        self._via = via

    def get_cursor(self, stream: str) -> Position | None:
        result: Position | None = self._via(self._store.cursors.get, self._tenant,
                                            self._source, stream)
        return result

    def put_cursor(self, stream: str, position: Position) -> None:
        self._via(self._store.cursors.put, self._tenant, self._source, stream, position)

    def resolve_file_rejection(self, locator: str, stream: str) -> int:
        resolved: int = self._via(self._store.issues.resolve_file_rejection, self._tenant,
                                  self._source, locator, stream)
        return resolved

    def rejections(self, stream: str) -> Sequence[RecordedRejection]:
        issues = self._via(self._store.issues.for_stream, self._tenant, self._source, stream)
        return [RecordedRejection(row=i.row, raw=i.raw, reason=i.reason, field=i.field,
                                  message=i.message) for i in issues]
