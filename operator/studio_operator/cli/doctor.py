"""`studioctl doctor [WORKSPACE] [--fix]`: exit code 0 only when healthy."""

from __future__ import annotations

import argparse
import os

from ..client import Client
from .common import emit, parse_duration


def cmd_doctor(args: argparse.Namespace, client: Client) -> int:
    # Imported here: doctor builds the operator's objects with the operator's own code, whose
    # transport (kr8s, aiohttp) every other command would otherwise pay ~0.5 s to import (measured).
    from .. import doctor

    options = doctor.Options(
        workspace=args.workspace, fix=args.fix, operator_url=args.operator_url,
        operator_namespace=args.operator_namespace, stuck_after=args.stuck_after,
    )
    findings = doctor.diagnose(client, options)
    healthy = doctor.healthy(findings)
    emit(args, {"healthy": healthy, "summary": doctor.summary(findings), "findings": [f.to_dict() for f in findings]},
         lambda: doctor.render(findings))
    return 0 if healthy else 1


def register(groups: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = groups.add_parser(
        "doctor", parents=[common], help="diagnose the installation or one workspace; --fix repairs what is safe",
        description="Checks the CRDs, the operator, its webhooks, storage, registry secrets, each workspace's "
                    "namespace, role bindings, quota and network policy, and stuck or failed objects. "
                    "--fix recreates only what the operator would (it never deletes a volume or a studio). "
                    "Exit code 0 only when healthy.",
    )
    p.set_defaults(handler=cmd_doctor)
    p.add_argument("workspace", nargs="?", help="only this workspace (and the templates its studios use)")
    p.add_argument("--fix", action="store_true", help="repair what is safe and report each change")
    p.add_argument("--operator-url", metavar="URL", default=os.environ.get("STUDIO_OPERATOR_URL"),
                   help="liveness endpoint of an operator run outside the cluster, e.g. http://127.0.0.1:8080/healthz "
                        "(default: $STUDIO_OPERATOR_URL)")
    p.add_argument("--stuck-after", type=parse_duration, default=60.0, metavar="DURATION",
                   help="call a deletion or an unreconciled object stuck after this long (default 60s)")
