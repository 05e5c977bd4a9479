"""Small builders of observed objects for the pure studio tests."""

from __future__ import annotations

from typing import Any

from studio_operator.api import CodeStudio, CodeStudioTemplate, Workspace


def studio(name: str = "s", namespace: str = "ns", status: dict | None = None, annotations: dict | None = None,
           **spec: Any) -> CodeStudio:
    return CodeStudio.model_validate({
        "apiVersion": "studio.dev/v1alpha1",
        "kind": "CodeStudio",
        "metadata": {"name": name, "namespace": namespace, "uid": "uid-1", "generation": 3, "resourceVersion": "41",
                     "annotations": annotations or {}},
        "spec": {"template": "py", "owner": "alice", **spec},
        "status": status or {},
    })


def template(image: str | None = "example.org/py:1", status: dict | None = None, **spec: Any) -> CodeStudioTemplate:
    image_spec = {"prebuilt": image} if image else {"build": {"baseImage": "python:3.12", "registry": {"repository": "r.example.org/s/py"}}}
    return CodeStudioTemplate.model_validate({
        "apiVersion": "studio.dev/v1alpha1",
        "kind": "CodeStudioTemplate",
        "metadata": {"name": "py", "uid": "tuid"},
        "spec": {"image": image_spec, "ports": [{"name": "http", "port": 8888}], **spec},
        "status": status or {},
    })


def workspace(**spec: Any) -> Workspace:
    return Workspace.model_validate({
        "apiVersion": "studio.dev/v1alpha1",
        "kind": "Workspace",
        "metadata": {"name": "team", "uid": "wuid"},
        "spec": {"namespace": "ns", **spec},
    })


def pod_status(phase: str = "Running", ready: bool = True, waiting: str | None = None,
               message: str = "", conditions: list | None = None, last_exit: int | None = None) -> dict[str, Any]:
    cs: dict[str, Any] = {"name": "studio", "image": "example.org/py:1", "ready": ready, "state": {}}
    if waiting:
        cs["state"] = {"waiting": {"reason": waiting, "message": message}}
    elif phase == "Running":
        cs["state"] = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    if last_exit is not None:
        cs["lastState"] = {"terminated": {"exitCode": last_exit, "reason": "Error"}}
    return {"phase": phase, "containerStatuses": [cs], "conditions": conditions or []}


def pod(status: dict[str, Any] | None = None, spec_hash: str = "h", deleting: bool = False,
        restart_at: str | None = None, image: str = "example.org/py:1", created: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    annotations = {"studio.dev/spec-hash": spec_hash}
    if restart_at:
        annotations["studio.dev/restart-requested-at"] = restart_at
    meta: dict[str, Any] = {"name": "s", "namespace": "ns", "uid": "pod-uid", "annotations": annotations,
                            "creationTimestamp": created}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {"containers": [{"image": image}]}, "status": status or pod_status()}


def pvc(phase: str = "Bound", owner: str | None = "alice", size: str = "10Gi", deleting: bool = False,
        studio_uid: str | None = None, controller: str | None = None) -> dict[str, Any]:
    """`studio_uid`: the studio the operator made the claim for, as its annotation says;
    `controller`: the studio its owner reference names (under volumeReclaimPolicy: Delete)."""
    annotations = {"studio.dev/owner": owner} if owner else {}
    if studio_uid:
        annotations["studio.dev/codestudio-uid"] = studio_uid
    meta: dict[str, Any] = {"name": "s-home", "namespace": "ns", "uid": "pvc-uid", "annotations": annotations}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    if controller:
        meta["ownerReferences"] = [{"kind": "CodeStudio", "name": "s", "uid": controller, "controller": True}]
    return {
        "metadata": meta,
        "spec": {"storageClassName": "standard", "resources": {"requests": {"storage": size}}},
        "status": {"phase": phase, "capacity": {"storage": size}},
    }
