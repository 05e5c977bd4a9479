"""Small builders of workspaces and observed objects for the pure workspace tests."""

from __future__ import annotations

from typing import Any

from studio_operator.api import Workspace

TEAM = [
    {"kind": "User", "name": "olivia", "role": "owner"},
    {"kind": "User", "name": "adam", "role": "admin"},
    {"kind": "Group", "name": "devs", "role": "member"},
    {"kind": "ServiceAccount", "name": "ci", "namespace": "tools", "role": "member"},
    {"kind": "Group", "name": "auditors", "role": "viewer"},
]


def workspace(name: str = "team", finalizers: tuple[str, ...] = ("studio.dev/workspace",), deleting: bool = False,
              **spec: Any) -> Workspace:
    meta: dict[str, Any] = {"name": name, "uid": "wuid", "generation": 2, "resourceVersion": "41",
                            "finalizers": list(finalizers)}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return Workspace.model_validate({"apiVersion": "studio.dev/v1alpha1", "kind": "Workspace", "metadata": meta,
                                     "spec": {"members": TEAM, **spec}})


def namespace(name: str = "team", owner_uid: str | None = "wuid", deleting: bool = False,
              legacy: bool = False) -> dict[str, Any]:
    """A namespace made for the workspace of owner_uid: annotated with its UID, or (legacy) with an
    owner reference to it, as earlier versions made it."""
    meta: dict[str, Any] = {"name": name, "uid": "ns-uid", "resourceVersion": "7", "labels": {}}
    if owner_uid and legacy:
        meta["ownerReferences"] = [{"apiVersion": "studio.dev/v1alpha1", "kind": "Workspace", "name": name,
                                    "uid": owner_uid, "controller": True}]
    elif owner_uid:
        meta["annotations"] = {"studio.dev/workspace-uid": owner_uid}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta, "status": {"phase": "Active"}}


def studio(name: str, state: str | None = "Running", deleting: bool = False, waiting_for_quota: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "team", "uid": f"{name}-uid"}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status: dict[str, Any] = {"state": state} if state else {}
    if waiting_for_quota:
        status["conditions"] = [{"type": "PodReady", "status": "False", "reason": "QuotaExceeded"}]
    return {"apiVersion": "studio.dev/v1alpha1", "kind": "CodeStudio", "metadata": meta, "spec": {"template": "py"},
            "status": status}


def pod(studio_name: str, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": studio_name, "namespace": "team", "uid": f"{studio_name}-pod",
                            "labels": {"studio.dev/codestudio": studio_name}}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": {"phase": "Running"}}


def claim(studio_name: str, volume: str | None = "pv-1", owned: bool = False, owner: str = "olivia") -> dict[str, Any]:
    meta: dict[str, Any] = {"name": f"{studio_name}-home", "namespace": "team", "uid": f"{studio_name}-pvc",
                            "labels": {"studio.dev/codestudio": studio_name},
                            "annotations": {"studio.dev/owner": owner}}
    if owned:
        meta["ownerReferences"] = [{"kind": "CodeStudio", "name": studio_name, "uid": f"{studio_name}-uid"}]
    spec = {"volumeName": volume} if volume else {}
    return {"metadata": meta, "spec": spec, "status": {"phase": "Bound" if volume else "Pending"}}


def quota(hard: dict[str, str], used: dict[str, str] | None = None) -> dict[str, Any]:
    """A ResourceQuota as the quota controller leaves it: status.hard and status.used counted."""
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "workspace-quota", "namespace": "team", "uid": "q-uid"},
            "spec": {"hard": hard}, "status": {"hard": hard, "used": used or {k: "0" for k in hard}}}
