"""Rollout of a template's changes to its running studios, as a pure function.

A studio's own reconcile already knows when its pod is out of date (`pendingRestart`); this
decides which of them, if any, the template restarts now. Under OnRestart: none (each picks up
the change at its next start or restart). Under Immediate: one at a time, and only while every
other studio of the template is settled, so no two are ever down at once; a studio that failed
on the template's current image halts the rollout, as a Deployment stops on a bad revision.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..conditions import condition

SETTLING = ("Starting", "Stopping")
NAMES_SHOWN = 10


@dataclasses.dataclass(frozen=True)
class StudioView:
    """What the template needs to know of one of its studios."""

    namespace: str
    name: str
    state: str | None
    pending_restart: bool
    image: str | None = None
    message: str = ""
    pod_name: str | None = None
    pod_uid: str | None = None
    pod_deleting: bool = False

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def studio_view(body: dict[str, Any], pod: dict[str, Any] | None, deleted_pod_uid: str | None) -> StudioView:
    """What the template sees of one studio, from the studio, its pod in the cache, and the uid
    of the pod this rollout last deleted for it (the cache lags both that delete and the new pod)."""
    meta, status = body["metadata"], body.get("status") or {}
    pod_meta = (pod or {}).get("metadata") or {}
    pod_uid = pod_meta.get("uid")
    state, pending = status.get("state"), bool(status.get("pendingRestart"))
    # The pod the rollout just deleted: going, even before the cache shows its deletionTimestamp
    # (taking it for a Running candidate restarted the same studio twice).
    deleting = bool(pod_meta.get("deletionTimestamp")) or (deleted_pod_uid is not None and pod_uid == deleted_pod_uid)
    if deleted_pod_uid and pod_uid not in (None, deleted_pod_uid):
        pending = False  # a new pod, made from the current spec; the studio's status has not caught up yet
    if state == "Running" and (pod is None or deleting or not pod_ready(pod)):
        # The studio's status lags its pod (just deleted, or a new one starting): not settled.
        state = "Starting"
    return StudioView(
        namespace=meta["namespace"],
        name=meta["name"],
        state=state,
        pending_restart=pending,
        image=status.get("image"),
        message=status.get("message") or "",
        pod_name=pod_meta.get("name"),
        pod_uid=pod_uid,
        pod_deleting=deleting,
    )


def pod_ready(pod: dict[str, Any]) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and any(
        c.get("type") == "Ready" and c.get("status") == "True" for c in (pod.get("status") or {}).get("conditions") or ()
    )


def names(studios: list[StudioView]) -> str:
    shown = ", ".join(s.key for s in studios[:NAMES_SHOWN])
    more = len(studios) - NAMES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


@dataclasses.dataclass(frozen=True)
class Rollout:
    restart: StudioView | None  # the studio whose pod to delete now
    condition: dict[str, Any]


def plan_rollout(policy: str, image: str | None, studios: list[StudioView], paused: bool = False) -> Rollout:
    studios = sorted(studios, key=lambda s: (s.namespace, s.name))
    pending = [s for s in studios if s.pending_restart]
    if not pending:
        return Rollout(None, condition("RolledOut", True, "UpToDate", ""))
    count = f"{len(pending)} studio{'s' if len(pending) != 1 else ''}"
    if policy != "Immediate":
        return Rollout(None, condition("RolledOut", False, "PendingRestart",
                                       f"{count} run an older version of the template and pick up the new one at "
                                       f"their next start or restart (updatePolicy: OnRestart): {names(pending)}"))
    broken = [s for s in studios if s.state == "Failed" and image and s.image == image]
    if broken:
        first = broken[0]
        return Rollout(None, condition("RolledOut", False, "RolloutHalted",
                                       f"{first.key} failed on image {image}: {first.message or 'Failed'}; the "
                                       f"rollout to {count} waits until it runs again or the template changes"))
    settling = [s for s in studios if s.state in SETTLING or s.pod_deleting]
    if settling:
        return Rollout(None, condition("RolledOut", False, "RollingOut",
                                       f"waiting for {settling[0].key} to be Running before restarting the next "
                                       f"of {count}: {names(pending)}"))
    ready = [s for s in pending if s.state == "Running" and s.pod_uid]
    if paused or not ready:
        return Rollout(None, condition("RolledOut", False, "RollingOut", f"{count} to restart: {names(pending)}"))
    target = ready[0]
    return Rollout(target, condition("RolledOut", False, "RollingOut",
                                     f"restarting {target.key}, one of {count}: {names(pending)}"))
