"""Glue: gather what the operator observed for one studio, run the plan, write what changed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .. import metrics
from ..api import CodeStudio, CodeStudioTemplate, Workspace
from ..api.common import API_VERSION
from ..conditions import merge_conditions, now, parse_time, rfc3339
from .plan import Apply, Create, Delete, Observed, plan_studio

if TYPE_CHECKING:
    from ..controller import Controller

log = logging.getLogger(__name__)

WARNING_STATES = {"Failed"}


def observe(ctrl: Controller, namespace: str, name: str) -> Observed | None:
    body = ctrl.cache.one("studios", (namespace, name))
    if body is None or body["metadata"].get("deletionTimestamp"):
        return None
    studio = CodeStudio.model_validate(body)
    template = ctrl.cache.one("templates", studio.spec.template)
    workspace = ctrl.cache.one("workspaces_by_namespace", namespace)
    key = (namespace, name)
    ws = Workspace.model_validate(workspace) if workspace else None
    running = 0
    if ws and ws.spec.quota and ws.spec.quota.max_running_code_studios is not None:
        # Only counted when a limit applies: it walks every studio pod.
        running = sum(
            1
            for other, pod in ctrl.cache.items("studio_pods")
            if other[0] == namespace and other != key and not pod["metadata"].get("deletionTimestamp")
        )
    return Observed(
        studio=studio,
        template=CodeStudioTemplate.model_validate(template) if template else None,
        workspace=ws,
        pod=ctrl.cache.one("studio_pods", key),
        pvc=ctrl.cache.one("studio_pvcs", key),
        service=ctrl.cache.one("studio_services", key),
        role=ctrl.cache.one("studio_roles", key),
        binding=ctrl.cache.one("studio_rolebindings", key),
        running_in_namespace=running,
    )


async def reconcile_studio(ctrl: Controller, namespace: str, name: str) -> float | None:
    obs = observe(ctrl, namespace, name)
    if obs is None:
        return None  # deleted: owner references take the children, Retain keeps the volume
    if obs.pvc is None and obs.studio.status.volume and obs.studio.status.volume.claim_name:
        # The cache may lag our own create; only a live read may declare a volume lost.
        obs.pvc = await ctrl.kube.get("v1", "PersistentVolumeClaim", namespace, obs.studio.status.volume.claim_name)
    at = now()
    plan = plan_studio(obs, at, ctrl.config.unschedulable_timeout)
    for action in plan.actions:
        await execute(ctrl, namespace, action)
    await write_status(ctrl, obs.studio, plan.status, at)
    return plan.recheck_after


async def execute(ctrl: Controller, namespace: str | None, action: Apply | Create | Delete) -> None:
    if isinstance(action, Apply):
        await ctrl.kube.apply(action.manifest)
    elif isinstance(action, Create):
        await ctrl.kube.create(action.manifest)
    else:
        await ctrl.kube.delete(action.api_version, action.kind, namespace, action.name, action.uid)


async def write_status(ctrl: Controller, studio: CodeStudio, desired: dict[str, Any], at) -> None:
    """Writes the status when it differs from the stored one; posts an Event on state changes."""
    current = studio.status.to_dict()
    desired = dict(desired)
    desired["conditions"] = merge_conditions(current.get("conditions"), desired["conditions"], studio.metadata.generation, at)
    previous_state = current.get("state")
    desired["lastStateChange"] = rfc3339(at) if desired["state"] != previous_state else current.get("lastStateChange", rfc3339(at))
    desired = {k: v for k, v in desired.items() if v is not None}
    patch = {k: v for k, v in desired.items() if current.get(k) != v}
    patch.update({k: None for k in current if k not in desired and k != "lastActivity"})
    if not patch:
        return
    meta = studio.metadata
    stored = await ctrl.kube.patch_status(API_VERSION, "CodeStudio", meta.namespace, meta.name, patch)
    if stored:
        ctrl.cache.wrote("studios", (meta.namespace, meta.name), stored)
    if desired["state"] != previous_state:
        if desired["state"] == "Running" and previous_state == "Starting":
            metrics.studio_started(parse_time(current.get("lastStateChange")), at)
        ctrl.event(
            {"apiVersion": API_VERSION, "kind": "CodeStudio",
             "metadata": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid}},
            "Warning" if desired["state"] in WARNING_STATES else "Normal",
            desired["state"],
            desired.get("message") or f"the studio is {desired['state']}",
        )
