"""Every Kubernetes API permission the operator itself uses, and where it uses it.

The single source of the Helm chart's ClusterRole, and of its Role in the operator's own
namespace (`make chart` writes helm/studio-operator/templates/{clusterrole,role}.yaml; a test
fails on drift). The e2e suite runs the operator under exactly these, so a missing permission
fails the tests. No wildcards: a new API call in the code needs a line here.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .api.common import GROUP

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

    def to_dict(self) -> dict[str, Any]:
        return {"apiGroups": [self.group], "resources": list(self.resources), "verbs": sorted(set(self.verbs))}


RULES: tuple[Rule, ...] = (
    # --- kopf itself
    Rule("apiextensions.k8s.io", ("customresourcedefinitions",), WATCH,
         "kopf notices CRDs installed or upgraded after the operator started"),
    Rule("", ("events",), ("create",),
         "Events on state changes (controller.event) and kopf's own warnings"),
    # --- the custom resources
    Rule(GROUP, ("codestudios", "codestudiotemplates", "workspaces"), WATCH, "handlers.py indexes"),
    Rule(GROUP, ("codestudios/status", "codestudiotemplates/status"), ("patch",), "write_status of studios/, templates/"),
    Rule(GROUP, ("codestudiotemplates",), ("patch",),
         "templates/reconcile.py: server-side apply of the studio.dev/in-use finalizer (metadata only)"),
    # --- a studio's children (studios/plan.py)
    Rule("", ("pods",), (*WATCH, "create", "delete"), "the studio's pod: created, deleted to stop or restart"),
    Rule("", ("persistentvolumeclaims",), (*WATCH, "get", *APPLY),
         "the home volume: applied, and read live before a volume is declared lost; never deleted"),
    Rule("", ("services",), (*WATCH, *APPLY), "the studio's Service"),
    Rule("rbac.authorization.k8s.io", ("roles", "rolebindings"), (*WATCH, *APPLY),
         "the owner-only access Role and RoleBinding"),
    # --- template image builds (templates/): Jobs in the operator's namespace
    Rule("batch", ("jobs",), WATCH, "handlers.py build_jobs index (kopf watches every namespace)"),
    Rule("batch", ("jobs",), ("create", "delete"), "templates/plan.py build Jobs: started, replaced", namespaced=True),
    # Kubernetes lets a Role be created only by someone who holds what it grants (or may
    # `escalate`, which would let the operator grant anything): these are the access Role's rules.
    Rule("", ("pods", "pods/log"), ("get",), "granted by the studio access Role"),
    Rule("", ("pods/exec", "pods/attach", "pods/portforward"), ("get", "create"), "granted by the studio access Role"),
    Rule("", ("pods/proxy", "services/proxy"), ("get", "create", "update", "patch", "delete"),
         "granted by the studio access Role"),
)


def _merged(rules) -> list[dict[str, Any]]:
    """RBAC rules, one per (group, resources) with their verbs merged, in first-seen order."""
    merged: dict[tuple[str, tuple[str, ...]], set[str]] = {}
    for rule in rules:
        merged.setdefault((rule.group, rule.resources), set()).update(rule.verbs)
    return [Rule(group, resources, tuple(verbs), "").to_dict() for (group, resources), verbs in merged.items()]


def cluster_role_rules() -> list[dict[str, Any]]:
    """The operator's ClusterRole."""
    return _merged(r for r in RULES if not r.namespaced)


def namespace_role_rules() -> list[dict[str, Any]]:
    """The operator's Role in its own namespace."""
    return _merged(r for r in RULES if r.namespaced)
