"""Pure status logic: what a studio's pod and volume say about its state."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from ..conditions import parse_time

# Waiting reasons that will not heal by waiting: report them at once, not after a timeout.
IMAGE_ERRORS = {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "ErrImageNeverPull"}
CONTAINER_ERRORS = {"CreateContainerConfigError", "CreateContainerError", "RunContainerError", "CrashLoopBackOff"}


@dataclasses.dataclass(frozen=True)
class PodHealth:
    """The studio state a live (not terminating) pod implies."""

    state: str  # Starting, Running or Failed
    reason: str
    message: str
    image_error: bool = False
    recheck_after: float | None = None  # seconds until the verdict may change by itself


def _container_status(pod: dict[str, Any]) -> dict[str, Any] | None:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return statuses[0] if statuses else None


def pod_health(pod: dict[str, Any], now: datetime.datetime, unschedulable_timeout: float,
               claim: str | None = None, claim_bound: bool = True) -> PodHealth:
    """`claim`: the home volume's claim. A pod the scheduler holds back for it waits (slow
    provisioning is no scheduling failure, and the scheduler's last verdict may predate the
    binding); one it places nowhere for anything else fails after `unschedulable_timeout`, its
    claim bound or not (WaitForFirstConsumer binds only once the pod is scheduled)."""
    status = pod.get("status", {})
    phase = status.get("phase", "Pending")
    cs = _container_status(pod)
    waiting = (cs or {}).get("state", {}).get("waiting") or {}
    reason = waiting.get("reason", "")
    if reason in IMAGE_ERRORS:
        image = (cs or {}).get("image") or pod["spec"]["containers"][0]["image"]
        detail = waiting.get("message") or f"cannot pull image {image}"
        return PodHealth("Failed", reason, f"{reason}: {detail}", image_error=True)
    if reason in CONTAINER_ERRORS:
        last = (cs or {}).get("lastState", {}).get("terminated") or {}
        detail = waiting.get("message") or ""
        if last:
            detail = f"last exit code {last.get('exitCode')} ({last.get('reason', 'Error')}) {detail}".strip()
        return PodHealth("Failed", reason, f"{reason}: {detail}" if detail else reason)
    if phase == "Running" and cs and cs.get("ready"):
        return PodHealth("Running", "PodReady", "")
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False" and cond.get("reason") == "Unschedulable":
            msg = cond.get("message") or "no node can run the pod"
            if claim and "persistentvolumeclaim" in msg.lower():
                if not claim_bound:
                    return PodHealth("Starting", "VolumeProvisioning", f"waiting for claim {claim} to bind")
                # Under load the scheduler tries again seconds after the binding.
                return PodHealth("Starting", "VolumeProvisioning",
                                 f"claim {claim} is bound; waiting for the scheduler to place the pod")
            since = parse_time(cond.get("lastTransitionTime")) or now
            waited = (now - since).total_seconds()
            if waited >= unschedulable_timeout:
                return PodHealth("Failed", "Unschedulable", f"Unschedulable for {int(waited)}s: {msg}")
            return PodHealth("Starting", "Unschedulable", f"waiting for a node: {msg}",
                             recheck_after=unschedulable_timeout - waited)
    if phase == "Running":
        return PodHealth("Starting", "ContainersNotReady", "the studio is starting")
    return PodHealth("Starting", "PodPending", "the pod is being scheduled and its image pulled")


def pod_ended(pod: dict[str, Any]) -> bool:
    """A pod that will never run again (evicted, or its containers exited under a node failure)."""
    return pod.get("status", {}).get("phase") in ("Succeeded", "Failed")


def nothing_runs(pod: dict[str, Any], health: PodHealth) -> bool:
    """Nothing of the user's runs in the pod: it is not running yet (scheduling, pulling), or it
    fails (pull errors, crash loops). A running container that is not ready (its readiness probe
    failing for a while) may hold the user's work."""
    return health.state == "Failed" or pod.get("status", {}).get("phase") != "Running"
