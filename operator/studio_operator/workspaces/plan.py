"""The workspace reconcile as a pure function: observed state in, actions and status out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from .. import labels as L
from ..actions import Action, Apply, Create, Delete, Patch
from ..api import API_VERSION, Workspace
from ..api.workspace import SERVICE_ACCOUNT_NAME_MESSAGE
from ..conditions import condition
from . import children as C
from .status import quota_enforced, studio_counts, usage, waiting_for_quota

FINALIZER = "studio.dev/workspace"
# Kinds the reconcile builds in and around the namespace; any of them the workspace no longer
# wants (a quota removed) is deleted.
CHILD_KINDS = {"RoleBinding", "ClusterRole", "ClusterRoleBinding", "ResourceQuota", "LimitRange",
               "NetworkPolicy", "ServiceAccount"}
CLUSTER_KINDS = {"ClusterRole", "ClusterRoleBinding"}
# The condition that says what is missing when the API server refuses a child of this kind.
CONDITION_OF = {"RoleBinding": "RBACReady", "ClusterRole": "RBACReady", "ClusterRoleBinding": "RBACReady",
                "ResourceQuota": "QuotaReady", "LimitRange": "QuotaReady", "Namespace": "NamespaceReady"}
NAMES_SHOWN = 10


@dataclasses.dataclass
class Observed:
    """Everything the operator has seen that bears on one workspace."""

    workspace: Workspace
    # The namespace of spec.namespace as it exists, whoever made it (None: there is none).
    namespace: dict[str, Any] | None = None
    # Objects labelled for this workspace, the namespace aside: its children, and whatever else
    # anyone labelled so (own_children tells them apart).
    children: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    # Which of the ClusterRoles the install ships (studio-workspace-<role>) exist.
    member_roles: frozenset[str] = frozenset(C.member_clusterrole(r) for r in C.ROLES)
    # CodeStudios, their pods and their home volumes in the namespace.
    studios: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    pods: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    claims: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    operator_namespace: str = ""


@dataclasses.dataclass
class Plan:
    actions: list[Action]
    status: dict[str, Any]  # without conditions' timestamps; see conditions.merge_conditions
    wake: list[str] = dataclasses.field(default_factory=list)  # studios to look at again
    recheck_after: float | None = None


def _hash(obj: dict[str, Any] | None) -> str | None:
    return ((obj or {}).get("metadata", {}).get("annotations") or {}).get(L.SPEC_HASH)


def _deleting(obj: dict[str, Any]) -> bool:
    return bool(obj["metadata"].get("deletionTimestamp"))


def name_list(names: Iterable[str]) -> str:
    """Names for a message: sorted, the first few, and how many more."""
    names = sorted(names)
    shown = ", ".join(names[:NAMES_SHOWN])
    return shown + (f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else "")


def _names(objs: list[dict[str, Any]]) -> str:
    return name_list(o["metadata"]["name"] for o in objs)


def own_children(ref: C.WorkspaceRef, labelled: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The workspace's children among the objects labelled for it. Whoever may label an object
    could otherwise have the operator delete it as a child no longer wanted: namespaced ones
    count only in the workspace's namespace, cluster-scoped ones only with its owner reference."""
    def ours(obj: dict[str, Any]) -> bool:
        meta = obj["metadata"]
        if obj["kind"] in CLUSTER_KINDS:
            return any(o.get("uid") == ref.uid for o in meta.get("ownerReferences") or ())
        return meta.get("namespace") == ref.namespace
    return [c for c in labelled if c["kind"] in CHILD_KINDS and ours(c)]


def protected(ws: Workspace, studios: list[str]) -> str:
    """Why a workspace under deletionPolicy Protect may not go yet."""
    return (f"workspace {ws.metadata.name} has deletionPolicy Protect and still holds {len(studios)} "
            f"CodeStudio(s): {name_list(studios)}; delete them first, or set spec.deletionPolicy: Cascade "
            "to delete them with the workspace")


def reserved(namespace: str, operator_namespace: str) -> bool:
    return namespace in ("default", operator_namespace) or namespace.startswith("kube-")


def _finalizers_patch(ws: Workspace, finalizers: list[str]) -> Patch:
    """Conditional on the resourceVersion read, so no one else's finalizer is lost."""
    meta = ws.metadata
    return Patch(API_VERSION, "Workspace", None, meta.name,
                 {"metadata": {"finalizers": finalizers, "resourceVersion": meta.resource_version}})


def _status(ws: Workspace, phase: str, namespace: str | None, studios: list[dict[str, Any]],
            quota: dict[str, Any] | None, conditions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "observedGeneration": ws.metadata.generation,
        "phase": phase,
        "namespace": namespace,
        "tier": ws.spec.tier,
        "members": len(ws.spec.members),
        "codeStudios": studio_counts(studios),
        "usage": usage(quota),
        "conditions": conditions,
    }


def _not_ready(ws: Workspace, phase: str, reason: str, message: str) -> dict[str, Any]:
    """Status of a workspace whose namespace is not (yet) its own: nothing else is set up."""
    waiting = "the namespace is not ready"
    return _status(ws, phase, None, [], None, [
        condition("NamespaceReady", False, reason, message),
        condition("RBACReady", False, "NamespaceNotReady", waiting),
        condition("QuotaReady", False, "NamespaceNotReady", waiting),
        condition("Ready", False, reason, message),
    ])


def plan_workspace(obs: Observed) -> Plan:
    ws = obs.workspace
    ref = C.workspace_ref(ws)
    ns = obs.namespace
    if ws.metadata.deletion_timestamp:
        return _plan_deletion(obs, ref)
    if reserved(ref.namespace, obs.operator_namespace):
        return Plan([], _not_ready(ws, "Failed", "ReservedNamespace",
                                   f"namespace {ref.namespace} is reserved (default, kube-*, the operator's own "
                                   f"{obs.operator_namespace}); recreate the workspace with another spec.namespace"))
    if ns is not None and _deleting(ns):
        return Plan([], _not_ready(ws, "Pending", "NamespaceTerminating",
                                   f"waiting for namespace {ref.namespace} to finish terminating"), recheck_after=2)
    if ns is not None and not C.owns_namespace(ref, ns):
        # Touch nothing in it; look again now and then, in case its owner deletes it.
        return Plan([], _not_ready(ws, "Failed", "NamespaceNotOwned",
                                   f"namespace {ref.namespace} exists and was not created by studio-operator for "
                                   "this workspace, so it is not adopted; delete that namespace, or recreate the "
                                   "workspace with another spec.namespace"), recheck_after=30)

    actions: list[Action] = []
    if FINALIZER not in ws.metadata.finalizers:
        # Before anything is created, so that deleting the workspace always runs its cleanup.
        actions.append(_finalizers_patch(ws, [*ws.metadata.finalizers, FINALIZER]))
    if ns is None:
        actions.append(Create(C.build_namespace(ref)))
        return Plan(actions, _not_ready(ws, "Pending", "Creating", f"creating namespace {ref.namespace}"))

    if C.legacy_owner_reference(ref, ns):
        # Made by an earlier version as a garbage-collector dependent of the workspace: released,
        # with the annotation that keeps it recognised, in one conditional patch.
        others = [o for o in ns["metadata"]["ownerReferences"] if o.get("uid") != ref.uid]
        actions.append(Patch("v1", "Namespace", None, ref.namespace, {"metadata": {
            "ownerReferences": others, "annotations": {L.WORKSPACE_UID: ref.uid},
            "resourceVersion": ns["metadata"].get("resourceVersion")}}))
    desired_ns = C.build_namespace(ref)
    if _hash(ns) != _hash(desired_ns):
        actions.append(Apply(desired_ns))
    observed = {(c["kind"], c["metadata"]["name"]): c for c in own_children(ref, obs.children)}
    desired = C.build_children(ws)
    for child in desired:
        if _hash(observed.get((child["kind"], child["metadata"]["name"]))) != _hash(child):
            actions.append(Apply(child))
    wanted = {(c["kind"], c["metadata"]["name"]) for c in desired}
    for key, child in sorted(observed.items()):
        if key not in wanted and not _deleting(child):
            meta = child["metadata"]
            actions.append(Delete(key[0], key[1], meta["uid"], child["apiVersion"], meta.get("namespace")))

    missing = sorted(C.member_clusterrole(r) for r in C.ROLES if C.member_clusterrole(r) not in obs.member_roles)
    unbound = [m for m in ws.spec.members if not C.bindable(m)]
    if missing:
        rbac = condition("RBACReady", False, "ClusterRoleMissing",
                         f"ClusterRoles {', '.join(missing)} do not exist, so members' role bindings grant nothing; "
                         "install them (manifests/rbac/ or the Helm chart)")
    elif unbound:
        names = ", ".join(f"{m.kind} {m.namespace}/{m.name}" for m in unbound)
        rbac = condition("RBACReady", False, "InvalidMember",
                         f"member(s) {names} not bound: {SERVICE_ACCOUNT_NAME_MESSAGE}; fix or remove them in "
                         f"spec.members ({len(ws.spec.members) - len(unbound)} other member(s) bound)")
    else:
        rbac = condition("RBACReady", True, "Bound", f"{len(ws.spec.members)} member(s) bound")

    hard = C.quota_hard(ws.spec.quota)
    quota = observed.get(("ResourceQuota", C.QUOTA_NAME))
    if not hard:
        quota_cond = condition("QuotaReady", True, "NoQuota", "no resource quota is set")
    elif quota_enforced(hard, quota):
        quota_cond = condition("QuotaReady", True, "Enforced", "")
    else:
        quota_cond = condition("QuotaReady", False, "QuotaPending", "waiting for the quota controller to count usage")

    live_pods = [p for p in obs.pods if not _deleting(p)]
    if ws.spec.state == "Stopped":
        # Stopped once no pod is left and every studio says so too (their status may lag the pods).
        settling = any((s.get("status") or {}).get("state") in ("Starting", "Running", "Stopping") for s in obs.studios)
        phase = "Stopping" if obs.pods or settling else "Stopped"
    else:
        phase = "Active"
    ready = rbac["status"] == "True" and quota_cond["status"] == "True"
    conditions = [
        condition("NamespaceReady", True, "Created", ""),
        rbac,
        quota_cond,
        condition("Ready", ready, phase if ready else next(c["reason"] for c in (rbac, quota_cond) if c["status"] != "True"),
                  "" if ready else next(c["message"] for c in (rbac, quota_cond) if c["status"] != "True")),
    ]

    wake = []
    limit = ws.spec.quota.max_running_code_studios if ws.spec.quota else None
    if ws.spec.state == "Active" and limit is not None and len(live_pods) < limit:
        wake = sorted(s["metadata"]["name"] for s in obs.studios if waiting_for_quota(s))[: limit - len(live_pods)]
    return Plan(actions, _status(ws, phase, ref.namespace, obs.studios, quota, conditions), wake)


def with_refusals(status: dict[str, Any], refused: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The plan's status once the API server refused some of its writes, each (kind, name, its
    message): an object it finds invalid, an admission policy. The other writes were made."""
    if not refused:
        return status
    by_condition: dict[str, list[str]] = {"Ready": []}
    for kind, name, message in refused:
        text = f"{kind} {name} was refused: {message}"
        by_condition["Ready"].append(text)
        if kind in CONDITION_OF:
            by_condition.setdefault(CONDITION_OF[kind], []).append(text)
    conditions = [condition(c["type"], False, "Refused", "; ".join(by_condition[c["type"]]))
                  if c["type"] in by_condition else c for c in status["conditions"]]
    return {**status, "conditions": conditions}


def _plan_deletion(obs: Observed, ref: C.WorkspaceRef) -> Plan:
    """Protect: refuse while studios remain. Cascade: delete the studios. Then keep the retained
    home volumes (their PersistentVolumes switch to Retain), delete the namespace, and let go."""
    ws = obs.workspace
    ns = obs.namespace
    ours = ns is not None and C.owns_namespace(ref, ns)
    studios = [s for s in obs.studios if ours]
    quota = next((c for c in own_children(ref, obs.children) if c["kind"] == "ResourceQuota"), None)

    def terminating(reason: str, message: str) -> dict[str, Any]:
        return _status(ws, "Terminating", ref.namespace if ours else None, studios, quota, [
            condition("NamespaceReady", ours, "Created" if ours else "NotOwned", ""),
            condition("RBACReady", ours, "Bound" if ours else "NamespaceNotReady", ""),
            condition("QuotaReady", ours, "Terminating", ""),
            condition("Ready", False, reason, message),
        ])

    if FINALIZER not in ws.metadata.finalizers:
        return Plan([], terminating("Terminating", "the workspace is being deleted"))
    if not ours:
        # Nothing of ours is left (or ever was) in that namespace.
        remaining = [f for f in ws.metadata.finalizers if f != FINALIZER]
        return Plan([_finalizers_patch(ws, remaining)], terminating("Terminating", "the workspace is being deleted"))

    live = [s for s in studios if not _deleting(s)]
    if live and ws.spec.deletion_policy == "Protect":
        return Plan([], terminating("DeletionBlocked", protected(ws, [s["metadata"]["name"] for s in live])))
    if studios:
        actions: list[Action] = [
            Delete("CodeStudio", s["metadata"]["name"], s["metadata"]["uid"], API_VERSION, ref.namespace) for s in live
        ]
        return Plan(actions, terminating("DeletingStudios", f"deleting {len(studios)} CodeStudio(s): {_names(studios)}"),
                    recheck_after=2)

    actions = []
    # Deleting a namespace deletes every claim in it, and a dynamically provisioned volume follows
    # its claim under the Delete reclaim policy. The studios are gone by now, and those under
    # volumeReclaimPolicy: Delete deleted their claims as they went (or, made before decision
    # 0035, the garbage collector does: they have an owner reference). The others' volumes switch
    # to Retain first, labelled so that they can be found and bound again.
    for claim in obs.claims:
        meta = claim["metadata"]
        volume = (claim.get("spec") or {}).get("volumeName")
        if meta.get("deletionTimestamp") or meta.get("ownerReferences") or not volume:
            continue
        labels = meta.get("labels") or {}
        actions.append(Patch("v1", "PersistentVolume", None, volume, {
            "metadata": {
                "labels": {L.WORKSPACE: ref.name, L.STUDIO: labels.get(L.STUDIO, "")},
                "annotations": {"studio.dev/claim": f"{ref.namespace}/{meta['name']}",
                                **{k: v for k, v in (meta.get("annotations") or {}).items() if k == L.OWNER}},
            },
            "spec": {"persistentVolumeReclaimPolicy": "Retain"},
        }))
    if not _deleting(ns):
        actions.append(Delete("Namespace", ref.namespace, ns["metadata"]["uid"]))
    return Plan(actions, terminating("DeletingNamespace", f"deleting namespace {ref.namespace}"), recheck_after=2)
