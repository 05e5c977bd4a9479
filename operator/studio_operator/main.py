"""`studio-operator`: runs the operator against the cluster in KUBECONFIG (or in-cluster)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

import kopf

from . import metrics


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="studio-operator", description=__doc__)
    parser.add_argument("--verbose", action="store_true", help="debug logging")
    parser.add_argument("--log-format", choices=["plain", "full", "json"],
                        default=os.environ.get("STUDIO_LOG_FORMAT", "plain"))
    parser.add_argument("--liveness", default=os.environ.get("STUDIO_LIVENESS_ENDPOINT"),
                        help="serve /healthz here, e.g. http://0.0.0.0:8080/healthz")
    parser.add_argument("--metrics-port", type=int, default=int(os.environ.get("STUDIO_METRICS_PORT", "0")),
                        help="serve Prometheus metrics on this port at /metrics (0: off)")
    parser.add_argument("--metrics-host", default=os.environ.get("STUDIO_METRICS_HOST", "0.0.0.0"),
                        help="address the metrics endpoint listens on")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    kopf.configure(
        verbose=args.verbose,
        log_format={"plain": kopf.LogFormat.PLAIN, "full": kopf.LogFormat.FULL, "json": kopf.LogFormat.JSON}[args.log_format],
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not args.verbose:
        # kopf reports every handler call; the reconcilers log what matters.
        logging.getLogger("kopf.objects").setLevel(logging.WARNING)
    from . import handlers  # noqa: F401 - registers the handlers

    asyncio.run(run(args))


async def run(args: argparse.Namespace) -> None:
    async with metrics.serving(args.metrics_host, args.metrics_port):
        await kopf.operator(clusterwide=True, standalone=True, liveness_endpoint=args.liveness)


if __name__ == "__main__":
    main()
