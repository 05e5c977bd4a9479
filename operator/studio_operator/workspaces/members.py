"""Who a requesting user is in a workspace, from spec.members and the user's groups."""

from __future__ import annotations

from collections.abc import Iterable

from ..api import Workspace
from ..api.workspace import Member

RANK = {"viewer": 1, "member": 2, "admin": 3, "owner": 4}


def matches(member: Member, username: str, groups: Iterable[str]) -> bool:
    if member.kind == "User":
        return member.name == username
    if member.kind == "Group":
        return member.name in set(groups)
    return username == f"system:serviceaccount:{member.namespace}:{member.name}"


def role_of(ws: Workspace | None, username: str, groups: Iterable[str]) -> str | None:
    """The highest role the user holds in the workspace, directly or through a group."""
    groups = list(groups)
    roles = [m.role for m in (ws.spec.members if ws else ()) if matches(m, username, groups)]
    return max(roles, key=RANK.__getitem__, default=None)
