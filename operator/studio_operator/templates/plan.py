"""The template reconcile as a pure function: observed state in, actions and status out."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from .. import labels as L
from ..api import CodeStudioTemplate
from ..api.template import ImageBuild
from ..conditions import condition, parse_time, rfc3339
from ..actions import Create, Delete
from .build import BuildOutcome, BuildRef, build_hash, build_job, destination, read_build
from .dockerfile import InvalidBuildInput, render_dockerfile
from .rollout import StudioView, names, plan_rollout

# A failed build is tried again after base * 2^(attempts-1) seconds, at most max.
RETRY_BASE = 30.0
RETRY_MAX = 3600.0
ROLLOUT_RECHECK = 10.0  # a safety net while a rollout waits on studios' events


@dataclasses.dataclass
class Observed:
    template: CodeStudioTemplate
    namespace: str  # where build Jobs run
    jobs: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # this template's build Jobs
    pods: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # build pod by Job name
    studios: list[StudioView] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class SetFinalizer:
    """Adds (present) or removes the in-use finalizer on the template's metadata."""

    present: bool


Action = Create | Delete | SetFinalizer


@dataclasses.dataclass
class Plan:
    actions: list[Action]
    status: dict[str, Any] | None  # None: write nothing (the template is going away)
    recheck_after: float | None = None
    restarted: StudioView | None = None  # the studio the rollout restarts now


def retry_delay(attempts: int) -> float:
    return min(RETRY_BASE * 2 ** max(attempts - 1, 0), RETRY_MAX)


def _job_attempt(job: dict[str, Any]) -> int:
    try:
        return int(job["metadata"]["labels"][L.BUILD_ATTEMPT])
    except (KeyError, ValueError):
        return 0


def _job_generation(job: dict[str, Any]) -> int:
    try:
        return int((job["metadata"].get("annotations") or {})[L.TEMPLATE_GENERATION])
    except (KeyError, ValueError):
        return 0


def _finished(job: dict[str, Any]) -> bool:
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or [])


def _soonest(*delays: float | None) -> float | None:
    present = [d for d in delays if d is not None]
    return min(present) if present else None


@dataclasses.dataclass
class _Image:
    """The image part of the status and the conditions it implies."""

    image: str | None
    build_hash: str | None
    build: dict[str, Any] | None
    built: dict[str, Any]
    actions: list[Action]
    recheck_after: float | None = None


def _plan_prebuilt(obs: Observed, ref: str) -> _Image:
    # A template switched from build to prebuilt stops any build still running.
    return _Image(ref, None, None, condition("Built", True, "Prebuilt", f"prebuilt image {ref}; nothing to build"),
                  [_delete_job(obs, j) for j in obs.jobs if not _finished(j)])


def _plan_build(obs: Observed, build: ImageBuild, now: datetime.datetime, may_start: bool) -> _Image:
    t = obs.template
    previous = t.status
    try:
        dockerfile = render_dockerfile(build)
    except InvalidBuildInput as exc:
        return _Image(previous.image, previous.build_hash, previous.build.to_dict() if previous.build else None,
                      condition("Built", False, "InvalidBuildInput", f"{exc}; fix spec.image.build"), [])
    hash_ = build_hash(dockerfile, build)
    target = destination(build, hash_)
    actions: list[Action] = []
    # Jobs building older inputs are wasted work now.
    for job in obs.jobs:
        if job["metadata"]["labels"].get(L.BUILD_HASH) != hash_ and not _finished(job):
            actions.append(_delete_job(obs, job))

    recorded = previous.build if previous.build_hash == hash_ and previous.build else None
    if recorded and recorded.phase == "Succeeded" and previous.image:
        # These inputs are built: never again, whatever happens to the Job.
        return _Image(previous.image, hash_, recorded.to_dict(),
                      condition("Built", True, "Succeeded", f"built {target}, pinned as {previous.image}"), actions)

    # The latest attempt for these inputs, as the Jobs and the status know it.
    mine = [j for j in obs.jobs if j["metadata"]["labels"].get(L.BUILD_HASH) == hash_]
    attempt = max([_job_attempt(j) for j in mine] + [(recorded.attempts or 0) if recorded else 0])
    job = next((j for j in mine if _job_attempt(j) == attempt), None)
    ref = BuildRef(t.metadata.name, t.metadata.uid or "", t.metadata.generation or 0, obs.namespace, hash_, attempt)

    outcome: BuildOutcome | None = None  # None: nothing tried yet for these inputs
    if job is not None:
        outcome = read_build(job, obs.pods.get(job["metadata"]["name"]), now)
        if outcome.stop:
            actions.append(_delete_job(obs, job))
    elif recorded and attempt:
        outcome = BuildOutcome(recorded.phase or "Pending", recorded.message or "", None, recorded.started_at,
                               recorded.finished_at)
        if outcome.phase != "Failed" and may_start:
            # Started, but its Job is not seen: the cache lags our create, or someone deleted the Job.
            # Creating it again is safe either way (same name).
            actions.append(Create(build_job(ref, build, dockerfile)))
            outcome = dataclasses.replace(outcome, recheck_after=5.0)

    start, retry_in = outcome is None, None
    if outcome is not None and outcome.phase == "Failed":
        # A spec change since the failed attempt (a fixed push secret, say) earns an immediate retry.
        # The Job says which generation it built; once it is gone (deleted at once when its builder
        # cannot start, or by its TTL), the observedGeneration written with the failure says it.
        built_from = _job_generation(job) if job is not None else (previous.observed_generation or ref.generation)
        changed = built_from < ref.generation
        elapsed = (now - (parse_time(outcome.finished_at) or now)).total_seconds()
        wait = 0.0 if changed else retry_delay(attempt) - elapsed
        start, retry_in = wait <= 0, (wait if wait > 0 else None)

    if start and may_start:
        ref = dataclasses.replace(ref, attempt=attempt + 1)
        actions.append(Create(build_job(ref, build, dockerfile)))
        status = {"phase": "Pending", "job": ref.job_name, "startedAt": rfc3339(now), "attempts": ref.attempt,
                  "message": "waiting for the builder pod to start"}
        return _Image(previous.image, hash_, status, _building(previous.image, target, status), actions)
    if outcome is None:
        return _Image(previous.image, hash_, None,
                      condition("Built", False, "NotBuilt", "no build starts while the template is being deleted"),
                      actions)

    status = {"phase": outcome.phase, "job": ref.job_name, "startedAt": outcome.started_at,
              "finishedAt": outcome.finished_at, "attempts": attempt, "message": outcome.message}
    status = {k: v for k, v in status.items() if v is not None}
    if outcome.phase == "Succeeded":
        image = f"{build.registry.repository}@{outcome.digest}"
        return _Image(image, hash_, status, condition("Built", True, "Succeeded", f"built {target}, pinned as {image}"),
                      actions)
    if outcome.phase == "Failed":
        when = f"retrying in {int(retry_in)}s" if retry_in is not None else "not retried while the template is deleted"
        keep = f"; studios keep {previous.image}" if previous.image else ""
        built = condition("Built", False, "BuildFailed",
                          f"build {ref.job_name} (attempt {attempt}) failed, {when}{keep}: {outcome.message}")
        return _Image(previous.image, hash_, status, built, actions, recheck_after=retry_in)
    return _Image(previous.image, hash_, status, _building(previous.image, target, status), actions,
                  recheck_after=outcome.recheck_after)


def _delete_job(obs: Observed, job: dict[str, Any]) -> Delete:
    return Delete("Job", job["metadata"]["name"], job["metadata"].get("uid"), api_version="batch/v1", namespace=obs.namespace)


def _building(previous_image: str | None, target: str, build: dict[str, Any]) -> dict[str, Any]:
    keep = f"; studios keep {previous_image} until it is pushed" if previous_image else ""
    return condition("Built", False, "Building",
                     f"building {target} in job {build['job']} ({build.get('message')}){keep}")


def _pinned(image: str | None) -> dict[str, Any] | None:
    if not image:
        return None
    if "@sha256:" in image:
        return condition("Pinned", True, "Digest", f"{image} is pinned by digest")
    return condition("Pinned", False, "Unpinned",
                     f"{image} is referenced by tag, so studios started at different times may run different "
                     "images; pin it by digest (image@sha256:…) for reproducible studios")


def plan_template(obs: Observed, now: datetime.datetime) -> Plan:
    t = obs.template
    meta = t.metadata
    deleting = meta.deletion_timestamp is not None
    users = sorted(obs.studios, key=lambda s: (s.namespace, s.name))
    held = L.IN_USE_FINALIZER in meta.finalizers
    actions: list[Action] = []

    # Deleting a template in use is refused: the finalizer holds it until its studios are gone.
    if users and not held and not deleting:
        actions.append(SetFinalizer(True))
    if not users and held:
        actions.append(SetFinalizer(False))
    if deleting and not users:
        return Plan(actions, None)  # it goes now; its build Jobs go with it (owner references)

    spec_image = t.spec.image
    if spec_image.build is None:
        part = _plan_prebuilt(obs, spec_image.prebuilt or "")
    else:
        part = _plan_build(obs, spec_image.build, now, may_start=not deleting)
    actions += part.actions

    rollout = plan_rollout(t.spec.update_policy, part.image, users, paused=deleting)
    recheck = part.recheck_after
    if rollout.restart:
        s = rollout.restart
        actions.append(Delete("Pod", s.pod_name or s.name, s.pod_uid, namespace=s.namespace))
    if rollout.condition["status"] != "True" and t.spec.update_policy == "Immediate":
        recheck = _soonest(recheck, ROLLOUT_RECHECK)

    built_ok = part.built["status"] == "True"
    if deleting:
        ready = condition("Ready", False, "DeletionBlocked",
                          f"deletion waits for the CodeStudios that use this template: {names(users)}; "
                          "delete them or move them to another template")
    elif built_ok:
        ready = condition("Ready", True, "Ready", "")
    else:
        ready = condition("Ready", False, part.built["reason"], part.built["message"])
    conditions = [c for c in (part.built, _pinned(part.image), rollout.condition, ready) if c]
    status = {
        "observedGeneration": meta.generation,
        "image": part.image,
        "buildHash": part.build_hash,
        "build": part.build,
        "codeStudios": len(users),
        "conditions": conditions,
    }
    return Plan(actions, status, recheck, rollout.restart)
