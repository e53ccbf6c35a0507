"""Local emulator of the Sticky loyalty and Sticker partner APIs for tests, demos and benchmarks."""

from __future__ import annotations

from sandbox.app import create_app
from sandbox.config import SandboxConfig
from sandbox.faults import Faults
from sandbox.server import RunningSandbox, running_sandbox, serve

__all__ = ["Faults", "RunningSandbox", "SandboxConfig", "create_app", "running_sandbox", "serve"]
