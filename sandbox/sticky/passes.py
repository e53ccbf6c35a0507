"""``POST /v1/passes``: mint a wallet pass valid for 24 hours."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

from sandbox.api import ApiResult
from sandbox.ids import random_token, utc_now
from sandbox.sticky.events import find_customer
from sandbox.sticky.request import StickyRequest
from sandbox.sticky.store import Pass, StickyStore
from sandbox.sticky.views import pass_public
from sandbox.validation import reject_unknown

PASS_LIFETIME = timedelta(hours=24)
_SIGNING_KEY = random_token(32).encode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _google_jwt(pass_id: str, customer_id: str, expires_at: datetime) -> str:
    """A JWT-shaped save token (``eyJ…``), HMAC-signed with a per-process key."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"pass_id": pass_id, "customer_id": customer_id, "exp": int(expires_at.timestamp())}
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(_SIGNING_KEY, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


class PassHandlers:
    def __init__(self, store: StickyStore) -> None:
        self._store = store

    def create(self, request: StickyRequest) -> ApiResult:
        data = request.json_object()
        reject_unknown(data, ("customer_id",))
        workspace = self._store.workspace(request.workspace)
        customer = find_customer(workspace, data)
        token = random_token(10)
        now = utc_now()
        expires_at = now + PASS_LIFETIME
        minted = Pass(
            workspace=request.workspace,
            id=f"pass_{token}",
            customer_id=customer.id,
            token=token,
            google_jwt=_google_jwt(f"pass_{token}", customer.id, expires_at),
            idempotency_key=request.idempotency_key,
            created_at=now,
            expires_at=expires_at,
        )
        workspace.passes[minted.id] = minted
        return ApiResult(201, pass_public(minted))
