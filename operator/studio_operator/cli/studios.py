"""`studioctl studio ...`: list, get, status, start, stop, restart, change-owner, open."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from ..api.codestudio import StudioState
from ..client import Client, CodeStudio
from ..client.resources import CODE_STUDIOS
from ..conditions import now, ready_status
from . import output
from .common import command_group, emit, request, say

STATES = StudioState.__args__


def _studio(args: argparse.Namespace, client: Client) -> CodeStudio:
    return CodeStudio(client, client.objects(CODE_STUDIOS).get(args.name, client.namespace))


def status_details(status: dict[str, Any], at) -> list[tuple[str, Any]]:
    volume = status.get("volume") or {}
    since = status.get("lastStateChange")
    return [
        ("State", status.get("state")),
        ("Since", f"{since} ({output.age(since, at)} ago)" if since else None),
        ("Message", status.get("message")),
        ("Image", status.get("image")),
        ("Pending restart", status.get("pendingRestart")),
        ("Pod", status.get("pod")),
        ("Volume", " ".join(str(v) for v in (volume.get("claimName"), volume.get("phase"), volume.get("capacity")) if v)),
        ("Endpoints", ", ".join(f"{e['name']}={e['url']}" for e in status.get("endpoints") or [])),
    ]


def describe(obj: dict[str, Any]) -> str:
    at = now()
    spec, status = obj["spec"], obj.get("status") or {}
    return "\n".join([
        output.details([
            ("Name", obj["metadata"]["name"]),
            ("Namespace", obj["metadata"]["namespace"]),
            ("Template", spec.get("template")),
            ("Owner", spec.get("owner")),
            ("Desired state", spec.get("state", "Running")),
            *status_details(status, at),
            ("Reclaim policy", spec.get("volumeReclaimPolicy", "Retain")),
            ("Age", output.age(obj["metadata"].get("creationTimestamp"), at)),
        ]),
        output.section("Conditions", output.conditions(status.get("conditions") or [], at)),
    ])


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    namespace = None if args.all_namespaces else client.namespace
    studios = client.code_studios(namespace, owner=args.owner, state=args.state, template=args.template)
    objs = [s.raw for s in studios]
    at = now()

    def render() -> str:
        if not objs:
            return "No code studios found." if args.all_namespaces else f"No code studios found in namespace {namespace}."
        headers = ["NAMESPACE"] * args.all_namespaces + ["NAME", "STATE", "OWNER", "TEMPLATE", "READY", "AGE"]
        rows = [
            [o["metadata"]["namespace"]] * args.all_namespaces + [
                o["metadata"]["name"], (o.get("status") or {}).get("state"), o["spec"].get("owner"),
                o["spec"].get("template"), ready_status(o), output.age(o["metadata"].get("creationTimestamp"), at),
            ]
            for o in objs
        ]
        return output.table(headers, rows)

    emit(args, output.as_list(objs), render)
    return 0


def cmd_get(args: argparse.Namespace, client: Client) -> int:
    studio = _studio(args, client)
    emit(args, output.clean(studio.raw), lambda: describe(studio.raw))
    return 0


def cmd_status(args: argparse.Namespace, client: Client) -> int:
    studio = _studio(args, client)
    status = studio.raw.get("status") or {}
    at = now()
    emit(args, status, lambda: "\n".join([
        output.details(status_details(status, at)),
        output.section("Conditions", output.conditions(status.get("conditions") or [], at)),
    ]))
    return 0


def _change(args: argparse.Namespace, client: Client, verb: str) -> int:
    studio = _studio(args, client)
    operation = getattr(studio, verb)()
    return request(args, f"codestudio/{studio.name}", f"{verb} requested", operation, studio, lambda status: status.state)


def cmd_start(args: argparse.Namespace, client: Client) -> int:
    return _change(args, client, "start")


def cmd_stop(args: argparse.Namespace, client: Client) -> int:
    return _change(args, client, "stop")


def cmd_restart(args: argparse.Namespace, client: Client) -> int:
    return _change(args, client, "restart")


def cmd_change_owner(args: argparse.Namespace, client: Client) -> int:
    studio = _studio(args, client)
    spec = studio.change_owner(args.owner)
    emit(args, output.clean(studio.raw), lambda: f"codestudio/{studio.name} owner is now {spec.owner}")
    return 0


def cmd_open(args: argparse.Namespace, client: Client) -> int:
    studio = _studio(args, client)
    forward = studio.port_forward(local_port=args.port, address=args.address)
    # The URL alone on stdout, so scripts can read it; the rest on stderr.
    say(forward.url)
    print(f"forwarding {forward.url} to codestudio/{studio.name} (pod {forward.pod} port {forward.port}); "
          "Ctrl-C to stop", file=sys.stderr, flush=True)
    if args.browser:
        import webbrowser

        threading.Thread(target=webbrowser.open, args=(forward.url,), daemon=True).start()
    try:
        forward.serve_forever()
    except KeyboardInterrupt:
        forward.close()
    return 0


def register(groups: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    add_command = command_group(groups, common, "studio", "studios", "code studios")

    def add(command: str, handler, help: str, *, waits: bool = False) -> argparse.ArgumentParser:
        p = add_command(command, handler, help, waits=waits)
        if command != "list":
            p.add_argument("name", help="the CodeStudio's name")
        return p

    p = add("list", cmd_list, "list code studios")
    p.add_argument("-A", "--all-namespaces", action="store_true", help="in every namespace")
    p.add_argument("--owner", help="only those of this owner")
    p.add_argument("--state", choices=STATES, help="only those in this state")
    p.add_argument("--template", help="only those made from this template")
    add("get", cmd_get, "show a code studio: settings, state, volume, endpoints, conditions")
    add("status", cmd_status, "show a code studio's observed state")
    add("start", cmd_start, "start a code studio (--wait: until Running)", waits=True)
    add("stop", cmd_stop, "stop a code studio, keeping its volume (--wait: until Stopped)", waits=True)
    add("restart", cmd_restart, "replace the pod with the template's current image (--wait: until back)", waits=True)
    add("change-owner", cmd_change_owner, "give a code studio to another user").add_argument("owner", help="the new owner's login")
    p = add("open", cmd_open, "forward a local port to the studio's main port and print its URL")
    p.add_argument("--port", type=int, default=0, help="local port (default: any free one)")
    p.add_argument("--address", default="127.0.0.1", help="local address to listen on (default 127.0.0.1)")
    p.add_argument("--browser", action="store_true", help="also open the URL in a browser")
