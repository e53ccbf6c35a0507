"""Progress of a run or a backfill: a rich progress bar on a terminal, log lines
otherwise (``<description> progress``).

Fed by the runner after each checkpointed batch (``SourceRunner``'s ``on_batch`` hook)
with the run's summary so far and the Sticky traffic. It shows the records read, their
rate, the requests sent and their rate, and, when the number of records to read is
known, an ETA that respects the rate cap: the larger of what the records read so far
predict and what the requests still to send need at ``rate_limit_per_second`` per
active workspace. Without a known total it shows counts and rates only.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

import structlog
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn

from connector.delivery.traffic import Traffic
from connector.sync.summary import RunSummary

log = structlog.get_logger("connector.progress")

LOG_EVERY_SECONDS = 5.0
LOG_EVERY_BATCHES = 20
"""Without a terminal: a log line after the first batch, then every 5 s or every 20
batches, whichever comes first, and a last one at the end."""


def estimate_eta(*, records: int, total: int | None, elapsed: float, requests: int,
                 rate_limit_per_second: float, workspaces: int) -> float | None:
    """Seconds left, or ``None`` when it cannot be told (total unknown, nothing read yet).

    The larger of two estimates: the remaining records at the rate they were read so
    far, and the requests they will need (at the requests-per-record seen so far) at
    the rate cap of every workspace that sends (``rate_limit_per_second`` each)."""
    if total is None or records <= 0 or elapsed <= 0:
        return None
    remaining = max(0, total - records)
    by_records = remaining / (records / elapsed)
    remaining_requests = remaining * requests / records
    by_rate = remaining_requests / (rate_limit_per_second * max(1, workspaces))
    return max(by_records, by_rate)


@dataclass(frozen=True, slots=True)
class ProgressState:
    records: int
    requests: int
    elapsed: float
    workspaces: int
    total: int | None
    eta_seconds: float | None

    @property
    def records_per_second(self) -> float:
        return self.records / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0

    def as_log(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "records": self.records, "records_per_second": round(self.records_per_second, 1),
            "requests": self.requests,
            "requests_per_second": round(self.requests_per_second, 1),
            "workspaces": self.workspaces, "elapsed_seconds": round(self.elapsed, 1)}
        if self.total is not None:
            fields["total"] = self.total
        if self.eta_seconds is not None:
            fields["eta_seconds"] = round(self.eta_seconds)
        return fields


def format_eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = int(seconds + 0.5)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"ETA {hours}:{minutes:02d}:{secs:02d}" if hours else f"ETA {minutes}:{secs:02d}"


class BackfillProgress:
    """The ``on_batch`` hook of a run or a backfill; a context manager around it. A run
    over several sources counts on from one source's records to the next."""

    def __init__(self, *, rate_limit_per_second: float, console: Console,
                 interactive: bool | None = None, total: int | None = None,
                 description: str = "backfill", clock: Callable[[], float] = time.monotonic,
                 log_every_seconds: float = LOG_EVERY_SECONDS,
                 log_every_batches: int = LOG_EVERY_BATCHES) -> None:
        self.rate_limit_per_second = rate_limit_per_second
        self.console = console
        self.interactive = console.is_terminal if interactive is None else interactive
        self.total = total
        self.description = description
        self._clock = clock
        self._every_seconds = log_every_seconds
        self._every_batches = log_every_batches
        self._started = clock()
        self._batches = 0
        self._summary: RunSummary | None = None
        self._earlier = 0
        """Records read by the sources of this run before the current one."""
        self._logged_at = self._started
        self._logged_batches = 0
        self.state = ProgressState(0, 0, 0.0, 0, total, None)
        self.lanes = ""
        """Requests sent per workspace so far (``ws_a 120, ws_b 80``)."""
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._log_streams: list[tuple[logging.StreamHandler[IO[str]], IO[str]]] = []

    def __enter__(self) -> BackfillProgress:
        self._started = self._logged_at = self._clock()
        if self.interactive:
            self._bar = Progress(
                TextColumn("{task.description}", style="bold", markup=False), BarColumn(),
                TextColumn("{task.fields[records]} records"),
                TextColumn("{task.fields[rate]} rec/s"),
                TextColumn("{task.fields[requests]} requests ({task.fields[req_rate]}/s)"),
                TextColumn("{task.fields[eta]}"),
                TextColumn("{task.fields[lanes]}", markup=False),
                console=self.console, transient=False)
            self._task = self._bar.add_task(self.description, total=self.total,
                                            **self._fields(self.state), lanes="")
            self._bar.start()
            self._route_logs_above_the_bar()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._show(self.state)
            self._bar.stop()
            self._restore_logs()
            self._bar = None
        else:
            log.info(f"{self.description.split()[0]} progress", done=exc is None,
                     **self.state.as_log())

    def __call__(self, summary: RunSummary, traffic: Traffic,
                 expected: int | None = None) -> None:
        self._batches += 1
        if summary is not self._summary:  # the run went on to its next source
            if self._summary is not None:
                self._earlier += self._summary.records_read
            self._summary = summary
        records = self._earlier + summary.records_read
        if expected is not None:  # the adapter's estimate, refined as it reads
            self.total = max(self._earlier + expected, records)
        now = self._clock()
        active = [t for t in traffic.by_workspace.values() if t.requests]
        requests = sum(t.requests for t in active)
        elapsed = now - self._started
        eta = estimate_eta(records=records, total=self.total, elapsed=elapsed,
                           requests=requests, rate_limit_per_second=self.rate_limit_per_second,
                           workspaces=len(active))
        self.lanes = ", ".join(f"{ws} {t.requests}" for ws, t in sorted(
            traffic.by_workspace.items()) if t.requests)
        self.state = ProgressState(records, requests, elapsed, len(active), self.total, eta)
        if self._bar is not None:
            self._show(self.state)
        elif (self._batches == 1 or now - self._logged_at >= self._every_seconds
              or self._batches - self._logged_batches >= self._every_batches):
            self._logged_at, self._logged_batches = now, self._batches
            log.info(f"{self.description.split()[0]} progress", **self.state.as_log(),
                     sent_per_workspace=self.lanes)

    def _show(self, state: ProgressState) -> None:
        assert self._bar is not None and self._task is not None
        self._bar.update(self._task, completed=state.records, total=self.total,
                         **self._fields(state), lanes=self.lanes)

    @staticmethod
    def _fields(state: ProgressState) -> dict[str, Any]:
        of = f"/{state.total:,}" if state.total is not None else ""
        return {"records": f"{state.records:,}{of}", "rate": f"{state.records_per_second:,.0f}",
                "requests": f"{state.requests:,}",
                "req_rate": f"{state.requests_per_second:,.0f}",
                "eta": format_eta(state.eta_seconds)}

    def _route_logs_above_the_bar(self) -> None:
        """Log handlers writing to the terminal write through rich's redirected stream
        while the bar is shown, so their lines print above it instead of through it."""
        for handler in logging.getLogger().handlers:
            if (isinstance(handler, logging.StreamHandler)
                    and handler.stream in (sys.__stderr__, sys.__stdout__)):
                redirected = sys.stderr if handler.stream is sys.__stderr__ else sys.stdout
                previous = handler.setStream(redirected)
                if previous is not None:
                    self._log_streams.append((handler, previous))

    def _restore_logs(self) -> None:
        for handler, stream in self._log_streams:
            handler.setStream(stream)
        self._log_streams.clear()
