"""Glue: gather what the operator observed for one studio, run the plan, write what changed."""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import TYPE_CHECKING, Any

from ..api import CodeStudio, CodeStudioTemplate, Workspace
from ..api.common import API_VERSION
from ..conditions import merge_conditions, now, rfc3339
from .plan import Apply, Create, Delete, Observed, plan_studio

if TYPE_CHECKING:
    from ..controller import Controller

log = logging.getLogger(__name__)

WARNING_STATES = {"Failed"}
SETTLED_STATES = {"Running", "Stopped", "Failed"}

# Studios whose transient status is being held back -> when that state began.
_progress: dict[tuple[str, str], datetime.datetime] = {}


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
        _progress.pop((namespace, name), None)
        return None  # deleted: owner references take the children, Retain keeps the volume
    if obs.pvc is None and obs.studio.status.volume and obs.studio.status.volume.claim_name:
        # The cache may lag our own create; only a live read may declare a volume lost.
        obs.pvc = await ctrl.kube.get("v1", "PersistentVolumeClaim", namespace, obs.studio.status.volume.claim_name)
    at = now()
    plan = plan_studio(obs, at, ctrl.config.unschedulable_timeout)
    await execute_all(ctrl, namespace, plan.actions)
    # The pod is on its way (created, starting, stopping): its next event will likely settle it.
    progressing = obs.pod is not None or any(isinstance(a, (Create, Delete)) for a in plan.actions)
    held = await write_status(ctrl, obs.studio, plan.status, at, progressing)
    return min(filter(None, (plan.recheck_after, held)), default=None)


async def execute_all(ctrl: Controller, namespace: str | None, actions: list[Apply | Create | Delete]) -> None:
    """Applies at once (each is a separate object), then creates and deletes in plan order: the
    volume is applied before the pod that mounts it is created."""
    applies = [a for a in actions if isinstance(a, Apply)]
    results = await asyncio.gather(*(execute(ctrl, namespace, a) for a in applies), return_exceptions=True)
    for failure in results:
        if isinstance(failure, BaseException):
            raise failure
    for action in actions:
        if not isinstance(action, Apply):
            await execute(ctrl, namespace, action)


async def execute(ctrl: Controller, namespace: str | None, action: Apply | Create | Delete) -> None:
    if isinstance(action, Apply):
        await ctrl.kube.apply(action.manifest)
    elif isinstance(action, Create):
        await ctrl.kube.create(action.manifest)
    else:
        await ctrl.kube.delete(action.api_version, action.kind, namespace, action.name, action.uid)


async def write_status(ctrl: Controller, studio: CodeStudio, desired: dict[str, Any], at: datetime.datetime,
                       progressing: bool = False) -> float | None:
    """Writes the status when it differs from the stored one; posts an Event when the studio
    settles in a new state (Running, Stopped, Failed).

    A transient state (Starting, Stopping) of a progressing pod is held back until it lasted
    `progress_hold` seconds, so a start, stop or restart that settles sooner writes once, not once
    per step of the pod and volume; returns the seconds until a held write is due.
    """
    meta = studio.metadata
    key = (meta.namespace, meta.name)
    current = studio.status.to_dict()
    desired = dict(desired)
    settled = desired["state"] in SETTLED_STATES
    since = at if settled or not progressing else _progress.setdefault(key, at)
    desired["conditions"] = merge_conditions(current.get("conditions"), desired["conditions"], meta.generation, since)
    previous_state = current.get("state")
    desired["lastStateChange"] = rfc3339(since) if desired["state"] != previous_state else current.get("lastStateChange", rfc3339(at))
    desired = {k: v for k, v in desired.items() if v is not None}
    patch = {k: v for k, v in desired.items() if current.get(k) != v}
    patch.update({k: None for k in current if k not in desired and k != "lastActivity"})
    if patch and not settled and progressing:
        wait = ctrl.config.progress_hold - (at - since).total_seconds()
        if wait > 0:
            return wait
    _progress.pop(key, None)
    if not patch:
        return None
    stored = await ctrl.kube.patch_status(API_VERSION, "CodeStudio", meta.namespace, meta.name, patch)
    if stored:
        ctrl.cache.wrote("studios", key, stored)
    involved = {"apiVersion": API_VERSION, "kind": "CodeStudio",
                "metadata": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid}}
    if settled and desired["state"] != previous_state:
        ctrl.event(involved, "Warning" if desired["state"] in WARNING_STATES else "Normal", desired["state"],
                   desired.get("message") or f"the studio is {desired['state']}")
    elif desired["state"] == "Running" and "restartedAt" in patch and desired.get("restartedAt"):
        # A restart quicker than progress_hold never showed a state change: say it happened.
        ctrl.event(involved, "Normal", "Restarted", f"restarted as requested at {desired['restartedAt']}")
    return None
