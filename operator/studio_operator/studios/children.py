"""Pure builders: a CodeStudio (and what it resolves to) in, the desired child objects out."""

from __future__ import annotations

import dataclasses
from typing import Any

from .. import labels as L
from ..api.common import GROUP
from ..quantity import quantity_value
from .settings import StudioSettings

CONTAINER = "studio"
HOME_VOLUME = "home"


@dataclasses.dataclass(frozen=True)
class StudioRef:
    """The identity of a CodeStudio that its children point back to."""

    name: str
    namespace: str
    uid: str
    owner: str | None

    @property
    def pod_name(self) -> str:
        return self.name

    @property
    def service_name(self) -> str:
        return self.name

    @property
    def claim_name(self) -> str:
        return f"{self.name}-home"

    @property
    def access_name(self) -> str:
        return f"{self.name}-access"


def _metadata(ref: StudioRef, name: str, component: str, owned: bool = True) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": name,
        "namespace": ref.namespace,
        "labels": {**L.app_labels("codestudio", ref.name, component), L.STUDIO: ref.name},
    }
    if owned:
        meta["ownerReferences"] = [L.owner_reference("CodeStudio", ref.name, ref.uid)]
    return meta


def build_pvc(ref: StudioRef, settings: StudioSettings, observed: dict[str, Any] | None) -> dict[str, Any]:
    """The home volume. It has no owner reference, so the garbage collector never deletes it; under
    volumeReclaimPolicy: Delete the operator does, when the studio goes (reclaim.py).

    An existing claim keeps its storage class as it is (immutable: applying without a class the
    operator once named would remove it, a 422) and never shrinks. The class is left out of the
    hash: the cluster filling in its default, or the workspace's default changing, is no change
    to apply. With no class configured a new claim gets the cluster's default.
    """
    size = settings.storage_size
    storage_class = settings.storage_class
    if observed:
        storage_class = observed["spec"].get("storageClassName")
        size = larger_quantity(size, observed["spec"]["resources"]["requests"]["storage"])
    meta = _metadata(ref, ref.claim_name, "home-volume", owned=False)
    meta["annotations"] = {L.STUDIO_UID: ref.uid}
    # A studio whose owner was cleared leaves the volume its last owner's: no one's would be
    # anyone's to take once the studio is gone.
    holder = ref.owner or ((observed or {}).get("metadata", {}).get("annotations") or {}).get(L.OWNER)
    if holder:
        meta["annotations"][L.OWNER] = holder
    spec: dict[str, Any] = {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
    pvc = L.with_spec_hash({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": spec})
    if storage_class:
        spec["storageClassName"] = storage_class
    return pvc


def build_pod(ref: StudioRef, settings: StudioSettings, restart_requested_at: str | None) -> dict[str, Any]:
    """The studio's pod, restricted Pod Security: non-root, no escalation, no capabilities."""
    sec = settings.security
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": settings.image,
        "ports": [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in settings.ports],
        "env": [
            *({"name": v.name, "value": v.value} for v in settings.env),
            {"name": "STUDIO_NAME", "value": ref.name},
            {"name": "STUDIO_OWNER", "value": ref.owner or ""},
            {"name": "HOME", "value": settings.mount_path},
        ],
        "volumeMounts": [{"name": HOME_VOLUME, "mountPath": settings.mount_path}],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if settings.command:
        container["command"] = list(settings.command)
    if settings.args:
        container["args"] = list(settings.args)
    if settings.working_dir:
        container["workingDir"] = settings.working_dir
    if settings.resources:
        container["resources"] = settings.resources
    if settings.ports and settings.ports[0].protocol == "TCP":
        container["readinessProbe"] = {"tcpSocket": {"port": settings.ports[0].port}, "periodSeconds": 5}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _metadata(ref, ref.pod_name, "studio"),
        "spec": {
            "containers": [container],
            "volumes": [{"name": HOME_VOLUME, "persistentVolumeClaim": {"claimName": ref.claim_name}}],
            "restartPolicy": "Always",
            **({"serviceAccountName": settings.service_account} if settings.service_account else {}),
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "hostname": ref.name[:63],
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": sec.run_as_user,
                "runAsGroup": sec.run_as_group,
                "fsGroup": sec.fs_group,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        },
    }
    L.with_spec_hash(pod)
    if restart_requested_at:
        # Added after hashing: a restart is not a spec change.
        pod["metadata"]["annotations"][L.RESTART_AT] = restart_requested_at
    return pod


def build_service(ref: StudioRef, settings: StudioSettings) -> dict[str, Any] | None:
    if not settings.ports:
        return None
    return L.with_spec_hash({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(ref, ref.service_name, "studio"),
        "spec": {
            "type": "ClusterIP",
            "selector": {L.STUDIO: ref.name, "app.kubernetes.io/component": "studio"},
            "ports": [{"name": p.name, "port": p.port, "targetPort": p.port, "protocol": p.protocol} for p in settings.ports],
        },
    })


def build_access_role(ref: StudioRef) -> dict[str, Any]:
    """Change, stop, restart and delete this studio, and exec, attach, port-forward and proxy into
    its pod and service; nothing else. Workspace members get no more than create on studios, so
    this Role is what makes a studio its owner's own."""
    pod, svc = [ref.pod_name], [ref.service_name]
    return L.with_spec_hash({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(ref, ref.access_name, "access"),
        "rules": [
            {"apiGroups": [GROUP], "resources": ["codestudios"], "resourceNames": [ref.name],
             "verbs": ["get", "update", "patch", "delete"]},
            {"apiGroups": [""], "resources": ["pods"], "resourceNames": pod, "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["pods/log"], "resourceNames": pod, "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["pods/exec", "pods/attach", "pods/portforward"],
             "resourceNames": pod, "verbs": ["get", "create"]},
            {"apiGroups": [""], "resources": ["pods/proxy"], "resourceNames": pod, "verbs": ["get", "create", "update", "patch", "delete"]},
            {"apiGroups": [""], "resources": ["services/proxy"], "resourceNames": svc, "verbs": ["get", "create", "update", "patch", "delete"]},
        ],
    })


def build_access_binding(ref: StudioRef) -> dict[str, Any]:
    """The owner's access; a studio whose owner was cleared binds no one (revoked, not left as it was)."""
    return L.with_spec_hash({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(ref, ref.access_name, "access"),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ref.access_name},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": ref.owner}] if ref.owner else [],
    })


def endpoints(ref: StudioRef, settings: StudioSettings) -> list[dict[str, str]]:
    return [
        {"name": p.name, "url": f"http://{ref.service_name}.{ref.namespace}.svc:{p.port}"}
        for p in settings.ports
        if p.protocol == "TCP"
    ]


def larger_quantity(a: str, b: str) -> str:
    return a if quantity_value(a) >= quantity_value(b) else b
