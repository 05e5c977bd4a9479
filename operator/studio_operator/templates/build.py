"""Image builds as Kubernetes Jobs: the build hash, the Job, and what a finished Job says.

The builder contract (docs/decisions/0006-image-builds.md): the builder image is run with
kaniko executor flags; it reads /workspace/Dockerfile, pushes `--destination`, writes the
pushed digest (`sha256:<64 hex>`) to /dev/termination-log and exits 0, or exits non-zero and
the kubelet puts the tail of its log into the termination message.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import Any

from .. import labels as L
from ..api.template import ImageBuild
from ..conditions import parse_time, rfc3339
from ..studios.status import CONTAINER_ERRORS, IMAGE_ERRORS

CONTAINER = "builder"
WORKSPACE = "/workspace"
DOCKER_CONFIG = "/kaniko/.docker"
TERMINATION_LOG = "/dev/termination-log"
DIGEST = re.compile(r"sha256:[a-f0-9]{64}")

# A build that runs longer than this is stuck (a registry that never answers, a hung step).
DEADLINE_SECONDS = 3600
# Finished Jobs stay a day for `kubectl logs`; the result already lives in the template's status.
TTL_SECONDS = 86400
RESOURCES = {
    "requests": {"cpu": "500m", "memory": "1Gi", "ephemeral-storage": "2Gi"},
    "limits": {"cpu": "2", "memory": "4Gi", "ephemeral-storage": "20Gi"},
}
# kaniko unpacks the base image into its own root filesystem and runs the RUN steps there, so it
# runs as root; these capabilities (all allowed by Pod Security baseline) are what package
# managers need to set owners and modes and to drop to their own users. Everything else is dropped.
CAPABILITIES = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETFCAP", "SETGID", "SETUID"]
MESSAGE_TAIL = 4000
# A Job that completed while its pod is no longer cached for this long has lost its digest.
POD_GRACE_SECONDS = 30.0
# A builder pod not running after this long is probably missing its push secret; say so.
SLOW_START_SECONDS = 60.0


def build_hash(dockerfile: str, build: ImageBuild) -> str:
    """The hash of every build input; the pushed tag. The push secret is not an input: it changes
    who pushes, not what is built."""
    return L.content_hash(
        {"dockerfile": dockerfile, "builderImage": build.builder_image, "repository": build.registry.repository},
        length=32,
    )


def job_base_name(template: str) -> str:
    """A prefix for a template's build Jobs that keeps Job names within 63 characters."""
    name = template.replace(".", "-")
    if len(name) > 40:
        name = f"{name[:33].rstrip('-')}-{L.content_hash(template, 6)}"
    return name


def job_name(template: str, hash_: str, attempt: int) -> str:
    return f"{job_base_name(template)}-{hash_[:10]}-{attempt}"


@dataclasses.dataclass(frozen=True)
class BuildRef:
    """One build attempt of one template."""

    template: str
    template_uid: str
    generation: int
    namespace: str
    hash: str
    attempt: int

    @property
    def job_name(self) -> str:
        return job_name(self.template, self.hash, self.attempt)


def destination(build: ImageBuild, hash_: str) -> str:
    return f"{build.registry.repository}:{hash_}"


def build_job(ref: BuildRef, build: ImageBuild, dockerfile: str) -> dict[str, Any]:
    """The build Job. The Dockerfile travels in a pod annotation that a downward-API volume turns
    into /workspace/Dockerfile: one object, immutable with the Job, and visible in `kubectl get`."""
    labels = {
        **L.app_labels("codestudiotemplate", ref.template, L.IMAGE_BUILD),
        L.TEMPLATE: ref.template,
        L.BUILD_HASH: ref.hash,
        L.BUILD_ATTEMPT: str(ref.attempt),
    }
    mounts = [{"name": "dockerfile", "mountPath": WORKSPACE, "readOnly": True}]
    volumes: list[dict[str, Any]] = [{
        "name": "dockerfile",
        "downwardAPI": {"items": [{"path": "Dockerfile",
                                   "fieldRef": {"fieldPath": f"metadata.annotations['{L.DOCKERFILE}']"}}]},
    }]
    secret = build.registry.push_secret_ref
    if secret:
        mounts.append({"name": "docker-config", "mountPath": DOCKER_CONFIG, "readOnly": True})
        volumes.append({
            "name": "docker-config",
            "secret": {"secretName": secret.name, "items": [{"key": ".dockerconfigjson", "path": "config.json"}]},
        })
    container = {
        "name": CONTAINER,
        "image": build.builder_image,
        "args": [
            f"--dockerfile={WORKSPACE}/Dockerfile",
            f"--context=dir://{WORKSPACE}",
            f"--destination={destination(build, ref.hash)}",
            f"--digest-file={TERMINATION_LOG}",
            "--push-retry=3",
        ],
        "env": [{"name": "DOCKER_CONFIG", "value": DOCKER_CONFIG}],
        "terminationMessagePath": TERMINATION_LOG,
        # On failure the kubelet puts the tail of the log here: the message users see.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "resources": RESOURCES,
        "volumeMounts": mounts,
        "securityContext": {
            "privileged": False,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"], "add": CAPABILITIES},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": ref.job_name,
            "namespace": ref.namespace,
            "labels": labels,
            "annotations": {L.TEMPLATE_GENERATION: str(ref.generation)},
            # A cluster-scoped owner may own namespaced objects: deleting the template removes its builds.
            "ownerReferences": [L.owner_reference("CodeStudioTemplate", ref.template, ref.template_uid)],
        },
        "spec": {
            "backoffLimit": 0,  # the operator retries, with its own backoff and a fresh Job per attempt
            "activeDeadlineSeconds": DEADLINE_SECONDS,
            "ttlSecondsAfterFinished": TTL_SECONDS,
            "template": {
                "metadata": {"labels": labels, "annotations": {L.DOCKERFILE: dockerfile}},
                "spec": {
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,  # the builder never talks to the API
                    "enableServiceLinks": False,
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


# --- reading a build Job back ------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BuildOutcome:
    """What one build Job (and its pod) says."""

    phase: str  # Pending, Building, Succeeded or Failed
    message: str = ""
    digest: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    stop: bool = False  # the Job still runs but cannot succeed: delete it
    recheck_after: float | None = None


def _condition(job: dict[str, Any], *types: str) -> dict[str, Any] | None:
    for c in job.get("status", {}).get("conditions") or []:
        if c.get("type") in types and c.get("status") == "True":
            return c
    return None


def _container(pod: dict[str, Any] | None) -> dict[str, Any]:
    statuses = ((pod or {}).get("status") or {}).get("containerStatuses") or []
    return statuses[0] if statuses else {}


def _tail(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MESSAGE_TAIL else "…" + text[-MESSAGE_TAIL:]


def read_build(job: dict[str, Any], pod: dict[str, Any] | None, now: datetime.datetime) -> BuildOutcome:
    status = job.get("status") or {}
    started = status.get("startTime") or job["metadata"].get("creationTimestamp")
    cs = _container(pod)
    terminated = (cs.get("state") or {}).get("terminated")
    done = _condition(job, "Complete", "SuccessCriteriaMet")
    failed = _condition(job, "Failed", "FailureTarget")

    if done:
        finished = status.get("completionTime") or done.get("lastTransitionTime")
        if terminated:
            reported = (terminated.get("message") or "").strip()
            if DIGEST.fullmatch(reported):
                return BuildOutcome("Succeeded", f"pushed {reported}", reported, started, finished)
            return BuildOutcome("Failed", "the builder exited 0 but wrote no image digest to its termination "
                                f"message (got {_tail(reported)!r})", None, started, finished)
        since = parse_time(finished) or now
        waited = (now - since).total_seconds()
        if pod is None and waited >= POD_GRACE_SECONDS:
            return BuildOutcome("Failed", "the build finished but its pod is gone, so its image digest is unknown",
                                None, started, finished)
        # The Job's watch may run ahead of its pod's: wait for the termination message.
        return BuildOutcome("Building", "reading the build's result", None, started,
                            recheck_after=max(1.0, POD_GRACE_SECONDS - waited))
    if failed:
        finished = failed.get("lastTransitionTime")
        if terminated:
            head = f"the builder exited with code {terminated.get('exitCode')} ({terminated.get('reason', 'Error')})"
            log = _tail(terminated.get("message") or "")
            return BuildOutcome("Failed", f"{head}: {log}" if log else head, None, started, finished)
        detail = failed.get("message") or failed.get("reason") or "the build Job failed"
        return BuildOutcome("Failed", f"{failed.get('reason', 'Failed')}: {detail}", None, started, finished)

    waiting = (cs.get("state") or {}).get("waiting") or {}
    reason = waiting.get("reason", "")
    if reason in IMAGE_ERRORS or reason in CONTAINER_ERRORS:
        # A builder that cannot start will not start by waiting: fail now, not at the deadline.
        detail = waiting.get("message") or f"cannot start the builder image {cs.get('image', '')}".strip()
        return BuildOutcome("Failed", f"{reason}: {detail}", None, started, rfc3339(now), stop=True)
    if ((pod or {}).get("status") or {}).get("phase") == "Running":
        return BuildOutcome("Building", "the builder is running", None, started)
    since = parse_time(started) or now
    pending = (now - since).total_seconds()
    if pending >= SLOW_START_SECONDS:
        return BuildOutcome("Pending", f"the builder pod has not started for {int(pending)}s; check that the push "
                            "secret exists in the operator's namespace and that a node can run the build",
                            None, started)
    return BuildOutcome("Pending", "waiting for the builder pod to start", None, started,
                        recheck_after=SLOW_START_SECONDS - pending)
