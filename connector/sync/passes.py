"""The passes step: mint a wallet pass (``POST /v1/passes``) for each customer that wants
one, and record its single-use links.

Who wants one: a customer this connector created in Sticky while the tenant had
``[tenants.passes] mint_on_create`` (marked in the transaction that recorded the
customer), one asked for with ``passes mint``, and, with ``remint_expired``, one whose
link expired unused. Nobody else: a customer is never minted twice, because its row in
``passes`` leaves ``wanted`` once minted.

Each mint carries an Idempotency-Key derived from (tenant, workspace, customer, re-mint
generation): after a crash between Sticky's answer and our commit, the retry gets the
same pass back instead of a second one.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import structlog

from connector.config import TenantSettings
from connector.delivery.sticky import StickyClient
from connector.errors import AbortRun, RejectedByTarget, Retryable, TargetUnavailable
from connector.mapping.keys import idempotency_key
from connector.mapping.timestamps import parse_iso_utc
from connector.sync.state_thread import off_loop
from state import StateStore
from state.passes import MintedPass, PassRecord

log = structlog.get_logger("connector.passes")

STEP = "@passes"
"""Name of the step in leases and runs (never a valid source name: it starts with @)."""
KIND = "pass.mint"
BATCH = 200


class MintStatus(StrEnum):
    """What the passes step came to (``PassesOutcome.status``)."""

    OK = "ok"
    ABORTED = "aborted"
    """Stopped: Sticky refused the key or stayed down."""
    BUSY = "busy"
    """Another process is minting the tenant's passes."""


@dataclass(slots=True)
class PassesOutcome:
    tenant: str
    status: MintStatus = MintStatus.OK
    minted: int = 0
    reminted: int = 0
    rejected: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"minted": self.minted, "reminted": self.reminted,
                "rejected": self.rejected}


def mint_key(tenant: str, record: PassRecord) -> str:
    return idempotency_key(tenant, record.workspace, KIND, record.customer_id,
                           f"generation:{record.generation}")


def read_minted(body: dict[str, Any], what: str) -> MintedPass:
    """The pass in a ``POST /v1/passes`` response; ``ValueError`` naming the field."""
    pass_id, install_url = body.get("id"), body.get("install_url")
    if not isinstance(pass_id, str) or not pass_id:
        raise ValueError(f"{what}: the response has no pass id")
    if not isinstance(install_url, str) or not install_url.startswith("https://"):
        raise ValueError(f"{what}: the response has no https install_url")
    expires = body.get("expires_at")
    expires_at = parse_iso_utc(expires) if isinstance(expires, str) else None
    if expires_at is None:
        raise ValueError(f"{what}: expires_at {expires!r} is not an ISO-8601 time")
    apple, google = body.get("apple_url"), body.get("google_url")
    return MintedPass(pass_id, install_url, apple if isinstance(apple, str) else None,
                      google if isinstance(google, str) else None, expires_at)


def has_pass_work(tenant: TenantSettings, store: StateStore,
                  now: datetime | None = None) -> bool:
    """Whether the passes step has anything to do: a wanted pass, or (when the tenant
    re-mints) a link that expired unused."""
    if store.passes.wanted(tenant.id, limit=1):
        return True
    cfg = tenant.passes
    return bool(cfg is not None and cfg.remint_expired and store.passes.expired_unused(
        tenant.id, now, limit=1, below_generation=cfg.max_remints))


class PassMinter:
    def __init__(self, tenant: TenantSettings, store: StateStore, sticky: StickyClient,
                 max_in_flight: int = 8) -> None:
        self.tenant = tenant
        self.store = store
        self.sticky = sticky
        self.max_in_flight = max_in_flight
        self.outcome = PassesOutcome(tenant.id)

    async def run(self, now: datetime | None = None) -> PassesOutcome:
        """Mint every wanted pass (re-mints first queued when the tenant asked for them).
        A transient failure that outlasts the client's retries stops the step (the row
        stays wanted); a refused mint is recorded ``rejected`` with Sticky's reason."""
        cfg = self.tenant.passes
        if cfg is not None and cfg.remint_expired:
            for record in await off_loop(
                    self.store.passes.expired_unused, self.tenant.id, now,
                    below_generation=cfg.max_remints):
                await off_loop(self.store.passes.want_remint, self.tenant.id,
                                        record.workspace, record.customer_id, now)
        tried: set[tuple[str, str, int]] = set()
        gate = asyncio.Semaphore(self.max_in_flight)

        async def one(record: PassRecord) -> None:
            async with gate:
                await self._mint(record)

        while True:
            batch = [r for r in await off_loop(self.store.passes.wanted,
                                                        self.tenant.id, BATCH)
                     if (r.workspace, r.customer_id, r.generation) not in tried]
            if not batch:
                return self.outcome
            tried.update((r.workspace, r.customer_id, r.generation) for r in batch)
            results = await asyncio.gather(*(one(r) for r in batch), return_exceptions=True)
            for result in results:
                if isinstance(result, AbortRun):
                    raise result
            transient = next((r for r in results if isinstance(r, Retryable)), None)
            if transient is not None:
                raise TargetUnavailable(f"Sticky kept failing while minting passes (sticky."
                                        f"base_url = {self.sticky.base_url}): {transient}"
                                        ) from transient
            for result in results:
                if isinstance(result, BaseException):
                    raise result

    async def _mint(self, record: PassRecord) -> None:
        what = f"pass for customer {record.customer_id} in {record.workspace}"
        try:
            result = await self.sticky.mint_pass(record.workspace, record.customer_id,
                                                 mint_key(self.tenant.id, record))
            minted = read_minted(result.body, what)
        except RejectedByTarget as exc:
            self.outcome.rejected += 1
            log.warning("pass refused", workspace=record.workspace,
                        customer_id=record.customer_id, error=str(exc))
            await off_loop(self.store.passes.record_failure, self.tenant.id,
                                    record.workspace, record.customer_id, str(exc),
                                    rejected=True)
            return
        except (Retryable, ValueError) as exc:
            await off_loop(self.store.passes.record_failure, self.tenant.id,
                                    record.workspace, record.customer_id, str(exc),
                                    rejected=False)
            if isinstance(exc, ValueError):
                raise TargetUnavailable(str(exc)) from exc
            raise
        await off_loop(self.store.passes.record_minted, self.tenant.id,
                                record.workspace, record.customer_id, minted)
        if record.generation > 0:
            self.outcome.reminted += 1
        else:
            self.outcome.minted += 1
        log.info("pass minted", workspace=record.workspace, customer_id=record.customer_id,
                 pass_id=minted.pass_id, generation=record.generation,
                 expires_at=minted.expires_at.isoformat())
