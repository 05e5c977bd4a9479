"""studioctl doctor: exit code 0 only when healthy; each problem named with its next step;
--fix repairs what is safe."""

from __future__ import annotations

import json

import pytest

from tests.e2e.cli import studioctl
from tests.e2e.kube import Cluster, unique_name
from tests.e2e.operator import OperatorProcess, free_port
from tests.e2e.studios import build_template, make_template, studio_manifest, wait_state
from tests.e2e.workspaces import install_member_roles, wait_phase, workspace_manifest


@pytest.fixture
def member_roles(cluster: Cluster) -> None:
    install_member_roles(cluster)


def reported(proc, text: str) -> bool:
    """Whether a line of the report contains text, the report's column padding aside."""
    return any(" ".join(text.split()) in " ".join(line.split()) for line in proc.stdout.splitlines())


def problems(proc) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith("[PROBLEM]")]


def test_doctor_names_an_operator_that_is_not_running(cluster: Cluster, crds):
    url = f"http://127.0.0.1:{free_port()}/healthz"
    proc = studioctl(cluster, "doctor", "--operator-url", url)
    assert proc.returncode == 1
    assert reported(proc, f"[PROBLEM] operator {url}: not running"), proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("unhealthy:")

    # Without a Deployment and without a URL to ask, doctor says so and how to fix it.
    plain = studioctl(cluster, "doctor")
    assert plain.returncode == 1
    assert "no operator is running: no Deployment studio-operator in studio-system" in plain.stdout
    assert "next: install or upgrade the operator" in plain.stdout


def test_doctor_reports_crds_ok(cluster: Cluster, crds):
    report = json.loads(studioctl(cluster, "doctor", "-o", "json").stdout)
    crds_seen = {f["subject"]: f["status"] for f in report["findings"] if f["check"] == "crds"}
    assert crds_seen == {f"crd/{n}.studio.dev": "ok" for n in ("codestudios", "codestudiotemplates", "workspaces")}
    assert report["healthy"] is False  # no operator reachable: see above
    assert all(set(f) == {"check", "subject", "status", "message", "next_step"} for f in report["findings"])


def test_doctor_names_a_foreign_namespace(cluster: Cluster, ws_name: str, namespace: str):
    cluster.apply(workspace_manifest(ws_name, namespace=namespace))
    proc = studioctl(cluster, "doctor", ws_name)
    assert proc.returncode == 1
    assert reported(proc, f"[PROBLEM] workspace workspace/{ws_name} namespace/{namespace}: was not created for this workspace")


def test_doctor_names_a_missing_storage_class_and_push_secret(cluster: Cluster, ws_name: str, request):
    cluster.apply(workspace_manifest(ws_name, defaults={"storageClassName": "no-such-class"}))
    tpl, _ = build_template(cluster, request, push_secret="no-such-secret")

    proc = studioctl(cluster, "doctor")
    assert proc.returncode == 1
    assert reported(proc, f"[PROBLEM] storage workspace/{ws_name}: spec.defaults.storageClassName no-such-class does not exist")
    assert reported(proc, f"[PROBLEM] registry codestudiotemplate/{tpl}: push secret studio-system/no-such-secret does not exist")


def probe_webhook(cluster: Cluster, request, hint: str, client_config: dict) -> str:
    """A validating webhook for workspace creates that calls client_config; its configuration's name."""
    name = unique_name(hint)
    cluster.apply({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration", "metadata": {"name": name},
        "webhooks": [{
            "name": "probe.studio.dev", "admissionReviewVersions": ["v1"], "sideEffects": "None",
            "failurePolicy": "Ignore",  # other tests keep creating workspaces meanwhile
            "clientConfig": client_config,
            "rules": [{"apiGroups": ["studio.dev"], "apiVersions": ["v1alpha1"], "operations": ["CREATE"], "resources": ["workspaces"]}],
        }],
    })
    request.addfinalizer(lambda: cluster.kubectl("delete", "validatingwebhookconfiguration", name, check=False))
    return name


def test_doctor_names_an_unreachable_webhook(cluster: Cluster, crds, request):
    port = free_port()  # nothing listens there
    name = probe_webhook(cluster, request, "doctor-hook", {"url": f"https://127.0.0.1:{port}/validate"})
    proc = studioctl(cluster, "doctor")
    assert proc.returncode == 1
    assert reported(proc, f"[PROBLEM] webhooks validatingwebhookconfiguration/{name} (probe.studio.dev): not reachable: "
                          f"127.0.0.1:{port} does not answer")
    assert "failurePolicy Ignore, so its checks are skipped" in proc.stdout


def test_doctor_names_webhooks_left_by_an_uninstalled_operator(cluster: Cluster, crds, request):
    """`helm uninstall` removes the webhook Service but not the configurations the operator
    registered; the doctor says to delete them."""
    service = unique_name("gone")
    name = probe_webhook(cluster, request, "doctor-gone", {"service": {"namespace": "default", "name": service, "port": 443}})
    proc = studioctl(cluster, "doctor")
    assert proc.returncode == 1
    assert reported(proc, f"[PROBLEM] webhooks validatingwebhookconfiguration/{name} (probe.studio.dev): not reachable: "
                          f"its Service default/{service} does not exist")
    assert reported(proc, "the operator that registered it was uninstalled or had its webhooks turned off: delete its "
                          f"configurations (kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration {name})")


@pytest.mark.usefixtures("running_operator")
def test_doctor_names_stuck_deletions_and_failed_studios(cluster: Cluster, namespace: str, request):
    unpullable = make_template(cluster, request, image="registry.invalid/studios/none:1")  # kwok fails the pull
    cluster.apply(studio_manifest("broken", namespace, unpullable, owner="kim"))
    wait_state(cluster, namespace, "broken", "Failed")
    held = studio_manifest("held", namespace, unpullable, owner="kim", state="Stopped")
    held["metadata"]["finalizers"] = ["test.studio.dev/hold"]
    cluster.apply(held)
    request.addfinalizer(lambda: cluster.kubectl("-n", namespace, "patch", "codestudio", "held", "--type=json", "-p",
                                                 '[{"op":"remove","path":"/metadata/finalizers"}]', check=False))
    cluster.kubectl("-n", namespace, "delete", "codestudio", "held", "--wait=false")

    proc = studioctl(cluster, "doctor", "--stuck-after", "0s")
    assert proc.returncode == 1
    assert reported(proc, f"[PROBLEM] stuck codestudio/{namespace}/held: deleting for")
    assert reported(proc, "held by finalizers test.studio.dev/hold")
    assert reported(proc, f"[PROBLEM] stuck codestudio/{namespace}/broken: Failed: ErrImagePull: failed to pull image")
    assert f"next: fix what the message names; the studio recovers by itself once the cause is gone (studioctl studio status broken -n {namespace})" in proc.stdout


# --- with the whole operator (studios, workspaces, webhooks) -------------------------------------


def wait_active(cluster: Cluster, name: str) -> dict:
    return wait_phase(cluster, name, "Active", timeout=60)


def test_doctor_exits_0_on_a_healthy_install(cluster: Cluster, ws_name: str, member_roles, running_operator: OperatorProcess):
    cluster.apply(workspace_manifest(ws_name, members=[{"name": "alice", "role": "owner"}]))
    wait_active(cluster, ws_name)
    proc = studioctl(cluster, "doctor", ws_name, "--operator-url", running_operator.health_url)
    assert proc.returncode == 0, proc.stdout
    assert not problems(proc)
    assert reported(proc, f"[ok] operator {running_operator.health_url}: healthy (HTTP 200)")
    assert proc.stdout.splitlines()[-1].startswith("healthy:")


def test_doctor_fix_restores_a_deleted_role_binding(cluster: Cluster, ws_name: str, member_roles,
                                                   running_operator: OperatorProcess):
    cluster.apply(workspace_manifest(ws_name, members=[{"name": "alice", "role": "owner"}, {"name": "bob", "role": "member"}]))
    namespace = wait_active(cluster, ws_name)["status"]["namespace"]
    binding = "studio-workspace-member"
    original = cluster.wait_for(lambda: cluster.get("rolebinding", binding, namespace), timeout=30, what="the members' binding")
    assert {"kind": "User", "name": "bob"}.items() <= original["subjects"][0].items()
    # Deleted by hand while no operator runs to put it back.
    running_operator.stop()
    cluster.kubectl("-n", namespace, "delete", "rolebinding", binding)
    assert cluster.kubectl("auth", "can-i", "list", "codestudios", "-n", namespace, "--as", "bob", check=False).stdout.strip() == "no"

    found = studioctl(cluster, "doctor", ws_name)
    assert found.returncode == 1
    assert reported(found, f"[PROBLEM] workspace workspace/{ws_name} rolebinding/{namespace}/{binding}: "
                           "missing: User bob (member) has no access"), found.stdout
    assert reported(found, f"next: studioctl doctor {ws_name} --fix restores it")
    assert cluster.get("rolebinding", binding, namespace) is None  # without --fix doctor changes nothing

    fixed = studioctl(cluster, "doctor", ws_name, "--fix")
    assert reported(fixed, f"[FIXED] workspace workspace/{ws_name} rolebinding/{namespace}/{binding}: "
                           "missing: User bob (member) has no access; restored as the operator builds it"), fixed.stdout
    restored = cluster.get("rolebinding", binding, namespace)
    assert restored["roleRef"] == original["roleRef"] and restored["subjects"] == original["subjects"]
    assert restored["metadata"]["ownerReferences"] == original["metadata"]["ownerReferences"]
    assert cluster.kubectl("auth", "can-i", "list", "codestudios", "-n", namespace, "--as", "bob", check=False).stdout.strip() == "yes"
    assert fixed.returncode == 1  # the operator is still down
    assert reported(fixed, "[PROBLEM] operator")

    running_operator.start()
    healthy = studioctl(cluster, "doctor", ws_name, "--operator-url", running_operator.health_url)
    assert healthy.returncode == 0, healthy.stdout
    again = cluster.get("rolebinding", binding, namespace)
    assert again["metadata"]["uid"] == restored["metadata"]["uid"]  # the operator kept what doctor restored


def operator_deployment(name: str, namespace: str, image: str = "registry.example.com/studio-operator:1", replicas: int = 1) -> dict:
    labels = {"app.kubernetes.io/name": "studio-operator", "app.kubernetes.io/component": "operator",
              "app.kubernetes.io/instance": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "operator", "image": image}]}}}}


def test_doctor_judges_the_operator_deployment(cluster: Cluster, crds, namespace: str):
    """How a real install looks to doctor: the Deployment's readiness (its pods' probes), its
    replicas, and how many there are. kwok runs the pods; what they run does not matter here."""
    cluster.apply(operator_deployment("studio-operator", namespace))
    cluster.kubectl("-n", namespace, "rollout", "status", "deployment/studio-operator", "--timeout=60s")
    proc = studioctl(cluster, "doctor", "--operator-namespace", namespace)
    assert reported(proc, f"[ok] operator deployment/{namespace}/studio-operator: running, 1 of 1 ready"), proc.stdout

    cluster.kubectl("-n", namespace, "scale", "deployment/studio-operator", "--replicas=2")
    proc = studioctl(cluster, "doctor", "--operator-namespace", namespace)
    assert reported(proc, f"[PROBLEM] operator deployment/{namespace}/studio-operator: 2 replicas would reconcile the same objects")
    cluster.kubectl("-n", namespace, "scale", "deployment/studio-operator", "--replicas=1")

    # A second release, say from another Helm install, whose image does not pull.
    cluster.apply(operator_deployment("second-studio-operator", namespace, image="registry.invalid/studio-operator:1"))
    proc = studioctl(cluster, "doctor", "--operator-namespace", namespace)
    assert proc.returncode == 1
    assert reported(proc, f"[PROBLEM] operator deployments: 2 operators would reconcile the same objects: "
                          f"{namespace}/second-studio-operator, {namespace}/studio-operator"), proc.stdout
    cluster.wait_for(lambda: "ImagePull" in studioctl(cluster, "doctor", "--operator-namespace", namespace).stdout,
                     timeout=60, what="the failed pull to show")
    proc = studioctl(cluster, "doctor", "--operator-namespace", namespace)
    assert reported(proc, f"[PROBLEM] operator deployment/{namespace}/second-studio-operator: not running: 0 of 1 replicas ready (pods:")
