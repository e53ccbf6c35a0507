"""Start-up configuration of a sandbox instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.faults import Faults


@dataclass(frozen=True)
class SandboxConfig:
    """``api_keys``: when set, only these exact Sticky keys authenticate (else any
    well-formed key). ``sticker_api_keys``: the same for Sticker.

    ``rate_limit``: Sticky requests per rolling 1 s window per workspace; None disables.
    ``sticker_rate_limit``: Sticker requests per rolling 1 s window per API key; None
    disables.
    ``faults``: fault settings at start (and after ``POST /_sandbox/reset {"faults": true}``).
    """

    api_keys: frozenset[str] | None = None
    rate_limit: int | None = 100
    faults: Faults = field(default_factory=Faults)
    sticker_api_keys: frozenset[str] | None = None
    sticker_rate_limit: int | None = 10

    def __post_init__(self) -> None:
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 or None")
        if self.sticker_rate_limit is not None and self.sticker_rate_limit < 1:
            raise ValueError("sticker_rate_limit must be >= 1 or None")
