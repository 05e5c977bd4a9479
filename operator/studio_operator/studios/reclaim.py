"""volumeReclaimPolicy: Delete, carried out by the operator when the studio is deleted.

The home volume has no owner reference under either policy: with one, the garbage collector
would delete it under the policy the studio had when the operator last looked, so a studio
switched to Retain and deleted before that (the operator down, or busy) lost its volume. A
studio under Delete holds a finalizer instead, and at its deletion the operator deletes its own
claim only if the policy then is still Delete. See docs/decisions/0035-volume-reclaim.md.
"""

from __future__ import annotations

from typing import Any

from .. import labels as L
from ..actions import Action, Delete, Patch
from ..api import CodeStudio
from ..api.common import API_VERSION


def _finalizers(studio: CodeStudio, finalizers: list[str]) -> Patch:
    # A merge patch replaces the list; the resourceVersion makes sure it replaces the one read.
    meta = studio.metadata
    return Patch(API_VERSION, "CodeStudio", meta.namespace, meta.name,
                 {"metadata": {"resourceVersion": meta.resource_version, "finalizers": finalizers}})


def finalizer_patch(studio: CodeStudio) -> Patch | None:
    """Adds the finalizer under Delete and takes it away under Retain; None when it is as wanted."""
    current = list(studio.metadata.finalizers or [])
    wanted = studio.spec.volume_reclaim_policy == "Delete"
    if (L.RECLAIM_FINALIZER in current) == wanted:
        return None
    return _finalizers(studio, [*current, L.RECLAIM_FINALIZER] if wanted else
                       [f for f in current if f != L.RECLAIM_FINALIZER])


def own_claim(pvc: dict[str, Any] | None, studio: CodeStudio) -> bool:
    """The claim was made for this studio (its uid annotation; an owner reference before 0035)."""
    if pvc is None:
        return False
    uid = studio.metadata.uid
    return (pvc["metadata"].get("annotations") or {}).get(L.STUDIO_UID) == uid or L.controller_uid(pvc) == uid


def release(studio: CodeStudio, pvc: dict[str, Any] | None) -> list[Action]:
    """What a studio being deleted with the finalizer needs: under Delete its own claim deleted
    (that incarnation only), then the finalizer gone. A claim someone else's studio made, or one
    already being deleted, is left alone."""
    actions: list[Action] = []
    if (studio.spec.volume_reclaim_policy == "Delete" and own_claim(pvc, studio)
            and pvc is not None and not pvc["metadata"].get("deletionTimestamp")):
        actions.append(Delete("PersistentVolumeClaim", pvc["metadata"]["name"], pvc["metadata"]["uid"]))
    if L.RECLAIM_FINALIZER in (studio.metadata.finalizers or []):
        actions.append(_finalizers(studio, [f for f in studio.metadata.finalizers if f != L.RECLAIM_FINALIZER]))
    return actions
