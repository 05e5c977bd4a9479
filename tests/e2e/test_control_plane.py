"""The local control plane is a real Kubernetes: scheduling, volumes, RBAC, admission, GC."""

from __future__ import annotations

import os
import pathlib

from tests.e2e.kube import Cluster, unique_name

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pinned_kube_version() -> str:
    for line in (ROOT / "hack" / "versions.env").read_text().splitlines():
        if line.startswith("KUBE_VERSION="):
            return line.split("=", 1)[1]
    raise AssertionError("KUBE_VERSION missing from hack/versions.env")


def test_server_reports_the_pinned_release(cluster: Cluster):
    version = cluster.server_version()
    if os.environ.get("KUBECONFIG") and cluster.kubeconfig == os.environ["KUBECONFIG"]:
        assert version["gitVersion"].startswith("v1.")  # someone else's cluster
    else:
        assert version["gitVersion"] == pinned_kube_version()
        assert (version["major"], version["minor"]) == ("1", pinned_kube_version().split(".")[1])


def test_pod_with_volume_runs_and_binds(cluster: Cluster, namespace: str):
    cluster.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": {"name": "home", "namespace": namespace},
                "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "app", "namespace": namespace},
                "spec": {
                    "containers": [{"name": "app", "image": "busybox:1.36", "volumeMounts": [{"name": "home", "mountPath": "/home"}]}],
                    "volumes": [{"name": "home", "persistentVolumeClaim": {"claimName": "home"}}],
                },
            },
        ]
    )
    pvc = cluster.wait_for(
        lambda: (p := cluster.get("pvc", "home", namespace)) and p["status"].get("phase") == "Bound" and p,
        timeout=60,
        what="the PVC to bind",
    )
    assert pvc["status"]["capacity"]["storage"] == "1Gi"
    assert pvc["spec"]["storageClassName"] == "standard"  # the default class was applied
    pod = cluster.wait_for(
        lambda: (p := cluster.get("pod", "app", namespace)) and p["status"].get("phase") == "Running" and p,
        timeout=60,
        what="the pod to run",
    )
    assert pod["spec"]["nodeName"]  # kube-scheduler placed it
    assert all(cs["ready"] for cs in pod["status"]["containerStatuses"])


def test_job_completes(cluster: Cluster, namespace: str):
    cluster.apply(
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "once", "namespace": namespace},
            "spec": {"template": {"spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox:1.36"}]}}},
        }
    )
    cluster.wait_for(
        lambda: (cluster.get("job", "once", namespace) or {}).get("status", {}).get("succeeded") == 1,
        timeout=90,
        what="the Job to complete",
    )


def test_rbac_is_enforced_for_impersonated_users(cluster: Cluster, namespace: str):
    def can_i(verb: str, resource: str) -> str:
        proc = cluster.kubectl("auth", "can-i", verb, resource, "-n", namespace, "--as", "alice", check=False)
        return proc.stdout.strip()

    assert can_i("get", "pods") == "no"
    cluster.kubectl("-n", namespace, "create", "role", "reader", "--verb=get,list", "--resource=pods")
    cluster.kubectl("-n", namespace, "create", "rolebinding", "alice-reads", "--role=reader", "--user=alice")
    cluster.wait_for(lambda: can_i("get", "pods") == "yes", timeout=10, what="the binding to apply")
    assert can_i("delete", "pods") == "no"
    denied = cluster.kubectl("-n", namespace, "--as", "alice", "delete", "pod", "x", check=False)
    assert denied.returncode != 0
    assert 'User "alice" cannot delete resource "pods"' in denied.stderr


def test_pod_security_admission_enforces_restricted(cluster: Cluster, namespace: str):
    cluster.kubectl("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    denied = cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "root", "namespace": namespace},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}]},
        },
        check=False,
    )
    assert denied.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in denied.stderr
    assert "privileged" in denied.stderr


def test_owner_references_are_garbage_collected(cluster: Cluster, namespace: str):
    owner = cluster.apply(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owner", "namespace": namespace}}
    )
    assert owner.returncode == 0
    uid = cluster.get("configmap", "owner", namespace)["metadata"]["uid"]
    cluster.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "child",
                "namespace": namespace,
                "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}],
            },
        }
    )
    cluster.kubectl("-n", namespace, "delete", "configmap", "owner")
    cluster.wait_for(lambda: cluster.get("configmap", "child", namespace) is None, timeout=60, what="GC of the child")


def test_namespaces_finish_deleting(cluster: Cluster):
    name = unique_name("doomed")
    cluster.kubectl("create", "namespace", name)
    cluster.kubectl("-n", name, "create", "configmap", "x")
    cluster.kubectl("delete", "namespace", name, "--wait=false")
    cluster.wait_for(lambda: cluster.get("namespace", name) is None, timeout=90, what="the namespace to go")
