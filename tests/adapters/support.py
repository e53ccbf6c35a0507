"""Test helpers: an in-memory SourceState and an engine-like driver for adapters."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from adapters.base import Adapter, Batch, Position, RecordedRejection
from adapters.csv_drop import CsvDropAdapter
from adapters.records import SourceRecord, UnreadableRecord

NOW = 1_800_000_000.0
"""The injected clock's time; files are dropped a minute before it unless told."""

Rejecter = Callable[[SourceRecord], tuple[str, str | None, str] | None]
"""Plays the mapping layer: (reason, field, message) to reject a record, else None."""


class MemoryState:
    """The only fake: cursors in a dict, rejections per stream upserted by locator."""

    def __init__(self) -> None:
        self.cursors: dict[str, Position] = {}
        self.issues: dict[str, dict[str, RecordedRejection]] = {}

    def get_cursor(self, stream: str) -> Position | None:
        cursor = self.cursors.get(stream)
        return None if cursor is None else dict(cursor)

    def put_cursor(self, stream: str, position: Position) -> None:
        self.cursors[stream] = dict(position)

    def resolve_file_rejection(self, locator: str, stream: str) -> int:
        resolved = 0
        for found in self.issues.values():
            if locator in found and found[locator].row == 0:
                del found[locator]
                resolved += 1
        return resolved

    def rejections(self, stream: str) -> list[RecordedRejection]:
        found = self.issues.get(stream, {}).values()
        return sorted(found, key=lambda r: r.row or 0)

    def reject(self, stream: str, record: SourceRecord, reason: str, field: str | None,
               message: str) -> None:
        self.issues.setdefault(stream, {})[record.origin.locator] = RecordedRejection(
            row=record.origin.row, raw=dict(record.raw), reason=reason, field=field,
            message=message)


def settle(state: MemoryState, batch: Batch, reject: Rejecter | None = None) -> None:
    """What the engine does with a batch: settle records, commit position, after_commit."""
    for record in batch.records:
        if isinstance(record, UnreadableRecord):
            state.reject(batch.stream, record, record.reason, None, record.message)
        elif reject is not None and (problem := reject(record)) is not None:
            state.reject(batch.stream, record, *problem)
    state.put_cursor(batch.stream, batch.position)
    if batch.after_commit is not None:
        batch.after_commit()


def run(adapter: Adapter, state: MemoryState, batch_size: int = 100,
        reject: Rejecter | None = None) -> list[Batch]:
    batches = []
    for batch in adapter.read(state, batch_size):
        settle(state, batch, reject)
        batches.append(batch)
    return batches


def records(batches: Iterable[Batch]) -> list[SourceRecord]:
    return [record for batch in batches for record in batch.records]


def adapter(drop_dir: Path, **kwargs: Any) -> CsvDropAdapter:
    kwargs.setdefault("clock", lambda: NOW)
    return CsvDropAdapter(name="pos", drop_dir=drop_dir, **kwargs)


def drop(folder: Path, name: str, content: str | bytes, *, encoding: str = "utf-8",
         age: float = 60.0) -> Path:
    """Write a file exactly (no newline translation), modified ``age`` s before NOW."""
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    os.utime(path, (NOW - age, NOW - age))
    return path


def listing(folder: Path) -> list[str]:
    """Files under ``folder``, relative, sorted (temp files would show up here)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
