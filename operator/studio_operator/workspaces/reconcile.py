"""Glue: gather what the operator observed for one workspace, run the plan, write what changed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..actions import Action, Apply, Create, Delete, Patch, execute
from ..api import API_VERSION, Workspace
from ..conditions import merge_conditions, now, status_patch
from ..kube import ApiError
from ..tallies import forget, tally_wait
from . import children as C
from .plan import Observed, plan_workspace, with_refusals

if TYPE_CHECKING:
    from ..cache import Cache
    from ..controller import Controller

log = logging.getLogger(__name__)
# A write the API server refused is tried again this often (an admission policy may change).
REFUSED_RECHECK = 60.0


def in_namespace(cache: Cache, index: str, namespace: str) -> list[dict[str, Any]]:
    """Objects of an index keyed by (namespace, studio) that live in the namespace."""
    return [obj for key in cache.keys(index) if key[0] == namespace for obj in [cache.one(index, key)] if obj]


def owned_namespace(cache: Cache, ws: Workspace) -> dict[str, Any] | None:
    """The workspace's namespace as cached, when the operator created it for this workspace."""
    ref = C.workspace_ref(ws)
    return next((c for c in cache.all("workspace_objects", ref.name)
                 if c["kind"] == "Namespace" and c["metadata"]["name"] == ref.namespace and C.owns_namespace(ref, c)),
                None)


def workspace_of(cache: Cache, namespace: str) -> Workspace | None:
    """The workspace whose own namespace this is; None for any other namespace (no workspace, or
    one the workspace names but did not create and so does not govern)."""
    body = cache.one("workspaces_by_namespace", namespace)
    if body is None:
        return None
    ws = Workspace.model_validate(body)
    return ws if owned_namespace(cache, ws) else None


async def observe(ctrl: Controller, name: str) -> Observed | None:
    body = ctrl.cache.one("workspaces", name)
    if body is None:
        return None
    ws = Workspace.model_validate(body)
    ref = C.workspace_ref(ws)
    namespace = owned_namespace(ctrl.cache, ws)
    if namespace is None:
        # A namespace someone else made carries no label of ours, and the cache may lag our own create.
        namespace = await ctrl.kube.get("v1", "Namespace", None, ref.namespace)
    return Observed(
        workspace=ws,
        namespace=namespace,
        children=[c for c in ctrl.cache.all("workspace_objects", name) if c["kind"] != "Namespace"],
        member_roles=frozenset(ctrl.cache.keys("member_clusterroles")),
        studios=in_namespace(ctrl.cache, "studios", ref.namespace),
        pods=in_namespace(ctrl.cache, "studio_pods", ref.namespace),
        claims=in_namespace(ctrl.cache, "studio_pvcs", ref.namespace),
        operator_namespace=ctrl.config.namespace,
    )


async def reconcile_workspace(ctrl: Controller, name: str) -> float | None:
    obs = await observe(ctrl, name)
    if obs is None:
        forget(ctrl, ("workspace", name))
        return None  # gone: owner references take the cluster-scoped children
    plan = plan_workspace(obs)
    refused: list[tuple[str, str, str]] = []
    forbidden: ApiError | None = None  # the operator's own RBAC denied a write
    for action in plan.actions:
        if refused and _target(action)[0] == "Namespace" and isinstance(action, Create | Delete):
            # Not after a refused write that must come first: made without the workspace's
            # finalizer, the namespace would outlive the workspace; deleted, it takes its claims,
            # and with them every volume whose switch to the Retain reclaim policy was refused.
            continue
        try:
            result = await execute(ctrl, None, action)
        except ApiError as exc:
            if not exc.refusal:
                raise
            # One refused object must not stop the others: a removed member must still lose access.
            refused.append((*_target(action), exc.message))
            forbidden = forbidden or (exc if exc.operator_forbidden else None)
            continue
        if isinstance(action, Patch) and action.kind == "Workspace" and result:
            ctrl.cache.wrote("workspaces", name, result)  # its finalizers, before the watch brings them
    for studio in plan.wake:
        ctrl.enqueue("studio", C.workspace_ref(obs.workspace).namespace, studio)
    counts_due = await write_status(ctrl, obs.workspace, with_refusals(plan.status, refused))
    if forbidden:
        raise forbidden  # retried with backoff, logged, counted as Forbidden (which alerts)
    if refused:
        log.warning("workspace %s: the API server refused %s", name, "; ".join(f"{k} {n}: {m}" for k, n, m in refused))
        # Not at the plan's pace: while a workspace is deleted it looks every 2 s, and would send
        # the refused write, and warn, as often. Its studios' events still wake it sooner.
        return REFUSED_RECHECK
    return min(filter(None, (plan.recheck_after, counts_due)), default=None)


def _target(action: Action) -> tuple[str, str]:
    if isinstance(action, Apply | Create):
        return action.manifest["kind"], action.manifest["metadata"]["name"]
    return action.kind, action.name


async def write_status(ctrl: Controller, ws: Workspace, desired: dict[str, Any]) -> float | None:
    """Writes the status when it differs from the stored one; posts an Event on phase changes. A
    change of its studio counts and usage alone may wait: returns the seconds until it is due."""
    at = now()
    current = ws.status.to_dict()
    desired = {**desired, "conditions": merge_conditions(current.get("conditions"), desired["conditions"],
                                                         ws.metadata.generation, at)}
    patch = status_patch(current, desired)
    if not patch:
        return None
    meta = ws.metadata
    if (wait := tally_wait(ctrl, ("workspace", meta.name), patch, ("codeStudios", "usage"), at)) is not None:
        return wait
    stored = await ctrl.kube.patch_status(API_VERSION, "Workspace", None, meta.name, patch)
    if stored:
        ctrl.cache.wrote("workspaces", meta.name, stored)
    if desired["phase"] != current.get("phase"):
        ready = next(c for c in desired["conditions"] if c["type"] == "Ready")
        ctrl.event(
            {"apiVersion": API_VERSION, "kind": "Workspace", "metadata": {"name": meta.name, "uid": meta.uid}},
            "Warning" if desired["phase"] == "Failed" else "Normal",
            desired["phase"],
            ready["message"] or f"the workspace is {desired['phase']}",
        )
    return None
