"""The contract between the engine and every source adapter.

An adapter reads its source in *batches*. Each batch carries the records and the
cursor ``position`` to checkpoint for its ``stream`` once every record in it is
settled (delivered, skipped or quarantined). The engine commits that position in the
same transaction as the ledger rows, then calls ``batch.after_commit`` (if set) so the
adapter can do source-side housekeeping (e.g. move a finished file to ``processed/``).

Adapters never touch SQL: what they need from the state DB reaches them through the
:class:`SourceState` protocol, bound by the engine to one (tenant, source).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters.records import SourceRecord

Position = dict[str, Any]
"""A JSON-serialisable cursor value; its shape belongs to the adapter."""


@dataclass(frozen=True, slots=True)
class RecordedRejection:
    """A record of this source that was rejected or quarantined, as kept in the state DB."""

    row: int | None
    raw: Mapping[str, str]
    reason: str
    field: str | None
    message: str


class SourceState(Protocol):
    """What an adapter may read and write in the state DB, scoped to its (tenant, source)."""

    def get_cursor(self, stream: str) -> Position | None: ...

    def put_cursor(self, stream: str, position: Position) -> None: ...

    def rejections(self, stream: str) -> Sequence[RecordedRejection]:
        """Rejections recorded for records whose cursor stream is ``stream``, in row order."""
        ...

    def resolve_file_rejection(self, locator: str, stream: str) -> int:
        """A file of this name was read to its end (on ``stream``): its open rejections
        as a whole file (``locator``, row 0) are resolved as superseded (the file was
        corrected, or the columns fixed). Returns how many."""
        ...


@dataclass(slots=True)
class Batch:
    stream: str
    records: list[SourceRecord]
    position: Position
    after_commit: Callable[[], None] | None = field(default=None)
    moves_cursor: bool = True
    """False for records replayed from quarantine: the stream's cursor stays put."""


ErasedRow = Callable[[Sequence[str], int | None], bool]
"""``(cells, index of the customer id column or None)``: the row is an erased
customer's (connector/erasure.py decides, from salted digests)."""


@dataclass(slots=True)
class Scrubbed:
    """What :meth:`Adapter.forget` did to the files a source keeps."""

    files: list[str] = field(default_factory=list)
    """Files rewritten without the rows of erased customers."""
    rows: int = 0
    unreadable: list[str] = field(default_factory=list)
    """Kept files that could not be read as CSV text: not looked through."""


class Adapter(ABC):
    """A source of canonical records. Subclasses set ``kind`` and implement ``read``."""

    kind: str = ""
    replays: bool = False
    """Re-reads quarantined records: a payload the target refused before is sent again
    (under a new idempotency key) instead of being settled as ``rejected_earlier``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.notices: list[str] = []
        """Warning codes about the source itself (not a record), shown in the summary."""
        self.remarks: list[str] = []
        """Sentences about the source that a person must read (what looks wrong, what
        to check), shown in the run summary under "notes"."""
        self.attention: list[str] = []
        """What waits for a person and is not a record (a file rejected whole...)."""
        self.waiting: list[str] = []
        """What the source holds that this run left for a later one, and why (a file
        still being written)."""

    @property
    def expected_records(self) -> int | None:
        """How many records this read will yield in all, when the source tells: an
        estimate, refined as the read goes (progress displays); ``None`` when unknown."""
        return None

    def forget(self, erased_row: ErasedRow) -> Scrubbed | None:
        """Remove erased customers' rows from the files this source keeps on disk;
        ``None``: it keeps none (an API source)."""
        return None

    @abstractmethod
    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        """Yield batches from the last checkpointed positions onward.

        The generator is consumed lazily, and the engine may read a few batches ahead of
        the ones it has committed (it plans the next batches while earlier ones are sent).
        Batches are committed, and their ``after_commit`` called, strictly in the order
        they were yielded; ``after_commit`` runs only after its batch's cursor and record
        issues are committed.
        """
