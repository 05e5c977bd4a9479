"""kopf admission handlers: gather what the rules need, refuse with the rule's message.

They read the API live, not the cache: kopf serves admission as soon as it starts, before its
indexes have seen their first listing, and a refusal must not rest on a cache that lags.
Failure policies (what happens when the operator does not answer) are chosen per webhook; see
docs/decisions/0010-admission-webhooks.md. Every handler is `persistent`: on a clean stop kopf
removes all other webhooks from the configurations, and every upgrade or eviction would then
open a window with no admission at all, failing open even where the policy says Fail.
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

import kopf

from .. import labels as L
from ..api import API_VERSION, GROUP, VERSION, Workspace
from ..kube import ApiError, Kube, RetryLater
from ..workspaces.children import owns_namespace, workspace_ref
from ..workspaces.members import role_of
from ..workspaces.plan import reserved
from . import rules

log = logging.getLogger(__name__)


def refuse(message: str) -> NoReturn:
    raise kopf.AdmissionError(message, code=403)


async def workspace_of(kube: Kube, namespace: str) -> Workspace | None:
    """The workspace whose own namespace this is (None for any other namespace)."""
    ns = await kube.get("v1", "Namespace", None, namespace)
    name = ((ns or {}).get("metadata", {}).get("labels") or {}).get(L.WORKSPACE)
    body = await kube.get(API_VERSION, "Workspace", None, name) if name else None
    if body is None:
        return None
    ws = Workspace.model_validate(body)
    ref = workspace_ref(ws)
    return ws if ref.namespace == namespace and owns_namespace(ref, ns) else None


async def is_cluster_admin(kube: Kube, userinfo: dict[str, Any]) -> bool:
    """Members of system:masters, and whoever may update every Workspace (not one by name): the
    people a cluster trusts with all workspaces, asked of the API server's own authorizers."""
    if rules.CLUSTER_ADMIN_GROUP in (userinfo.get("groups") or ()):
        return True
    review = await kube.create({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "metadata": {},
        "spec": {
            "user": userinfo.get("username"),
            "groups": userinfo.get("groups") or [],
            "uid": userinfo.get("uid") or "",
            "extra": userinfo.get("extra") or {},
            "resourceAttributes": {"group": GROUP, "resource": "workspaces", "verb": "update"},
        },
    })
    return bool(((review or {}).get("status") or {}).get("allowed"))


async def names_in(kube: Kube, kind: str, namespace: str | None = None) -> list[dict[str, Any]]:
    return [o["metadata"] for o in await kube.list(API_VERSION, kind, namespace)]


# --- CodeStudio ---------------------------------------------------------------------------------


@kopf.on.mutate(GROUP, VERSION, "codestudios", id="codestudio-owner", operations=["CREATE"],
                persistent=True)
def default_owner(spec: kopf.Spec, patch: kopf.Patch, userinfo: dict[str, Any], **_: Any) -> None:
    """spec.owner defaults to the user who creates the studio (an empty one is the schema's to refuse)."""
    if spec.get("owner") is None:
        patch.spec["owner"] = userinfo["username"]


@kopf.on.validate(GROUP, VERSION, "codestudios", id="codestudio", operations=["CREATE", "UPDATE"],
                  ignore_failures=True, persistent=True)
async def validate_studio(operation: str, body: kopf.Body, old: kopf.Body | None, userinfo: dict[str, Any],
                          namespace: str, memo: kopf.Memo, **_: Any) -> None:
    kube: Kube = memo.controller.kube
    spec = body.get("spec") or {}
    old_spec = (old or {}).get("spec") or {}
    name = body["metadata"].get("name") or body["metadata"].get("generateName", "")
    if operation == "CREATE" and reserved(namespace, memo.controller.config.namespace):
        refuse(rules.reserved_namespace_refusal(namespace))
    template = spec.get("template")
    try:
        if (operation == "CREATE" or template != old_spec.get("template")) and (
                await kube.get(API_VERSION, "CodeStudioTemplate", None, template) is None):
            refuse(rules.template_refusal(template))
        if operation == "CREATE":
            ws = await workspace_of(kube, namespace)
            if ws is not None and (message := rules.studio_count_refusal(
                    ws, [m["name"] for m in await names_in(kube, "CodeStudio", namespace)])):
                refuse(message)
    except (ApiError, RetryLater) as exc:
        # These rules fail open (decision 0010), also when the API cannot answer their questions:
        # their backstops decide then (TemplateNotFound, the ResourceQuota's count).
        log.warning("allowing %s of CodeStudio %s/%s unchecked: %s", operation, namespace, name, exc)

    username = userinfo.get("username", "")
    old_owner, new_owner = old_spec.get("owner"), spec.get("owner")
    if rules.owner_change_needs_privilege(operation, old_owner, new_owner, username):
        try:
            ws = await workspace_of(kube, namespace)
            allowed = role_of(ws, username, userinfo.get("groups") or ()) in ("owner", "admin") or (
                await is_cluster_admin(kube, userinfo))
        except (ApiError, RetryLater) as exc:
            # Nothing else stops a member from creating a studio for someone else: no answer, no.
            refuse(rules.owner_check_failed(namespace, name, new_owner, username, exc))
        if not allowed:
            refuse(rules.owner_change_refusal(namespace, name, old_owner, new_owner, username))


# --- Workspace ----------------------------------------------------------------------------------


@kopf.on.validate(GROUP, VERSION, "workspaces", id="workspace", operations=["UPDATE", "DELETE"],
                  persistent=True)
async def validate_workspace(operation: str, body: kopf.Body, old: kopf.Body | None, userinfo: dict[str, Any],
                             memo: kopf.Memo, **_: Any) -> None:
    kube: Kube = memo.controller.kube
    if operation == "DELETE":
        ws = Workspace.model_validate(body)
        ref = workspace_ref(ws)
        # Only studios in this workspace's own namespace protect it: one pointed at a namespace
        # it does not own (another workspace's) holds none, and must not be stuck for ever.
        ns = await kube.get("v1", "Namespace", None, ref.namespace) if ws.spec.deletion_policy == "Protect" else None
        if ns is not None and owns_namespace(ref, ns):
            studios = [m["name"] for m in await names_in(kube, "CodeStudio", ref.namespace)]
            if message := rules.workspace_delete_refusal(ws, studios):
                refuse(message)
        return
    if rules.quota_change_needs_privilege(Workspace.model_validate(old), Workspace.model_validate(body)) and not (
            await is_cluster_admin(kube, userinfo)):
        refuse(rules.quota_refusal(body["metadata"]["name"], userinfo.get("username", "")))


# --- CodeStudioTemplate -------------------------------------------------------------------------


@kopf.on.validate(GROUP, VERSION, "codestudiotemplates", id="codestudiotemplate", operations=["DELETE"],
                  persistent=True)
async def protect_template(name: str, memo: kopf.Memo, **_: Any) -> None:
    studios = await memo.controller.kube.list(API_VERSION, "CodeStudio")
    users = [f"{s['metadata']['namespace']}/{s['metadata']['name']}" for s in studios
             if (s.get("spec") or {}).get("template") == name]
    if message := rules.template_delete_refusal(name, users):
        refuse(message)


# --- a workspace's Namespace --------------------------------------------------------------------


@kopf.on.validate("namespaces", id="workspace-namespace", operations=["DELETE"], labels={L.WORKSPACE: kopf.PRESENT},
                  persistent=True)
async def protect_namespace(body: kopf.Body, name: str, memo: kopf.Memo, **_: Any) -> None:
    """Deleting a workspace's namespace directly would take its retained home volumes with it:
    only the workspace's own deletion (which keeps them first) may."""
    workspace = body["metadata"]["labels"][L.WORKSPACE]
    found = await memo.controller.kube.get(API_VERSION, "Workspace", None, workspace)
    if found is None or found["metadata"].get("deletionTimestamp"):
        return
    if owns_namespace(workspace_ref(Workspace.model_validate(found)), body):
        refuse(rules.namespace_delete_refusal(name, workspace))
