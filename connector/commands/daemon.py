"""``sticky-sync daemon``: the composition root of the long-running process."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from connector.config import Settings
from connector.daemon.service import Daemon
from connector.outcomes import ExitCode
from connector.sync.orchestrator import sticker_client, sticky_client

log = structlog.get_logger("connector.daemon")


async def daemon_command(settings: Settings) -> ExitCode:
    """Run until SIGTERM/SIGINT, then drain (see ``connector/daemon/service.py``).

    One Sticky client for every job: Sticky's rate limit is per workspace, so concurrent
    passes must share its limiters. One state store, closed last. Exit 0 after a stop
    asked for by a signal; a configuration error raises (exit 2).
    """
    store = settings.state.open()
    sticker = None
    remove_handlers: Callable[[], None] | None = None
    try:
        sticker = sticker_client(settings)
        async with sticky_client(settings, store) as sticky:
            daemon = Daemon(settings, store, sticky, sticker)
            remove_handlers = daemon.install_signal_handlers()
            totals = await daemon.run()
    finally:
        if sticker is not None:
            await sticker.aclose()
        store.close()
        if remove_handlers is not None:  # kept to the end: a late signal is not fatal
            remove_handlers()
    log.info("daemon stopped", **totals.as_dict())
    return ExitCode.OK
