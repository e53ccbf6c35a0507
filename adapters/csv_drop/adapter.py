"""CsvDropAdapter: POS exports dropped as CSV files into one folder per source.

Each file is its own cursor stream, ``file:<sha256 of its content>``, so a file dropped
again (even renamed) is recognized. Position::

    {"file": <name>, "sha256": <hex>, "row": <last settled data row, 0 = none>,
     "done": <bool>}            (+ "rejected": <reason> for a file rejected whole)

A file is finished by the ``after_commit`` of a last, empty batch: errors report,
done cursor, move to ``processed/``. The done cursor is written *before* the move so
that a crash between any two steps is repaired by the next read: a file still in the
folder with a done cursor is simply moved.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from adapters.base import (
    Adapter,
    Batch,
    ErasedRow,
    Position,
    RecordedRejection,
    Scrubbed,
    SourceState,
)
from adapters.csv_drop import files, report, rows
from adapters.csv_drop.columns import (
    Columns,
    alias_tables,
    columns_line,
    header_names,
    resolve,
    unique_keys,
)
from adapters.csv_drop.errors import FileLevelError
from adapters.csv_drop.files import DropFile
from adapters.csv_drop.probe import CP1252, Probe, has_stray_bytes, probe
from adapters.csv_drop.reader import BadRow, Row, open_table
from adapters.csv_drop.scrub import scrub_folders
from adapters.records import Origin, SourceRecord, UnreadableRecord
from connector.errors import SourceUnreadable

log = logging.getLogger("adapters.csv_drop")


@dataclass(frozen=True, slots=True)
class _File:
    """One drop file being read, identified by its content."""

    drop: DropFile
    sha256: str
    stray_bytes: bool = False
    """Some bytes are not UTF-8: each row is looked through for them."""

    @property
    def name(self) -> str:
        return self.drop.name

    @property
    def stream(self) -> str:
        return f"file:{self.sha256}"

    def position(self, row: int, *, done: bool = False,
                 rejected: str | None = None) -> Position:
        position: Position = {"file": self.name, "sha256": self.sha256, "row": row,
                              "done": done}
        if rejected is not None:
            position["rejected"] = rejected
        return position


def _errors(probed: Probe) -> str:
    """How to decode: a UTF-8 file with a few stray bytes keeps them as lone surrogates,
    so the rows holding them can be refused one by one."""
    return "surrogateescape" if probed.stray_bytes else "strict"


class CsvDropAdapter(Adapter):
    kind = "csv"

    def __init__(self, *, name: str, drop_dir: Path, stable_seconds: float = 5.0,
                 column_aliases: Mapping[str, Sequence[str]] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        """``column_aliases`` maps a canonical field to extra header names (they win over
        the built-in aliases); a bad one raises ``ValueError`` here, not mid-run."""
        super().__init__(name)
        if stable_seconds < 0:
            raise ValueError("stable_seconds must be >= 0")
        self.drop_dir = Path(drop_dir)
        self.stable_seconds = stable_seconds
        self._aliases = alias_tables(column_aliases)
        self._clock = clock

    @property
    def processed_dir(self) -> Path:
        return self.drop_dir / files.PROCESSED

    @property
    def rejected_dir(self) -> Path:
        return self.drop_dir / files.REJECTED

    def forget(self, erased_row: ErasedRow) -> Scrubbed:
        """Rewrite the kept files (``processed/``, ``rejected/`` and its reports)
        without the rows of erased customers."""
        return scrub_folders((self.processed_dir, self.rejected_dir), erased_row,
                             self._aliases)

    def reprocess(self, name: str, state: SourceState) -> Path | None:
        """Put a processed (or rejected) file back to be read again by the next run, as
        if never read: ``name`` as it is in ``processed/`` or ``rejected/``. Nothing is
        sent twice: the ledger knows what was delivered. ``None`` when no such file."""
        for folder in (self.processed_dir, self.rejected_dir):
            path = folder / Path(name).name
            if not path.is_file() or files.kind_of(path.name) is None:
                continue
            stream = f"file:{probe(path).sha256}"
            cursor = state.get_cursor(stream)
            if cursor is not None:
                state.put_cursor(stream, {**cursor, "row": 0, "done": False})
            target = self.drop_dir / path.name
            if target.exists():
                raise FileExistsError(f"{target} is there already: move it away first")
            files.move(path, target)
            log.info("%s put back from %s/ to be read again", path.name, folder.name)
            return target
        return None

    def unread(self) -> list[tuple[str, float, bool]]:
        """Files in the drop folder not read yet: (name, modified at, stable enough to
        be read by the next run). ``status`` lists them and counts the lag from them."""
        try:
            found = files.scan(self.drop_dir, self._clock(), self.stable_seconds)
        except OSError:
            return []
        listed: list[tuple[str, float, bool]] = []
        for drops, stable in ((found.ready, True), (found.waiting, False)):
            for drop in drops:
                with contextlib.suppress(OSError):
                    listed.append((drop.name, drop.path.stat().st_mtime, stable))
        return sorted(listed, key=lambda item: item[1])

    def store_ids(self, files_at_most: int = 10,
                  unread: list[str] | None = None) -> tuple[dict[str, int], list[str]]:
        """Store ids in the newest drop files (waiting, then processed), with how many
        rows name each, and the files looked at: what ``discover`` reports."""
        candidates: list[tuple[float, DropFile]] = []
        for folder in (self.drop_dir, self.processed_dir):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                kind = files.kind_of(path.name)
                if kind is not None and path.is_file() and not files.is_ignored(path.name):
                    candidates.append((path.stat().st_mtime, DropFile(path, kind)))
        newest = [d for _, d in sorted(candidates, key=lambda c: -c[0])[:files_at_most]]
        counts: dict[str, int] = {}
        for drop in newest:
            try:
                probed = probe(drop.path)
                if probed.encoding is None:
                    raise FileLevelError("undecodable", "neither UTF-8 nor Windows-1252")
                _, header = self._header(drop, probed)
                columns = resolve(drop.kind, header, self._aliases[drop.kind], drop.name)
                with open_table(drop.path, probed.encoding, errors=_errors(probed)) as table:
                    for row in table.rows:
                        if isinstance(row, BadRow):
                            continue
                        record = rows.build(rows.origin(self.name, drop.kind, drop.name,
                                                        row.number),
                                            drop.kind, columns, row.cells)
                        store = getattr(record, "store_id", None)
                        if store:
                            counts[store] = counts.get(store, 0) + 1
            except (FileLevelError, OSError, UnicodeDecodeError) as exc:
                if unread is not None:
                    reason = exc.message if isinstance(exc, FileLevelError) else str(exc)
                    unread.append(f"{drop.path.relative_to(self.drop_dir)} ({reason})")
                continue
        return counts, [str(d.path.relative_to(self.drop_dir)) for d in newest]

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        try:
            found = files.scan(self.drop_dir, self._clock(), self.stable_seconds)
        except FileNotFoundError as exc:
            raise SourceUnreadable(
                f"source {self.name}: the drop folder {self.drop_dir} does not exist (a "
                "local problem, nothing was read or sent: create it, or fix drop_dir)"
            ) from exc
        except OSError as exc:
            raise SourceUnreadable(
                f"source {self.name}: cannot list the drop folder {self.drop_dir}: "
                f"{exc.strerror or exc} (a local problem: check its permissions)") from exc
        for name in found.unrecognized:
            log.warning("unrecognized file %s left in place", name)
        now = self._clock()
        for drop in found.waiting:
            age = max(0.0, now - drop.path.stat().st_mtime) if drop.path.exists() else 0.0
            self.waiting.append(
                f"{drop.name}, modified {age:.1f} s ago: read once unchanged for "
                f"{self.stable_seconds:g} s")
            log.info("%s was modified %.1fs ago; waiting until it is unchanged for %ss",
                     drop.name, age, self.stable_seconds)
        for drop in found.ready:
            try:
                yield from self._read_file(drop, state, batch_size)
            except (OSError, UnicodeDecodeError) as exc:
                # E.g. permission denied, or changed under us: left for the next run.
                log.error("cannot read %s, left in place: %s", drop.name, exc)

    def _read_file(self, drop: DropFile, state: SourceState,
                   batch_size: int) -> Iterator[Batch]:
        probed = probe(drop.path)
        job = _File(drop, probed.sha256, probed.stray_bytes > 0)
        cursor = state.get_cursor(job.stream) or {}
        rejected_before = bool(cursor.get("rejected"))
        if cursor.get("done") and not rejected_before:
            log.info("%s was already read (same content); moving it to %s/", drop.name,
                     files.PROCESSED)
            yield Batch(job.stream, [], dict(cursor),
                        after_commit=partial(self._finish_redrop, job))
            return
        header: Sequence[str] = ()
        try:
            encoding, header = self._header(drop, probed)
            columns = resolve(drop.kind, header, self._aliases[drop.kind], drop.name)
        except FileLevelError as error:
            # A file rejected before is checked again: the config may have been fixed.
            self.attention.append(f"{drop.name} rejected whole, moved to "
                                  f"{files.REJECTED}/: {error.message}")
            yield self._rejection(job, header, error, state)
            return
        for header_name, canonical in columns.near_misses:
            self.remarks.append(
                f"{drop.name}: column {header_name!r} is not used and looks like "
                f"{canonical!r}, which the file lacks (read as empty); if it is, add "
                f"`{columns_line(header_name, canonical)}` to the source's "
                "[[tenants.sources]] block")
        start = 0 if rejected_before else int(cursor.get("row") or 0)
        if probed.stray_bytes:
            log.warning("%s is UTF-8 but for %d stray byte(s): their rows are refused",
                        drop.name, probed.stray_bytes)
        with open_table(drop.path, encoding, errors=_errors(probed)) as table:
            last = yield from self._batches(job, columns, table.rows, start, batch_size)
        # The file is closed before its after_commit moves it (Windows cares).
        yield Batch(job.stream, [], job.position(last),
                    after_commit=partial(self._finish, job, columns, last, state))

    def _header(self, drop: DropFile, probed: Probe) -> tuple[str, list[str]]:
        """The encoding to read ``drop`` with, and its header row."""
        if probed.encoding is None:
            raise FileLevelError(
                "undecodable", f"{drop.name} is neither UTF-8 nor Windows-1252 text")
        if probed.encoding == CP1252:
            log.warning("%s is not valid UTF-8; reading it as Windows-1252", drop.name)
        with open_table(drop.path, probed.encoding, errors=_errors(probed)) as table:
            if table.header is None:
                raise FileLevelError("empty_file", f"{drop.name} is empty (no header row)")
            return probed.encoding, table.header

    def _batches(self, job: _File, columns: Columns, found: Iterable[Row | BadRow],
                 start: int, batch_size: int) -> Generator[Batch, None, int]:
        """Batches of the rows after ``start``; returns the last row number."""
        last = start
        records: list[SourceRecord] = []
        for row in found:
            if row.number <= start:
                continue
            records.append(self._record(job, columns, row))
            last = row.number
            if len(records) == batch_size:
                yield Batch(job.stream, records, job.position(last))
                records = []
        if records:
            yield Batch(job.stream, records, job.position(last))
        return last

    def _record(self, job: _File, columns: Columns, row: Row | BadRow) -> SourceRecord:
        origin = rows.origin(self.name, job.drop.kind, job.name, row.number)
        if isinstance(row, BadRow):
            return UnreadableRecord(
                origin=origin, reason="malformed_row",
                message=f"row {row.number} of {job.name} cannot be read: {row.error}")
        if job.stray_bytes and any(has_stray_bytes(cell) for cell in row.cells):
            shown = [cell.encode("utf-8", "surrogateescape").decode("utf-8",
                                                                   "backslashreplace")
                     for cell in row.cells]
            bad = next(c for c, raw in zip(shown, row.cells, strict=True)
                       if has_stray_bytes(raw))
            return UnreadableRecord(
                origin=origin, reason="undecodable_row",
                message=f"row {row.number} of {job.name} holds bytes that are not UTF-8 "
                        f"({bad!r}); the rest of the file is UTF-8 and was read as such: "
                        "fix the row's text and drop it again",
                raw=rows.raw_row(columns, shown))
        return rows.build(origin, job.drop.kind, columns, row.cells)

    def _rejection(self, job: _File, header: Sequence[str], error: FileLevelError,
                   state: SourceState) -> Batch:
        log.error("%s rejected: %s", job.name, error.message)
        record = UnreadableRecord(
            origin=Origin(source=self.name, stream=job.drop.kind, locator=job.name,
                          file=job.name, row=0),
            reason=error.reason, message=error.message)
        return Batch(job.stream, [record], job.position(0, rejected=error.reason),
                     after_commit=partial(self._finish_rejected, job, header, error, state))

    # -- after_commit steps: each idempotent, done cursor before the move ---------------

    def _finish(self, job: _File, columns: Columns, last: int, state: SourceState) -> None:
        target = files.destination(self.processed_dir, job.name, job.sha256)
        rejected = sorted((r for r in state.rejections(job.stream) if r.row),
                          key=lambda r: r.row or 0)
        if rejected:
            report.write_errors(report.errors_path(self.rejected_dir, target.name),
                                columns.header, columns.keys, rejected)
        state.put_cursor(job.stream, job.position(last, done=True))
        files.move(job.drop.path, target)
        if state.resolve_file_rejection(job.name, job.stream):
            log.info("%s: the earlier rejection of a file of this name is resolved",
                     job.name)
        log.info("%s read (%d rows, %d rejected); moved to %s", job.name, last,
                 len(rejected), target.relative_to(self.drop_dir))

    def _finish_rejected(self, job: _File, header: Sequence[str], error: FileLevelError,
                         state: SourceState) -> None:
        target = files.destination(self.rejected_dir, job.name, job.sha256)
        names = header_names(header)
        line = RecordedRejection(row=0, raw={}, reason=error.reason, field=error.field,
                                 message=error.message)
        report.write_errors(report.errors_path(self.rejected_dir, target.name), names,
                            unique_keys(names), [line])
        state.put_cursor(job.stream, job.position(0, done=True, rejected=error.reason))
        files.move(job.drop.path, target)

    def _finish_redrop(self, job: _File) -> None:
        files.move(job.drop.path, files.destination(self.processed_dir, job.name,
                                                    job.sha256))
