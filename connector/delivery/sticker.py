"""The Sticker API client: the only code that knows Sticker's paths and answers.

Sticker documents one endpoint, ``POST /v1/organizations/setup``, no idempotency key and
no rate limit. Safety of retries comes from the endpoint itself: once a setup was
processed, the same ``internalUserId`` again is answered ``409 USER_ALREADY_EXISTS``
with the profile id, which :meth:`StickerClient.setup_organization` reports as done.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from connector.delivery.limits import WorkspaceLimiters, WorkspacePace
from connector.delivery.traffic import Traffic
from connector.delivery.transport import PacedTransport
from connector.errors import NetworkError, ServerError
from connector.http.lib import async_transport, httpx
from connector.http.responses import raise_for_response, read_error_body, transport_errors
from connector.http.retry import AttemptLog, RetryPolicy, call_with_retry

SETUP_PATH = "/v1/organizations/setup"
LANE = "sticker"
"""The name Sticker's traffic is counted under (it has no workspaces)."""


@dataclass(frozen=True, slots=True)
class StickerEndpoint:
    base_url: str
    api_key: SecretStr
    timeout_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class SetupOutcome:
    """What Sticker answered to one setup request.

    ``already_existed``: 409 ``USER_ALREADY_EXISTS`` (the profile was there; nothing is
    known of the organization's locations then). Otherwise a 200, with every location the
    organization has (all existing ones when ``is_new_organization`` is false).
    """

    profile_id: str
    attempts: int
    already_existed: bool = False
    organization_id: str | None = None
    stripe_customer_id: str | None = None
    organization_name: str | None = None
    is_new_organization: bool | None = None
    locations: dict[str, dict[str, Any]] | None = None
    warnings: list[str] = field(default_factory=list)


class StickerClient:
    def __init__(self, endpoint: StickerEndpoint, rate_per_second: int, policy: RetryPolicy,
                 traffic: Traffic | None = None,
                 inner_transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.traffic = traffic or Traffic()
        self.policy = policy
        self.limiters = WorkspaceLimiters(WorkspacePace.for_cap(rate_per_second, 0.0))
        inner = inner_transport or async_transport(max_connections=4)
        self.base_url = endpoint.base_url
        """Where requests go (``sticker.base_url``), named when it cannot be reached."""
        self._http = httpx.AsyncClient(
            base_url=endpoint.base_url,
            transport=PacedTransport(inner, self.limiters, self.traffic, lane=LANE),
            timeout=httpx.Timeout(endpoint.timeout_seconds, pool=None),
            headers={"Authorization": f"Bearer {endpoint.api_key.get_secret_value()}",
                     "User-Agent": "sticky-sync/0.1"})

    async def __aenter__(self) -> StickerClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def setup_organization(self, body: dict[str, Any]) -> SetupOutcome:
        """Send one setup request, retried on 5xx (``SETUP_ERROR``), 429 and network
        errors. Raises ``RejectedByTarget`` (400 ``VALIDATION_ERROR``, with the detail
        paths), ``AuthenticationFailed``, or the last ``Retryable`` when retries ran out."""
        what = f"POST {SETUP_PATH} [{body.get('internalOrgId')}/{body.get('internalUserId')}]"
        log = AttemptLog()

        async def send() -> SetupOutcome:
            try:
                with transport_errors(what):
                    response = await self._http.post(SETUP_PATH, json=body)
            except NetworkError:
                self.traffic.of(LANE).network_errors += 1
                raise
            if response.status_code == 409:
                error = read_error_body(response)
                profile = (error.data or {}).get("profileId")
                if error.code == "USER_ALREADY_EXISTS" and isinstance(profile, str):
                    return SetupOutcome(profile_id=profile, attempts=log.attempts,
                                        already_existed=True)
            raise_for_response(response, what)
            return _read_success(response, what, log.attempts)

        return await call_with_retry(send, self.policy, log)


def _read_success(response: httpx.Response, what: str, attempts: int) -> SetupOutcome:
    try:
        payload: Any = response.json()
    except ValueError:
        payload = None
    data = payload.get("data") if isinstance(payload, dict) else None
    org = data.get("organization") if isinstance(data, dict) else None
    profile = data.get("profile") if isinstance(data, dict) else None
    if not (isinstance(org, dict) and isinstance(profile, dict)
            and isinstance(profile.get("id"), str)):
        # The setup may well have happened: the retry gets a 409 and settles it.
        raise ServerError(f"{what}: {response.status_code} without data.organization and "
                          "data.profile.id", status=response.status_code)
    assert isinstance(data, dict)
    warnings: list[str] = []
    locations: dict[str, dict[str, Any]] = {}
    raw_locations = data.get("shippingLocations")
    for item in raw_locations if isinstance(raw_locations, list) else []:
        key = item.get("internalShippingLocationId") if isinstance(item, dict) else None
        if not isinstance(key, str):
            warnings.append("sticker_location_without_internal_id")
            continue
        assert isinstance(item, dict)
        locations[key] = {"id": item.get("id"), "name": item.get("name"),
                          "address": item.get("address") or {}}
    is_new = data.get("isNewOrganization")
    return SetupOutcome(
        profile_id=str(profile["id"]), attempts=attempts,
        organization_id=_text(org.get("id")), stripe_customer_id=_text(
            org.get("stripeCustomerId")), organization_name=_text(org.get("name")),
        is_new_organization=is_new if isinstance(is_new, bool) else None,
        locations=locations, warnings=warnings)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
