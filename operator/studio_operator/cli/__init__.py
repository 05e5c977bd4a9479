"""`studioctl` (also `kubectl studio`): workspaces, code studios, templates and doctor.

Exit codes: 0 done, 1 failed (an API error, a failed or timed-out wait, an unhealthy doctor
report), 2 usage error.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .. import __version__
from ..client import Client, StudioError
from . import doctor, studios, templates, workspaces
from .common import connection_options

EXIT_FAILED = 1


def build_parser(prog: str = "studioctl") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Workspaces, code studios and templates of Studio Operator (studio.dev/v1alpha1).",
        parents=[connection_options(suppress=False)],
        epilog="Exit codes: 0 done, 1 failed, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    groups = parser.add_subparsers(dest="group", required=True, metavar="GROUP")
    common = connection_options(suppress=True)
    for module in (workspaces, studios, templates, doctor):
        module.register(groups, common)
    return parser


def _prog() -> str:
    # kubectl runs plugins as kubectl-studio; help should say what the user typed.
    return "kubectl studio" if os.path.basename(sys.argv[0]) == "kubectl-studio" else "studioctl"


def main(argv: list[str] | None = None) -> int:
    args = build_parser(_prog()).parse_args(argv)  # exits 2 on a usage error
    logging.basicConfig(format="%(levelname)s: %(message)s", level=logging.WARNING)
    try:
        client = Client(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace,
                        operator_namespace=args.operator_namespace)
        return args.handler(args, client)
    except StudioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILED
