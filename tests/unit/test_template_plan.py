"""The template reconcile as a pure function: builds started, read, retried and never repeated;
prebuilt images; in-use protection; the rollout step."""

import datetime
from typing import Any

from studio_operator.api import CodeStudioTemplate
from studio_operator.templates import build as B
from studio_operator.templates.dockerfile import render_dockerfile
from studio_operator.templates.plan import Create, Delete, Observed, SetFinalizer, plan_template, retry_delay
from studio_operator.templates.rollout import StudioView

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
REPO = "registry.example.com/studios/py"
DIGEST = "sha256:" + "cd" * 32
BUILD = {"baseImage": "python:3.12-slim", "aptPackages": ["git"], "registry": {"repository": REPO}}


def template(image: dict | None = None, status: dict | None = None, generation: int = 2, deleting: bool = False,
             finalizers: list[str] | None = None, **spec: Any) -> CodeStudioTemplate:
    meta: dict[str, Any] = {"name": "py", "uid": "tuid", "generation": generation, "finalizers": finalizers or []}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T11:00:00Z"
    return CodeStudioTemplate.model_validate({
        "apiVersion": "studio.dev/v1alpha1", "kind": "CodeStudioTemplate", "metadata": meta,
        "spec": {"image": image or {"build": BUILD}, **spec}, "status": status or {},
    })


def current_hash(t: CodeStudioTemplate) -> str:
    b = t.spec.image.build
    return B.build_hash(render_dockerfile(b), b)


def job(t: CodeStudioTemplate, attempt: int = 1, hash_: str | None = None, generation: int = 2,
        conditions: list[tuple[str, str]] = (), start: str = "2026-01-01T11:58:00Z") -> dict[str, Any]:
    h = hash_ or current_hash(t)
    return {
        "metadata": {"name": B.job_name("py", h, attempt), "uid": f"job-{attempt}-{h[:4]}", "creationTimestamp": start,
                     "labels": {"studio.dev/build-hash": h, "studio.dev/build-attempt": str(attempt)},
                     "annotations": {"studio.dev/template-generation": str(generation)}},
        "status": {"startTime": start, "conditions": [
            {"type": c, "status": "True", "reason": r, "lastTransitionTime": "2026-01-01T11:59:50Z"} for c, r in conditions]},
    }


def pod(terminated: dict | None = None, phase: str = "Running") -> dict[str, Any]:
    state = {"terminated": terminated} if terminated else {"running": {}}
    return {"metadata": {"name": "p", "creationTimestamp": "2026-01-01T11:58:01Z"},
            "status": {"phase": phase, "containerStatuses": [{"name": "builder", "state": state}]}}


def plan(t: CodeStudioTemplate, jobs=(), pods=None, studios=(), now=NOW):
    return plan_template(Observed(t, "studio-system", list(jobs), pods or {}, list(studios)), now)


def creates(p) -> list[dict]:
    return [a.manifest for a in p.actions if isinstance(a, Create)]


def deletes(p, kind: str = "Job") -> list[Delete]:
    return [a for a in p.actions if isinstance(a, Delete) and a.kind == kind]


def cond(p, type_: str) -> dict:
    return next(c for c in p.status["conditions"] if c["type"] == type_)


def test_new_inputs_start_a_build():
    t = template()
    p = plan(t)
    [manifest] = creates(p)
    assert manifest["metadata"]["name"] == B.job_name("py", current_hash(t), 1)
    assert p.status["buildHash"] == current_hash(t)
    assert p.status["build"] == {"phase": "Pending", "job": manifest["metadata"]["name"], "startedAt": "2026-01-01T12:00:00Z",
                                 "attempts": 1, "message": "waiting for the builder pod to start"}
    assert p.status["image"] is None
    assert cond(p, "Built")["reason"] == "Building" and cond(p, "Ready")["status"] == "False"


def test_a_running_build_is_watched_not_repeated():
    t = template()
    j = job(t)
    p = plan(t, [j], {j["metadata"]["name"]: pod()})
    assert creates(p) == [] and p.status["build"]["phase"] == "Building"


def test_a_finished_build_pins_the_digest():
    t = template()
    j = job(t, conditions=[("Complete", "Completed")])
    p = plan(t, [j], {j["metadata"]["name"]: pod({"exitCode": 0, "message": DIGEST}, "Succeeded")})
    assert p.status["image"] == f"{REPO}@{DIGEST}"
    assert p.status["build"]["phase"] == "Succeeded" and p.status["build"]["finishedAt"] == "2026-01-01T11:59:50Z"
    assert cond(p, "Built")["status"] == "True" and cond(p, "Ready")["status"] == "True"
    assert cond(p, "Pinned")["status"] == "True"


def test_built_inputs_never_build_again_even_without_their_job():
    t = template()
    h = current_hash(t)
    built = template(status={"image": f"{REPO}@{DIGEST}", "buildHash": h,
                             "build": {"phase": "Succeeded", "job": B.job_name("py", h, 1), "attempts": 1}})
    for jobs in ([], [job(t, conditions=[("Complete", "Completed")])]):
        p = plan(built, jobs)
        assert p.actions == [] and p.status["image"] == f"{REPO}@{DIGEST}" and cond(p, "Built")["status"] == "True"


def test_changed_inputs_build_anew_and_keep_the_old_image_meanwhile():
    old = template()
    old_hash = current_hash(old)
    t = template(image={"build": {**BUILD, "aptPackages": ["git", "curl"]}},
                 status={"image": f"{REPO}@{DIGEST}", "buildHash": old_hash, "build": {"phase": "Succeeded"}})
    running_old = job(old, hash_=old_hash)
    p = plan(t, [running_old])
    assert [d.name for d in deletes(p)] == [running_old["metadata"]["name"]]  # wasted work now
    [manifest] = creates(p)
    assert manifest["metadata"]["labels"]["studio.dev/build-hash"] == current_hash(t) != old_hash
    assert p.status["image"] == f"{REPO}@{DIGEST}"
    assert "studios keep" in cond(p, "Built")["message"]


def failed(t, attempt=1, generation=2):
    j = job(t, attempt, generation=generation, conditions=[("Failed", "BackoffLimitExceeded")])
    return j, {j["metadata"]["name"]: pod({"exitCode": 1, "reason": "Error", "message": "E: no such package"}, "Failed")}


def test_a_failed_build_says_why_and_retries_after_a_backoff():
    t = template()
    j, pods = failed(t)
    p = plan(t, [j], pods)
    assert creates(p) == []
    assert p.status["build"]["phase"] == "Failed" and "E: no such package" in p.status["build"]["message"]
    assert cond(p, "Built")["reason"] == "BuildFailed" and "retrying in" in cond(p, "Built")["message"]
    assert p.recheck_after == retry_delay(1) - 10  # failed at 11:59:50

    later = plan(t, [j], pods, now=NOW + datetime.timedelta(seconds=retry_delay(1)))
    [manifest] = creates(later)
    assert manifest["metadata"]["labels"]["studio.dev/build-attempt"] == "2"
    assert later.status["build"]["attempts"] == 2


def test_a_failed_build_of_new_inputs_says_the_studios_keep_the_old_image():
    t = template(status={"image": f"{REPO}@{DIGEST}"})
    j, pods = failed(t)
    built = cond(plan(t, [j], pods), "Built")
    assert built["message"].startswith(f"build {j['metadata']['name']} (attempt 1) failed, retrying in 20s; "
                                       f"studios keep {REPO}@{DIGEST}: the builder exited with code 1 (Error)")
    # Ready says the same, so `kubectl get` and Argo CD show why.
    ready = cond(plan(t, [j], pods), "Ready")
    assert (ready["status"], ready["reason"], ready["message"]) == ("False", "BuildFailed", built["message"])


def test_a_builder_that_cannot_start_fails_the_build_and_its_job_goes_at_once():
    t = template()
    j = job(t)
    stuck = {"metadata": {"name": "p", "creationTimestamp": "2026-01-01T11:58:01Z"}, "status": {
        "phase": "Pending", "containerStatuses": [{"name": "builder", "image": "gcr.io/kaniko-project/executor:nope",
                                                   "state": {"waiting": {"reason": "ErrImagePull", "message": "not found"}}}]}}
    p = plan(t, [j], {j["metadata"]["name"]: stuck})
    assert deletes(p) == [Delete("Job", j["metadata"]["name"], j["metadata"]["uid"], api_version="batch/v1",
                                 namespace="studio-system")]
    assert (p.status["build"]["phase"], p.status["build"]["message"]) == ("Failed", "ErrImagePull: not found")


def test_retries_back_off_exponentially_up_to_a_cap():
    assert [retry_delay(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert retry_delay(30) == 3600


def test_a_spec_change_since_the_failure_retries_at_once():
    t = template(generation=3)  # e.g. a fixed pushSecretRef: same build inputs, newer generation
    j, pods = failed(t, generation=2)
    assert len(creates(plan(t, [j], pods))) == 1


def test_a_spec_change_since_a_failure_whose_job_is_gone_retries_at_once():
    """The Job of a builder that could not start is deleted at once; its TTL removes the others."""
    t = template(generation=3)  # a pushSecretRef added: same build inputs, so the same build hash
    h = current_hash(t)
    failed_at_2 = {"observedGeneration": 2, "buildHash": h, "build": {
        "phase": "Failed", "job": B.job_name("py", h, 1), "attempts": 1, "finishedAt": "2026-01-01T11:59:50Z",
        "message": "the builder could not start: secret \"push\" not found"}}
    [manifest] = creates(plan(template(generation=3, status=failed_at_2)))
    assert manifest["metadata"]["labels"]["studio.dev/build-attempt"] == "2"
    # Unchanged since the failure: the backoff holds.
    unchanged = plan(template(generation=2, status=failed_at_2))
    assert creates(unchanged) == [] and unchanged.recheck_after == retry_delay(1) - 10


def test_a_failure_whose_job_expired_still_backs_off():
    t = template()
    h = current_hash(t)
    remembered = template(status={"buildHash": h, "build": {
        "phase": "Failed", "job": B.job_name("py", h, 3), "attempts": 3, "finishedAt": "2026-01-01T11:59:00Z",
        "message": "boom"}})
    p = plan(remembered)
    assert creates(p) == [] and p.status["build"]["message"] == "boom"
    assert p.recheck_after == retry_delay(3) - 60
    [manifest] = creates(plan(remembered, now=NOW + datetime.timedelta(hours=1)))
    assert manifest["metadata"]["labels"]["studio.dev/build-attempt"] == "4"


def test_a_started_build_whose_job_is_not_seen_is_created_again_under_the_same_name():
    t = template()
    h = current_hash(t)
    started = template(status={"buildHash": h, "build": {"phase": "Pending", "job": B.job_name("py", h, 1), "attempts": 1}})
    p = plan(started)
    [manifest] = creates(p)
    assert manifest["metadata"]["name"] == B.job_name("py", h, 1)
    assert p.status["build"]["attempts"] == 1


def test_invalid_inputs_are_reported_and_build_nothing():
    t = template()
    t.spec.image.build = t.spec.image.build.model_copy(update={"apt_packages": ["git\nRUN id"]})
    p = plan(t)
    assert p.actions == [] and cond(p, "Built")["reason"] == "InvalidBuildInput"


def test_prebuilt_images_are_used_as_given_and_stop_leftover_builds():
    t = template(image={"prebuilt": "quay.io/jupyter/base-notebook:2024-12-02"})
    running = job(template())
    p = plan(t, [running])
    assert [d.name for d in deletes(p)] == [running["metadata"]["name"]]
    assert p.status["image"] == "quay.io/jupyter/base-notebook:2024-12-02"
    assert p.status["build"] is None and p.status["buildHash"] is None
    assert cond(p, "Built")["reason"] == "Prebuilt" and cond(p, "Ready")["status"] == "True"
    assert cond(p, "Pinned")["reason"] == "Unpinned"
    pinned = plan(template(image={"prebuilt": f"quay.io/jupyter/base-notebook@{DIGEST}"}))
    assert cond(pinned, "Pinned")["status"] == "True"


def user(name: str, **kw) -> StudioView:
    kw.setdefault("state", "Running")
    kw.setdefault("pending_restart", False)
    return StudioView("ns", name, pod_name=name, pod_uid=f"uid-{name}", **kw)


PREBUILT = {"prebuilt": "quay.io/jupyter/base-notebook:2024-12-02"}


def test_a_template_in_use_is_held_by_a_finalizer_and_counts_its_studios():
    p = plan(template(image=PREBUILT), studios=[user("a"), user("b")])
    assert SetFinalizer(True) in p.actions and p.status["codeStudios"] == 2
    assert SetFinalizer(True) not in plan(template(image=PREBUILT, finalizers=["studio.dev/in-use"]), studios=[user("a")]).actions
    assert plan(template(image=PREBUILT, finalizers=["studio.dev/in-use"])).actions == [SetFinalizer(False)]


def test_deleting_a_template_in_use_is_refused_with_the_studio_names():
    # Immediate: but for the deletion, studio a would be restarted now.
    t = template(deleting=True, finalizers=["studio.dev/in-use"], updatePolicy="Immediate")
    p = plan(t, studios=[user("b"), user("a", pending_restart=True)])
    assert creates(p) == [] and not any(isinstance(a, SetFinalizer) for a in p.actions)
    ready = cond(p, "Ready")
    assert ready["reason"] == "DeletionBlocked" and "ns/a, ns/b" in ready["message"]
    assert deletes(p, "Pod") == []  # no rollout while it is going away
    # Deleted before the operator held it: the API server takes no new finalizer on an object being deleted.
    unheld = plan(template(deleting=True), studios=[user("a")])
    assert not any(isinstance(a, SetFinalizer) for a in unheld.actions)


def test_a_deleted_template_without_studios_lets_go():
    p = plan(template(deleting=True, finalizers=["studio.dev/in-use"]))
    assert p.actions == [SetFinalizer(False)] and p.status is None


def test_immediate_rollout_deletes_one_pod_and_never_writes_a_studio():
    t = template(image=PREBUILT, updatePolicy="Immediate", finalizers=["studio.dev/in-use"])
    p = plan(t, studios=[user("b", pending_restart=True), user("a", pending_restart=True)])
    assert deletes(p, "Pod") == [Delete("Pod", "a", "uid-a", namespace="ns")]
    assert p.restarted.name == "a" and p.recheck_after
    assert all(isinstance(a, Delete) for a in p.actions)
