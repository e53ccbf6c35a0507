"""Structured logging: JSON when not on a terminal, readable lines when on one.

Every event passes through :func:`redact` last-but-one, so API keys, bearer tokens,
phone numbers and e-mail addresses never reach the output in clear, whichever library
logged them (stdlib loggers are routed through the same processors).
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from connector.redact import scrub

SECRET_KEYS = frozenset({"api_key", "authorization", "token", "secret", "password",
                         "access_token", "client_secret"})


def redact(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    for key, value in list(event_dict.items()):
        if key.lower() in SECRET_KEYS:
            event_dict[key] = "***"
        elif isinstance(value, str):
            event_dict[key] = scrub(value)
        elif isinstance(value, list | tuple | dict):
            event_dict[key] = scrub(repr(value))
    return event_dict


def configure_logging(level: str = "info", fmt: str = "auto",
                      stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    as_json = fmt == "json" or (fmt == "auto" and not out.isatty())
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact,
    ]
    renderer: Processor = (structlog.processors.JSONRenderer() if as_json
                           else structlog.dev.ConsoleRenderer(colors=out.isatty()))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer]))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpx2", "httpcore", "httpcore2", "uvicorn.access", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
