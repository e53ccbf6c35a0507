"""PosAdapter: any REST POS described in a TOML file (``adapters/pos/spec.py``).

Per stream (``locations``, ``customers``, ``orders``, read in that order) one cursor::

    {"since": <watermark sent this pass>, "page": <paging state of the next page>,
     "max_seen": <newest record time seen this pass>, "done": bool}

- Each page is a batch; its checkpoint is the paging state of the *next* page, so a
  killed run resumes at the page it was on, with the same ``since``.
- The watermark moves only when a pass over the stream finished: the next pass starts
  at the newest record time seen, minus ``lookback`` (POS answer newest-first, late,
  or in store-local time; the ledger makes the overlap free).
- A page that is not what the description says (HTML, no JSON, no records at the
  selector) stops the run with a clear error before anything of that page is sent;
  the stream's watermark stays where it was.
- A cursor or next URL seen twice, or more than ``max_pages`` pages, stops the run.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx2 as httpx
import structlog

from adapters.base import Adapter, Batch, Position, SourceState
from adapters.pos.auth import PosAuth
from adapters.pos.mapping import RecordMapper
from adapters.pos.spec import IncrementalSpec, PosSpec, StreamSpec
from adapters.pos.values import dig, field, select, text
from adapters.records import SourceRecord
from connector.errors import ConfigurationError, SourceUnreadable
from connector.mapping.timestamps import parse_timestamp
from connector.redact import scrub
from connector.schedule import parse_duration

log = structlog.get_logger("adapters.pos")

ORDER = ("locations", "customers", "orders")


@dataclass(slots=True)
class _Reading:
    skipped: int = 0
    """Items before the page this read started at (an interrupted read resumed)."""
    items: int = 0
    records: int = 0
    total: int | None = None


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


class PosAdapter(Adapter):
    kind = "pos"

    def __init__(self, *, name: str, spec: PosSpec, base_url: str | None = None,
                 variables: Mapping[str, str] | None = None,
                 environ: Mapping[str, str] | None = None, timeout_seconds: float = 30.0,
                 max_attempts: int = 5, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(name)
        self.spec = spec
        self.base_url = (base_url or spec.base_url or "").rstrip("/")
        if not self.base_url:
            raise ConfigurationError(f"source {name}: no base_url (neither in the source "
                                     "nor in its description)")
        self.variables = dict(variables or {})
        self.environ = os.environ if environ is None else environ
        self.timeout_seconds = timeout_seconds
        self.max_attempts = max_attempts
        self._clock = clock
        self._sleep = sleep
        token_url = spec.auth.token_url
        if token_url is not None and token_url.startswith("/"):
            token_url = self.base_url + self._fill(token_url, {})
        self.auth = PosAuth(spec.auth, self.environ, name, token_url)
        if spec.namespace_ids and not self.variables.get("location"):
            raise ConfigurationError(f"source {name}: {spec.name} ids are unique only per "
                                     "store: set vars.location (it prefixes them)")
        self.mapper = RecordMapper(spec, name, self.variables)
        self.zone = ZoneInfo(spec.timezone)
        self.reading: dict[str, _Reading] = {}
        """Per cursor stream read in this run: items and records so far, the total."""

    def read(self, state: SourceState, batch_size: int) -> Iterator[Batch]:
        started = datetime.fromtimestamp(self._clock(), UTC)
        with self._client() as http:
            for name in ORDER:
                stream = self.spec.streams.get(name)  # type: ignore[call-overload]
                if stream is not None:
                    yield from self._stream(http, state, name, stream, started)

    def _client(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, auth=self.auth,
                            timeout=self.timeout_seconds,
                            headers={"Accept": "application/json",
                                     "User-Agent": "sticky-sync/0.1"})

    # -- one stream ---------------------------------------------------------------------
    def _stream(self, http: httpx.Client, state: SourceState, name: str,
                stream: StreamSpec, started: datetime, *, cursor_name: str | None = None,
                fixed_since: str | None = None) -> Iterator[Batch]:
        """``cursor_name``/``fixed_since``: a backfill window (its own cursor, a fixed
        lower bound, ``started`` as the upper one)."""
        cursor_name = cursor_name or name
        cursor = state.get_cursor(cursor_name) or {}
        inc = stream.incremental
        since: str | None
        max_seen: str | None
        if fixed_since is not None:
            if cursor.get("done"):
                return
            since, page, max_seen = fixed_since, cursor.get("page"), None
        elif cursor and not cursor.get("done"):
            since, page, max_seen = cursor.get("since"), cursor.get("page"), cursor.get(
                "max_seen")
        else:
            since, page, max_seen = self._since(inc, cursor), None, cursor.get("max_seen")
        seen: set[str] = set()
        reading = self.reading[cursor_name] = _Reading(skipped=_skipped(stream, page))
        for number in range(stream.pagination.max_pages):
            url, params = self._request(stream, name, since, page, started)
            body, response = self._get(http, url, params, name)
            found = select(body, stream.records, single=stream.single)
            reading.total = reading.total if reading.total is not None else _count(
                body, stream.pagination.total_path)
            if found is None:
                raise SourceUnreadable(
                    f"source {self.name}: {name} page {number + 1} ({url}) has no record "
                    f"list at {stream.records or '<body>'!r}: {_describe(body)}")
            records: list[SourceRecord] = []
            for item in found:
                records.extend(self.mapper.records(name, stream, item))
                if inc is not None:
                    max_seen = _newer(max_seen, self._record_time(item, inc))
            reading.items += len(found)
            reading.records += len(records)
            page = self._next(stream, page, found, body, response, url, params)
            if page is not None:
                marker = repr(page)
                if marker in seen:
                    raise SourceUnreadable(f"source {self.name}: {name} pagination loops "
                                           f"(next page {scrub(marker)} again)")
                seen.add(marker)
            done = page is None
            position: Position = {"since": since, "page": page, "max_seen": max_seen,
                                  "done": done}
            yield Batch(cursor_name, records, position)
            if done:
                return
        raise SourceUnreadable(f"source {self.name}: {name} has more than "
                               f"{stream.pagination.max_pages} pages (max_pages)")

    def _since(self, inc: IncrementalSpec | None, cursor: Position) -> str | None:
        if inc is None:
            return None
        newest = cursor.get("max_seen") or cursor.get("since")
        if newest is None:
            return inc.initial
        moment = datetime.fromisoformat(str(newest).replace("Z", "+00:00"))
        return _iso(moment - timedelta(seconds=parse_duration(inc.lookback)))

    def _record_time(self, item: Any, inc: IncrementalSpec) -> str | None:
        value = field(item, inc.field, self.spec.sentinels)
        if value is None:
            return None
        if value.isdigit() and len(value) >= 12:  # epoch milliseconds
            return _iso(datetime.fromtimestamp(int(value) / 1000, UTC))
        try:
            moment = parse_timestamp(value, field="watermark", tz=self.spec.timezone)
        except Exception:  # noqa: BLE001 - an unreadable time does not move the watermark
            return None
        return None if moment is None else _iso(moment)

    # -- requests ------------------------------------------------------------------------
    def _request(self, stream: StreamSpec, name: str, since: str | None,
                 page: Any, started: datetime) -> tuple[str, dict[str, str]]:
        pagination = stream.pagination
        if pagination.kind in ("next_url", "link") and isinstance(page, str):
            return page, {}
        inc = stream.incremental
        values: dict[str, str] = {}
        if inc is not None and since is not None:
            values["since"] = self._format(since, inc.format)
            values["until"] = self._format(_iso(started), inc.format)
        number = page if isinstance(page, int) else (
            pagination.start if pagination.kind == "page" else 0)
        values["page"] = str(number)
        params = {k: self._fill(v, values) for k, v in stream.params.items()}
        if inc is not None and since is not None:
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

    def _format(self, iso: str, fmt: str) -> str:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
        if fmt == "epoch_ms":
            return str(int(moment.timestamp() * 1000))
        if fmt == "date":
            return moment.astimezone(self.zone).date().isoformat()
        if fmt == "iso_ms_offset":
            local = moment.astimezone(self.zone)
            return local.isoformat(timespec="milliseconds")
        return _iso(moment)

    def _next(self, stream: StreamSpec, page: Any, found: list[Any], body: Any,
              response: httpx.Response, url: str, params: Mapping[str, str]) -> Any:
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
            nxt = _dig_text(body, pagination.cursor_path)
            return nxt or None
        if kind == "next_url":
            nxt = _dig_text(body, pagination.next_url_path)
            return nxt or None
        link = response.links.get("next", {}).get("url")
        return str(link) if link else None

    def _get(self, http: httpx.Client, url: str, params: Mapping[str, str],
             name: str) -> tuple[Any, httpx.Response]:
        for attempt in range(1, self.max_attempts + 1):
            try:
                # params=None keeps a next URL's own query (an empty dict would drop it)
                response = http.get(url, params=dict(params) or None)
            except httpx.TransportError as exc:
                if attempt == self.max_attempts:
                    raise SourceUnreadable(f"source {self.name}: {name}: {exc}") from exc
                self._backoff(attempt, None)
                continue
            status = response.status_code
            if status == 429 or status >= 500:
                if attempt == self.max_attempts:
                    raise SourceUnreadable(f"source {self.name}: {name}: HTTP {status} "
                                           f"after {attempt} attempts")
                self._backoff(attempt, response.headers.get("Retry-After"))
                continue
            if status in (401, 403):
                raise SourceUnreadable(f"source {self.name}: {name}: the POS refused the "
                                       f"credentials (HTTP {status})")
            if status != 200:
                raise SourceUnreadable(f"source {self.name}: {name}: HTTP {status} for "
                                       f"{url}: {scrub(response.text[:200])}")
            try:
                return response.json(), response
            except ValueError as exc:
                raise SourceUnreadable(
                    f"source {self.name}: {name}: the POS answered "
                    f"{response.headers.get('content-type', 'no content type')} that is "
                    f"not JSON: {scrub(response.text[:120])!r}") from exc
        raise AssertionError("unreachable")

    def _backoff(self, attempt: int, retry_after: str | None) -> None:
        try:
            wait = float(retry_after) if retry_after else 0.0
        except ValueError:
            wait = 0.0
        wait = max(wait, min(30.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
        log.warning("POS request failed; retrying", attempt=attempt, wait=round(wait, 2))
        self._sleep(wait)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _newer(current: Any, candidate: str | None) -> Any:
    if candidate is None:
        return current
    return candidate if current is None or candidate > str(current) else current


def _dig_text(body: Any, path: str) -> str | None:
    return text(dig(body, path))


def _describe(body: Any) -> str:
    if isinstance(body, dict):
        return f"an object with keys {sorted(body)[:8]}"
    return f"a {type(body).__name__}"


class PosBackfill(PosAdapter):
    """The orders of ``[since, until)`` (days in the POS's time zone), read with the
    stream's incremental parameters as the window, under its own cursor
    (``backfill:<since>:<until>:orders``): the incremental cursors are neither read nor
    moved, a killed backfill resumes at its page, a finished one reads nothing again.
    A POS without an upper-bound parameter answers up to now; the ledger makes the
    overlap with incremental runs free."""

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

        with self._client() as http:
            yield from self._stream(
                http, state, "orders", self.orders, moment(self.until),
                cursor_name=self.cursor_name,
                fixed_since=_iso(moment(self.since)))
