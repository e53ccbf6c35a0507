"""Fault injection: the :class:`Faults` settings and the runtime :class:`FaultInjector`."""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

DropMode = Literal["before", "after"]
SERVER_ERROR_STATUSES = (500, 502, 503)


class FaultError(ValueError):
    """An invalid fault setting; ``field`` names the offending setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class Faults:
    """Fault settings. Rates are fractions of requests in ``[0, 1]``.

    ``error_rate`` and ``storm_*`` apply to Sticky only; latency and drops to Sticky and
    Sticker; ``setup_error_*`` to Sticker's ``POST /v1/organizations/setup`` only.
    """

    latency_ms: float = 0.0
    latency_jitter_ms: float = 0.0
    error_rate: float = 0.0
    drop_rate: float = 0.0
    drop_mode: DropMode = "before"
    storm_seconds: float = 0.0
    storm_workspace: str | None = None
    ignore_idempotency: bool = False
    seed: int | None = None
    setup_error_rate: float = 0.0
    setup_error_next: int = 0
    setup_error_mode: DropMode = "before"
    refuse_phones: tuple[str, ...] = ()
    """``POST /v1/customers`` with one of these phones gets 400 ``phone_refused`` (Sticky
    refusing a valid-looking record, e.g. a number its carrier lookup rejects)."""
    fail_phones: tuple[str, ...] = ()
    """``POST /v1/customers`` with one of these phones always gets 500 (a poison record)."""
    slow_phones: tuple[str, ...] = ()
    """``POST /v1/customers`` with one of these phones is answered ``slow_seconds`` later
    than the others (a slow path at Sticky for one record)."""
    slow_seconds: float = 1.0
    refuse_amounts: tuple[int, ...] = ()
    """``POST /v1/events`` of an ``order.completed`` with one of these ``amount_cents`` gets
    400 ``event_refused`` (Sticky refusing one order, whatever the reason)."""
    created_status: int = 201
    """The status of a Sticky ``POST`` that created something (a customer, event, pass,
    webhook): ``201``, or ``200``, the only success the Sticky document lists ("Errors &
    rate limits": ``200 OK — Success``). A client must take either as success."""

    def __post_init__(self) -> None:
        for name in ("latency_ms", "latency_jitter_ms", "storm_seconds", "slow_seconds"):
            value: object = getattr(self, name)
            if not _number(value) or cast(float, value) < 0:
                raise FaultError(name, f"{name} must be a number >= 0")
        for name in ("error_rate", "drop_rate", "setup_error_rate"):
            value = getattr(self, name)
            if not _number(value) or not 0 <= cast(float, value) <= 1:
                raise FaultError(name, f"{name} must be a number between 0 and 1")
        for name in ("drop_mode", "setup_error_mode"):
            if getattr(self, name) not in ("before", "after"):
                raise FaultError(name, f"{name} must be 'before' or 'after'")
        count: object = self.setup_error_next
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise FaultError("setup_error_next", "setup_error_next must be an integer >= 0")
        workspace: object = self.storm_workspace
        if workspace is not None and (not isinstance(workspace, str) or not workspace):
            raise FaultError(
                "storm_workspace", "storm_workspace must be a non-empty string or null"
            )
        if self.created_status not in (200, 201) or isinstance(self.created_status, bool):
            raise FaultError("created_status", "created_status must be 200 or 201")
        if not isinstance(self.ignore_idempotency, bool):
            raise FaultError("ignore_idempotency", "ignore_idempotency must be a boolean")
        self._check_phone_lists()
        seed: object = self.seed
        if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
            raise FaultError("seed", "seed must be an integer or null")

    def _check_phone_lists(self) -> None:
        for name in ("refuse_phones", "fail_phones", "slow_phones"):
            phones: object = getattr(self, name)
            if isinstance(phones, list):
                phones = tuple(phones)
                object.__setattr__(self, name, phones)
            if not isinstance(phones, tuple) or not all(isinstance(p, str) for p in phones):
                raise FaultError(name, f"{name} must be a list of strings")
        amounts: object = self.refuse_amounts
        if isinstance(amounts, list):
            amounts = tuple(amounts)
            object.__setattr__(self, "refuse_amounts", amounts)
        if not isinstance(amounts, tuple) or not all(
                isinstance(a, int) and not isinstance(a, bool) for a in amounts):
            raise FaultError("refuse_amounts", "refuse_amounts must be a list of integers")

    def to_dict(self) -> dict[str, object]:
        """JSON-shaped: phone lists as lists."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    def updated(self, changes: Mapping[str, object]) -> Faults:
        """A copy with ``changes`` applied; unknown or invalid fields raise FaultError."""
        names = {f.name for f in dataclasses.fields(self)}
        for key in changes:
            if key not in names:
                raise FaultError(key, f"Unknown fault setting: {key}")
        try:
            return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
        except TypeError as exc:  # pragma: no cover - guarded by the name check
            raise FaultError("", str(exc)) from exc


class FaultInjector:
    """Current faults plus the RNG and storm clock that turn them into decisions.

    All decisions run on the server's event loop thread; draws only happen for
    non-zero rates so a seeded run is reproducible for a given request order.
    """

    def __init__(self, initial: Faults, clock: Callable[[], float] = time.monotonic) -> None:
        self._initial = initial
        self._clock = clock
        self._faults = initial
        self._rng = random.Random(initial.seed)
        self._storm_until = 0.0
        self.reset()

    @property
    def current(self) -> Faults:
        return self._faults

    def reset(self) -> None:
        """Back to the start configuration (restarting a configured storm)."""
        self._faults = self._initial
        self._rng = random.Random(self._initial.seed)
        self._storm_until = self._clock() + self._initial.storm_seconds

    def update(self, changes: Mapping[str, object]) -> Faults:
        """Apply a partial update. ``storm_seconds`` > 0 starts a storm now; 0 ends it."""
        new = self._faults.updated(changes)
        self._faults = new
        if "seed" in changes:
            self._rng = random.Random(new.seed)
        if "storm_seconds" in changes:
            self._storm_until = self._clock() + new.storm_seconds
        return new

    def storm_active(self, workspace: str) -> bool:
        if self._clock() >= self._storm_until:
            return False
        target = self._faults.storm_workspace
        return target is None or target == workspace

    def storm_remaining(self) -> float:
        return max(0.0, self._storm_until - self._clock())

    def latency_seconds(self) -> float:
        faults = self._faults
        delay = faults.latency_ms
        if faults.latency_jitter_ms > 0:
            delay += self._rng.uniform(0.0, faults.latency_jitter_ms)
        return delay / 1000.0

    def draw_server_error(self) -> int | None:
        """A 5xx status to answer with (request not processed), or None."""
        rate = self._faults.error_rate
        if rate > 0 and self._rng.random() < rate:
            return self._rng.choice(SERVER_ERROR_STATUSES)
        return None

    def draw_setup_error(self) -> DropMode | None:
        """Whether (and when) to answer this setup request 500 ``SETUP_ERROR``.

        ``setup_error_next`` > 0 fires first and is decremented; otherwise
        ``setup_error_rate`` is drawn. The answer is ``setup_error_mode``.
        """
        faults = self._faults
        if faults.setup_error_next > 0:
            self._faults = dataclasses.replace(faults, setup_error_next=faults.setup_error_next - 1)
            return faults.setup_error_mode
        rate = faults.setup_error_rate
        if rate > 0 and self._rng.random() < rate:
            return faults.setup_error_mode
        return None

    def refuses_phone(self, phone: object) -> bool:
        return isinstance(phone, str) and phone in self._faults.refuse_phones

    def refuses_order(self, event: dict[str, object]) -> bool:
        return event.get("type") == "order.completed" and (
            event.get("amount_cents") in self._faults.refuse_amounts)

    def slow_seconds_for(self, path: str, body: bytes) -> float:
        """The extra delay of a ``POST /v1/customers`` with one of ``slow_phones``."""
        faults = self._faults
        if not faults.slow_phones or path != "/v1/customers":
            return 0.0
        try:
            phone = json.loads(body).get("phone")
        except (ValueError, AttributeError):
            return 0.0
        return faults.slow_seconds if phone in faults.slow_phones else 0.0

    def fails_phone(self, phone: object) -> bool:
        return isinstance(phone, str) and phone in self._faults.fail_phones

    def draw_drop(self) -> DropMode | None:
        """Whether (and when) to drop this request's connection."""
        rate = self._faults.drop_rate
        if rate > 0 and self._rng.random() < rate:
            return self._faults.drop_mode
        return None
