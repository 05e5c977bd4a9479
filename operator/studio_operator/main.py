"""`studio-operator`: runs the operator against the cluster in KUBECONFIG (or in-cluster)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os

import kopf

from . import index_readiness, metrics, watch_gaps
from .config import Config, SettingError, port

LOG_FORMATS = {"plain": kopf.LogFormat.PLAIN, "full": kopf.LogFormat.FULL, "json": kopf.LogFormat.JSON}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio-operator", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-format", choices=list(LOG_FORMATS), help="plain (default), full or json")
    parser.add_argument("--liveness", default=os.environ.get("STUDIO_LIVENESS_ENDPOINT"),
                        help="serve /healthz here, e.g. http://0.0.0.0:8080/healthz")
    parser.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on this port at /metrics (0: off)")
    parser.add_argument("--metrics-host", default=os.environ.get("STUDIO_METRICS_HOST", "0.0.0.0"),
                        help="address the metrics endpoint listens on")
    webhooks = parser.add_argument_group("admission webhooks (defaults from STUDIO_WEBHOOK_* variables)")
    webhooks.add_argument("--webhook-addr", help="listen on this address (default 127.0.0.1)")
    webhooks.add_argument("--webhook-port", type=int, help="listen on this port (default 0: any free port)")
    webhooks.add_argument("--webhook-host", help="host name or address the API server calls (default: the address)")
    webhooks.add_argument("--webhook-cert-dir", help="directory with tls.crt and tls.key (default: self-signed)")
    webhooks.add_argument("--webhook-managed", action=argparse.BooleanOptionalAction,
                          help="create and update the webhook configurations (default: yes)")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, those not given taken from their STUDIO_* variables."""
    args = build_parser().parse_args(argv)
    if args.log_format is None:
        args.log_format = os.environ.get("STUDIO_LOG_FORMAT", "plain")
        if args.log_format not in LOG_FORMATS:
            raise SettingError(f"STUDIO_LOG_FORMAT={args.log_format!r}: expected one of {', '.join(LOG_FORMATS)}")
    if args.metrics_port is None:
        args.metrics_port = port("METRICS_PORT", "0", "off")
    return args


def config_from(args: argparse.Namespace) -> Config:
    """Settings from the environment, overridden by the flags given."""
    flags = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if getattr(args, f.name, None) is not None}
    return Config(**flags)


def main(argv: list[str] | None = None) -> None:
    try:
        args = parse_args(argv)
        config = config_from(args)
    except SettingError as exc:  # a bad variable: say which, not a traceback
        build_parser().error(str(exc))
    kopf.configure(verbose=args.verbose, log_format=LOG_FORMATS[args.log_format])
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # one line per admission request
    if not args.verbose:
        # kopf reports every handler call; the reconcilers log what matters.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    from . import handlers  # noqa: F401 - registers the handlers

    watch_gaps.install()
    index_readiness.install()
    asyncio.run(run(args, config))


async def run(args: argparse.Namespace, config: Config) -> None:
    async with metrics.serving(args.metrics_host, args.metrics_port):
        await kopf.operator(clusterwide=True, standalone=True, liveness_endpoint=args.liveness,
                            memo=kopf.Memo(config=config))


if __name__ == "__main__":
    main()
