"""The studio reconcile as a pure function: observed state in, actions and status out."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from .. import labels as L
from ..actions import Action, Apply, Create, Delete
from ..api import CodeStudio, CodeStudioTemplate, Workspace
from ..conditions import REFUSAL_MAX, clip, condition, parse_time, rfc3339
from ..kube import operator_forbidden
from . import children as C
from . import idle, reclaim
from .settings import resolve_settings
from .status import nothing_runs, pod_ended, pod_health


@dataclasses.dataclass
class Observed:
    """Everything the operator has seen that bears on one studio."""

    studio: CodeStudio
    template: CodeStudioTemplate | None = None
    workspace: Workspace | None = None
    pod: dict[str, Any] | None = None
    pvc: dict[str, Any] | None = None
    service: dict[str, Any] | None = None
    role: dict[str, Any] | None = None
    binding: dict[str, Any] | None = None
    # Other studios of the namespace that hold a running pod (for maxRunningCodeStudios).
    running_in_namespace: int = 0
    # A child the API server refused to create or change, if it did (see Refused).
    refused: Refused | None = None
    # The studio is in a reserved namespace (default, kube-*, the operator's): nothing is made there.
    namespace_reserved: bool = False
    # Seconds left to wait for the pod the operator created moments ago, which the watch has not
    # brought yet (an expectation, as Kubernetes' ReplicaSet controller keeps); None: none pending.
    pod_expected_in: float | None = None
    # The operator deleted the pod moments ago and the watch has not shown it going yet: it is
    # going, and deleting it again would be one more write for nothing.
    pod_deleted: bool = False
    # The operator deleted the claim moments ago (its studio went under Delete) and the watch has
    # not shown it going yet: a new studio of that name waits for it to go.
    pvc_deleted: bool = False


@dataclasses.dataclass(frozen=True)
class Refused:
    """The API server refused a child for what it is (validation, quota, LimitRange, Pod
    Security), not for the moment: trying the same again will not help, so the studio says why."""

    kind: str
    name: str
    status: int
    message: str

    @property
    def operator_forbidden(self) -> bool:
        return operator_forbidden(self.status, self.message)

    def blocker(self) -> tuple[str, str, str]:
        """(state, reason, message) of a studio that cannot start because of it."""
        detail = clip(self.message, REFUSAL_MAX)
        if self.operator_forbidden:
            return ("Failed", "OperatorForbidden",
                    f"the operator may not write the studio's {self.kind} {self.name} ({detail}): the operator's RBAC "
                    "lacks that permission; install the chart or manifests of the operator's version")
        if self.status == 403 and "exceeded quota" in self.message:
            # A stopped studio's volume still counts: only less storage or more quota helps it.
            remedy = ("request less storage" if self.kind == "PersistentVolumeClaim"
                      else "stop another studio, request fewer resources")
            return ("Failed", "QuotaExceeded",
                    f"the workspace's ResourceQuota refuses the {self.kind.lower()} ({detail}); "
                    f"{remedy}, or raise the quota")
        reason = "Forbidden" if self.status == 403 else "Invalid"
        return ("Failed", reason,
                f"the API server refuses the studio's {self.kind} {self.name}: {detail}; "
                "change the studio's spec or its template")


@dataclasses.dataclass
class Plan:
    actions: list[Action]
    status: dict[str, Any]  # without conditions' timestamps; see conditions.merge_conditions
    recheck_after: float | None = None
    # Starting, and the pod makes headway: nothing the user need know of yet (reconcile.write_status).
    headway: bool = False


# A start's steps that need no one's attention: unlike Unschedulable, VolumeTerminating, ImageBuilding.
HEADWAY = {"PodCreated", "PodPending", "ContainersNotReady", "VolumeProvisioning"}
# How long a ready pod's claim may still show Pending in the cache, its Bound event behind the pod's.
CLAIM_LAG = 5.0


def _hash(obj: dict[str, Any] | None) -> str | None:
    return ((obj or {}).get("metadata", {}).get("annotations") or {}).get(L.SPEC_HASH)


def _needs_apply(desired: dict[str, Any] | None, observed: dict[str, Any] | None) -> bool:
    return desired is not None and (observed is None or _hash(observed) != _hash(desired))


def _restart_due(studio: CodeStudio) -> str | None:
    """The requested restart time when it is newer than the last restart carried out."""
    requested = studio.spec.restart_requested_at
    if not requested:
        return None
    done = studio.status.restarted_at
    if done and parse_time(done) >= parse_time(requested):
        return None
    return requested


def _reserved_namespace(studio: CodeStudio) -> Plan:
    """A studio that got into a reserved namespace (the webhook fails open): no children there."""
    message = (f"namespace {studio.metadata.namespace} is reserved (default, kube-*, the operator's own): "
               "nothing is created for a studio there; create it in a workspace's namespace")
    return Plan(actions=[], status={
        "observedGeneration": studio.metadata.generation,
        "state": "Failed",
        "message": message,
        "owner": studio.spec.owner,
        "conditions": [condition("Ready", False, "ReservedNamespace", message)],
    })


def plan_studio(obs: Observed, now: datetime.datetime, unschedulable_timeout: float = 60.0) -> Plan:
    if obs.namespace_reserved:
        return _reserved_namespace(obs.studio)
    studio = obs.studio
    meta = studio.metadata
    ref = C.StudioRef(meta.name, meta.namespace, meta.uid, studio.spec.owner)
    settings = resolve_settings(studio, obs.template, obs.workspace)
    actions: list[Action] = []
    recheck: float | None = None
    previous = studio.status

    # --- The home volume: created once, never recreated behind the user's back. status.volume
    # names it from when the studio's own claim is first seen: a named claim that goes is lost.
    volume_ok: bool | None = None
    volume_problem: tuple[str, str, str] | None = None  # (state, reason, message): why not start on it
    named = bool(previous.volume and previous.volume.claim_name)
    pvc = obs.pvc
    if pvc is None:
        if named:
            volume_ok, volume_problem = False, (
                "Failed", "VolumeLost",
                f"home volume {ref.claim_name} was deleted; the studio will not start on an empty home. "
                "Restore the claim, or delete and recreate the CodeStudio to start on a new volume",
            )
        else:
            actions.append(Apply(C.build_pvc(ref, settings, None)))
    elif not named and (pvc["metadata"].get("deletionTimestamp") or obs.pvc_deleted
                        or L.controller_uid(pvc) not in (None, ref.uid)):
        # A previous studio's of that name (deleted under Delete), going once its pod is gone;
        # the operator may have deleted it moments ago, before the watch shows it going.
        volume_ok, volume_problem = False, (
            "Starting", "VolumeTerminating",
            f"waiting for the previous home volume {ref.claim_name} to be deleted; a new one is made then",
        )
    elif not _claim_is_ours(pvc, ref, previous.owner):
        holder = (pvc["metadata"].get("annotations") or {}).get(L.OWNER)
        volume_ok, volume_problem = False, (
            "Failed", "VolumeOwnedByOther",
            f"home volume {ref.claim_name} belongs to {holder}{f', not {ref.owner}' if ref.owner else ''}; "
            "choose another studio name or move the volume",
        )
    elif pvc["metadata"].get("deletionTimestamp"):
        volume_ok, volume_problem = False, (
            "Failed", "VolumeLost", f"home volume {ref.claim_name} is being deleted; it goes when the pod stops")
    else:
        named = True
        desired = C.build_pvc(ref, settings, pvc)
        if _needs_apply(desired, pvc):
            actions.append(Apply(desired))
        volume_ok = pvc.get("status", {}).get("phase") == "Bound"

    finalizers = reclaim.finalizer_patch(studio)
    if finalizers:
        actions.append(finalizers)

    # --- Access and networking: cheap, applied whatever the state, only when they differ.
    for desired, observed in (
        (C.build_service(ref, settings), obs.service),
        (C.build_access_role(ref), obs.role),
        (C.build_access_binding(ref), obs.binding),
    ):
        if _needs_apply(desired, observed):
            actions.append(Apply(desired))

    # --- Why the studio may not run now.
    blocker = None
    if obs.template is None:
        blocker = ("Failed", "TemplateNotFound",
                   f"CodeStudioTemplate {studio.spec.template} does not exist; create it or change spec.template")
    elif settings.image is None:
        blocker = ("Starting", "ImageBuilding", f"waiting for template {studio.spec.template} to build its image")
    elif volume_problem:
        blocker = volume_problem

    want_running = studio.spec.state == "Running"
    timeout = idle.idle_timeout(studio, obs.template)
    stop_reason = "the studio is stopped (spec.state: Stopped)"
    if idle.stopped_for_idleness(studio):
        stop_reason = (f"stopped after {timeout.text if timeout else 'its idle timeout'} without activity "
                       f"(last activity {previous.last_activity or 'unknown'}); set spec.state: Running to start it")
    if obs.workspace is not None and obs.workspace.spec.state == "Stopped":
        want_running, stop_reason = False, f"workspace {obs.workspace.metadata.name} is stopped"
    quota = obs.workspace.spec.quota if obs.workspace else None
    if (want_running and obs.pod is None and quota and quota.max_running_code_studios is not None
            and obs.running_in_namespace >= quota.max_running_code_studios):
        blocker = ("Failed", "QuotaExceeded",
                   f"workspace quota maxRunningCodeStudios={quota.max_running_code_studios} reached; "
                   "stop another studio or raise the quota")
    if want_running and obs.pod is None and obs.refused:
        blocker = obs.refused.blocker()

    restart = _restart_due(studio)
    restarted_at = previous.restarted_at
    desired_pod = C.build_pod(ref, settings, restart or previous.restarted_at) if settings.image else None
    pod = obs.pod
    health = None
    image_error = False
    creating = False  # the pod is being created (now, or moments ago and not seen yet)

    terminating = pod is not None and bool(pod["metadata"].get("deletionTimestamp") or obs.pod_deleted)
    if not want_running:
        if pod and not terminating:
            actions.append(Delete("Pod", pod["metadata"]["name"], pod["metadata"]["uid"]))
        # A pod created moments ago and not seen yet is deleted once seen: not Stopped until then.
        stopping = pod or obs.pod_expected_in
        state, reason, message = ("Stopping", "Stopping", "the pod is stopping") if stopping else ("Stopped", "Stopped", stop_reason)
        recheck = obs.pod_expected_in
        if restart:
            restarted_at = restart  # nothing runs, so there is nothing to restart
    elif terminating:
        state, reason, message = "Stopping", "PodTerminating", "waiting for the previous pod to stop"
    elif pod:
        pod_restart = (pod["metadata"].get("annotations") or {}).get(L.RESTART_AT)
        health = pod_health(pod, now, unschedulable_timeout, ref.claim_name, claim_bound=bool(volume_ok))
        stale = desired_pod is not None and _hash(pod) != _hash(desired_pod)
        if restart and pod_restart == restart:
            restarted_at = restart  # the pod was created for this restart; the status write was lost
            restart = None
        if restart:
            actions.append(Delete("Pod", pod["metadata"]["name"], pod["metadata"]["uid"]))
            state, reason, message = "Stopping", "Restarting", "restarting: replacing the pod"
        elif pod_ended(pod) or (stale and nothing_runs(pod, health)):
            # Nothing of the user's runs in it: replace it with the current spec at once.
            actions.append(Delete("Pod", pod["metadata"]["name"], pod["metadata"]["uid"]))
            state, reason, message = "Starting", "ReplacingPod", "replacing a pod that is not running"
        else:
            state, reason, message = health.state, health.reason, health.message
            image_error = health.image_error
            recheck = health.recheck_after
            lag = _claim_lag(pod, pvc, now) if state == "Running" and volume_problem is None else None
            if lag:
                # A pod runs only on a bound claim: its Bound event is on its way. Running is
                # written once it came, in the same write, not before it in a write of its own.
                state, reason, message = "Starting", "VolumeProvisioning", f"the pod runs; waiting for claim {ref.claim_name} to report Bound"
                recheck = lag
    elif blocker:
        state, reason, message = blocker
    else:
        creating = True
        if obs.pod_expected_in:
            # Another event of the new studio's children came first: creating the pod again
            # would only earn a 409. Its own event, or the expectation lapsing, brings a new look.
            recheck = obs.pod_expected_in
        else:
            actions.append(Create(desired_pod))
            if restart:
                # Done once its pod is made; a pod made before the request is replaced when seen.
                restarted_at = restart
        state, reason, message = "Starting", "PodCreated", "the pod was created"

    if volume_problem and volume_problem[0] == "Failed" and state not in ("Stopped", "Stopping"):
        # A running pod keeps its (protected) claim until it stops; say so rather than "Running".
        state, reason, message = volume_problem
    elif obs.refused and state not in ("Stopped", "Stopping"):
        # A pod may run on, but not as the spec asks: say what to fix rather than "Running".
        state, reason, message = obs.refused.blocker()

    last_activity = None
    if state == "Running" and pod:
        last_activity = idle.last_activity(studio, pod, now)
        if timeout:
            left = (last_activity - now).total_seconds() + timeout.seconds
            if left <= 0:
                actions.append(idle.idle_stop(studio))
            else:
                recheck = min(filter(None, (recheck, left)))

    volume_reason, volume_message = volume_problem[1:] if volume_problem else (
        ("Bound", "") if volume_ok else ("Provisioning", f"waiting for claim {ref.claim_name} to bind"))
    if obs.refused and obs.refused.kind == "PersistentVolumeClaim":
        volume_ok, (_, volume_reason, volume_message) = False, obs.refused.blocker()
    pod_ready = health is not None and health.state == "Running"
    pending_restart = bool(pod and desired_pod and _hash(pod) != _hash(desired_pod))
    conditions = [
        condition("VolumeReady", volume_ok, volume_reason, volume_message),
        _image_condition(obs, settings.image, image_error, message),
        condition("PodReady", pod_ready, "PodReady" if pod_ready else reason, "" if pod_ready else message),
        condition("Ready", state == "Running", state if state != "Running" else "Running",
                  "" if state == "Running" else message),
    ]
    status: dict[str, Any] = {
        "observedGeneration": meta.generation,
        "state": state,
        "message": clip(message) or None,
        "owner": ref.owner,
        "image": pod["spec"]["containers"][0]["image"] if pod else None,
        "pendingRestart": pending_restart,
        "restartedAt": restarted_at,
        "pod": pod["metadata"]["name"] if pod else (ref.pod_name if creating else None),
        "volume": _volume_status(ref, pvc) if named else None,
        "endpoints": C.endpoints(ref, settings),
        "lastActivity": rfc3339(last_activity) if last_activity else previous.last_activity,
        "conditions": conditions,
    }
    return Plan(actions=actions, status=status, recheck_after=recheck, headway=state == "Starting" and reason in HEADWAY)


def _claim_lag(pod: dict[str, Any], pvc: dict[str, Any] | None, now: datetime.datetime) -> float | None:
    """Seconds the cache's claim may still lag the running pod: reported Pending while the pod is
    ready, for CLAIM_LAG seconds from its readiness at most (a lost event must not hold Running back)."""
    if pvc is None or pvc.get("status", {}).get("phase", "Pending") != "Pending":
        return None  # Bound, or Lost: no event is on its way that would make it Bound
    ready = next((c for c in pod.get("status", {}).get("conditions") or [] if c.get("type") == "Ready"), {})
    since = parse_time(ready.get("lastTransitionTime"))
    left = CLAIM_LAG - (now - since).total_seconds() if since else 0.0
    return left if left > 0 else None


def _claim_is_ours(pvc: dict[str, Any], ref: C.StudioRef, previous_owner: str | None) -> bool:
    """Made for this studio, or held by no one, its owner or the owner it had (an owner change
    whose claim apply is still to come): the volume moves with the studio. A claim anyone else
    holds was retained from an earlier studio of that name, and is never attached."""
    annotations = pvc["metadata"].get("annotations") or {}
    holder = annotations.get(L.OWNER)
    return annotations.get(L.STUDIO_UID) == ref.uid or not holder or holder in (ref.owner, previous_owner)


def _volume_status(ref: C.StudioRef, pvc: dict[str, Any] | None) -> dict[str, Any]:
    pvc_status = (pvc or {}).get("status") or {}
    return {"claimName": ref.claim_name, "phase": pvc_status.get("phase") or ("Lost" if pvc is None else "Pending"),
            "capacity": (pvc_status.get("capacity") or {}).get("storage")}


def _image_condition(obs: Observed, image: str | None, pull_error: bool, message: str) -> dict[str, Any]:
    if obs.template is None:
        return condition("ImageReady", False, "TemplateNotFound", f"template {obs.studio.spec.template} not found")
    if image is None:
        return condition("ImageReady", False, "ImageBuilding", "the template's image is not built yet")
    if pull_error:
        return condition("ImageReady", False, "ImagePullError", message)
    return condition("ImageReady", True, "ImageAvailable", image)
