"""Stripe-style Idempotency-Key bookkeeping, partitioned by workspace.

A request *claims* its key when it enters the pipeline (before injected
latency); a claim made while an earlier request with the same key is still in
flight is marked conflicted and is answered 409 at the idempotency step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes


@dataclass
class Claim:
    workspace: str
    key: str
    conflicted: bool


def fingerprint(method: str, path: str, canonical_body: bytes) -> str:
    """Hash of method + path + canonical request body."""
    digest = hashlib.sha256()
    digest.update(f"{method} {path}\n".encode())
    digest.update(canonical_body)
    return digest.hexdigest()


class IdempotencyStore:
    def __init__(self) -> None:
        self._responses: dict[tuple[str, str], StoredResponse] = {}
        self._in_flight: dict[tuple[str, str], int] = {}

    def claim(self, workspace: str, key: str) -> Claim:
        slot = (workspace, key)
        count = self._in_flight.get(slot, 0)
        self._in_flight[slot] = count + 1
        return Claim(workspace, key, conflicted=count > 0)

    def release(self, claim: Claim) -> None:
        slot = (claim.workspace, claim.key)
        count = self._in_flight.get(slot, 0) - 1
        if count > 0:
            self._in_flight[slot] = count
        else:
            self._in_flight.pop(slot, None)

    def lookup(self, workspace: str, key: str) -> StoredResponse | None:
        return self._responses.get((workspace, key))

    def store(self, workspace: str, key: str, response: StoredResponse) -> None:
        self._responses[(workspace, key)] = response

    def reset(self) -> None:
        self._responses.clear()
        self._in_flight.clear()
