"""Helpers for e2e tests of workspaces: manifests, impersonated kubectl, waits."""

from __future__ import annotations

import json
import pathlib
import subprocess
from typing import Any

from tests.e2e.kube import Cluster, unique_name

ROOT = pathlib.Path(__file__).resolve().parents[2]
API = "studio.dev/v1alpha1"


def workspace_manifest(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": API, "kind": "Workspace", "metadata": {"name": name}, "spec": spec}


def member(name: str, role: str, kind: str = "User") -> dict[str, str]:
    return {"kind": kind, "name": name, "role": role}


def install_member_roles(cluster: Cluster) -> None:
    """The ClusterRoles the install ships for workspace members (manifests/rbac/)."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "manifests" / "rbac"))


def make_workspace(cluster: Cluster, request, **spec: Any) -> str:
    """A workspace (and namespace) for one test, removed with everything in it afterwards."""
    name = unique_name("ws")
    cluster.apply(workspace_manifest(name, **spec))

    def remove():
        cluster.kubectl("patch", "workspace", name, "--type=merge", "-p", '{"spec":{"deletionPolicy":"Cascade"}}',
                        check=False)
        cluster.kubectl("delete", "workspace", name, "--wait=false", "--ignore-not-found", check=False)

    request.addfinalizer(remove)
    return name


def workspace(cluster: Cluster, name: str) -> dict[str, Any] | None:
    return cluster.get("workspace", name)


def wait_phase(cluster: Cluster, name: str, phase: str, timeout: float = 30) -> dict[str, Any]:
    return cluster.wait_for_object(lambda: workspace(cluster, name),
                                   lambda obj: obj.get("status", {}).get("phase") == phase,
                                   timeout=timeout, what=f"workspace {name} to be {phase}")


def wait_ready(cluster: Cluster, name: str, timeout: float = 30) -> dict[str, Any]:
    def ready(obj: dict[str, Any]) -> bool:
        return any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get("conditions") or [])

    return cluster.wait_for_object(lambda: workspace(cluster, name), ready, timeout=timeout,
                                   what=f"workspace {name} to be Ready")


def as_user(user: str, *groups: str) -> list[str]:
    return ["--as", user, *(a for g in groups for a in ("--as-group", g))]


def kubectl_as(cluster: Cluster, user: str, *args: str, groups: tuple[str, ...] = (), input: str | None = None,
               check: bool = False) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl(*as_user(user, *groups), *args, input=input, check=check)


def apply_as(cluster: Cluster, user: str, manifest: dict[str, Any], groups: tuple[str, ...] = ()):
    return kubectl_as(cluster, user, "apply", "-f", "-", groups=groups, input=json.dumps(manifest))


def can_i(cluster: Cluster, user: str, *args: str, groups: tuple[str, ...] = ()) -> bool:
    """`kubectl auth can-i` for an impersonated user: True for yes, False for no."""
    out = kubectl_as(cluster, user, "auth", "can-i", *args, groups=groups).stdout.strip()
    assert out in ("yes", "no"), out
    return out == "yes"


def patch_as(cluster: Cluster, user: str, kind: str, name: str, patch: dict[str, Any], namespace: str | None = None):
    ns = ["-n", namespace] if namespace else []
    return kubectl_as(cluster, user, *ns, "patch", kind, name, "--type=merge", "-p", json.dumps(patch))
