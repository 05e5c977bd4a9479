"""GitOps: the operator never writes spec, and the Argo CD health checks judge live objects right."""

from __future__ import annotations

import json

from tests.argocd import health
from tests.e2e.kube import Cluster, unique_name
from tests.e2e.operator import OperatorProcess
from tests.e2e.studios import make_template, restart, run_stop_start, set_spec, studio_manifest, wait_state
from tests.e2e.workspaces import wait_phase

# What this test itself writes with: kubectl's client-side apply, and kubectl patch.
TEST_MANAGERS = {"kubectl-client-side-apply", "kubectl-patch", "kubectl"}


def live(cluster: Cluster, kind: str, name: str, namespace: str | None = None) -> dict:
    args = ["get", kind, name, "-o", "json", "--show-managed-fields"] + (["-n", namespace] if namespace else [])
    return json.loads(cluster.kubectl(*args).stdout)


def spec_writers(obj: dict) -> set[str]:
    return {m["manager"] for m in obj["metadata"]["managedFields"] if "f:spec" in m.get("fieldsV1", {})}


def test_operator_never_writes_spec(cluster: Cluster, running_operator: OperatorProcess, request):
    workspace = unique_name("gitops")
    cluster.apply({"apiVersion": "studio.dev/v1alpha1", "kind": "Workspace", "metadata": {"name": workspace},
                   "spec": {"displayName": "GitOps", "deletionPolicy": "Cascade",
                            "members": [{"kind": "User", "name": "alice", "role": "owner"}]}})
    request.addfinalizer(lambda: cluster.kubectl("delete", "workspace", workspace, "--wait=false", check=False))
    wait_phase(cluster, workspace, "Active", timeout=60)
    namespace = workspace  # the studio lives in the workspace's own namespace
    tpl = make_template(cluster, request, updatePolicy="Immediate")
    run_stop_start(cluster, namespace, "git", tpl)
    restart(cluster, namespace, "git")
    # A template change the operator rolls out to the studio itself (updatePolicy: Immediate).
    cluster.kubectl("patch", "codestudiotemplate", tpl, "--type=merge",
                    "-p", json.dumps({"spec": {"env": [{"name": "ROLLED", "value": "1"}]}}))

    def rolled_out() -> bool:
        pod = cluster.get("pod", "git", namespace)  # None while the rollout replaces it
        return bool(pod) and any(e["name"] == "ROLLED" for e in pod["spec"]["containers"][0].get("env", []))

    cluster.wait_for(rolled_out, timeout=60, what="the template change rolled out to the studio's pod")
    wait_state(cluster, namespace, "git", "Running")

    objects = [live(cluster, "codestudio", "git", namespace), live(cluster, "codestudiotemplate", tpl),
               live(cluster, "workspace", workspace)]
    for obj in objects:
        managers = {m["manager"] for m in obj["metadata"]["managedFields"]}
        assert spec_writers(obj) <= TEST_MANAGERS, (obj["kind"], spec_writers(obj))
        assert "kopf" not in managers  # kopf stores nothing on users' objects
    # The operator's writes are there, under its own name, and only on status (and the finalizers
    # of templates and workspaces, in metadata).
    for obj in objects:
        ours = [m for m in obj["metadata"]["managedFields"] if m["manager"] == "studio-operator"]
        assert ours and all(m.get("subresource") == "status" or set(m["fieldsV1"]) == {"f:metadata"} for m in ours), ours


def test_argocd_health_of_live_objects(cluster: Cluster, namespace: str, running_operator: OperatorProcess, request):
    tpl = make_template(cluster, request)
    assert cluster.wait_for(lambda: health(live(cluster, "codestudiotemplate", tpl))["status"] == "Healthy",
                            timeout=30, what="the template Healthy")

    # The studio as created, before the operator reports (a quick start may be Running by the next read).
    first = health(json.loads(cluster.apply(studio_manifest("argo", namespace, tpl), "-o", "json").stdout))
    assert first["status"] == "Progressing"
    wait_state(cluster, namespace, "argo", "Running")
    assert health(live(cluster, "codestudio", "argo", namespace)) == {"status": "Healthy", "message": "Running"}

    set_spec(cluster, namespace, "argo", state="Stopped")
    wait_state(cluster, namespace, "argo", "Stopped")
    assert health(live(cluster, "codestudio", "argo", namespace))["status"] == "Suspended"

    broken = make_template(cluster, request, image="registry.example.invalid/nope:1")
    cluster.apply(studio_manifest("broken", namespace, broken))
    obj = wait_state(cluster, namespace, "broken", "Failed")
    verdict = health(obj)
    assert verdict["status"] == "Degraded" and "ErrImagePull" in verdict["message"]
