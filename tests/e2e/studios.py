"""Helpers for e2e tests of studios: manifests and waits that read like what a user does."""

from __future__ import annotations

import datetime
import json
import pathlib
from typing import Any

from tests.e2e.kube import Cluster, unique_name

API = "studio.dev/v1alpha1"


def template_manifest(name: str, image: str = "quay.io/jupyter/base-notebook:2024-12-02", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "CodeStudioTemplate",
        "metadata": {"name": name},
        "spec": {"image": {"prebuilt": image}, "ports": [{"name": "http", "port": 8888}], **spec},
    }


def studio_manifest(name: str, namespace: str, template: str, owner: str = "alice", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "CodeStudio",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": template, "owner": owner, **spec},
    }


def make_template(cluster: Cluster, request, image: str = "quay.io/jupyter/base-notebook:2024-12-02", **spec: Any) -> str:
    """A cluster-scoped template for one test, deleted after it."""
    name = unique_name("tpl")
    cluster.apply(template_manifest(name, image, **spec))
    request.addfinalizer(lambda: remove_template(cluster, name))
    return name


BUILD_NAMESPACE = "studio-system"  # the operator's namespace (STUDIO_NAMESPACE's default), where builds run
BUILD_REPOSITORY = "registry.example.com/studios/py"
# kwok's stages that play the image builder's contract (a test-only Stage).
BUILD_STAGES = pathlib.Path(__file__).parent / "stages" / "image-build.yaml"


def build_template(cluster: Cluster, request, repository: str = BUILD_REPOSITORY, apt: tuple[str, ...] = ("git",),
                   pip: tuple[str, ...] = ("numpy==2.1.0",), builder: str | None = None,
                   push_secret: str | None = "registry-push", **spec: Any) -> tuple[str, dict[str, Any]]:
    """A template the operator builds, for one test; removed after it (after its studios)."""
    name = unique_name("build")
    manifest = template_manifest(name, **spec)
    registry = {"repository": repository, **({"pushSecretRef": {"name": push_secret}} if push_secret else {})}
    manifest["spec"]["image"] = {"build": {
        "baseImage": "python:3.12-slim",
        "aptPackages": list(apt),
        "pipPackages": list(pip),
        "registry": registry,
        **({"builderImage": builder} if builder else {}),
    }}
    cluster.apply(manifest)
    request.addfinalizer(lambda: remove_template(cluster, name))
    return name, manifest


def remove_template(cluster: Cluster, name: str) -> None:
    """Deletes the template after the studios that use it (a template in use cannot be deleted)."""
    studios = json.loads(cluster.kubectl("get", "codestudios", "--all-namespaces", "-o", "json").stdout)["items"]
    for s in studios:
        if s["spec"].get("template") == name:
            cluster.kubectl("-n", s["metadata"]["namespace"], "delete", "codestudio", s["metadata"]["name"],
                            "--ignore-not-found", check=False)
    cluster.kubectl("delete", "codestudiotemplate", name, "--wait=false", "--ignore-not-found", check=False)


def studio(cluster: Cluster, namespace: str, name: str) -> dict[str, Any] | None:
    return cluster.get("codestudio", name, namespace)


def wait_state(cluster: Cluster, namespace: str, name: str, state: str, timeout: float = 60) -> dict[str, Any]:
    return cluster.wait_for_object(lambda: studio(cluster, namespace, name),
                                   lambda obj: obj.get("status", {}).get("state") == state,
                                   timeout=timeout, what=f"studio {namespace}/{name} to be {state}")


def condition(obj: dict[str, Any], type_: str) -> dict[str, Any]:
    return next(c for c in obj["status"]["conditions"] if c["type"] == type_)


def pod_uid(cluster: Cluster, namespace: str, name: str) -> str | None:
    pod = cluster.get("pod", name, namespace)
    return pod["metadata"]["uid"] if pod else None


def pvc_uid(cluster: Cluster, namespace: str, claim: str) -> str | None:
    pvc = cluster.get("pvc", claim, namespace)
    return pvc["metadata"]["uid"] if pvc else None


def rfc3339_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def restart(cluster: Cluster, namespace: str, name: str, timeout: float = 60) -> dict[str, Any]:
    """Requests a restart as `kubectl studio restart` would, and waits until it is carried out and Running."""
    requested = rfc3339_now()
    set_spec(cluster, namespace, name, restartRequestedAt=requested)
    return cluster.wait_for_object(
        lambda: studio(cluster, namespace, name),
        lambda o: o.get("status", {}).get("restartedAt") == requested and o["status"]["state"] == "Running",
        timeout=timeout, what=f"studio {namespace}/{name} to restart (restartedAt {requested}) and run",
    )


def set_spec(cluster: Cluster, namespace: str, name: str, **fields: Any) -> None:
    cluster.kubectl("-n", namespace, "patch", "codestudio", name, "--type=merge", "-p", json.dumps({"spec": fields}))


def run_stop_start(cluster: Cluster, namespace: str, name: str, template: str) -> dict[str, Any]:
    """Creates a studio and takes it through Running, Stopped and Running again."""
    cluster.apply(studio_manifest(name, namespace, template))
    wait_state(cluster, namespace, name, "Running")
    set_spec(cluster, namespace, name, state="Stopped")
    wait_state(cluster, namespace, name, "Stopped")
    set_spec(cluster, namespace, name, state="Running")
    return wait_state(cluster, namespace, name, "Running")
