"""The build hash, the build Job, and what a build Job says when read back."""

import datetime

import pytest

from studio_operator.api.template import ImageBuild
from studio_operator.templates import build as B
from studio_operator.templates.dockerfile import render_dockerfile

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
DIGEST = "sha256:" + "ab" * 32


def spec(**fields) -> ImageBuild:
    fields.setdefault("baseImage", "python:3.12-slim")
    fields.setdefault("aptPackages", ["git"])
    fields.setdefault("pipPackages", ["numpy==2.1.0"])
    fields.setdefault("registry", {"repository": "registry.example.com/studios/py", "pushSecretRef": {"name": "push"}})
    return ImageBuild.model_validate(fields)


def hash_of(b: ImageBuild) -> str:
    return B.build_hash(render_dockerfile(b), b)


def test_same_inputs_give_the_same_hash():
    assert hash_of(spec()) == hash_of(spec())
    assert hash_of(spec(aptPackages=["git", "curl"])) == hash_of(spec(aptPackages=["curl", "git"]))
    assert len(hash_of(spec())) == 32


@pytest.mark.parametrize("change", [
    {"baseImage": "python:3.13-slim"},
    {"aptPackages": ["git", "curl"]},
    {"aptPackages": []},
    {"pipPackages": ["numpy==2.1.1"]},
    {"dockerfile": "ENV A=1"},
    {"builderImage": "gcr.io/kaniko-project/executor:v1.24.0"},
    {"registry": {"repository": "registry.example.com/studios/other", "pushSecretRef": {"name": "push"}}},
])
def test_every_build_input_changes_the_hash(change):
    assert hash_of(spec(**change)) != hash_of(spec())


def test_the_push_secret_is_not_a_build_input():
    other = spec(registry={"repository": "registry.example.com/studios/py", "pushSecretRef": {"name": "other"}})
    assert hash_of(other) == hash_of(spec())


def job(b: ImageBuild | None = None, template: str = "py", attempt: int = 1) -> dict:
    b = b or spec()
    dockerfile = render_dockerfile(b)
    ref = B.BuildRef(template, "tuid", 4, "studio-system", hash_of(b), attempt)
    return B.build_job(ref, b, dockerfile)


def test_the_job_builds_the_rendered_dockerfile_and_pushes_the_hash_tag():
    b = spec()
    j = job(b)
    h = hash_of(b)
    assert j["metadata"]["namespace"] == "studio-system"
    assert j["metadata"]["name"] == f"py-{h[:10]}-1"
    pod = j["spec"]["template"]
    assert pod["metadata"]["annotations"]["studio.dev/dockerfile"] == render_dockerfile(b)
    c = pod["spec"]["containers"][0]
    assert c["image"] == b.builder_image
    assert f"--destination=registry.example.com/studios/py:{h}" in c["args"]
    assert "--digest-file=/dev/termination-log" in c["args"]
    assert c["terminationMessagePolicy"] == "FallbackToLogsOnError"
    [dockerfile] = [v for v in pod["spec"]["volumes"] if v["name"] == "dockerfile"]
    assert dockerfile["downwardAPI"]["items"][0]["fieldRef"]["fieldPath"] == "metadata.annotations['studio.dev/dockerfile']"
    [secret] = [v for v in pod["spec"]["volumes"] if v["name"] == "docker-config"]
    assert secret["secret"]["secretName"] == "push"
    assert {"name": "docker-config", "mountPath": "/kaniko/.docker", "readOnly": True} in c["volumeMounts"]


def test_the_job_is_labelled_owned_bounded_and_unprivileged():
    j = job()
    labels = j["metadata"]["labels"]
    assert labels["app.kubernetes.io/component"] == "image-build"
    assert labels["studio.dev/template"] == "py" and labels["studio.dev/build-attempt"] == "1"
    assert j["spec"]["template"]["metadata"]["labels"] == labels
    assert j["metadata"]["annotations"]["studio.dev/template-generation"] == "4"
    owner = j["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("CodeStudioTemplate", "py", "tuid")
    spec_ = j["spec"]
    assert spec_["backoffLimit"] == 0 and spec_["ttlSecondsAfterFinished"] > 0 and spec_["activeDeadlineSeconds"] > 0
    pod = spec_["template"]["spec"]
    assert pod["restartPolicy"] == "Never" and pod["automountServiceAccountToken"] is False
    c = pod["containers"][0]
    sc = c["securityContext"]
    assert sc["privileged"] is False and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert not {"SYS_ADMIN", "NET_ADMIN", "NET_RAW", "SYS_PTRACE"} & set(sc["capabilities"]["add"])
    assert c["resources"]["limits"]["cpu"] and c["resources"]["limits"]["memory"]


def test_without_a_push_secret_nothing_is_mounted_for_it():
    j = job(spec(registry={"repository": "registry.example.com/studios/py"}))
    assert [v["name"] for v in j["spec"]["template"]["spec"]["volumes"]] == ["dockerfile"]


def test_job_names_fit_a_label_for_any_template_name():
    long_a, long_b = "a" * 60 + ".x", "a" * 60 + ".y"
    a, b = job(template=long_a, attempt=999)["metadata"]["name"], job(template=long_b, attempt=999)["metadata"]["name"]
    assert len(a) <= 63 and len(b) <= 63 and a != b
    assert "." not in job(template="team.py")["metadata"]["name"]


# --- reading a Job back -------------------------------------------------------------------------

def job_status(*conditions: tuple[str, str], start: str = "2026-01-01T11:59:00Z", done: str | None = None) -> dict:
    status = {"startTime": start, "conditions": [
        {"type": t, "status": "True", "reason": r, "message": f"{r} message", "lastTransitionTime": "2026-01-01T11:59:50Z"}
        for t, r in conditions]}
    if done:
        status["completionTime"] = done
    return {"metadata": {"name": "py-1", "creationTimestamp": start}, "status": status}


def builder_pod(phase: str = "Running", terminated: dict | None = None, waiting: dict | None = None) -> dict:
    state = {"terminated": terminated} if terminated else {"waiting": waiting} if waiting else {"running": {}}
    return {"metadata": {"name": "py-1-abcde"}, "status": {"phase": phase, "containerStatuses": [
        {"name": "builder", "image": "gcr.io/kaniko-project/executor:v1.23.2", "state": state}]}}


def test_a_completed_build_reports_its_digest():
    out = B.read_build(job_status(("Complete", "Completed"), done="2026-01-01T11:59:55Z"),
                       builder_pod("Succeeded", {"exitCode": 0, "message": DIGEST + "\n"}), NOW)
    assert (out.phase, out.digest) == ("Succeeded", DIGEST)
    assert (out.started_at, out.finished_at) == ("2026-01-01T11:59:00Z", "2026-01-01T11:59:55Z")


def test_a_completed_build_without_a_digest_failed():
    out = B.read_build(job_status(("Complete", "Completed")), builder_pod("Succeeded", {"exitCode": 0, "message": "done"}), NOW)
    assert out.phase == "Failed" and "no image digest" in out.message


def test_a_completed_job_waits_for_its_pod_then_gives_up():
    done = job_status(("Complete", "Completed"), done="2026-01-01T11:59:59Z")
    waiting = B.read_build(done, builder_pod("Running"), NOW)
    assert waiting.phase == "Building" and waiting.recheck_after
    lost = B.read_build(job_status(("Complete", "Completed"), done="2026-01-01T11:50:00Z"), None, NOW)
    assert lost.phase == "Failed" and "digest is unknown" in lost.message


def test_a_failed_build_reports_the_tail_of_its_log():
    log = "step 1\n" * 2000 + "E: Unable to locate package nope"
    out = B.read_build(job_status(("Failed", "BackoffLimitExceeded")),
                       builder_pod("Failed", {"exitCode": 1, "reason": "Error", "message": log}), NOW)
    assert out.phase == "Failed" and out.finished_at == "2026-01-01T11:59:50Z"
    assert out.message.startswith("the builder exited with code 1 (Error): …")
    assert out.message.endswith("E: Unable to locate package nope")
    assert len(out.message) < 4200


def test_a_job_past_its_deadline_says_so():
    out = B.read_build(job_status(("Failed", "DeadlineExceeded")), None, NOW)
    assert out.phase == "Failed" and out.message == "DeadlineExceeded: DeadlineExceeded message"


def test_a_builder_that_cannot_start_fails_at_once_and_is_stopped():
    out = B.read_build(job_status(), builder_pod("Pending", waiting={"reason": "ErrImagePull", "message": "not found"}), NOW)
    assert out.phase == "Failed" and out.stop and out.message == "ErrImagePull: not found"


def test_running_and_pending_builds():
    assert B.read_build(job_status(), builder_pod("Running"), NOW).phase == "Building"
    fresh = B.read_build(job_status(start="2026-01-01T11:59:50Z"), builder_pod("Pending"), NOW)
    assert fresh.phase == "Pending" and fresh.recheck_after == pytest.approx(50)
    slow = B.read_build(job_status(start="2026-01-01T11:55:00Z"), builder_pod("Pending"), NOW)
    assert slow.phase == "Pending" and "push secret" in slow.message
