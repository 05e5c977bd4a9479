"""Checks of each workspace's namespace and what the operator keeps in it: member role
bindings, the quota and the network policy, as the Workspace declares them."""

from __future__ import annotations

from typing import Any

from ..client import Client, NotFound
from ..client.workspaces import namespace_of
from .findings import Finding, ok, problem

WORKSPACE_LABEL = "studio.dev/workspace"
MEMBER_CLUSTER_ROLE = "studio-workspace-{role}"


def _subject(member: dict[str, Any]) -> dict[str, Any]:
    kind = member.get("kind", "User")
    subject = {"kind": kind, "name": member["name"]}
    if kind == "ServiceAccount":
        subject["namespace"] = member["namespace"]
    return subject


def _binds(binding: dict[str, Any], member: dict[str, Any]) -> bool:
    role = binding["roleRef"]
    want = _subject(member)
    return (role["kind"] == "ClusterRole" and role["name"] == MEMBER_CLUSTER_ROLE.format(role=member.get("role", "member"))
            and any({k: s.get(k) for k in want} == want for s in binding.get("subjects") or []))


def check_namespace(client: Client, ws: dict[str, Any]) -> Finding:
    name, namespace = ws["metadata"]["name"], namespace_of(ws)
    subject = f"workspace/{name} namespace/{namespace}"
    try:
        ns = client.request("GET", f"/api/v1/namespaces/{namespace}")
    except NotFound:
        return problem("workspace", subject, "does not exist",
                       "the operator creates it: make sure the operator runs, and read `studioctl ws get " + name + "`")
    label = (ns["metadata"].get("labels") or {}).get(WORKSPACE_LABEL)
    if label != name:
        return problem("workspace", subject,
                       f"is not this workspace's (label {WORKSPACE_LABEL}={label or '<none>'}); the operator never adopts it",
                       "give the workspace another spec.namespace (delete and recreate it: the field is immutable)")
    if ns["metadata"].get("deletionTimestamp"):
        return problem("workspace", subject, "is being deleted", "see the stuck check; the namespace returns once deleted")
    return ok("workspace", subject, f"exists, labelled {WORKSPACE_LABEL}={name}")


def check_member_bindings(client: Client, ws: dict[str, Any]) -> list[Finding]:
    """A RoleBinding to the studio-workspace-<role> ClusterRole for every member."""
    name, namespace = ws["metadata"]["name"], namespace_of(ws)
    bindings = client.request("GET", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings")["items"]
    findings = []
    for member in ws["spec"].get("members") or []:
        role = member.get("role", "member")
        subject = f"workspace/{name} {member.get('kind', 'User')} {member['name']} ({role})"
        if any(_binds(b, member) for b in bindings):
            findings.append(ok("workspace", subject, f"bound to ClusterRole {MEMBER_CLUSTER_ROLE.format(role=role)} in {namespace}"))
        else:
            findings.append(problem(
                "workspace", subject,
                f"no RoleBinding in {namespace} grants ClusterRole {MEMBER_CLUSTER_ROLE.format(role=role)}: the member has no access",
                f"studioctl doctor {name} --fix restores it (the operator also does on its next look)",
            ))
    return findings


def check_quota(client: Client, ws: dict[str, Any]) -> list[Finding]:
    """A ResourceQuota in the namespace when spec.quota limits resources."""
    name, namespace = ws["metadata"]["name"], namespace_of(ws)
    quota = {k: v for k, v in (ws["spec"].get("quota") or {}).items() if k in ("cpu", "memory", "storage", "gpu")}
    if not quota:
        return []
    quotas = client.request("GET", f"/api/v1/namespaces/{namespace}/resourcequotas")["items"]
    subject = f"workspace/{name} resourcequota"
    if not quotas:
        return [problem("workspace", subject, f"spec.quota limits {', '.join(quota)} but {namespace} has no ResourceQuota",
                        f"studioctl doctor {name} --fix restores it")]
    return [ok("workspace", subject, f"{', '.join(q['metadata']['name'] for q in quotas)} in {namespace}")]


def check_network_policy(client: Client, ws: dict[str, Any]) -> Finding:
    name, namespace = ws["metadata"]["name"], namespace_of(ws)
    policies = client.request("GET", f"/apis/networking.k8s.io/v1/namespaces/{namespace}/networkpolicies")["items"]
    subject = f"workspace/{name} networkpolicy"
    if not policies:
        return problem("workspace", subject, f"{namespace} has no NetworkPolicy: other workspaces' pods can reach its studios",
                       f"studioctl doctor {name} --fix restores it")
    return ok("workspace", subject, f"{', '.join(p['metadata']['name'] for p in policies)} in {namespace}")


def check_workspace(client: Client, ws: dict[str, Any]) -> list[Finding]:
    namespace = check_namespace(client, ws)
    if namespace.status != "ok":
        return [namespace]  # nothing else can be right in a namespace that is not the workspace's
    return [namespace, *check_member_bindings(client, ws), *check_quota(client, ws), check_network_policy(client, ws)]
