"""Start-up configuration of a sandbox instance."""

from __future__ import annotations

from dataclasses import dataclass, field

from sandbox.faults import Faults


@dataclass(frozen=True)
class SandboxConfig:
    """``api_keys``: when set, only these exact keys authenticate (else any well-formed key).

    ``rate_limit``: accepted requests per rolling 1 s window per workspace; None disables.
    ``faults``: fault settings at start (and after ``POST /_sandbox/reset {"faults": true}``).
    """

    api_keys: frozenset[str] | None = None
    rate_limit: int | None = 100
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be >= 1 or None")
