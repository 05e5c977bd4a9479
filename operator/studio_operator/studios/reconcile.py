"""Glue: gather what the operator observed for one studio, run the plan, write what changed."""

from __future__ import annotations

import asyncio
import datetime
import logging
from typing import TYPE_CHECKING, Any

from .. import labels as L
from .. import metrics
from ..actions import Action, Apply, Create, Delete, Patch, execute
from ..api import CodeStudio, CodeStudioTemplate
from ..api.common import API_VERSION
from ..conditions import merge_conditions, now, parse_time, rfc3339, status_patch
from ..kube import ApiError
from ..workspaces.plan import reserved
from ..workspaces.reconcile import workspace_of
from .children import StudioRef
from . import reclaim
from .plan import Observed, Refused, plan_studio

if TYPE_CHECKING:
    from ..controller import Controller

log = logging.getLogger(__name__)

WARNING_STATES = {"Failed"}
SETTLED_STATES = {"Running", "Stopped", "Failed"}
REFUSED_RECHECK = 30.0  # seconds between tries of a child the API server refused (quota, validation)
# How long a pod the operator created may take to come back through the watch before it is
# created again (a 409 if it exists after all). A paced benchmark run created 1.89 pods per
# new studio without this: the claim's and Service's events came first.
POD_EXPECTATION = 5.0
# How long a claim the operator deleted counts as going before the watch shows it: a studio of
# that name applied again meanwhile must not take it. As long as a silent watch may lag
# (its inactivity timeout, handlers.py).
CLAIM_DELETION_EXPECTATION = 60.0


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
                     and (not controlled or L.controller_uid(o) == ref.uid)), None)

    pod = child("studio_pods", ref.pod_name)
    pvc = child("studio_pvcs", ref.claim_name, controlled=False)
    return Observed(
        studio=studio,
        template=CodeStudioTemplate.model_validate(template) if template else None,
        workspace=workspace_of(ctrl.cache, namespace),
        pod=pod,
        pvc=pvc,
        service=child("studio_services", ref.service_name),
        role=child("studio_roles", ref.access_name),
        binding=child("studio_rolebindings", ref.access_name),
        namespace_reserved=reserved(namespace, ctrl.config.namespace),
        pod_expected_in=ctrl.cache.expected_in("studio_pods", key, ref.pod_name),
        pod_deleted=bool(pod and ctrl.cache.deletion_expected("studio_pods", key, pod["metadata"]["uid"])),
        pvc_deleted=bool(pvc and ctrl.cache.deletion_expected("studio_pvcs", key, pvc["metadata"]["uid"])),
    )


def _held(ctrl: Controller) -> dict[tuple[str, str], datetime.datetime]:
    """Studios whose transient status is being held back, and when that state began."""
    return ctrl.memo.setdefault("studio-status-held", {})


async def reconcile_studio(ctrl: Controller, namespace: str, name: str) -> float | None:
    obs = observe(ctrl, namespace, name)
    if obs is None:
        _held(ctrl).pop((namespace, name), None)
        body = ctrl.cache.one("studios", (namespace, name))
        if body is not None and L.RECLAIM_FINALIZER in (body["metadata"].get("finalizers") or ()):
            await release_volume(ctrl, CodeStudio.model_validate(body))
        return None  # deleted: owner references take the children but the volume (reclaim.py)
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


async def release_volume(ctrl: Controller, studio: CodeStudio) -> None:
    """A studio deleted under volumeReclaimPolicy: Delete: its claim goes, then its finalizer."""
    meta = studio.metadata
    # A live read: the cache may not have seen a claim created moments ago, which would be left.
    pvc = await ctrl.kube.get("v1", "PersistentVolumeClaim", meta.namespace, StudioRef(meta.name, meta.namespace, meta.uid, None).claim_name)
    for action in reclaim.release(studio, pvc):
        done = await execute(ctrl, meta.namespace, action)
        if isinstance(action, Delete) and done:
            ctrl.cache.deleted("studio_pvcs", (meta.namespace, meta.name), action.uid, CLAIM_DELETION_EXPECTATION)
            ctrl.event(_involved(studio), "Normal", "VolumeDeleted",
                       f"deleted home volume {action.name} (volumeReclaimPolicy: Delete)")


def _involved(studio: CodeStudio) -> dict[str, Any]:
    meta = studio.metadata
    return {"apiVersion": API_VERSION, "kind": "CodeStudio",
            "metadata": {"name": meta.name, "namespace": meta.namespace, "uid": meta.uid}}


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
    refused = await execute_all(ctrl, namespace, plan.actions)
    if refused:
        # Validation or admission (ResourceQuota, LimitRange, Pod Security) refused a child
        # built from the user's spec: say so, start no pod, and look again later
        # (a spec or template change, or a workspace whose studio stopped, wakes it sooner).
        obs.refused = refused
        plan = plan_studio(obs, at, ctrl.config.unschedulable_timeout)
        plan.recheck_after = REFUSED_RECHECK
    key = (namespace, obs.studio.metadata.name)
    for action in plan.actions:
        if isinstance(action, Create) and action.manifest["kind"] == "Pod":
            ctrl.cache.created("studio_pods", key, action.manifest["metadata"]["name"], POD_EXPECTATION)
        elif isinstance(action, Delete) and action.kind == "Pod":
            ctrl.cache.deleted("studio_pods", key, action.uid, POD_EXPECTATION)
    # The pod is on its way (created, starting, stopping): its next event will likely settle it.
    progressing = obs.pod is not None or bool(obs.pod_expected_in) or any(isinstance(a, Create | Delete) for a in plan.actions)
    held = await write_status(ctrl, obs.studio, plan.status, at, progressing, plan.headway)
    if refused and refused.operator_forbidden:
        # The install's fault, not the studio's: failed, the reconcile is retried with backoff,
        # logged, and counted (reconcile_errors_total{reason="Forbidden"}, which alerts).
        raise ApiError(refused.status, "Forbidden", refused.message)
    return min(filter(None, (plan.recheck_after, held)), default=None)


async def execute_all(ctrl: Controller, namespace: str, actions: list[Action]) -> Refused | None:
    """Patches of the studio itself first: under volumeReclaimPolicy: Delete its finalizer holds
    before the claim it deletes exists (a conflict or a crash in between, then the studio's
    deletion, left a claim nobody deletes). Then applies at once (each is a separate object),
    then creates and deletes in plan order: the volume is applied before the pod that mounts it
    is created. A RoleBinding waits for the other applies: the API server binds only a Role that
    exists (404 until then) and grants nothing the operator may not grant. A child the API server
    refuses holds back only what needs it: the pod is not created (it would run without what the
    spec asks of it), a refused Role's binding is not applied; the other children, and a stop's or
    restart's pod deletion, go ahead. The first refusal is returned, one of the operator's own
    RBAC before any other; any other error is raised (the queue retries)."""
    for action in actions:
        if isinstance(action, Patch):
            await execute(ctrl, namespace, action)
    applies = [a for a in actions if isinstance(a, Apply)]
    refused = await _apply_all(ctrl, namespace, [a for a in applies if a.manifest["kind"] != "RoleBinding"])
    if not any(r.kind == "Role" for r in refused):
        refused += await _apply_all(ctrl, namespace, [a for a in applies if a.manifest["kind"] == "RoleBinding"])
    for action in actions:
        if isinstance(action, Apply | Patch) or (isinstance(action, Create) and refused):
            continue
        try:
            await execute(ctrl, namespace, action)
        except ApiError as exc:
            if not exc.refusal or not isinstance(action, Create):
                raise
            refused.append(_refused(action, exc))
    return min(refused, key=lambda r: not r.operator_forbidden) if refused else None


async def _apply_all(ctrl: Controller, namespace: str, applies: list[Apply]) -> list[Refused]:
    results = await asyncio.gather(*(execute(ctrl, namespace, a) for a in applies), return_exceptions=True)
    refused = []
    for action, result in zip(applies, results):
        if isinstance(result, BaseException):
            if not (isinstance(result, ApiError) and result.refusal):
                raise result
            refused.append(_refused(action, result))
    return refused


def _refused(action: Apply | Create, exc: ApiError) -> Refused:
    meta = action.manifest["metadata"]
    return Refused(action.manifest["kind"], meta["name"], exc.status, exc.message)


async def write_status(ctrl: Controller, studio: CodeStudio, desired: dict[str, Any], at: datetime.datetime,
                       progressing: bool = False, headway: bool = False) -> float | None:
    """Writes the status when it differs from the stored one; posts an Event when the studio
    settles in a new state (Stopped, Failed, and Running but for its first time).

    A studio that is not running anyway and whose pod is on its way holds its transient state
    (Starting, Stopping) back until it lasted `progress_hold` seconds, so a start that settles
    sooner writes once, not once per step of the pod and volume; returns the seconds until a held
    write is due. A new studio, shown Starting by the CRD's default status until its first write,
    holds it `first_start_hold` seconds while its pod makes headway. Leaving Running is written at
    once: Ready must not claim a pod that is going.
    """
    meta = studio.metadata
    key = (meta.namespace, meta.name)
    current = studio.status.to_dict()
    desired = dict(desired)
    previous_state = current.get("state")
    settled = desired["state"] in SETTLED_STATES
    hold = not settled and progressing and previous_state != "Running"
    since = _held(ctrl).setdefault(key, at) if hold else at
    desired["conditions"] = merge_conditions(current.get("conditions"), desired["conditions"], meta.generation, since)
    desired["lastStateChange"] = (rfc3339(since) if desired["state"] != previous_state
                                  else current.get("lastStateChange") or rfc3339(since))
    patch = status_patch(current, desired)
    if patch and hold:
        unwritten = "observedGeneration" not in current
        limit = ctrl.config.first_start_hold if unwritten and headway else ctrl.config.progress_hold
        wait = limit - (at - since).total_seconds()
        if wait > 0:
            return wait
    held_since = _held(ctrl).pop(key, None)
    if not patch:
        return None
    stored = await ctrl.kube.patch_status(API_VERSION, "CodeStudio", meta.namespace, meta.name, patch)
    if stored:
        ctrl.cache.wrote("studios", key, stored)
    if settled and desired["state"] != previous_state:
        first_run = (desired["state"] == "Running" and previous_state in (None, "Starting")
                     and not current.get("lastActivity"))
        if desired["state"] == "Running":
            # Its start began when Starting was written, or when the held Starting began
            # (a new studio's default Starting has no lastStateChange).
            began = parse_time(current.get("lastStateChange")) if previous_state == "Starting" else None
            metrics.studio_started(began or held_since, at)
        if not first_run:
            # A new studio's first Running is no news: the user made it, and its status says so.
            # A start after a stop or a failure is: the Events then tell the studio's story.
            ctrl.event(
                _involved(studio),
                "Warning" if desired["state"] in WARNING_STATES else "Normal",
                desired["state"],
                desired.get("message") or f"the studio is {desired['state']}",
            )
    return None
