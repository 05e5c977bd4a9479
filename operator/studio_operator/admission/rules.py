"""Pure admission decisions: each returns None to allow, or the message the user sees."""

from __future__ import annotations

from collections.abc import Sequence

from ..api import Workspace
from ..workspaces.plan import name_list, protected

CLUSTER_ADMIN_GROUP = "system:masters"


def owner_change_needs_privilege(operation: str, old_owner: str | None, new_owner: str | None, username: str) -> bool:
    """Whether this create or update hands a studio to someone other than the requester without
    the requester being its current owner: only workspace owners and admins and cluster admins may.

    Creating a studio for oneself, or an owner giving their studio away, needs nothing more.
    """
    if operation == "CREATE":
        return new_owner != username
    return new_owner != old_owner and old_owner != username


def owner_change_refusal(namespace: str, name: str, old_owner: str | None, new_owner: str | None, username: str) -> str:
    if old_owner is None:
        return (f"{username} may not create CodeStudio {namespace}/{name} for {new_owner}: only workspace owners "
                "and admins and cluster admins create studios for others; leave spec.owner out to own it yourself")
    return (f"{username} may not change the owner of CodeStudio {namespace}/{name} from {old_owner} to "
            f"{new_owner or 'nobody'}: only its owner, workspace owners and admins, and cluster admins may")


def reserved_namespace_refusal(namespace: str) -> str:
    return (f"namespace {namespace} is reserved (default, kube-*, the operator's own) and holds no CodeStudios; "
            "create the studio in a workspace's namespace")


def owner_check_failed(namespace: str, name: str, new_owner: str | None, username: str, error: Exception) -> str:
    return (f"could not check that {username} may make {new_owner or 'nobody'} the owner of CodeStudio "
            f"{namespace}/{name}: the API server did not answer ({error}); try again")


def template_refusal(template: str) -> str:
    return (f"CodeStudioTemplate {template!r} does not exist; set spec.template to an existing template "
            "(kubectl get codestudiotemplates)")


def studio_count_refusal(ws: Workspace, existing: Sequence[str]) -> str | None:
    limit = ws.spec.quota.max_code_studios if ws.spec.quota else None
    if limit is None or len(existing) < limit:
        return None
    return (f"workspace {ws.metadata.name} allows at most {limit} CodeStudios (spec.quota.maxCodeStudios={limit}) "
            f"and holds {len(existing)}: {name_list(existing)}; delete one, or ask a cluster admin to raise the quota")


def workspace_delete_refusal(ws: Workspace, studios: Sequence[str]) -> str | None:
    if ws.spec.deletion_policy != "Protect" or not studios:
        return None
    return protected(ws, studios)


def quota_change_needs_privilege(old: Workspace, new: Workspace) -> bool:
    return old.spec.quota != new.spec.quota


def quota_refusal(name: str, username: str) -> str:
    return (f"{username} may not change spec.quota of workspace {name}: quotas are set by cluster admins "
            "(users who may update every Workspace)")


def template_delete_refusal(name: str, studios: Sequence[str]) -> str | None:
    if not studios:
        return None
    return (f"CodeStudioTemplate {name} is used by {len(studios)} CodeStudio(s): {name_list(studios)}; "
            "delete them or move them to another template first")


def namespace_delete_refusal(namespace: str, workspace: str) -> str:
    return (f"namespace {namespace} belongs to workspace {workspace}; delete the workspace instead "
            f"(kubectl delete workspace {workspace}), which keeps the home volumes of studios under "
            "volumeReclaimPolicy: Retain")
