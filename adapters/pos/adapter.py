"""PosAdapter: any REST POS described in a TOML file (``adapters/pos/spec.py``).

Per stream (``locations``, ``customers``, ``orders``, read in that order) one cursor::

    {"since": <lower bound of the window being read, or null: no lower bound>,
     "until": <upper bound of that window, or null: up to the request>,
     "page": <paging state of the next page>, "max_seen": <newest record time seen>,
     "watermark": <where the next pass starts, before its lookback>, "done": bool}

- Each page is a batch; its checkpoint is the paging state of the *next* page, so a
  killed run resumes at the page it was on, in the same window.
- A first read sends no lower bound unless the API needs one (``{since}`` in the path,
  or ``max_window``): then it starts at the stream's ``initial``, the source's
  ``start_date``, or 2000-01-01. Nothing is hidden behind an invented recent start.
- ``max_window``: windows of at most that span are walked from the lower bound up to
  the time of the request, the cursor moving to the next window as each is finished.
- The watermark moves only when a pass over the stream finished: to the newest record
  time seen (the server's clock, so a skew between the two clocks loses nothing), or,
  when the pass saw no record, to the upper bound of its last window (so an empty
  history is not walked again). The next pass starts ``lookback`` before it
  (POS answer newest-first, late, or in store-local time; the ledger makes the
  overlap free). No bound sent is ever later than the moment of the request, and a
  record time from the future (a clock or zone mix-up) never moves the watermark
  past it.
- A page that is not what the description says (HTML, no JSON, no records at any of
  the selectors) stops the run with a clear error before anything of that page is
  sent; the stream's watermark stays where it was.
- A cursor or next URL seen twice, or more than ``max_pages`` pages, stops the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import structlog

from adapters.base import Adapter, Batch, Position, SourceState
from adapters.http import SOURCE_POLICY, SourceHttp, json_body
from adapters.pos.auth import PosAuth, SecretSource, read_secrets, secret_sources
from adapters.pos.mapping import RecordMapper
from adapters.pos.spec import IncrementalSpec, PosSpec, StreamSpec
from adapters.pos.values import describe, dig, field, select, text
from adapters.records import SourceRecord
from connector.errors import ConfigurationError, SourceUnreadable
from connector.http.lib import httpx
from connector.http.retry import RetryPolicy
from connector.mapping.timestamps import parse_timestamp
from connector.redact import scrub
from connector.schedule import parse_duration

log = structlog.get_logger("adapters.pos")

ORDER = ("locations", "customers", "orders")
DEFAULT_START = datetime(2000, 1, 1, tzinfo=UTC)
"""Where a first read starts when the API needs a lower bound and none is configured."""
AMOUNT_CHECK_MIN_ORDERS = 3
MEDIAN_TOO_HIGH = Decimal("1000")
"""A dispensary's median retail order is tens of dollars: one read in cents as dollars
lands in the thousands."""
MEDIAN_TOO_LOW = Decimal("0.50")


@dataclass(slots=True)
class _Reading:
    skipped: int = 0
    """Items before the page this read started at (an interrupted read resumed)."""
    items: int = 0
    records: int = 0
    total: int | None = None


@dataclass(slots=True)
class _Window:
    """The part of a stream one walk reads, and where it stands."""

    since: datetime | None
    until: datetime | None
    end: datetime
    """The walk's end: the time of the run's start (or a backfill's upper bound)."""
    page: Any = None
    max_seen: datetime | None = None
    watermark: datetime | None = None
    seen: set[str] = dataclasses.field(default_factory=set)
    started: datetime | None = None
    """When this pass began (kept across an interrupted pass resumed by a later run): the
    next pass never starts after it, whatever record times were seen meanwhile."""
    items_seen: int = 0
    digest: str | None = None
    """The previous page's records, to notice an API that ignores the page parameter."""


def _skipped(stream: StreamSpec, page: Any) -> int:
    pagination = stream.pagination
    if not isinstance(page, int):
        return 0
    if pagination.kind == "page":
        return max(0, page - pagination.start) * pagination.size
    return page if pagination.kind == "offset" else 0


def _count(body: Any, path: str | None) -> int | None:
    value = dig(body, path) if path else None
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _span(inc: IncrementalSpec | None) -> timedelta | None:
    """How much one window covers (``max_window``), or ``None``: no cap."""
    if inc is None or inc.max_window is None:
        return None
    span = timedelta(seconds=parse_duration(inc.max_window))
    if inc.date_only:  # the upper bound is sent as the next day: keep the sent span
        span = max(timedelta(days=1), span - timedelta(days=1))
    return span


def _start_of(text_value: str, zone: ZoneInfo) -> datetime:
    """``initial``: a date (midnight in the POS's zone) or an ISO time."""
    if len(text_value) == 10:
        day = date.fromisoformat(text_value)
        return datetime.combine(day, dtime(0), tzinfo=zone).astimezone(UTC)
    moment = datetime.fromisoformat(text_value.replace("Z", "+00:00"))
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)


def stream_name(stream: StreamSpec, spec: PosSpec) -> str:
    return next((n for n, s in spec.streams.items() if s is stream), "?")


class PosAdapter(Adapter):
    kind = "pos"

    def __init__(self, *, name: str, spec: PosSpec, base_url: str | None = None,
                 variables: Mapping[str, str] | None = None,
                 secrets: Mapping[str, str] | None = None,
                 environ: Mapping[str, str] | None = None, timeout_seconds: float = 30.0,
                 max_attempts: int = 5, timezone: str = "UTC",
                 start_date: date | None = None, phone_region: str = "US",
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        """``secrets``: role → environment variable, for this source (else the
        description's); ``timezone``: the store's zone, used when the description sets
        none; ``start_date``: where a first read starts when the API needs a lower bound
        and the description gives none."""
        super().__init__(name)
        self.spec = spec
        self.base_url = (base_url or spec.base_url or "").rstrip("/")
        if not self.base_url:
            raise ConfigurationError(f"source {name}: no base_url (neither in the source "
                                     "nor in its description)")
        self.variables = dict(variables or {})
        self.environ = os.environ if environ is None else environ
        self.timeout_seconds = timeout_seconds
        self.policy = RetryPolicy(max_attempts=max_attempts,
                                  budget_seconds=SOURCE_POLICY.budget_seconds,
                                  backoff_multiplier=SOURCE_POLICY.backoff_multiplier,
                                  backoff_max=SOURCE_POLICY.backoff_max)
        self._clock = clock
        self._sleep = sleep
        self._transport = transport
        self.secret_sources: dict[str, SecretSource] = secret_sources(spec, secrets or {})
        self._secrets = read_secrets(name, self.secret_sources, self.environ)
        if spec.namespace_ids and not self.variables.get("location"):
            raise ConfigurationError(f"source {name}: {spec.name} ids are unique only per "
                                     "store: set vars.location (it prefixes them)")
        self.zone_name = spec.timezone or timezone
        self.zone = ZoneInfo(self.zone_name)
        self.start = (datetime.combine(start_date, dtime(0), tzinfo=self.zone).astimezone(UTC)
                      if start_date else None)
        self.mapper = RecordMapper(spec, name, self.variables, zone=self.zone_name,
                                   phone_region=phone_region)
        self.reading: dict[str, _Reading] = {}
        """Per cursor stream read in this run: items and records so far, the total."""
        self.auth: PosAuth | None = None

    # -- HTTP ---------------------------------------------------------------------------
    def _credentials_hint(self) -> str:
        return ", ".join(s.describe() for s in self.secret_sources.values()) or "auth"

    def _open(self) -> SourceHttp:
        token_url = self.spec.auth.token_url
        if token_url is not None and token_url.startswith("/"):
            token_url = self.base_url + self._fill(token_url, {})
        self.auth = PosAuth(self.spec.auth, self._secrets, self.name, token_url,
                            timeout_seconds=self.timeout_seconds, policy=self.policy,
                            sleep=self._sleep, credentials_hint=self._credentials_hint())
        return SourceHttp(self.name, base_url=self.base_url, auth=self.auth,
                          timeout_seconds=self.timeout_seconds, policy=self.policy,
                          sleep=self._sleep, transport=self._transport,
                          credentials_hint=self._credentials_hint())

    def _hide(self, text_value: str) -> str:
        """``scrub``, and every secret of this source masked (a query-string key)."""
        for secret in self._secrets.values():
            if len(secret) >= 4:
                text_value = text_value.replace(secret, "***").replace(quote(secret), "***")
        return scrub(text_value)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC).replace(microsecond=0)

    # -- reading --------------------------------------------------------------------------
    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        started = self._now()
        http = self._open()
        try:
            for name in ORDER:
                stream = self.spec.streams.get(name)  # type: ignore[call-overload]
                if stream is not None:
                    yield from self._stream(http, state, name, stream, started)
        finally:
            http.close()
            if self.auth is not None:
                self.auth.close()
        self._check_amounts()

    def _stream(self, http: SourceHttp, state: SourceState, name: str,
                stream: StreamSpec, end: datetime, *, cursor_name: str | None = None,
                fixed_since: datetime | None = None) -> Iterator[Batch]:
        """``cursor_name``/``fixed_since``: a backfill window (its own cursor, a fixed
        lower bound, ``end`` as the upper one)."""
        cursor_name = cursor_name or name
        cursor = state.get_cursor(cursor_name) or {}
        if fixed_since is not None and cursor.get("done"):
            return
        window = self._window(stream, cursor, end, fixed_since)
        reading = self.reading[cursor_name] = _Reading(skipped=_skipped(stream, window.page))
        pages = 0
        while True:
            pages += 1
            if pages > stream.pagination.max_pages:
                raise SourceUnreadable(f"source {self.name}: {name} has more than "
                                       f"{stream.pagination.max_pages} pages (max_pages)")
            records, position = self._page(http, name, stream, window, reading)
            yield Batch(cursor_name, records, position)
            if position["done"]:
                return

    def _window(self, stream: StreamSpec, cursor: Position, end: datetime,
                fixed_since: datetime | None) -> _Window:
        inc = stream.incremental
        if fixed_since is not None:  # a backfill: its own cursor, its own bounds
            window = _Window(_parse(cursor.get("since")) or fixed_since,
                             _parse(cursor.get("until")), end, cursor.get("page"))
        elif cursor and not cursor.get("done"):  # an interrupted pass: resume it
            window = _Window(_parse(cursor.get("since")), _parse(cursor.get("until")), end,
                             cursor.get("page"), _parse(cursor.get("max_seen")),
                             _parse(cursor.get("watermark")),
                             started=_parse(cursor.get("started"))
                             or _parse(cursor.get("until")) or _parse(cursor.get("since")))
        else:
            watermark = _parse(cursor.get("watermark")) or _parse(
                cursor.get("max_seen")) or _parse(cursor.get("since"))
            window = _Window(self._next_since(inc, watermark), None, end,
                             watermark=watermark, started=end)
        if inc is not None and window.since is None and stream.first_read() == "from_start":
            window.since = self._first_start(inc)
        if window.since is not None and window.since > end:
            window.since = end  # never a bound ahead of the request
        if window.until is None:
            window.until = self._window_end(inc, window.since, end)
        return window

    def _first_start(self, inc: IncrementalSpec) -> datetime:
        if inc.initial is not None:
            return _start_of(inc.initial, self.zone)
        return self.start or DEFAULT_START

    def _next_since(self, inc: IncrementalSpec | None,
                    watermark: datetime | None) -> datetime | None:
        if inc is None or watermark is None:
            return None
        return watermark - timedelta(seconds=parse_duration(inc.lookback))

    def _window_end(self, inc: IncrementalSpec | None, since: datetime | None,
                    end: datetime) -> datetime | None:
        if inc is None or since is None:
            return None  # an open read: no bounds at all
        if inc.max_window is None:
            return end
        span = timedelta(seconds=parse_duration(inc.max_window))
        if inc.date_only:  # whole days of the zone the dates are read in (DST-proof)
            zone = self._date_zone(inc)
            days = max(1, span // timedelta(days=1))
            first = since.astimezone(zone).date()
            return min(end, datetime.combine(first + timedelta(days=days), dtime(0),
                                             tzinfo=zone).astimezone(UTC))
        return min(end, since + span)

    def _date_zone(self, inc: IncrementalSpec) -> ZoneInfo:
        return ZoneInfo(inc.timezone) if inc.timezone else self.zone

    def _page(self, http: SourceHttp, name: str, stream: StreamSpec, window: _Window,
              reading: _Reading) -> tuple[list[SourceRecord], Position]:
        """Read the page ``window`` points at; the records and the position after it."""
        requested = self._now()
        url, params = self._request(stream, window, requested)
        label = f"{name} page {len(window.seen) + 1}"
        response = http.request("GET", url, params=params, what=label)
        body = json_body(response, f"source {self.name}: {label}")
        found = select(body, stream.selectors(), single=stream.single)
        if found is None and self.auth is not None and self.spec.auth.kind == "oauth2":
            # A token the POS no longer honours can be answered 200 without the records
            # (Treez; tap-treez re-authenticates then): one more try with a new token.
            self.auth.invalidate()
            response = http.request("GET", url, params=params, what=label)
            body = json_body(response, f"source {self.name}: {label}")
            found = select(body, stream.selectors(), single=stream.single)
        if reading.total is None:
            reading.total = _count(body, stream.pagination.total_path)
        if found is None:
            raise SourceUnreadable(
                f"source {self.name}: {label} ({self._hide(str(response.url))}) has no record "
                f"list at {stream.selectors()} (streams.{name}.records in "
                f"{self.spec.name}): the answer is {describe(body)}")
        if stream.pagination.kind in ("page", "offset") and found:
            digest = hashlib.sha256(json.dumps(found, sort_keys=True, default=str)
                                    .encode()).hexdigest()
            if digest == window.digest:  # the API ignores the page parameter
                if "pagination_ignored" not in self.notices:
                    self.notices.append("pagination_ignored")
                    self.remarks.append(
                        f"source {self.name}: {label} answered the same records as the "
                        f"page before: the API does not page this list (check "
                        f"streams.{name}.pagination in {self.spec.name})")
                window.page = None
                return [], self._after_window(stream, window)
            window.digest = digest
        records: list[SourceRecord] = []
        inc = stream.incremental
        for item in found:
            records.extend(self.mapper.records(name, stream, item))
            if inc is not None:
                seen = self._record_time(item, inc)
                if seen is not None and (window.max_seen is None or seen > window.max_seen):
                    window.max_seen = min(seen, requested)
        reading.items += len(found)
        window.items_seen += len(found)
        reading.records += len(records)
        window.page = self._next(stream, window.page, found, body, response)
        if window.page is not None:
            marker = repr(window.page)
            if marker in window.seen:
                raise SourceUnreadable(f"source {self.name}: {name} pagination loops "
                                       f"(next page {self._hide(marker)} again)")
            window.seen.add(marker)
            return records, self._position(window, done=False)
        return records, self._after_window(stream, window)

    def _after_window(self, stream: StreamSpec, window: _Window) -> Position:
        """The position once the window's last page is read: the next window, or done."""
        inc = stream.incremental
        if inc is not None and inc.max_window is not None and window.until is not None \
                and window.until < window.end:
            window.since = window.until
            window.until = self._window_end(inc, window.since, window.end)
            window.page = None
            window.seen.clear()
            window.digest = None
            return self._position(window, done=False)
        if inc is not None and window.max_seen is None and window.items_seen \
                and inc.watermark == "auto" and "watermark_unmoved" not in self.notices:
            self.notices.append("watermark_unmoved")
            self.remarks.append(
                f"source {self.name}: none of the {window.items_seen} records read had a "
                f"readable time at {inc.field!r} (streams.{stream_name(stream, self.spec)}"
                ".incremental.field): the watermark cannot move, so every run reads them "
                "all again")
        if inc is not None:
            bound = window.until if (inc.upper_param or "{until}" in stream.path) else None
            started = window.started or window.end
            newest = started if inc.watermark == "run_start" else (
                window.max_seen or bound)
            if newest is not None:
                # a record updated during the walk may sit on a page already read: the
                # next pass starts no later than this one did
                newest = min(newest, started)
            if newest is not None and (window.watermark is None or newest > window.watermark):
                window.watermark = newest
        return self._position(window, done=True)

    @staticmethod
    def _position(window: _Window, *, done: bool) -> Position:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else _iso(moment)
        return {"since": iso(window.since), "until": iso(window.until), "page": window.page,
                "max_seen": iso(window.max_seen), "watermark": iso(window.watermark),
                "started": iso(window.started), "done": done}

    def _record_time(self, item: Any, inc: IncrementalSpec) -> datetime | None:
        value = field(item, inc.field, self.spec.sentinels)
        if value is None:
            return None
        if value.isdigit() and len(value) >= 12:  # epoch milliseconds
            return datetime.fromtimestamp(int(value) / 1000, UTC)
        zone = getattr(inc.field, "timezone", None) or self.zone_name
        try:
            return parse_timestamp(value, field="watermark", tz=zone)
        except Exception:  # noqa: BLE001 - an unreadable time does not move the watermark
            return None

    # -- requests ------------------------------------------------------------------------
    def _request(self, stream: StreamSpec, window: _Window,
                 now: datetime) -> tuple[str, dict[str, str]]:
        pagination = stream.pagination
        page = window.page
        if pagination.kind in ("next_url", "link") and isinstance(page, str):
            return page, {}
        inc = stream.incremental
        values: dict[str, str] = {}
        if inc is not None and window.since is not None:
            values["since"] = self._format(min(window.since, now), inc)
            until = min(window.until or now, now)
            if inc.date_only:  # a day is the finest bound: include the day `until` is in
                local = until.astimezone(self._date_zone(inc))
                if local.time() != dtime(0):
                    until = datetime.combine(local.date() + timedelta(days=1), dtime(0),
                                             tzinfo=local.tzinfo).astimezone(UTC)
            values["until"] = self._format(until, inc)
        number = page if isinstance(page, int) else (
            pagination.start if pagination.kind == "page" else 0)
        values["page"] = str(number)
        params = {k: self._fill(v, values) for k, v in stream.params.items()}
        if inc is not None and window.since is not None:
            if inc.param:
                params[inc.param] = values["since"]
            if inc.upper_param:
                params[inc.upper_param] = values["until"]
        if pagination.kind == "page" and "{page}" not in stream.path:
            params[pagination.page_param] = str(number)
        if pagination.kind == "offset":
            params[pagination.offset_param] = str(number)
        if pagination.kind in ("page", "offset") and pagination.size_param:
            params[pagination.size_param] = str(pagination.size)
        if pagination.kind == "cursor" and isinstance(page, str):
            params[pagination.cursor_param] = page
        return self._fill(stream.path, values, quote_values=True), params

    def _fill(self, template: str, values: Mapping[str, str], *,
              quote_values: bool = False) -> str:
        merged = {**self.variables, **values}
        try:
            if quote_values:
                merged = {k: quote(v, safe=":") for k, v in merged.items()}
            return template.format(**merged)
        except KeyError as exc:
            raise ConfigurationError(f"source {self.name}: {template!r} uses {{{exc.args[0]}}}"
                                     " but no such variable is set (source vars, or since/"
                                     "until/page)") from exc

    def _format(self, moment: datetime, inc: IncrementalSpec) -> str:
        fmt = inc.format
        zone = ZoneInfo(inc.timezone) if inc.timezone else self.zone
        if fmt == "epoch_ms":
            return str(int(moment.timestamp() * 1000))
        if fmt == "date":
            return moment.astimezone(zone).date().isoformat()
        if fmt == "us_date":
            return moment.astimezone(zone).strftime("%m/%d/%Y")
        if fmt == "iso_ms_offset":
            return moment.astimezone(zone).isoformat(timespec="milliseconds")
        return _iso(moment)

    def _next(self, stream: StreamSpec, page: Any, found: list[Any], body: Any,
              response: httpx.Response) -> Any:
        pagination = stream.pagination
        kind = pagination.kind
        if kind == "none":
            return None
        if kind in ("page", "offset"):
            if not found or (pagination.stop == "short" and len(found) < pagination.size):
                return None
            current = page if isinstance(page, int) else (
                pagination.start if kind == "page" else 0)
            return current + (1 if kind == "page" else len(found))
        if kind == "cursor":
            return text(dig(body, pagination.cursor_path)) or None
        if kind == "next_url":
            return text(dig(body, pagination.next_url_path)) or None
        link = response.links.get("next", {}).get("url")
        return str(link) if link else None

    # -- the run's sanity checks --------------------------------------------------------
    def _check_amounts(self) -> None:
        """A median order far outside what a dispensary sells says the unit is wrong."""
        amounts: list[Decimal] = []
        for total in self.mapper.totals:
            try:
                amount = Decimal(total.replace(",", "").replace("$", ""))
            except InvalidOperation:
                continue
            if amount.is_finite():
                amounts.append(amount)
        if len(amounts) < AMOUNT_CHECK_MIN_ORDERS:
            return
        median = statistics.median(amounts)
        if MEDIAN_TOO_LOW <= median <= MEDIAN_TOO_HIGH:
            return
        unit = (self.spec.streams["orders"].amounts if "orders" in self.spec.streams
                else None)
        self.notices.append("amounts_look_off")
        self.remarks.append(
            f"source {self.name}: the median order total of this run is ${median:,.2f} "
            f"over {len(amounts)} orders, which looks a hundred times "
            f"{'too high' if median > MEDIAN_TOO_HIGH else 'too low'}: check "
            f"streams.orders.amounts (now {unit!r}) in the {self.spec.name} description")

    # -- what `check` and `discover` ask ---------------------------------------------------
    def probe(self) -> list[StreamProbe]:
        """Read the first page of each stream (no cursor is read or moved) and say what
        was found: records, and which mapped fields resolve on them."""
        found: list[StreamProbe] = []
        http = self._open()
        try:
            for name in ORDER:
                stream = self.spec.streams.get(name)  # type: ignore[call-overload]
                if stream is None:
                    continue
                now = self._now()
                window = self._window(stream, {}, now, None)
                inc = stream.incremental
                span = _span(inc)
                if span is not None:
                    # the newest window, where records are (a first read's starts in 2000)
                    window.since, window.until = now - span, now
                url, params = self._request(stream, window, now)
                label = f"{name} page 1"
                response = http.request("GET", url, params=params, what=label)
                body = json_body(response, f"source {self.name}: {label}")
                items = select(body, stream.selectors(), single=stream.single)
                found.append(StreamProbe.of(self, name, stream, body, items))
        finally:
            http.close()
            if self.auth is not None:
                self.auth.close()
        return found


@dataclass(frozen=True, slots=True)
class StreamProbe:
    stream: str
    records: int | None
    """Records on the first page; ``None``: no list at the selectors."""
    body: str
    """What the answer held, when no records were found at the selectors."""
    unresolved: tuple[str, ...]
    """Mapped fields whose paths hold a value in none of the page's records."""
    records_sample: tuple[SourceRecord, ...] = ()

    @classmethod
    def of(cls, adapter: PosAdapter, name: str, stream: StreamSpec, body: Any,
           items: list[Any] | None) -> StreamProbe:
        if items is None:
            return cls(name, None, describe(body), ())
        unresolved = tuple(sorted(
            key for key, spec in stream.fields.items()
            if items and all(field(item, spec, adapter.spec.sentinels) is None
                             for item in items)))
        inc = stream.incremental
        if inc is not None and items and all(adapter._record_time(item, inc) is None
                                             for item in items):
            unresolved += ("incremental.field",)
        sample: list[SourceRecord] = []
        for item in items[:50]:
            sample.extend(adapter.mapper.records(name, stream, item))
        return cls(name, len(items), describe(body), unresolved, tuple(sample))


class PosBackfill(PosAdapter):
    """The orders of ``[since, until)`` (days in the POS's time zone), read with the
    stream's incremental parameters as the window (split by ``max_window`` like any
    read), under its own cursor (``backfill:<since>:<until>:orders``): the incremental
    cursors are neither read nor moved, a killed backfill resumes at its page, a
    finished one reads nothing again. A POS without an upper-bound parameter answers up
    to now; the ledger makes the overlap with incremental runs free."""

    def __init__(self, *, since: date, until: date, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        orders = self.spec.streams.get("orders")
        if orders is None:
            raise ConfigurationError(f"source {self.name}: its description has no orders "
                                     "stream to backfill")
        if orders.incremental is None:
            raise ConfigurationError(
                f"source {self.name}: the orders stream has no [incremental] section, so "
                "a date range cannot be asked for (a full read is what `run` does)")
        self.orders: StreamSpec = orders
        self.since, self.until = since, until
        self.cursor_name = f"backfill:{since}:{until}:orders"

    @property
    def expected_records(self) -> int | None:
        """From the total the POS reports (``pagination.total_path``), less what an
        interrupted run already read, times the records per item seen so far."""
        reading = self.reading.get(self.cursor_name)
        if reading is None or reading.total is None:
            return None
        per_item = reading.records / reading.items if reading.items else 1.0
        left = max(0, reading.total - reading.skipped)
        return max(reading.records, round(left * per_item))

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        def moment(day: date) -> datetime:
            return datetime.combine(day, dtime(0), tzinfo=self.zone).astimezone(UTC)

        end = min(moment(self.until), self._now())
        http = self._open()
        try:
            yield from self._stream(http, state, "orders", self.orders, end,
                                    cursor_name=self.cursor_name,
                                    fixed_since=moment(self.since))
        finally:
            http.close()
            if self.auth is not None:
                self.auth.close()
        self._check_amounts()
