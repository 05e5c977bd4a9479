"""`studioctl template ...`: list, status (of the image build), logs (of the build)."""

from __future__ import annotations

import argparse
from typing import Any

from ..client import Client
from ..conditions import now, ready_status
from . import output
from .common import command_group, emit, say


def _image_source(spec: dict[str, Any]) -> str:
    image = spec.get("image") or {}
    return f"prebuilt {image['prebuilt']}" if image.get("prebuilt") else f"built on {image.get('build', {}).get('baseImage')}"


def describe_status(obj: dict[str, Any]) -> str:
    at = now()
    status = obj.get("status") or {}
    build = status.get("build") or {}
    return "\n".join([
        output.details([
            ("Name", obj["metadata"]["name"]),
            ("Source", _image_source(obj["spec"])),
            ("Image", status.get("image")),
            ("Build hash", status.get("buildHash")),
            ("Build", build.get("phase")),
            ("Build job", build.get("job")),
            ("Started", build.get("startedAt")),
            ("Finished", build.get("finishedAt")),
            ("Message", build.get("message")),
            ("Studios", status.get("codeStudios")),
        ]),
        output.section("Conditions", output.conditions(status.get("conditions") or [], at)),
    ])


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    objs = [t.raw for t in client.templates]
    at = now()
    rows = [
        [o["metadata"]["name"], (o.get("status") or {}).get("image") or (o["spec"].get("image") or {}).get("prebuilt"),
         ((o.get("status") or {}).get("build") or {}).get("phase"), (o.get("status") or {}).get("codeStudios"),
         ready_status(o), output.age(o["metadata"].get("creationTimestamp"), at)]
        for o in objs
    ]
    emit(args, output.as_list(objs), lambda: output.table(["NAME", "IMAGE", "BUILD", "STUDIOS", "READY", "AGE"], rows)
         if objs else "No templates found.")
    return 0


def cmd_status(args: argparse.Namespace, client: Client) -> int:
    template = client.templates[args.name]
    emit(args, (template.raw.get("status") or {}), lambda: describe_status(template.raw))
    return 0


def cmd_logs(args: argparse.Namespace, client: Client) -> int:
    log = client.templates[args.name].logs(tail_lines=args.tail)
    if log:  # an empty log (--tail 0) prints nothing, not an empty line
        say(log.rstrip("\n"))
    return 0


def _line_count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"invalid line count {text!r}: use 0 or more")
    return int(text)


def register(groups: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    add = command_group(groups, common, "template", "templates", "code studio templates")
    add("list", cmd_list, "list templates with their image and build state")
    add("status", cmd_status, "show a template's image and latest build").add_argument("name")
    p = add("logs", cmd_logs, "print the log of a template's latest image build")
    p.add_argument("name")
    p.add_argument("--tail", type=_line_count, metavar="LINES", help="only the last LINES lines (0: none)")
