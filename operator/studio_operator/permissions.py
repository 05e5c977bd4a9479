"""Every Kubernetes API permission the operator itself uses, and where it uses it.

The single source of the Helm chart's ClusterRole, and of its Role in the operator's own
namespace (`make chart` writes helm/studio-operator/templates/{clusterrole,role}.yaml; a test
fails on drift). The e2e suite runs the operator under exactly these, so a missing permission
fails the tests. No wildcards: a new API call in the code needs a line here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .admission.server import CONFIGURATION_NAME
from .api.common import GROUP
from .workspaces.children import ROLES, member_clusterrole

WATCH = ("list", "watch")  # kopf: an initial listing, then a watch (handlers.py indexes and events)
APPLY = ("create", "patch")  # server-side apply: a patch, which the API server authorizes as a create when it creates


@dataclasses.dataclass(frozen=True)
class Rule:
    group: str
    resources: tuple[str, ...]
    verbs: tuple[str, ...]
    why: str
    # Granted only in the operator's own namespace (a Role), not cluster-wide.
    namespaced: bool = False
    # Only on the objects of these names (resourceNames).
    names: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"apiGroups": [self.group], "resources": list(self.resources)}
        if self.names:
            rule["resourceNames"] = list(self.names)
        return {**rule, "verbs": sorted(set(self.verbs))}


RULES: tuple[Rule, ...] = (
    # --- kopf itself
    Rule("apiextensions.k8s.io", ("customresourcedefinitions",), WATCH,
         "kopf notices CRDs installed or upgraded after the operator started"),
    Rule("", ("events",), ("create",), "Events on transitions (controller.event) and kopf's own warnings"),
    Rule("admissionregistration.k8s.io", ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"),
         ("create",), "kopf's managed mode (admission/server.py) creates the webhook configurations"),
    Rule("admissionregistration.k8s.io", ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"),
         ("patch",), "and keeps its own (by name) up to date", names=(CONFIGURATION_NAME,)),
    # --- the custom resources
    Rule(GROUP, ("codestudios", "codestudiotemplates", "workspaces"), (*WATCH, "get"),
         "handlers.py indexes; admission/webhooks.py reads templates and workspaces, lists studios"),
    Rule(GROUP, ("codestudios/status", "codestudiotemplates/status", "workspaces/status"), ("patch",),
         "write_status of studios/, templates/, workspaces/"),
    Rule(GROUP, ("codestudiotemplates",), ("patch",),
         "templates/reconcile.py: server-side apply of the studio.dev/in-use finalizer (metadata only)"),
    Rule(GROUP, ("workspaces",), ("patch",), "workspaces/plan.py: the workspace's cleanup finalizer (metadata only)"),
    Rule(GROUP, ("codestudios",), ("delete",), "workspaces/plan.py: deleting a workspace under deletionPolicy Cascade"),
    # Per-workspace ClusterRoles let owners update and delete their Workspace object; Kubernetes
    # lets the operator create a role only with what it grants (see the access Role below).
    Rule(GROUP, ("workspaces",), ("update", "delete"), "granted by a workspace's owner ClusterRole"),
    # Every child's owner reference has blockOwnerDeletion: true, which the API server's
    # OwnerReferencesPermissionEnforcement plugin (OpenShift, hardened clusters) allows only to
    # whoever may update the owner's finalizers: without these every child create is Forbidden.
    Rule(GROUP, ("codestudios/finalizers", "codestudiotemplates/finalizers", "workspaces/finalizers"), ("update",),
         "owner references with blockOwnerDeletion: a studio's, a template's build Jobs, a workspace's children"),
    Rule("authorization.k8s.io", ("subjectaccessreviews",), ("create",),
                 "admission/webhooks.py asks the API server whether a user is a cluster admin"),
    # --- a studio's children (studios/)
    Rule("", ("pods",), (*WATCH, "create", "delete"),
         "the studio's pod: created, deleted to stop or restart (and by template rollouts)"),
    Rule("", ("persistentvolumeclaims",), (*WATCH, "get", *APPLY, "delete"),
         "the home volume: applied, read live before a volume is declared lost, deleted (that uid only) "
         "with a studio deleted under volumeReclaimPolicy: Delete"),
    Rule("", ("services",), (*WATCH, *APPLY), "the studio's Service"),
    Rule("rbac.authorization.k8s.io", ("roles", "rolebindings"), (*WATCH, *APPLY),
         "the owner-only access Role and RoleBinding; the workspace's member RoleBindings"),
    # The access Role's rules: the operator holds what it grants (else it would need `escalate`,
    # which lets a subject grant anything).
    Rule(GROUP, ("codestudios",), ("update", "patch"),
         "granted by the studio access Role (its owner changes it); studios/idle.py stops an idle studio"),
    Rule("", ("pods", "pods/log"), ("get",), "granted by the studio access Role"),
    Rule("", ("pods/exec", "pods/attach", "pods/portforward"), ("get", "create"), "granted by the studio access Role"),
    Rule("", ("pods/proxy", "services/proxy"), ("get", "create", "update", "patch", "delete"),
         "granted by the studio access Role"),
    # --- a workspace's children (workspaces/)
    Rule("", ("namespaces",), (*WATCH, "get", *APPLY, "delete"),
         "the workspace's namespace: created, labelled, read before adoption checks, deleted with it"),
    Rule("", ("resourcequotas", "limitranges", "serviceaccounts"), (*WATCH, *APPLY, "delete"),
         "quota, default requests and the studios' ServiceAccount; a child no longer wanted is deleted"),
    Rule("networking.k8s.io", ("networkpolicies",), (*WATCH, *APPLY, "delete"), "the workspace's isolation policy"),
    Rule("rbac.authorization.k8s.io", ("rolebindings",), ("delete",), "member RoleBindings no longer wanted"),
    Rule("rbac.authorization.k8s.io", ("clusterroles", "clusterrolebindings"), (*WATCH, *APPLY, "delete"),
         "per-workspace ClusterRoles (get / change one Workspace by name) and their bindings"),
    Rule("rbac.authorization.k8s.io", ("clusterroles",), ("bind",),
         "member RoleBindings refer to the member ClusterRoles the install ships, and only to those",
         names=tuple(member_clusterrole(role) for role in ROLES)),
    Rule("", ("persistentvolumes",), ("patch",),
         "workspaces/plan.py: retained studio volumes switch to reclaim policy Retain before the namespace goes"),
    # --- template image builds (templates/): Jobs in the operator's namespace
    Rule("batch", ("jobs",), WATCH, "handlers.py build_jobs index (kopf watches every namespace)"),
    Rule("batch", ("jobs",), ("create", "delete"), "templates/plan.py build Jobs: started, replaced", namespaced=True),
)


def _merged(rules) -> list[dict[str, Any]]:
    """RBAC rules, one per (group, resources, names) with their verbs merged, in first-seen order."""
    merged: dict[tuple[str, tuple[str, ...], tuple[str, ...]], set[str]] = {}
    for rule in rules:
        merged.setdefault((rule.group, rule.resources, rule.names), set()).update(rule.verbs)
    return [Rule(group, resources, tuple(verbs), "", names=names).to_dict()
            for (group, resources, names), verbs in merged.items()]


def cluster_role_rules() -> list[dict[str, Any]]:
    """The operator's ClusterRole."""
    return _merged(r for r in RULES if not r.namespaced)


def namespace_role_rules() -> list[dict[str, Any]]:
    """The operator's Role in its own namespace."""
    return _merged(r for r in RULES if r.namespaced)
