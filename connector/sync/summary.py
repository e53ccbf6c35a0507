"""Counters of one run (or several), and the exit status they imply."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from connector.delivery.traffic import Traffic
from connector.outcomes import Outcome


@dataclass(slots=True)
class RunSummary:
    records_read: int = 0
    customers_created: int = 0
    customers_updated: int = 0
    customers_unchanged: int = 0
    customer_origins: Counter[str] = field(default_factory=Counter)
    """Customers sent for the first time, by what Sticky's answer said: created (by this
    connector), existed (before it first sent them), unknown (connector/sync/pass_rule.py)."""
    customers_erased: int = 0
    """Customers the source erased in this run (purged from the state DB)."""
    erased_rows_removed: int = 0
    """Rows of erased customers removed from the CSV files the connector keeps."""
    events_sent: Counter[str] = field(default_factory=Counter)
    events_unchanged: int = 0
    locations_recorded: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    quarantined: Counter[str] = field(default_factory=Counter)
    warnings: Counter[str] = field(default_factory=Counter)
    aborted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """What a person should read about a source (an amount unit that looks wrong...)."""
    attention: list[str] = field(default_factory=list)
    """What waits for a person and is not a record (a file rejected whole, an unmapped
    store...): each makes the pass ``needs attention``."""
    unmapped_stores: Counter[str] = field(default_factory=Counter)
    """Records per store id that ``[tenants.workspaces]`` does not map."""
    waiting: list[str] = field(default_factory=list)
    """What the source holds that this pass left for a later one (a file still being
    written): not a problem, but not read either."""
    targets: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)
    """(target, workspace) → payloads by outcome: new, changed (sent), unchanged,
    rejected (refused by the target or a dependency). Records rejected or skipped before
    any payload existed are under workspace ``-``."""
    stopped: bool = False
    """The run was asked to stop (daemon shutdown) before reading everything."""
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    @property
    def duration(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    def count(self, target: str, workspace: str, outcome: str, n: int = 1) -> None:
        self.targets.setdefault((target, workspace), Counter())[outcome] += n

    def finish(self) -> None:
        self.finished = time.monotonic()

    @property
    def needs_attention(self) -> bool:
        """Finished, but something waits for a person (``connector/outcomes.py``)."""
        return bool(sum(self.quarantined.values()) or sum(self.rejected.values())
                    or self.attention or self.notes or self.unmapped_stores)

    @property
    def outcome(self) -> Outcome:
        """The word for a pass that read to its end (or was asked to stop)."""
        if self.needs_attention:
            return Outcome.NEEDS_ATTENTION
        return Outcome.STOPPED if self.stopped else Outcome.OK

    def merge(self, other: RunSummary) -> None:
        self.records_read += other.records_read
        self.customers_created += other.customers_created
        self.customers_updated += other.customers_updated
        self.customers_unchanged += other.customers_unchanged
        self.customer_origins.update(other.customer_origins)
        self.customers_erased += other.customers_erased
        self.erased_rows_removed += other.erased_rows_removed
        self.events_sent.update(other.events_sent)
        self.events_unchanged += other.events_unchanged
        self.locations_recorded += other.locations_recorded
        self.skipped.update(other.skipped)
        self.rejected.update(other.rejected)
        self.quarantined.update(other.quarantined)
        self.warnings.update(other.warnings)
        self.aborted.extend(other.aborted)
        self.notes.extend(n for n in other.notes if n not in self.notes)
        self.attention.extend(a for a in other.attention if a not in self.attention)
        self.waiting.extend(w for w in other.waiting if w not in self.waiting)
        self.unmapped_stores.update(other.unmapped_stores)
        for key, counts in other.targets.items():
            self.targets.setdefault(key, Counter()).update(counts)
        self.stopped = self.stopped or other.stopped

    def as_dict(self, traffic: Traffic | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "records_read": self.records_read,
            "customers_created": self.customers_created,
            "customers_updated": self.customers_updated,
            "customers_unchanged": self.customers_unchanged,
            "customer_origins": dict(self.customer_origins),
            "customers_erased": self.customers_erased,
            "erased_rows_removed": self.erased_rows_removed,
            "events_sent": dict(self.events_sent),
            "events_unchanged": self.events_unchanged,
            "locations_recorded": self.locations_recorded,
            "skipped": dict(self.skipped),
            "rejected": dict(self.rejected),
            "quarantined": dict(self.quarantined),
            "warnings": dict(self.warnings),
            "aborted": list(self.aborted),
            "notes": list(self.notes),
            "attention": list(self.attention),
            "waiting": list(self.waiting),
            "unmapped_stores": dict(self.unmapped_stores),
            "targets": {f"{target}/{workspace}": dict(counts)
                        for (target, workspace), counts in sorted(self.targets.items())},
            "duration_seconds": round(self.duration, 3),
        }
        if traffic is not None:
            data["workspaces"] = {
                ws: {"requests": t.requests, "rate_limited": t.rate_limited,
                     "server_errors": t.server_errors, "network_errors": t.network_errors,
                     "requests_per_second": round(t.requests_per_second, 2)}
                for ws, t in sorted(traffic.by_workspace.items())}
        return data
