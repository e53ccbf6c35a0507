"""Start-up configuration of a sandbox instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.faults import Faults
from sandbox.sticky.delivery_settings import WebhookSettings


@dataclass(frozen=True)
class SandboxConfig:
    """``api_keys``: when set, only these exact Sticky keys authenticate (else any
    well-formed key). ``sticker_api_keys``: the same for Sticker.

    ``rate_limit``: Sticky requests per rolling 1 s window per workspace; None disables.
    ``sticker_rate_limit``: Sticker requests per rolling 1 s window per API key; None
    disables.
    ``faults``: fault settings at start (and after ``POST /_sandbox/reset {"faults": true}``).
    ``webhook_time_scale`` (> 0) multiplies the webhook retry schedule (24 h at 1.0),
    ``webhook_duplicates`` (1..10) sends every delivery attempt that many times and
    ``webhook_timeout_seconds`` (> 0) bounds one delivery POST; they are also restored by
    ``reset {"faults": true}``.
    """

    api_keys: frozenset[str] | None = None
    rate_limit: int | None = 100
    faults: Faults = field(default_factory=Faults)
    sticker_api_keys: frozenset[str] | None = None
    sticker_rate_limit: int | None = 10
    webhook_time_scale: float = 1.0
    webhook_duplicates: int = 1
    webhook_timeout_seconds: float = 10.0

    @property
    def webhook_settings(self) -> WebhookSettings:
        return WebhookSettings(
            time_scale=self.webhook_time_scale,
            duplicates=self.webhook_duplicates,
            timeout_seconds=self.webhook_timeout_seconds,
        )

    def __post_init__(self) -> None:
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 or None")
        if self.sticker_rate_limit is not None and self.sticker_rate_limit < 1:
            raise ValueError("sticker_rate_limit must be >= 1 or None")
        try:
            self.webhook_settings  # noqa: B018 - validates the webhook fields
        except ValueError as exc:
            raise ValueError(f"webhook_{exc}") from exc
