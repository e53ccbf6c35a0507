"""Prometheus metrics of ``sticky-sync daemon``: every definition, and the functions that
update them (``docs/operations.md`` lists them with their labels).

Each :class:`Metrics` owns its own registry (not the library's global one), so ``/metrics``
shows only these and a second instance in the same process starts from zero. What went
over the wire is read live from the clients' :class:`Traffic` counters at scrape time (one
client per target lives as long as the daemon, so they only grow); what a pass did is fed
in once the pass is over (:meth:`Metrics.observe_pass`); the state DB's view (cursor lag,
quarantine size) is refreshed after each pass and on every scrape.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from connector.daemon.guard import Guard
from connector.delivery.traffic import Traffic
from connector.outcomes import Outcome, PayloadOutcome
from connector.sync.lag import cursor_lag_seconds
from connector.sync.orchestrator import PassReport, SourceOutcome, organization_word
from connector.sync.organizations import STEP, OrganizationOutcome
from state import Disposition, StateStore

PREFIX = "sticky_sync_"
SOURCE_LABELS = ("tenant", "source")
PAYLOAD_OUTCOMES = tuple(PayloadOutcome)
DURATION_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)


def pass_outcome(outcome: SourceOutcome) -> str:
    """The outcome of one source's pass, in the words of ``connector/outcomes.py``
    (``ok``, ``needs attention``, ``failed``, ``busy``, ``stopped``)."""
    return outcome.status


def records_delivered(outcome: SourceOutcome) -> int:
    """Records of the pass that ended delivered (sent now or before): every record read
    ends in exactly one of delivered, skipped, rejected, quarantined."""
    summary = outcome.summary
    issues = (sum(summary.skipped.values()) + sum(summary.rejected.values())
              + sum(summary.quarantined.values()))
    return max(0, summary.records_read - issues)


class _TrafficCollector(Collector):
    """Requests, 429s, errors and limiter waits per (target, workspace), read from the
    clients' live counters when scraped (so they move during a long pass too)."""

    def __init__(self) -> None:
        self._watched: list[tuple[str, Traffic]] = []

    def watch(self, target: str, traffic: Traffic) -> None:
        self._watched.append((target, traffic))

    def collect(self) -> Iterable[Metric]:
        labels = ["target", "workspace"]
        families = {
            "requests": CounterMetricFamily(
                PREFIX + "requests", "HTTP requests sent to a target (every attempt)",
                labels=labels),
            "rate_limited": CounterMetricFamily(
                PREFIX + "rate_limited", "Responses 429 (rate limited) received", labels=labels),
            "server_errors": CounterMetricFamily(
                PREFIX + "server_errors", "Responses 5xx received", labels=labels),
            "network_errors": CounterMetricFamily(
                PREFIX + "network_errors", "Requests that failed on the network",
                labels=labels),
            "limiter_wait": CounterMetricFamily(
                PREFIX + "limiter_wait_seconds",
                "Time requests waited for the workspace rate limiter", labels=labels),
        }
        for target, traffic in self._watched:
            for workspace, counts in sorted(traffic.by_workspace.items()):
                values = [target, workspace]
                families["requests"].add_metric(values, counts.requests)
                families["rate_limited"].add_metric(values, counts.rate_limited)
                families["server_errors"].add_metric(values, counts.server_errors)
                families["network_errors"].add_metric(values, counts.network_errors)
                families["limiter_wait"].add_metric(values, counts.limiter_wait_seconds)
        yield from families.values()


class _GuardCollector(Collector):
    """The HTTP servers' connections (connector/daemon/guard.py), read when scraped."""

    def __init__(self) -> None:
        self._guards: list[Guard] = []

    def watch(self, guard: Guard) -> None:
        self._guards.append(guard)

    def collect(self) -> Iterable[Metric]:
        if not self._guards:
            return
        opened = GaugeMetricFamily(PREFIX + "http_connections_open",
                                   "Connections open to the daemon's HTTP servers")
        cap = GaugeMetricFamily(PREFIX + "http_connections_cap",
                                "Connections admitted at most (fits the open-file limit)")
        shed = CounterMetricFamily(
            PREFIX + "http_connections_shed", "Connections closed or refused by the "
            "guard: header_timeout, body_timeout, evicted (for a new one at the cap), "
            "refused, invalid_request, accept_failed", labels=["reason"])
        for guard in self._guards:
            opened.add_metric([], guard.open_count)
            cap.add_metric([], guard.cap)
            for reason, n in sorted(guard.shed.items()):
                shed.add_metric([reason], n)
        yield from (opened, cap, shed)


class Metrics:
    def __init__(self) -> None:
        # no *_created series: they double the output for nothing
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = CollectorRegistry()
        reg = self.registry
        src = list(SOURCE_LABELS)
        self.records_read = Counter(
            PREFIX + "records_read", "Source records read (replayed quarantined records "
            "included)", src, registry=reg)
        self.records_delivered = Counter(
            PREFIX + "records_delivered", "Records whose payloads were all sent, now or "
            "before", src, registry=reg)
        self.records_skipped = Counter(
            PREFIX + "records_skipped", "Records deliberately not sent, by reason",
            [*src, "reason"], registry=reg)
        self.records_rejected = Counter(
            PREFIX + "records_rejected", "Records refused as untrustworthy data, by reason",
            [*src, "reason"], registry=reg)
        self.records_quarantined = Counter(
            PREFIX + "records_quarantined", "Records valid but not deliverable now (kept "
            "for replay), by reason", [*src, "reason"], registry=reg)
        self.payloads = Counter(
            PREFIX + "payloads", "Payloads per target and workspace by outcome (new, "
            "changed, unchanged, rejected, skipped, quarantined; workspace '-' for records "
            "refused before any payload existed)",
            [*src, "target", "workspace", "outcome"], registry=reg)
        self.delivered = Counter(
            PREFIX + "delivered", "Payloads delivered (new + changed) per target and "
            "workspace", [*src, "target", "workspace"], registry=reg)
        self.passes = Counter(
            PREFIX + "passes", "Passes by outcome: ok, failed (records quarantined), "
            "stopped, aborted, busy, cancelled, error; organization steps under source "
            f"{STEP} with their status", [*src, "outcome"], registry=reg)
        self.run_duration = Histogram(
            PREFIX + "run_duration_seconds", "Duration of a source's pass", src,
            buckets=DURATION_BUCKETS, registry=reg)
        self.last_pass = Gauge(
            PREFIX + "last_pass_timestamp_seconds", "Unix time the last pass of a source "
            "ended, whatever its outcome", src, registry=reg)
        self.running = Gauge(
            PREFIX + "pass_running", "1 while a pass of the source runs", src, registry=reg)
        self.cursor_lag = Gauge(
            PREFIX + "cursor_lag_seconds", "Seconds since the start of the newest pass that "
            "read the source to the end (absent until one did)", src, registry=reg)
        self.quarantine_size = Gauge(
            PREFIX + "quarantine_size", "Open quarantined records", src, registry=reg)
        self.webhooks_received = Counter(
            PREFIX + "webhooks_received", "Webhook deliveries by workspace and outcome: "
            "stored, duplicate (a retried delivery), or why refused (bad_signature, "
            "stale_timestamp, malformed_event, no_secret, too_large...)",
            ["workspace", "outcome"], registry=reg)
        self.webhooks_applied = Counter(
            PREFIX + "webhook_events_applied", "Stored webhook events processed, by "
            "outcome (applied, ignored, failed)", ["outcome"], registry=reg)
        self.wallet_passes = Counter(
            PREFIX + "wallet_passes", "Wallet passes by outcome: minted, reminted, rejected "
            "(refused by Sticky)", ["tenant", "outcome"], registry=reg)
        self.write_backs = Counter(
            PREFIX + "tier_write_backs", "Tier tags written back to sources, by outcome "
            "(tagged, already_tagged, rejected, superseded)", ["outcome"], registry=reg)
        self.started = Gauge(
            PREFIX + "start_time_seconds", "Unix time the daemon started", registry=reg)
        self.started.set(time.time())
        self.state_db_up = Gauge(
            PREFIX + "state_db_up", "1 while the state DB answers, 0 after a pass or a "
            "webhook failed on it (until one succeeds)", registry=reg)
        self.state_db_up.set(1)
        self._traffic = _TrafficCollector()
        reg.register(self._traffic)
        self._guards = _GuardCollector()
        reg.register(self._guards)
        ProcessCollector(registry=reg)  # process_* (CPU, memory, open files)

    def watch_guard(self, guard: Guard) -> None:
        self._guards.watch(guard)

    def watch_traffic(self, target: str, traffic: Traffic) -> None:
        """Expose a client's request counters under ``target`` (``sticky``, ``sticker``)."""
        self._traffic.watch(target, traffic)

    def pass_started(self, tenant: str, source: str) -> None:
        self.running.labels(tenant, source).set(1)

    def pass_ended(self, tenant: str, source: str, report: PassReport | None,
                   outcome: str | None = None) -> None:
        """A pass is over: ``report`` when run_pass returned, else ``outcome`` says why
        not (``cancelled``, ``error``)."""
        self.running.labels(tenant, source).set(0)
        self.last_pass.labels(tenant, source).set(time.time())
        if report is None:
            self.passes.labels(tenant, source, outcome or "error").inc()
            return
        self.observe_pass(report)

    def observe_pass(self, report: PassReport) -> None:
        for outcome in report.outcomes:
            self.observe_source(outcome)
        for org in report.organizations:
            self.observe_organization(org)
        for step in report.passes:
            for name, n in step.as_dict().items():
                if n:
                    self.wallet_passes.labels(step.tenant, name).inc(n)

    def observe_source(self, outcome: SourceOutcome) -> None:
        key = (outcome.tenant, outcome.source)
        self.passes.labels(*key, pass_outcome(outcome)).inc()
        if outcome.status == Outcome.BUSY:
            return
        summary = outcome.summary
        self.run_duration.labels(*key).observe(summary.duration)
        self.records_read.labels(*key).inc(summary.records_read)
        self.records_delivered.labels(*key).inc(records_delivered(outcome))
        for counter, counts in ((self.records_skipped, summary.skipped),
                                (self.records_rejected, summary.rejected),
                                (self.records_quarantined, summary.quarantined)):
            for reason, n in counts.items():
                counter.labels(*key, reason).inc(n)
        for (target, workspace), counts in summary.targets.items():
            for name in PAYLOAD_OUTCOMES:
                if counts.get(name):
                    self.payloads.labels(*key, target, workspace, name).inc(counts[name])
            sent = counts.get(PayloadOutcome.NEW, 0) + counts.get(PayloadOutcome.CHANGED, 0)
            if sent:
                self.delivered.labels(*key, target, workspace).inc(sent)

    def webhook_received(self, workspace: str, outcome: str) -> None:
        self.webhooks_received.labels(workspace or "-", outcome).inc()

    def webhook_applied(self, outcome: str, n: int = 1) -> None:
        self.webhooks_applied.labels(outcome).inc(n)

    def write_back(self, outcome: str, n: int = 1) -> None:
        self.write_backs.labels(outcome).inc(n)

    def observe_organization(self, org: OrganizationOutcome) -> None:
        self.passes.labels(org.tenant, STEP, organization_word(org)).inc()

    def refresh_state(self, store: StateStore, sources: Sequence[tuple[str, str]]) -> None:
        """Cursor lag and quarantine size of each (tenant, source), from the state DB."""
        for tenant, source in sources:
            lag = cursor_lag_seconds(store, tenant, source)
            if lag is None:
                with contextlib.suppress(KeyError):  # never set: nothing to remove
                    self.cursor_lag.remove(tenant, source)
            else:
                self.cursor_lag.labels(tenant, source).set(lag)
            open_counts = store.issues.open_counts(tenant, source)
            self.quarantine_size.labels(tenant, source).set(
                open_counts.get(Disposition.QUARANTINED, 0))

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition and its content type, negotiated from an ``Accept`` header."""
        encoder, content_type = choose_encoder(accept or "")
        return encoder(self.registry), content_type
