"""Label, annotation and naming conventions shared by every reconciler."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from .api.common import API_VERSION

FIELD_MANAGER = "studio-operator"
STUDIO = "studio.dev/codestudio"
WORKSPACE = "studio.dev/workspace"
TEMPLATE = "studio.dev/template"
OWNER = "studio.dev/owner"
# On a home volume: the CodeStudio (uid) it was made for, which a later one of that name is not.
STUDIO_UID = "studio.dev/codestudio-uid"
# Held on a CodeStudio under volumeReclaimPolicy: Delete, so the operator deletes its claim when
# the studio goes, under the policy the studio has then (docs/decisions/0035-volume-reclaim.md).
RECLAIM_FINALIZER = "studio.dev/reclaim-volume"
SPEC_HASH = "studio.dev/spec-hash"
RESTART_AT = "studio.dev/restart-requested-at"
# On a CodeStudio: when it was last used (RFC 3339), as clients and gateways report it; and the
# generation of the spec.state: Stopped that the operator wrote when the studio went idle.
LAST_ACTIVITY = "studio.dev/last-activity"
IDLE_STOPPED = "studio.dev/idle-stopped-generation"
# On a workspace's namespace: the UID of the Workspace that created it (not an owner reference,
# which would make the garbage collector delete it with the Workspace; decision 0011).
WORKSPACE_UID = "studio.dev/workspace-uid"
# Image builds: the build-input hash and attempt on a build Job, the Dockerfile on its pod,
# and the template generation the Job was made from.
BUILD_HASH = "studio.dev/build-hash"
BUILD_ATTEMPT = "studio.dev/build-attempt"
DOCKERFILE = "studio.dev/dockerfile"
TEMPLATE_GENERATION = "studio.dev/template-generation"
IMAGE_BUILD = "image-build"  # app.kubernetes.io/component of build Jobs and their pods
# Held on a CodeStudioTemplate while studios use it, so it cannot go away under them.
IN_USE_FINALIZER = "studio.dev/in-use"


def app_labels(name: str, instance: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": "studio-operator",
        "app.kubernetes.io/managed-by": FIELD_MANAGER,
    }


def owner_reference(kind: str, name: str, uid: str) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": kind,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: dict[str, Any]) -> str | None:
    return next((r.get("uid") for r in obj["metadata"].get("ownerReferences") or () if r.get("controller")), None)


def content_hash(obj: Any, length: int = 16) -> str:
    """A stable hash of JSON-able content, used to skip writes that would change nothing."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:length]


def with_spec_hash(manifest: dict[str, Any]) -> dict[str, Any]:
    """The manifest with an annotation carrying the hash of everything else in it."""
    digest = content_hash(manifest)
    metadata = manifest.setdefault("metadata", {})
    metadata.setdefault("annotations", {})[SPEC_HASH] = digest
    return manifest
