"""The state DB as one adapter sees it: bound to its (tenant, source)."""

from __future__ import annotations

from collections.abc import Sequence

from adapters.base import Position, RecordedRejection
from state import StateStore


class BoundSourceState:
    def __init__(self, store: StateStore, tenant: str, source: str) -> None:
        self._store = store
        self._tenant = tenant
        self._source = source

    def get_cursor(self, stream: str) -> Position | None:
        return self._store.cursors.get(self._tenant, self._source, stream)

    def put_cursor(self, stream: str, position: Position) -> None:
        self._store.cursors.put(self._tenant, self._source, stream, position)

    def rejections(self, stream: str) -> Sequence[RecordedRejection]:
        return [RecordedRejection(row=i.row, raw=i.raw, reason=i.reason, field=i.field,
                                  message=i.message)
                for i in self._store.issues.for_stream(self._tenant, self._source, stream)]
