"""Per-workspace request pacing for a server that counts a strict rolling 1-second window.

Three parts per workspace, acquired before every attempt (retries included):

- a **cool-down gate**: after a 429, nothing leaves the workspace until ``Retry-After``;
- an **aiolimiter leaky bucket** spacing requests evenly at the sustained rate (the cap
  less the headroom: 98/s). ``AsyncLimiter(100, 1)`` would let a full bucket of 100
  out at once after any idle spell, so a rolling-window server sees up to ~199; ours
  holds 2, enough to catch up after the event loop ran ~10 ms late without losing rate
  (a new bucket starts with that burst spent: see :meth:`WorkspaceLimiters.acquire`);
- a **rolling-window count** (:class:`RollingWindow`): never more than the cap less one
  in any second of our clock, whatever the bucket allows after a late loop, entered once
  the request's connection is ready (``connector/http/send_gate.py``). The one
  request left (~10 ms) absorbs requests sent evenly but arriving bunched. aiolimiter
  has no such bound (any window holds up to ``burst + rate``), hence these few lines.

The Sticky document says only "100 req/sec per workspace" (Errors & rate limits): pacing
evenly below it satisfies every reading (a rolling window, fixed seconds, a token
bucket). A 429 all the same slows that workspace by 1 % (down to 90 % of the cap): the
server counts more strictly than this pace assumed.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from aiolimiter import AsyncLimiter

SLOWER_AFTER_429 = 0.01
"""The share of the cap a workspace's pace gives up after each 429 ..."""
SLOWEST = 0.90
"""... down to this share of the cap."""


RECOVER_AFTER = 300.0
"""Seconds a 429's slow-down lasts."""
GROW_AFTER = 1.0
"""Seconds a workspace's share waits before it grows (fewer senders): the requests the
others sent in the last second still count in the server's window."""
CATCH_UP = 2
"""The bucket of a workspace with a cap of 20/s or more (see the module's docstring)."""
LATE_BY = 0.002
"""An answer this much slower than the fastest lately moves its request's window stamp
(:meth:`WorkspaceLimiters.answered`); below, jitter."""
FLOOR_PERIOD = 10.0
"""Seconds over which the fastest answer is remembered (a floor that rose is learnt
within two such periods; until then requests count later than they arrived, the safe
side)."""


@dataclass(frozen=True, slots=True)
class WorkspacePace:
    rate: float
    burst: float
    cap: int = 0
    """The server's cap per second (0: unknown, the pace is not shared)."""
    window: int = 0
    """At most this many requests in any second (0: the bucket alone bounds them)."""

    @classmethod
    def for_cap(cls, cap_per_second: int, headroom: float) -> WorkspacePace:
        """``headroom`` of the cap comes off the sustained rate (100/s, 0.02 → 98/s),
        and no second holds more than the cap less one. Small caps (a few per second)
        get a bucket of one (evenly spaced requests) and no more than the cap a second."""
        rate = cap_per_second * (1.0 - headroom)
        if cap_per_second < 20:
            return cls(rate=rate, burst=1, cap=cap_per_second, window=cap_per_second)
        return cls(rate=min(rate, cap_per_second - 1), burst=CATCH_UP, cap=cap_per_second,
                   window=cap_per_second - 1)

    def slowed(self, times: int) -> WorkspacePace:
        """This pace after ``times`` 429s: 1 % of the cap slower each, to 90 % of it."""
        if not times or not self.cap:
            return self
        rate = max(self.rate - times * SLOWER_AFTER_429 * self.cap, SLOWEST * self.cap)
        return WorkspacePace(rate=min(rate, self.rate), burst=self.burst, cap=self.cap,
                             window=self.window and min(self.window, int(rate)))

    def shared(self, senders: int) -> WorkspacePace:
        """This process's part when ``senders`` processes send to one workspace, such that
        ``senders x (rate + burst) <= cap - 1``: any 1-second window holds at most
        ``cap - 1`` of all their requests together. A bucket of two while that costs at
        most a tenth of the rate (two processes: 47.5/s each), else of one: a bucket of one
        loses more to timer granularity than it gives (measured by bench/shared_budget.py:
        90 % of the cap together with one, 92 % with two)."""
        if senders <= 1 or not self.cap:
            return self
        burst = 2 if (self.cap - 1) / senders - 2 >= 0.9 * self.rate / senders else 1
        rate = min(self.rate / senders, (self.cap - 1) / senders - burst)
        return WorkspacePace(rate=max(rate, 0.1), burst=burst, cap=self.cap,
                             window=max(1, (self.window or self.cap - 1) // senders))



class Budget(Protocol):
    """Shares a workspace's pace with the other processes sending to it
    (connector/sync/budget.py); the limiters only call it."""

    async def admit(self, workspace: str) -> None:
        """Return once this process may send to ``workspace`` at its current share
        (at once, nearly always); calls :meth:`WorkspaceLimiters.share` on changes."""

    def valid(self, workspace: str) -> bool:
        """Whether the share is still this process's (asked again after a request
        waited for its turn: the wait may have outlasted it)."""

    async def aclose(self) -> None:
        """Stop, and tell the others this process no longer sends."""


class TurnLapsed(Exception):
    """A request's turn lapsed before it was written (a 429's cool-down began, or the
    process's share of the workspace lapsed): it queues again. Raised from the send gate
    through the HTTP transport and caught by the pacer (``PacedTransport``); it never
    leaves the delivery layer."""


class RollingWindow:
    """At most ``limit`` acquisitions in any ``period`` seconds (of the monotonic clock).
    Callers are served in order of arrival (one waits at a time, behind a lock)."""

    def __init__(self, limit: int, period: float = 1.0) -> None:
        self.limit = limit
        self.period = period
        self._stamps: deque[float] = deque(maxlen=limit)
        self._turn = asyncio.Lock()

    async def acquire(self) -> float:
        """Wait for room; returns the stamp this acquisition was counted under."""
        async with self._turn:
            while len(self._stamps) == self.limit and (
                    delay := self._stamps[0] + self.period - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            stamp = time.monotonic()
            self._stamps.append(stamp)
            return stamp

    def arrived_late(self, stamp: float, by: float) -> None:
        """The acquisition counted at ``stamp`` reached the server ``by`` seconds later
        than the others (its answer was that late): it is counted from then on, as the
        server counts it. Gone from the window already: nothing to do."""
        stamps = self._stamps
        for i in range(len(stamps) - 1, -1, -1):
            if stamps[i] == stamp:
                del stamps[i]
                later = stamp + by
                j = len(stamps)
                while j > 0 and stamps[j - 1] > later:
                    j -= 1
                stamps.insert(j, later)
                return
            if stamps[i] < stamp:
                return

    def inherit(self, older: RollingWindow) -> None:
        """Count the sends of the window this one replaces (its newest ones)."""
        self._stamps.extend(list(older._stamps)[-self.limit:])


class LatencyFloor:
    """The fastest answer of about the last ``period`` to ``2 x period`` seconds: what an
    answer takes when the server takes the request in at once."""

    def __init__(self, period: float = FLOOR_PERIOD) -> None:
        self.period = period
        self._since = time.monotonic()
        self._current = math.inf
        self._previous = math.inf

    def add(self, latency: float) -> None:
        now = time.monotonic()
        if now - self._since >= self.period:
            self._previous, self._current, self._since = self._current, math.inf, now
        self._current = min(self._current, latency)

    @property
    def value(self) -> float:
        floor = min(self._current, self._previous)
        return 0.0 if floor == math.inf else floor


class CooldownGate:
    """Holds every request of one workspace until a ``Retry-After`` has passed."""

    def __init__(self) -> None:
        self._not_before = 0.0

    @property
    def cooling(self) -> bool:
        return time.monotonic() < self._not_before

    def cool_down(self, seconds: float) -> None:
        self._not_before = max(self._not_before, time.monotonic() + max(0.0, seconds))

    async def wait(self) -> None:
        while (delay := self._not_before - time.monotonic()) > 0:
            await asyncio.sleep(delay)


class WorkspaceLimiters:
    """One gate and bucket per workspace, created lazily inside the running loop."""

    def __init__(self, pace: WorkspacePace) -> None:
        self.pace = pace
        self.budget: Budget | None = None
        """Set when other processes may send to the same workspaces."""
        self._buckets: dict[str, AsyncLimiter] = {}
        self._fresh: set[str] = set()
        """Workspaces whose bucket was just made (see :meth:`acquire`)."""
        self._lines: dict[str, asyncio.Lock] = {}
        """Workspaces whose bucket was just made (see :meth:`acquire`)."""
        self._windows: dict[str, RollingWindow] = {}
        self._senders: dict[str, int] = {}
        self._refusals: dict[str, int] = {}
        self._growing: dict[str, tuple[int, asyncio.TimerHandle]] = {}
        self._gates: dict[str, CooldownGate] = {}
        self._floors: dict[str, LatencyFloor] = {}

    def gate(self, workspace: str) -> CooldownGate:
        gate = self._gates.get(workspace)
        if gate is None:
            gate = self._gates[workspace] = CooldownGate()
        return gate

    def share(self, workspace: str, senders: int) -> None:
        """``senders`` processes send to ``workspace`` now: pace at this one's part (a new
        bucket; requests waiting on the old one queue again on it). A smaller part applies
        at once; a larger one ``GROW_AFTER`` seconds later."""
        current = self._senders.get(workspace, 1)
        growing = self._growing.get(workspace)
        if growing is not None and growing[0] == senders:
            return
        if growing is not None:
            growing[1].cancel()
            del self._growing[workspace]
        if senders > current:
            self._set_share(workspace, senders)
        elif senders < current:
            handle = asyncio.get_running_loop().call_later(
                GROW_AFTER, self._set_share, workspace, senders)
            self._growing[workspace] = (senders, handle)

    def _set_share(self, workspace: str, senders: int) -> None:
        self._growing.pop(workspace, None)
        self._senders[workspace] = senders
        self._buckets.pop(workspace, None)

    def pace_of(self, workspace: str) -> WorkspacePace:
        """The pace ``workspace`` is sent at now (its 429s and senders counted)."""
        return self.pace.slowed(self._refusals.get(workspace, 0)).shared(
            self._senders.get(workspace, 1))

    def _line(self, workspace: str) -> asyncio.Lock:
        line = self._lines.get(workspace)
        if line is None:
            line = self._lines[workspace] = asyncio.Lock()
        return line

    def _bucket(self, workspace: str) -> AsyncLimiter:
        bucket = self._buckets.get(workspace)
        if bucket is None:
            pace = self.pace_of(workspace)
            self._fresh.add(workspace)
            bucket = self._buckets[workspace] = AsyncLimiter(pace.burst,
                                                             pace.burst / pace.rate)
            window = self._windows.get(workspace)
            if pace.window and (window is None or window.limit != pace.window):
                # a new count starts from the old one's sends: the bound holds across
                old = window
                window = self._windows[workspace] = RollingWindow(pace.window)
                if old is not None:
                    window.inherit(old)
            elif not pace.window:
                self._windows.pop(workspace, None)
        return bucket

    async def acquire(self, workspace: str, *, window: bool = True) -> float:
        """Wait for this workspace's turn; returns the seconds spent waiting.
        ``window=False``: all but the rolling-window count, which the caller then enters
        (:meth:`enter_window`) just before the request is written."""
        started = time.monotonic()
        gate = self.gate(workspace)
        while True:
            if self.budget is not None:
                await self.budget.admit(workspace)
            await gate.wait()
            # One request at a time waits on the bucket, the others in line for the lock:
            # aiolimiter wakes its waiters through a heap and a callback each, which with
            # a lane of 16 waiting cost about 8 % of the client's CPU.
            async with self._line(workspace):
                if gate.cooling:
                    continue  # a 429 came while this request waited in line
                bucket = self._bucket(workspace)
                if workspace in self._fresh:
                    # A new bucket starts as if its burst had just been spent: a full one
                    # let the first second out with burst + rate requests, one more than
                    # the window's cap - 1 allows, leaving no room for a request that
                    # travels a few ms longer (8 workspaces: a 429 in each, ~1 s in).
                    self._fresh.discard(workspace)
                    await bucket.acquire(bucket.max_rate - 1)
                await bucket.acquire()
            if window:
                try:
                    await self.enter_window(workspace)
                except TurnLapsed:
                    continue
            if self._buckets.get(workspace) is bucket and self._turn_holds(workspace):
                return time.monotonic() - started
            # a 429's cool-down began, or the pace or share changed or lapsed, while this
            # request waited: it asks again

    async def enter_window(self, workspace: str) -> float | None:
        """Count one request in the workspace's rolling window (waiting while it is
        full); returns its stamp (``None``: no window). A window replaced meanwhile (a
        new share or pace) is entered anew: it inherited the old one's stamps before
        this one was added. Raises :class:`TurnLapsed` if, meanwhile, a 429's cool-down
        began or this process's share lapsed: the request must queue again, unsent."""
        stamp = None
        while (window := self._windows.get(workspace)) is not None:
            stamp = await window.acquire()
            if self._windows.get(workspace) is window:
                break
        if not self._turn_holds(workspace):
            raise TurnLapsed(workspace)
        return stamp

    def answered(self, workspace: str, stamp: float, status: int) -> None:
        """The request counted at ``stamp`` was answered now. An answer later than the
        fastest of late (:class:`LatencyFloor`) says the server was slower to take the
        request in (a stall, a queue): it counts it that much later than our stamp, so
        the window does too. Without this, a server that stalls 40 ms and then stamps
        what queued meanwhile holds one second with more than the cap less one in it, a
        second after the stall (``bench/throughput.py``: one 429 per workspace per run,
        after the sandbox's own garbage collections)."""
        latency = time.monotonic() - stamp
        floor = self._floors.get(workspace)
        if floor is None:
            floor = self._floors[workspace] = LatencyFloor()
        if status != 429 and status < 500:  # an error may be answered before the work
            floor.add(latency)
        late = latency - floor.value
        window = self._windows.get(workspace)
        if late > LATE_BY and window is not None:
            window.arrived_late(stamp, late)

    def _turn_holds(self, workspace: str) -> bool:
        return not self.gate(workspace).cooling and (
            self.budget is None or self.budget.valid(workspace))

    def cool_down(self, workspace: str, seconds: float) -> None:
        """A 429: nothing leaves the workspace for ``seconds``, and the first 429 of a
        cool-down paces it one step slower for ``RECOVER_AFTER`` seconds."""
        gate = self.gate(workspace)
        first = not gate.cooling
        gate.cool_down(seconds)
        if first:
            self._step(workspace, +1)
            asyncio.get_running_loop().call_later(RECOVER_AFTER, self._step, workspace, -1)

    def _step(self, workspace: str, change: int) -> None:
        self._refusals[workspace] = max(0, self._refusals.get(workspace, 0) + change)
        self._buckets.pop(workspace, None)
