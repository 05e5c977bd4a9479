"""Glue: gather what the operator observed for one studio, run the plan, write what changed."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from .. import labels as L
from .. import metrics
from ..actions import Apply, Create, execute
from ..api import CodeStudio, CodeStudioTemplate
from ..api.common import API_VERSION
from ..conditions import merge_conditions, now, parse_time, rfc3339, status_patch
from ..kube import ApiError
from ..workspaces.plan import reserved
from ..workspaces.reconcile import workspace_of
from .children import StudioRef
from .plan import Observed, Refused, plan_studio

if TYPE_CHECKING:
    from ..controller import Controller

log = logging.getLogger(__name__)

WARNING_STATES = {"Failed"}
REFUSED_RECHECK = 30.0  # seconds between tries of a child the API server refused (quota, validation)


def observe(ctrl: Controller, namespace: str, name: str) -> Observed | None:
    body = ctrl.cache.one("studios", (namespace, name))
    if body is None or body["metadata"].get("deletionTimestamp"):
        return None
    studio = CodeStudio.model_validate(body)
    template = ctrl.cache.one("templates", studio.spec.template)
    key = (namespace, name)
    ref = StudioRef(name, namespace, studio.metadata.uid, studio.spec.owner)

    def child(index: str, child_name: str, controlled: bool = True) -> dict[str, Any] | None:
        # Only the object of that name, and one this studio controls: anything else carrying the
        # studio's label (someone's own pod, a previous incarnation's) is neither used nor deleted.
        # The home volume has no owner under Retain; its name and owner annotation identify it.
        return next((o for o in ctrl.cache.all(index, key) if o["metadata"]["name"] == child_name
                     and (not controlled or controller_uid(o) == ref.uid)), None)

    return Observed(
        studio=studio,
        template=CodeStudioTemplate.model_validate(template) if template else None,
        workspace=workspace_of(ctrl.cache, namespace),
        pod=child("studio_pods", ref.pod_name),
        pvc=child("studio_pvcs", ref.claim_name, controlled=False),
        service=child("studio_services", ref.service_name),
        role=child("studio_roles", ref.access_name),
        binding=child("studio_rolebindings", ref.access_name),
        namespace_reserved=reserved(namespace, ctrl.config.namespace),
    )


def controller_uid(obj: dict[str, Any]) -> str | None:
    return next((r.get("uid") for r in obj["metadata"].get("ownerReferences") or () if r.get("controller")), None)


async def reconcile_studio(ctrl: Controller, namespace: str, name: str) -> float | None:
    obs = observe(ctrl, namespace, name)
    if obs is None:
        return None  # deleted: owner references take the children, Retain keeps the volume
    if obs.pvc is None and obs.studio.status.volume and obs.studio.status.volume.claim_name:
        # The cache may lag our own create; only a live read may declare a volume lost.
        obs.pvc = await ctrl.kube.get("v1", "PersistentVolumeClaim", namespace, obs.studio.status.volume.claim_name)
    if obs.pod is None and running_limit(obs) is not None:
        # Studios of one namespace decide to start one at a time, each counting the pods that
        # exist (a live read, not the cache), so two never take the last running slot together.
        async with ctrl.locks[("running", namespace)]:
            obs.running_in_namespace = await count_running(ctrl, namespace, name)
            return await carry_out(ctrl, obs)
    return await carry_out(ctrl, obs)


def running_limit(obs: Observed) -> int | None:
    """maxRunningCodeStudios when this studio wants to run in a workspace that has one."""
    ws = obs.workspace
    if ws is None or ws.spec.quota is None or ws.spec.state == "Stopped" or obs.studio.spec.state != "Running":
        return None
    return ws.spec.quota.max_running_code_studios


async def count_running(ctrl: Controller, namespace: str, name: str) -> int:
    pods = await ctrl.kube.list("v1", "Pod", namespace, label_selector=L.STUDIO)
    return sum(1 for p in pods if p["metadata"]["labels"][L.STUDIO] != name and not p["metadata"].get("deletionTimestamp"))


async def carry_out(ctrl: Controller, obs: Observed) -> float | None:
    namespace = obs.studio.metadata.namespace
    at = now()
    plan = plan_studio(obs, at, ctrl.config.unschedulable_timeout)
    for action in plan.actions:
        try:
            await execute(ctrl, namespace, action)
        except ApiError as exc:
            if not exc.refusal or not isinstance(action, Apply | Create):
                raise
            # Validation or admission (ResourceQuota, LimitRange, Pod Security) refused a child
            # built from the user's spec: say so, create nothing further, and look again later
            # (a spec or template change, or a workspace whose studio stopped, wakes it sooner).
            meta = action.manifest["metadata"]
            obs.refused = Refused(action.manifest["kind"], meta["name"], exc.status, exc.message)
            plan = plan_studio(obs, at, ctrl.config.unschedulable_timeout)
            plan.recheck_after = REFUSED_RECHECK
            break
    await write_status(ctrl, obs.studio, plan.status, at)
    return plan.recheck_after


async def write_status(ctrl: Controller, studio: CodeStudio, desired: dict[str, Any], at) -> None:
    """Writes the status when it differs from the stored one; posts an Event on state changes."""
    current = studio.status.to_dict()
    desired = dict(desired)
    desired["conditions"] = merge_conditions(current.get("conditions"), desired["conditions"], studio.metadata.generation, at)
    previous_state = current.get("state")
    desired["lastStateChange"] = rfc3339(at) if desired["state"] != previous_state else current.get("lastStateChange", rfc3339(at))
    patch = status_patch(current, desired, keep=("lastActivity",))
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
