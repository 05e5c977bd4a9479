"""CodeStudioTemplate image builds, digest pinning, rollout and in-use protection, against the
real API server: the Job controller runs the build Jobs and kwok's fake nodes play the builder
(tests/e2e/stages/image-build.yaml simulates its contract, nothing else)."""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time

import pytest

from tests.e2e.kube import Cluster
from tests.e2e.operator import validating_webhooks_bypassed
from tests.e2e.studios import (
    BUILD_NAMESPACE,
    BUILD_REPOSITORY,
    build_template,
    condition,
    make_template,
    pod_uid,
    restart,
    studio,
    studio_manifest,
    wait_state,
)

pytestmark = pytest.mark.usefixtures("running_operator", "builds")

REPOSITORY = BUILD_REPOSITORY


def patch_build(cluster: Cluster, name: str, **fields) -> None:
    patch = {"spec": {"image": {"build": fields}}}
    cluster.kubectl("patch", "codestudiotemplate", name, "--type=merge", "-p", json.dumps(patch))


def wait_build(cluster: Cluster, name: str, phase: str, not_hash: str | None = None, timeout: float = 60) -> dict:
    def reached(t: dict) -> bool:
        s = t.get("status", {})
        return s.get("build", {}).get("phase") == phase and s.get("buildHash") != not_hash

    return cluster.wait_for_object(lambda: cluster.get("codestudiotemplate", name), reached, timeout=timeout,
                                   what=f"template {name} build {phase}" + (f" (buildHash not {not_hash})" if not_hash else ""))


def build_jobs(cluster: Cluster, name: str) -> list[dict]:
    out = cluster.kubectl("-n", BUILD_NAMESPACE, "get", "jobs", "-l", f"studio.dev/template={name}", "-o", "json")
    return json.loads(out.stdout)["items"]


def pod_image(cluster: Cluster, namespace: str, name: str) -> str:
    return cluster.get("pod", name, namespace)["spec"]["containers"][0]["image"]


def test_build_pins_the_digest_and_unchanged_inputs_never_rebuild(cluster: Cluster, running_operator, request):
    name, manifest = build_template(cluster, request)
    started = time.monotonic()
    t = wait_build(cluster, name, "Succeeded")
    print(f"template build -> Succeeded in {time.monotonic() - started:.2f}s")
    status = t["status"]
    assert re.fullmatch(rf"{re.escape(REPOSITORY)}@sha256:[a-f0-9]{{64}}", status["image"])
    assert re.fullmatch(r"[a-f0-9]{32}", status["buildHash"])
    assert status["build"]["startedAt"] and status["build"]["finishedAt"] and status["build"]["attempts"] == 1
    assert condition(t, "Built")["status"] == "True"
    assert condition(t, "Ready")["status"] == "True"
    assert condition(t, "Pinned")["status"] == "True"

    [job] = build_jobs(cluster, name)
    assert job["metadata"]["name"] == status["build"]["job"]
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "image-build"
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CodeStudioTemplate"
    spec = job["spec"]
    assert spec["backoffLimit"] == 0 and spec["ttlSecondsAfterFinished"] > 0 and spec["activeDeadlineSeconds"] > 0
    pod = spec["template"]["spec"]
    builder = pod["containers"][0]
    assert f"--destination={REPOSITORY}:{status['buildHash']}" in builder["args"]
    assert builder["securityContext"]["allowPrivilegeEscalation"] is False
    assert builder["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert builder["resources"]["limits"]["memory"] and builder["resources"]["limits"]["cpu"]
    assert pod["automountServiceAccountToken"] is False
    [secret] = [v["secret"] for v in pod["volumes"] if "secret" in v]
    assert secret["secretName"] == "registry-push"
    assert secret["items"] == [{"key": ".dockerconfigjson", "path": "config.json"}]
    dockerfile = spec["template"]["metadata"]["annotations"]["studio.dev/dockerfile"]
    assert dockerfile.startswith("# Rendered") and "FROM python:3.12-slim" in dockerfile
    assert "git" in dockerfile and "numpy==2.1.0" in dockerfile

    # Re-apply, a label change, an operator restart: nothing builds again.
    cluster.apply(manifest)
    cluster.kubectl("label", "codestudiotemplate", name, "team=data")
    running_operator.kill()
    running_operator.start()
    time.sleep(3)
    assert [j["metadata"]["name"] for j in build_jobs(cluster, name)] == [job["metadata"]["name"]]
    after = cluster.get("codestudiotemplate", name)["status"]
    assert (after["image"], after["buildHash"], after["build"]) == (status["image"], status["buildHash"], status["build"])


def test_changed_package_builds_anew_and_a_running_studio_moves_on_restart(cluster: Cluster, namespace: str, request):
    name, _ = build_template(cluster, request)
    first = wait_build(cluster, name, "Succeeded")["status"]
    cluster.apply(studio_manifest("ann", namespace, name, owner="ann"))
    wait_state(cluster, namespace, "ann", "Running")
    assert pod_image(cluster, namespace, "ann") == first["image"]
    running_pod = pod_uid(cluster, namespace, "ann")

    patch_build(cluster, name, pipPackages=["numpy==2.1.0", "pandas==2.2.3"])
    second = wait_build(cluster, name, "Succeeded", not_hash=first["buildHash"])["status"]
    assert second["image"] != first["image"] and second["image"].startswith(f"{REPOSITORY}@sha256:")
    assert len(build_jobs(cluster, name)) == 2

    # The running studio keeps its image and says a restart brings the new one.
    obj = cluster.wait_for(lambda: (o := cluster.get("codestudio", "ann", namespace))["status"].get("pendingRestart") and o,
                           what="pendingRestart")
    assert obj["status"]["state"] == "Running"
    assert pod_uid(cluster, namespace, "ann") == running_pod
    assert pod_image(cluster, namespace, "ann") == first["image"]
    # The template sums up its studios at most once a second (handlers.ROLLUP_DELAY).
    t = cluster.wait_for(lambda: condition(o := cluster.get("codestudiotemplate", name), "RolledOut")["reason"]
                         == "PendingRestart" and o, timeout=30, what="RolledOut: PendingRestart")
    assert f"{namespace}/ann" in condition(t, "RolledOut")["message"]

    obj = restart(cluster, namespace, "ann")
    assert pod_image(cluster, namespace, "ann") == second["image"]
    assert obj["status"]["image"] == second["image"] and obj["status"]["pendingRestart"] is False
    cluster.wait_for(lambda: condition(cluster.get("codestudiotemplate", name), "RolledOut")["status"] == "True",
                     what="RolledOut")


def test_failed_build_reports_the_builder_message_and_a_fix_builds_again(cluster: Cluster, namespace: str, request):
    name, _ = build_template(cluster, request, repository="registry.invalid/studios/py")
    t = wait_build(cluster, name, "Failed")
    status = t["status"]
    assert "no such host" in status["build"]["message"]
    assert "exited with code 1" in status["build"]["message"]
    assert status["build"]["finishedAt"] and "image" not in status
    built = condition(t, "Built")
    assert built["status"] == "False" and built["reason"] == "BuildFailed" and "retrying in" in built["message"]
    assert condition(t, "Ready")["status"] == "False"
    events = cluster.kubectl("get", "events", "-n", "default", "--field-selector",
                             f"involvedObject.name={name}", "-o", "jsonpath={.items[*].reason}").stdout.split()
    assert "BuildFailed" in events

    # A studio waits for the image rather than failing.
    cluster.apply(studio_manifest("bea", namespace, name, owner="bea"))
    # Starting from its creation (the CRD's default status); waiting on a build is written at once.
    waiting = cluster.wait_for_object(lambda: studio(cluster, namespace, "bea"),
                                      lambda obj: "observedGeneration" in obj["status"], what="bea's first status")
    assert waiting["status"]["state"] == "Starting"
    assert condition(waiting, "ImageReady")["reason"] == "ImageBuilding"

    patch_build(cluster, name, registry={"repository": REPOSITORY, "pushSecretRef": {"name": "registry-push"}})
    fixed = wait_build(cluster, name, "Succeeded", not_hash=status["buildHash"])
    assert fixed["status"]["image"].startswith(f"{REPOSITORY}@sha256:")
    assert condition(fixed, "Ready")["status"] == "True"
    wait_state(cluster, namespace, "bea", "Running")
    assert pod_image(cluster, namespace, "bea") == fixed["status"]["image"]


def test_a_builder_image_that_cannot_be_pulled_fails_the_build_at_once(cluster: Cluster, request):
    # kwok reports ErrImagePull for registries under .invalid (hack/kwok/stages.yaml), as a kubelet would.
    name, _ = build_template(cluster, request, builder="registry.invalid/kaniko/executor:v1")
    t = wait_build(cluster, name, "Failed", timeout=30)
    assert t["status"]["build"]["message"].startswith("ErrImagePull")
    # The stuck Job is removed rather than left to its deadline.
    cluster.wait_for(lambda: build_jobs(cluster, name) == [], what="the stuck build Job to go")


def test_a_build_job_the_api_server_refuses_fails_the_build_with_its_message(cluster: Cluster, request):
    # A quota in the operator's namespace that allows no Jobs: the API server refuses the build Job.
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": "no-jobs", "namespace": BUILD_NAMESPACE},
             "spec": {"hard": {"count/jobs.batch": "0"}}}
    cluster.apply(quota)
    request.addfinalizer(lambda: cluster.kubectl("-n", BUILD_NAMESPACE, "delete", "resourcequota", "no-jobs",
                                                 "--ignore-not-found", check=False))
    name, _ = build_template(cluster, request)
    t = wait_build(cluster, name, "Failed", timeout=30)
    message = t["status"]["build"]["message"]
    assert message.startswith(f"the build Job {name}-") and "was refused" in message and "Forbidden" in message
    assert "quota" in message
    built = condition(t, "Built")
    assert built["reason"] == "BuildFailed" and "retrying in" in built["message"]
    assert build_jobs(cluster, name) == []

    # Once the quota is gone the retry builds.
    cluster.kubectl("-n", BUILD_NAMESPACE, "delete", "resourcequota", "no-jobs")
    done = wait_build(cluster, name, "Succeeded", timeout=90)
    assert done["status"]["image"].startswith(f"{REPOSITORY}@sha256:")


class DownTimeline(threading.Thread):
    """Follows a watch of one resource in a namespace and records, after every change the API
    server stored, which of the given names are down: every state, not samples of them."""

    def __init__(self, cluster: Cluster, namespace: str, resource: str, names: list[str], up):
        super().__init__(daemon=True)
        self.names, self.up = names, up
        self.down_sets: list[frozenset[str]] = []
        self.proc = subprocess.Popen(
            [str(cluster.bindir / "kubectl"), "--kubeconfig", cluster.kubeconfig, "--cache-dir", cluster.kubectl_cache,
             "-n", namespace, "get", resource,
             "--watch", "--output-watch-events", "-o", "json"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def run(self) -> None:
        objects: dict[str, dict | None] = {}
        for line in self.proc.stdout:  # one watch event a line
            event = json.loads(line)
            obj = event["object"]
            objects[obj["metadata"]["name"]] = None if event["type"] == "DELETED" else obj
            if all(n in objects for n in self.names):
                self.down_sets.append(frozenset(n for n in self.names if not (objects[n] and self.up(objects[n]))))

    def stop(self) -> list[frozenset[str]]:
        self.proc.terminate()
        self.join(10)
        return self.down_sets


def studio_up(obj: dict) -> bool:
    return obj.get("status", {}).get("state") == "Running"


def pod_up(obj: dict) -> bool:
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in obj.get("status", {}).get("conditions", []))
    return ready and not obj["metadata"].get("deletionTimestamp")


def test_immediate_rollout_restarts_studios_one_at_a_time(cluster: Cluster, namespace: str, request):
    name, _ = build_template(cluster, request, updatePolicy="Immediate")
    first = wait_build(cluster, name, "Succeeded")["status"]
    studios = ["s1", "s2", "s3"]
    for s in studios:
        cluster.apply(studio_manifest(s, namespace, name, owner=s))
    for s in studios:
        wait_state(cluster, namespace, s, "Running")
    pods = {s: pod_uid(cluster, namespace, s) for s in studios}

    watches = [DownTimeline(cluster, namespace, "codestudios", studios, studio_up),
               DownTimeline(cluster, namespace, "pods", studios, pod_up)]
    for w in watches:
        w.start()
    try:
        patch_build(cluster, name, aptPackages=["git", "curl"])
        second = wait_build(cluster, name, "Succeeded", not_hash=first["buildHash"])["status"]
        cluster.wait_for(
            lambda: all((o := cluster.get("codestudio", s, namespace))["status"].get("state") == "Running"
                        and o["status"].get("image") == second["image"] for s in studios),
            timeout=120, what="every studio to run the new image",
        )
    finally:
        timelines = [w.stop() for w in watches]
    for what, timeline in zip(("studios", "pods"), timelines):
        print(f"rollout: {len(timeline)} {what} changes watched, most down at once: {max(map(len, timeline))}")
        assert max(map(len, timeline)) <= 1, f"{what} down at the same time: {[sorted(d) for d in timeline if len(d) > 1]}"
        # Each one was down once, in turn: the watch did see the restarts.
        assert {n for down in timeline for n in down} == set(studios)
    for s in studios:
        assert pod_uid(cluster, namespace, s) != pods[s]
        assert cluster.get("codestudio", s, namespace)["spec"].get("restartRequestedAt") is None  # spec untouched
    # The template sums up its studios at most once a second (handlers.ROLLUP_DELAY).
    cluster.wait_for(lambda: condition(cluster.get("codestudiotemplate", name), "RolledOut")["status"] == "True",
                     timeout=30, what="RolledOut")
    events = cluster.kubectl("get", "events", "-n", "default", "--field-selector",
                             f"involvedObject.name={name},reason=RolloutRestart", "-o", "name").stdout.split()
    assert len(events) == 3


def test_deleting_a_template_in_use_is_held_with_the_studio_names(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    for s in ("cy", "di"):
        cluster.apply(studio_manifest(s, namespace, tpl, owner=s))
        wait_state(cluster, namespace, s, "Running")
    t = cluster.wait_for(lambda: (o := cluster.get("codestudiotemplate", tpl))["status"].get("codeStudios") == 2 and o,
                         what="codeStudios 2")
    assert "studio.dev/in-use" in t["metadata"]["finalizers"]

    refused = cluster.kubectl("delete", "codestudiotemplate", tpl, "--wait=false", check=False)
    assert refused.returncode != 0 and f"{namespace}/cy, {namespace}/di" in refused.stderr  # the admission webhook
    # Past the webhook (a delete racing a new studio), the finalizer holds the template.
    with validating_webhooks_bypassed(cluster.kubectl):
        cluster.kubectl("delete", "codestudiotemplate", tpl, "--wait=false")
    t = cluster.wait_for(
        lambda: (o := cluster.get("codestudiotemplate", tpl)) and condition(o, "Ready")["reason"] == "DeletionBlocked" and o,
        what="DeletionBlocked")
    message = condition(t, "Ready")["message"]
    assert f"{namespace}/cy" in message and f"{namespace}/di" in message
    assert wait_state(cluster, namespace, "cy", "Running")  # the studios are untouched

    cluster.kubectl("-n", namespace, "delete", "codestudio", "cy", "--wait=true")
    t = cluster.wait_for(lambda: (o := cluster.get("codestudiotemplate", tpl))["status"].get("codeStudios") == 1 and o,
                         what="codeStudios 1")
    assert f"{namespace}/cy" not in condition(t, "Ready")["message"]
    cluster.kubectl("-n", namespace, "delete", "codestudio", "di", "--wait=true")
    cluster.wait_for(lambda: cluster.get("codestudiotemplate", tpl) is None, what="the template to go")


def test_prebuilt_image_by_tag_is_reported_unpinned(cluster: Cluster, request):
    tagged = make_template(cluster, request, image="quay.io/jupyter/base-notebook:2024-12-02")
    pinned = make_template(cluster, request, image="quay.io/jupyter/base-notebook@sha256:" + "a" * 64)

    def pinned_condition(name):
        t = cluster.get("codestudiotemplate", name)
        return t and t.get("status", {}).get("conditions") and condition(t, "Pinned")

    assert cluster.wait_for(lambda: pinned_condition(tagged), what="Pinned")["reason"] == "Unpinned"
    assert cluster.wait_for(lambda: pinned_condition(pinned), what="Pinned")["status"] == "True"
    t = cluster.get("codestudiotemplate", tagged)
    assert t["status"]["image"] == "quay.io/jupyter/base-notebook:2024-12-02"
    assert condition(t, "Ready")["status"] == "True" and condition(t, "Built")["reason"] == "Prebuilt"
    assert t["status"]["codeStudios"] == 0


def test_operator_killed_mid_build_adopts_the_running_build(cluster: Cluster, running_operator, request):
    name, _ = build_template(cluster, request, pip=("requests==2.32.3",))
    cluster.wait_for(lambda: build_jobs(cluster, name), what="the build Job")
    running_operator.kill()
    time.sleep(2)  # the builder finishes while nobody watches
    running_operator.start()
    t = wait_build(cluster, name, "Succeeded")
    assert [j["metadata"]["name"] for j in build_jobs(cluster, name)] == [t["status"]["build"]["job"]]
    assert t["status"]["build"]["attempts"] == 1
