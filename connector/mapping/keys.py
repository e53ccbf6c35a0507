"""Stable keys: ledger keys for source entities, content hashes and idempotency keys.

Keys never carry a phone number or e-mail in clear: a customer known only by phone is
keyed by a hash of its E.164 form.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def customer_key(source: str, customer_id: str) -> str:
    return f"{source}:{customer_id}"


def phone_customer_key(phone_e164: str) -> str:
    return "phone:" + hashlib.sha256(phone_e164.encode()).hexdigest()[:24]


def order_key(source: str, order_id: str) -> str:
    return f"{source}:{order_id}"


def refund_key(source: str, refund_id: str) -> str:
    return f"{source}:{refund_id}"


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)
"""The text hashed: the same as ``json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``, without building an encoder per call (two hashes per record)."""


def content_hash(payload: dict[str, Any]) -> str:
    canonical = _CANONICAL.encode(payload)
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_key(tenant: str, workspace: str, kind: str, key: str, payload_hash: str) -> str:
    """Derived from the ledger identity and content: a resend after a crash reuses it."""
    material = f"{tenant}\x1f{workspace}\x1f{kind}\x1f{key}\x1f{payload_hash}"
    return "ss1_" + hashlib.sha256(material.encode()).hexdigest()[:40]
