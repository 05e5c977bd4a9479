"""Pure builders: a Workspace in, the objects that make its tenancy out.

Children carry an owner reference to the Workspace, so that the garbage collector takes the
cluster-scoped ones (the per-workspace ClusterRoles and their bindings) when it goes. The namespace
does not: deleted in the foreground (`--cascade=foreground`, Argo CD's prune), the Workspace would
have the garbage collector delete its namespace, and the claims in it, before the operator keeps
the retained volumes. The namespace's studio.dev/workspace-uid annotation is how the operator
recognises a namespace it created (it never adopts one it did not); it deletes it itself.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

from .. import labels as L
from ..api import Workspace
from ..api.common import DNS_SUBDOMAIN_PATTERN, GROUP
from ..api.workspace import Member, WorkspaceQuota

ROLES = ("owner", "admin", "member", "viewer")
RBAC = "rbac.authorization.k8s.io"
STUDIO_SERVICE_ACCOUNT = "studio"
QUOTA_NAME = "workspace-quota"
LIMITS_NAME = "workspace-defaults"
ISOLATION_NAME = "workspace-isolation"
POD_SECURITY = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")
} | {f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")}

# spec.quota field -> ResourceQuota resource name; status.usage uses the field's name.
QUOTA_RESOURCES = {
    "cpu": "requests.cpu",
    "memory": "requests.memory",
    "storage": "requests.storage",
    "gpu": "requests.nvidia.com/gpu",
    "max_code_studios": f"count/codestudios.{GROUP}",
}
USAGE_NAMES = {
    "requests.cpu": "cpu",
    "requests.memory": "memory",
    "requests.storage": "storage",
    "requests.nvidia.com/gpu": "gpu",
    f"count/codestudios.{GROUP}": "codeStudios",
}
# A quota on CPU or memory requests makes the API server refuse pods that request none; these
# fill the gap for studios whose template, studio and workspace defaults set no request.
DEFAULT_REQUESTS = {"cpu": "250m", "memory": "512Mi"}


def member_clusterrole(role: str) -> str:
    """The ClusterRole the install ships for a workspace role (manifests/rbac/)."""
    return f"studio-workspace-{role}"


@dataclasses.dataclass(frozen=True)
class WorkspaceRef:
    name: str
    uid: str
    namespace: str

    @property
    def reader_role(self) -> str:
        """ClusterRole (and binding) letting every member get this Workspace object."""
        return f"studio-workspace:{self.name}"

    @property
    def owner_role(self) -> str:
        """ClusterRole (and binding) letting the owners change and delete this Workspace object."""
        return f"studio-workspace:{self.name}:owner"


def workspace_ref(ws: Workspace) -> WorkspaceRef:
    return WorkspaceRef(ws.metadata.name, ws.metadata.uid, ws.spec.namespace or ws.metadata.name)


def _metadata(ref: WorkspaceRef, name: str, component: str, namespaced: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "labels": {**L.app_labels("workspace", ref.name, component), L.WORKSPACE: ref.name},
        "ownerReferences": [L.owner_reference("Workspace", ref.name, ref.uid)],
    }
    if namespaced:
        meta["namespace"] = ref.namespace
    return meta


def legacy_owner_reference(ref: WorkspaceRef, namespace: dict[str, Any]) -> bool:
    """Whether the namespace has an owner reference to this workspace, as earlier versions made it."""
    return any(o.get("uid") == ref.uid for o in namespace["metadata"].get("ownerReferences") or ())


def owns_namespace(ref: WorkspaceRef, namespace: dict[str, Any]) -> bool:
    """Whether the operator created this namespace for this workspace (this incarnation of it)."""
    uid = (namespace["metadata"].get("annotations") or {}).get(L.WORKSPACE_UID)
    return uid == ref.uid or legacy_owner_reference(ref, namespace)


def build_namespace(ref: WorkspaceRef) -> dict[str, Any]:
    meta = _metadata(ref, ref.namespace, "namespace", namespaced=False)
    del meta["ownerReferences"]  # see the module's docstring
    meta["labels"].update(POD_SECURITY)
    meta["annotations"] = {L.WORKSPACE_UID: ref.uid}
    return L.with_spec_hash({"apiVersion": "v1", "kind": "Namespace", "metadata": meta})


def bindable(member: Member) -> bool:
    """Whether the API server takes the member as a binding's subject. The CRD refuses a
    ServiceAccount that is no DNS subdomain, but a Workspace stored before that rule may name one,
    and one such subject would make the whole binding, and its other members, fail."""
    return member.kind != "ServiceAccount" or re.match(DNS_SUBDOMAIN_PATTERN, member.name) is not None


def subject(member: Member) -> dict[str, str]:
    if member.kind == "ServiceAccount":
        return {"kind": "ServiceAccount", "name": member.name, "namespace": member.namespace or ""}
    return {"apiGroup": RBAC, "kind": member.kind, "name": member.name}


def _subjects(members: list[Member]) -> list[dict[str, str]]:
    seen: dict[tuple, dict[str, str]] = {}
    for m in members:
        s = subject(m)
        seen.setdefault(tuple(sorted(s.items())), s)
    return list(seen.values())


def build_role_bindings(ref: WorkspaceRef, members: list[Member]) -> list[dict[str, Any]]:
    """One RoleBinding per role, always present (with no subjects when nobody has that role), so
    adding or removing a member is an update of one binding."""
    return [
        L.with_spec_hash({
            "apiVersion": f"{RBAC}/v1",
            "kind": "RoleBinding",
            "metadata": _metadata(ref, member_clusterrole(role), "access"),
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": member_clusterrole(role)},
            "subjects": _subjects([m for m in members if m.role == role]),
        })
        for role in ROLES
    ]


def build_workspace_access(ref: WorkspaceRef, members: list[Member]) -> list[dict[str, Any]]:
    """Every member may read this Workspace object (get; list and watch only of it by name, as
    `kubectl get -w` and `kubectl delete --wait` do); owners may also change and delete it.
    Nothing else cluster-wide: the rules name this one object."""
    read = ["get", "list", "watch"]
    out = []
    for name, verbs, subjects in (
        (ref.reader_role, read, _subjects(members)),
        (ref.owner_role, [*read, "update", "patch", "delete"], _subjects([m for m in members if m.role == "owner"])),
    ):
        out.append(L.with_spec_hash({
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRole",
            "metadata": _metadata(ref, name, "access", namespaced=False),
            "rules": [{"apiGroups": [GROUP], "resources": ["workspaces"], "resourceNames": [ref.name], "verbs": verbs}],
        }))
        out.append(L.with_spec_hash({
            "apiVersion": f"{RBAC}/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _metadata(ref, name, "access", namespaced=False),
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": name},
            "subjects": subjects,
        }))
    return out


def quota_hard(quota: WorkspaceQuota | None) -> dict[str, str]:
    if quota is None:
        return {}
    return {resource: str(getattr(quota, field)) for field, resource in QUOTA_RESOURCES.items()
            if getattr(quota, field) is not None}


def build_resource_quota(ref: WorkspaceRef, quota: WorkspaceQuota | None) -> dict[str, Any] | None:
    """CPU, memory, storage and GPU requests, and the number of CodeStudios. The API server
    enforces it on every create, so it also backs the admission webhook's maxCodeStudios check
    against concurrent creates. maxRunningCodeStudios is the operator's own check (studios/plan)."""
    hard = quota_hard(quota)
    if not hard:
        return None
    return L.with_spec_hash({
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": _metadata(ref, QUOTA_NAME, "quota"),
        "spec": {"hard": hard},
    })


def build_limit_range(ref: WorkspaceRef, quota: WorkspaceQuota | None) -> dict[str, Any] | None:
    requests = {name: value for name, value in DEFAULT_REQUESTS.items() if quota and getattr(quota, name) is not None}
    if not requests:
        return None
    return L.with_spec_hash({
        "apiVersion": "v1",
        "kind": "LimitRange",
        "metadata": _metadata(ref, LIMITS_NAME, "quota"),
        "spec": {"limits": [{"type": "Container", "defaultRequest": requests}]},
    })


def build_network_policy(ref: WorkspaceRef) -> dict[str, Any]:
    """Ingress only from the workspace's own pods and from namespaces that are no workspace
    (ingress controllers, monitoring): other workspaces' pods are kept out."""
    return L.with_spec_hash({
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(ref, ISOLATION_NAME, "isolation"),
        "spec": {
            "podSelector": {},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [
                {"podSelector": {}},
                {"namespaceSelector": {"matchExpressions": [{"key": L.WORKSPACE, "operator": "DoesNotExist"}]}},
            ]}],
        },
    })


def build_service_account(ref: WorkspaceRef) -> dict[str, Any]:
    """The identity studio pods run as: no API token mounted, no permissions granted."""
    return L.with_spec_hash({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(ref, STUDIO_SERVICE_ACCOUNT, "studio"),
        "automountServiceAccountToken": False,
    })


def build_children(ws: Workspace) -> list[dict[str, Any]]:
    """Everything in and around the workspace's namespace, except the namespace itself."""
    ref = workspace_ref(ws)
    members = [m for m in ws.spec.members if bindable(m)]
    optional = (build_resource_quota(ref, ws.spec.quota), build_limit_range(ref, ws.spec.quota))
    return [
        *build_role_bindings(ref, members),
        *build_workspace_access(ref, members),
        *(c for c in optional if c is not None),
        build_network_policy(ref),
        build_service_account(ref),
    ]
