"""`studioctl ws ...`: list, get, create, delete, add-user, remove-user, stop, start."""

from __future__ import annotations

import argparse
from typing import Any

from ..api.workspace import Member, MemberKind, MemberRole
from ..client import Client
from ..client.workspaces import namespace_of
from ..conditions import now, ready_status
from . import output
from .common import command_group, emit, request, say, wait

ROLES = MemberRole.__args__
KINDS = MemberKind.__args__


def workspace_row(obj: dict[str, Any], at) -> list[Any]:
    status = obj.get("status") or {}
    counts = status.get("codeStudios") or {}
    return [
        obj["metadata"]["name"], status.get("phase"), status.get("namespace"), len(obj["spec"].get("members", [])),
        counts.get("total"), counts.get("running"), obj["spec"].get("tier"), ready_status(obj),
        output.age(obj["metadata"].get("creationTimestamp"), at),
    ]


WORKSPACE_COLUMNS = ["NAME", "PHASE", "NAMESPACE", "MEMBERS", "STUDIOS", "RUNNING", "TIER", "READY", "AGE"]


def describe(obj: dict[str, Any]) -> str:
    at = now()
    spec, status = obj["spec"], obj.get("status") or {}
    counts = status.get("codeStudios") or {}
    quota = " ".join(f"{k}={v}" for k, v in (spec.get("quota") or {}).items())
    usage = " ".join(f"{k}={v}" for k, v in (status.get("usage") or {}).items())
    studios = f"{counts.get('total', 0)} ({counts.get('running', 0)} running, {counts.get('stopped', 0)} stopped)" if counts else None
    members = output.table(
        ["KIND", "NAME", "ROLE"], [(m.get("kind", "User"), m["name"], m.get("role", "member")) for m in spec.get("members", [])]
    ) if spec.get("members") else ""
    return "\n".join([
        output.details([
            ("Name", obj["metadata"]["name"]),
            ("Display name", spec.get("displayName")),
            ("Tier", spec.get("tier")),
            ("Namespace", namespace_of(obj)),
            ("State", spec.get("state", "Active")),
            ("Phase", status.get("phase")),
            ("Deletion policy", spec.get("deletionPolicy", "Protect")),
            ("Studios", studios),
            ("Quota", quota),
            ("Usage", usage),
            ("Age", output.age(obj["metadata"].get("creationTimestamp"), at)),
        ]),
        output.section("Members", members),
        output.section("Conditions", output.conditions(status.get("conditions") or [], at)),
    ])


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    objs = [ws.raw for ws in client.workspaces]
    at = now()
    emit(args, output.as_list(objs), lambda: output.table(WORKSPACE_COLUMNS, [workspace_row(o, at) for o in objs])
         if objs else "No workspaces found.")
    return 0


def cmd_get(args: argparse.Namespace, client: Client) -> int:
    ws = client.workspaces[args.name]
    emit(args, output.clean(ws.raw), lambda: describe(ws.raw))
    return 0


def _request(args: argparse.Namespace, ws, requested: str, operation) -> int:
    return request(args, f"workspace/{ws.name}", requested, operation, ws, lambda status: status.phase)


def cmd_create(args: argparse.Namespace, client: Client) -> int:
    spec: dict[str, Any] = {"members": [Member(name=o, role="owner") for o in args.owner]}
    for key in ("display_name", "tier", "deletion_policy"):
        if getattr(args, key) is not None:
            spec[key] = getattr(args, key)
    if args.ws_namespace:
        spec["namespace"] = args.ws_namespace
    ws = client.workspaces.create(args.name, **spec)
    return _request(args, ws, "created", ws.ready())


def cmd_delete(args: argparse.Namespace, client: Client) -> int:
    ws = client.workspaces[args.name]
    wait(args, ws.delete())
    say(f"workspace/{ws.name} deleted")
    return 0


def cmd_add_user(args: argparse.Namespace, client: Client) -> int:
    ws = client.workspaces[args.workspace]
    member = ws.add_user(args.user, role=args.role, kind=args.kind, namespace=args.member_namespace)
    emit(args, output.clean(ws.raw), lambda: f"workspace/{ws.name}: {member.kind} {member.name} is {member.role}")
    return 0


def cmd_remove_user(args: argparse.Namespace, client: Client) -> int:
    ws = client.workspaces[args.workspace]
    ws.remove_user(args.user, kind=args.kind)
    emit(args, output.clean(ws.raw), lambda: f"workspace/{ws.name}: {args.kind} {args.user} removed")
    return 0


def cmd_stop(args: argparse.Namespace, client: Client) -> int:
    ws = client.workspaces[args.name]
    return _request(args, ws, "stop requested", ws.stop())


def cmd_start(args: argparse.Namespace, client: Client) -> int:
    ws = client.workspaces[args.name]
    return _request(args, ws, "start requested", ws.start())


def register(groups: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    add = command_group(groups, common, "ws", "workspace", "workspaces")
    add("list", cmd_list, "list workspaces")
    add("get", cmd_get, "show a workspace: members, studios, quota, conditions").add_argument("name")
    p = add("create", cmd_create, "create a workspace (--wait: until the operator reports it Active)", waits=True)
    p.add_argument("name")
    p.add_argument("--display-name")
    p.add_argument("--tier")
    p.add_argument("--owner", action="append", default=[], metavar="USER", help="an owner (repeatable)")
    p.add_argument("--ws-namespace", metavar="NAME", help="the workspace's namespace (default: its name)")
    p.add_argument("--deletion-policy", choices=["Protect", "Cascade"])
    add("delete", cmd_delete, "delete a workspace (--wait: until it is gone)", waits=True).add_argument("name")
    p = add("add-user", cmd_add_user, "add a member, or change a member's role")
    p.add_argument("workspace")
    p.add_argument("user")
    p.add_argument("--role", choices=ROLES, default="member")
    p.add_argument("--kind", choices=KINDS, default="User")
    p.add_argument("--member-namespace", metavar="NS", help="namespace of a ServiceAccount member")
    p = add("remove-user", cmd_remove_user, "remove a member")
    p.add_argument("workspace")
    p.add_argument("user")
    p.add_argument("--kind", choices=KINDS, default="User")
    add("stop", cmd_stop, "stop every studio in a workspace, keeping volumes (--wait: until Stopped)", waits=True).add_argument("name")
    add("start", cmd_start, "let a stopped workspace's studios run again (--wait: until Active)", waits=True).add_argument("name")
