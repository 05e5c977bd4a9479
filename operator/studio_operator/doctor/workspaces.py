"""Checks of each workspace's namespace and of what the operator keeps in and around it (member
role bindings, per-workspace access roles, quota, limits, network policy, service account),
compared with what the operator's own builders say the Workspace declares. `--fix` applies the
builders' objects, as the operator would."""

from __future__ import annotations

import dataclasses
from typing import Any

from kubernetes.utils import parse_quantity

from .. import api
from ..client import Client, NotFound, StudioError
from ..client.workspaces import namespace_of
from ..kube import APPLY_CONTENT_TYPE, APPLY_PARAMS, path_of
from ..workspaces.children import ROLES, build_children, member_clusterrole, owns_namespace, workspace_ref
from .findings import Finding, fixed, ok, problem


def _same(want: Any, have: Any) -> bool:
    """Whether `have` holds everything `want` declares; the API server may add defaults, drops
    empty lists (a binding without subjects), and writes quantities in its own canonical form
    (1.5 CPUs as 1500m)."""
    if have is None and want in ([], {}):
        return True
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_same(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(want) == len(have) and all(map(_same, want, have))
    if isinstance(want, str) and isinstance(have, str) and want != have:
        try:
            return parse_quantity(want) == parse_quantity(have)
        except ValueError:
            return False
    return want == have


def differs(desired: dict[str, Any], live: dict[str, Any]) -> list[str]:
    """The top-level fields (spec, rules, subjects, ...) in which live falls short of desired."""
    return [k for k, v in desired.items() if k not in ("apiVersion", "kind", "metadata") and not _same(v, live.get(k))]


def _without_access(ws: dict[str, Any], binding: dict[str, Any]) -> str:
    """For a member role's RoleBinding: who has no access without it."""
    role = binding["roleRef"]["name"]
    members = [f"{m.get('kind', 'User')} {m['name']}" for m in ws["spec"].get("members") or []
               if member_clusterrole(m.get("role", "member")) == role]
    if not members:
        return ""
    verb = "has" if len(members) == 1 else "have"
    return f": {', '.join(members)} ({role.removeprefix(member_clusterrole(''))}) {verb} no access"


def check_namespace(client: Client, ws: dict[str, Any]) -> Finding:
    name, namespace = ws["metadata"]["name"], namespace_of(ws)
    subject = f"workspace/{name} namespace/{namespace}"
    try:
        ns = client.request("GET", f"/api/v1/namespaces/{namespace}")
    except NotFound:
        return problem("workspace", subject, "does not exist",
                       f"the operator creates it: make sure the operator runs, and read `studioctl ws get {name}`")
    if not owns_namespace(workspace_ref(api.Workspace.model_validate(ws)), ns):
        return problem("workspace", subject, "was not created for this workspace, and the operator never adopts a namespace",
                       "give the workspace another spec.namespace (delete and recreate it: the field is immutable)")
    if ns["metadata"].get("deletionTimestamp"):
        return problem("workspace", subject, "is being deleted", "see the stuck check; the namespace returns once deleted")
    return ok("workspace", subject, "exists, created for this workspace")


def check_child(client: Client, ws: dict[str, Any], desired: dict[str, Any], fix: bool) -> Finding:
    meta = desired["metadata"]
    path = path_of(desired["apiVersion"], desired["kind"], meta.get("namespace"), meta["name"])
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    subject = f"workspace/{ws['metadata']['name']} {desired['kind'].lower()}/{where}{meta['name']}"
    try:
        live = client.request("GET", path)
    except NotFound:
        live = None
    if live is not None and not differs(desired, live):
        return ok("workspace", subject, "as declared")
    impact = _without_access(ws, desired) if desired["kind"] == "RoleBinding" else ""
    found = problem(
        "workspace", subject,
        f"missing{impact}" if live is None else f"{', '.join(differs(desired, live))} changed by hand{impact}",
        f"studioctl doctor {ws['metadata']['name']} --fix restores it (so does the operator, on its next look)",
    )
    if not fix:
        return found
    try:
        # Server-side apply as the operator's field manager: the operator takes it over unchanged.
        client.request("PATCH", path, APPLY_PARAMS, desired, content_type=APPLY_CONTENT_TYPE)
    except StudioError as exc:
        return dataclasses.replace(found, message=f"{found.message}; --fix failed: {exc}")
    return fixed(found, "restored as the operator builds it")


def check_workspace(client: Client, ws: dict[str, Any], fix: bool) -> list[Finding]:
    namespace = check_namespace(client, ws)
    if namespace.status != "ok":
        return [namespace]  # nothing else can be right in a namespace that is not the workspace's
    desired = build_children(api.Workspace.model_validate(ws))
    return [namespace, *(check_child(client, ws, child, fix) for child in desired)]


def check_member_roles(client: Client) -> list[Finding]:
    """The ClusterRoles the install ships for the member roles, which every binding refers to."""
    findings = []
    for role in ROLES:
        name = member_clusterrole(role)
        try:
            client.request("GET", f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}")
            findings.append(ok("workspace", f"clusterrole/{name}", "installed"))
        except NotFound:
            findings.append(problem("workspace", f"clusterrole/{name}", f"missing: no workspace {role} has any rights",
                                    "install or upgrade the operator, which ships it (manifests/rbac/, the Helm chart)"))
    return findings
