"""``python -m sandbox``: serve the sandbox in the foreground."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from sandbox.config import SandboxConfig
from sandbox.faults import FaultError, Faults
from sandbox.server import serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Local emulator of the Sticky loyalty and Sticker partner APIs.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help="accept only this key (repeatable); default: any well-formed sk_test_/sk_live_ key",
    )
    parser.add_argument(
        "--rate-limit", type=int, default=100, help="requests per rolling second per workspace"
    )
    parser.add_argument("--no-rate-limit", action="store_true", help="disable rate limiting")
    sticker = parser.add_argument_group("sticker")
    sticker.add_argument(
        "--sticker-api-key",
        action="append",
        dest="sticker_api_keys",
        metavar="KEY",
        help="accept only this Sticker key (repeatable); default: any well-formed key",
    )
    sticker.add_argument(
        "--sticker-rate-limit",
        type=int,
        default=10,
        help="Sticker requests per rolling second per API key",
    )
    sticker.add_argument(
        "--no-sticker-rate-limit", action="store_true", help="disable Sticker rate limiting"
    )
    webhooks = parser.add_argument_group("webhooks")
    webhooks.add_argument(
        "--webhook-time-scale",
        type=float,
        default=1.0,
        help="multiply the retry schedule (6 attempts over 24 h at 1.0)",
    )
    webhooks.add_argument(
        "--webhook-duplicates",
        type=int,
        default=1,
        help="send every delivery attempt this many times (1..10)",
    )
    webhooks.add_argument(
        "--webhook-timeout-seconds",
        type=float,
        default=10.0,
        help="a delivery POST not answered within this many seconds fails",
    )
    faults = parser.add_argument_group("faults")
    faults.add_argument("--latency-ms", type=float, default=0.0)
    faults.add_argument("--latency-jitter-ms", type=float, default=0.0)
    faults.add_argument("--error-rate", type=float, default=0.0, help="fraction answered 5xx")
    faults.add_argument("--drop-rate", type=float, default=0.0, help="fraction of dropped conns")
    faults.add_argument("--drop-mode", choices=("before", "after"), default="before")
    faults.add_argument("--storm-seconds", type=float, default=0.0, help="429 storm at start")
    faults.add_argument("--storm-workspace", default=None)
    faults.add_argument("--ignore-idempotency", action="store_true")
    faults.add_argument("--seed", type=int, default=None)
    faults.add_argument(
        "--created-status",
        type=int,
        choices=(200, 201),
        default=201,
        help="Sticky's status for a POST that created something (the document lists 200)",
    )
    faults.add_argument(
        "--setup-error-rate",
        type=float,
        default=0.0,
        help="fraction of Sticker setup requests answered 500 SETUP_ERROR",
    )
    faults.add_argument(
        "--setup-error-next",
        type=int,
        default=0,
        help="answer the next N Sticker setup requests 500 SETUP_ERROR",
    )
    faults.add_argument(
        "--setup-error-mode",
        choices=("before", "after"),
        default="before",
        help="SETUP_ERROR before processing, or after committing",
    )
    return parser


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    faults = Faults(
        latency_ms=args.latency_ms,
        latency_jitter_ms=args.latency_jitter_ms,
        error_rate=args.error_rate,
        drop_rate=args.drop_rate,
        drop_mode=args.drop_mode,
        storm_seconds=args.storm_seconds,
        storm_workspace=args.storm_workspace,
        ignore_idempotency=args.ignore_idempotency,
        seed=args.seed,
        created_status=args.created_status,
        setup_error_rate=args.setup_error_rate,
        setup_error_next=args.setup_error_next,
        setup_error_mode=args.setup_error_mode,
    )
    return SandboxConfig(
        api_keys=frozenset(args.api_keys) if args.api_keys else None,
        rate_limit=None if args.no_rate_limit else args.rate_limit,
        faults=faults,
        sticker_api_keys=frozenset(args.sticker_api_keys) if args.sticker_api_keys else None,
        sticker_rate_limit=None if args.no_sticker_rate_limit else args.sticker_rate_limit,
        webhook_time_scale=args.webhook_time_scale,
        webhook_duplicates=args.webhook_duplicates,
        webhook_timeout_seconds=args.webhook_timeout_seconds,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except (FaultError, ValueError) as exc:
        parser.error(str(exc))
    serve(args.host, args.port, config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
