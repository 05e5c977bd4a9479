"""What a workspace is made of: its namespace, member bindings, quota and isolation."""

import pathlib

import pytest
import yaml

from studio_operator.workspaces import children as C
from studio_operator.workspaces.members import role_of
from tests.unit.workspace_fixtures import namespace, workspace

ROOT = pathlib.Path(__file__).resolve().parents[2]
REF = C.WorkspaceRef("team", "wuid", "team-ns")


def test_namespace_is_labelled_restricted_and_names_its_workspace_without_being_its_dependent():
    ns = C.build_namespace(REF)
    labels = ns["metadata"]["labels"]
    assert ns["metadata"]["name"] == "team-ns" and "namespace" not in ns["metadata"]
    assert labels["studio.dev/workspace"] == "team"
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "latest"
    # No owner reference: deleting the Workspace in the foreground would have the garbage
    # collector delete the namespace before the operator keeps the retained volumes.
    assert "ownerReferences" not in ns["metadata"]
    assert ns["metadata"]["annotations"]["studio.dev/workspace-uid"] == "wuid"
    assert C.owns_namespace(REF, ns)


@pytest.mark.parametrize("owner_uid, ours", [("wuid", True), ("another-incarnation", False), (None, False)])
@pytest.mark.parametrize("legacy", [False, True])
def test_only_a_namespace_created_for_this_workspace_is_its_own(owner_uid, ours, legacy):
    ns = namespace(owner_uid=owner_uid, legacy=legacy)
    assert C.owns_namespace(C.WorkspaceRef("team", "wuid", "team"), ns) is ours


def test_one_binding_per_role_with_its_members_as_subjects():
    bindings = {b["metadata"]["name"]: b for b in C.build_role_bindings(REF, workspace().spec.members)}
    assert set(bindings) == {"studio-workspace-owner", "studio-workspace-admin", "studio-workspace-member",
                             "studio-workspace-viewer"}
    for name, b in bindings.items():
        assert b["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name}
        assert b["metadata"]["namespace"] == "team-ns"
    assert bindings["studio-workspace-member"]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"},
        {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
    ]
    assert bindings["studio-workspace-owner"]["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "olivia"}]


def test_a_role_nobody_has_keeps_its_binding_with_no_subjects():
    ws = workspace(members=[{"kind": "User", "name": "olivia", "role": "owner"}])
    bindings = {b["metadata"]["name"]: b for b in C.build_role_bindings(REF, ws.spec.members)}
    assert bindings["studio-workspace-viewer"]["subjects"] == []


def test_members_may_read_only_their_workspace_object_and_owners_change_it():
    objs = {(o["kind"], o["metadata"]["name"]): o for o in C.build_workspace_access(REF, workspace().spec.members)}
    reader, owner = objs[("ClusterRole", "studio-workspace:team")], objs[("ClusterRole", "studio-workspace:team:owner")]
    assert reader["rules"] == [{"apiGroups": ["studio.dev"], "resources": ["workspaces"], "resourceNames": ["team"],
                                "verbs": ["get", "list", "watch"]}]
    assert owner["rules"][0]["resourceNames"] == ["team"]
    assert set(owner["rules"][0]["verbs"]) == {"get", "list", "watch", "update", "patch", "delete"}
    everyone = objs[("ClusterRoleBinding", "studio-workspace:team")]["subjects"]
    assert [s["name"] for s in everyone] == ["olivia", "adam", "devs", "ci", "auditors"]
    assert [s["name"] for s in objs[("ClusterRoleBinding", "studio-workspace:team:owner")]["subjects"]] == ["olivia"]
    assert all(o["metadata"]["ownerReferences"][0]["uid"] == "wuid" for o in objs.values())


@pytest.mark.parametrize("quota, hard", [
    (None, {}),
    ({}, {}),
    ({"maxRunningCodeStudios": 2}, {}),  # the operator's own check, not the ResourceQuota's
    ({"maxCodeStudios": 5}, {"count/codestudios.studio.dev": "5"}),
    ({"cpu": 4, "memory": "8Gi"}, {"requests.cpu": "4", "requests.memory": "8Gi"}),
    ({"storage": "1Ti", "gpu": 2}, {"requests.storage": "1Ti", "requests.nvidia.com/gpu": "2"}),
])
def test_quota_becomes_a_resource_quota(quota, hard):
    ws = workspace(**({"quota": quota} if quota is not None else {}))
    rq = C.build_resource_quota(REF, ws.spec.quota)
    assert (rq["spec"]["hard"] if rq else {}) == hard


@pytest.mark.parametrize("quota, requests", [
    ({"maxCodeStudios": 5, "storage": "1Ti"}, None),
    ({"cpu": 4}, {"cpu": "250m"}),
    ({"cpu": 4, "memory": "8Gi"}, {"cpu": "250m", "memory": "512Mi"}),
])
def test_a_cpu_or_memory_quota_brings_default_requests(quota, requests):
    lr = C.build_limit_range(REF, workspace(quota=quota).spec.quota)
    assert (lr["spec"]["limits"] if lr else None) == (
        [{"type": "Container", "defaultRequest": requests}] if requests else None)


def test_network_policy_admits_the_workspace_and_no_other_workspace():
    spec = C.build_network_policy(REF)["spec"]
    assert spec["podSelector"] == {} and spec["policyTypes"] == ["Ingress"]
    assert spec["ingress"] == [{"from": [
        {"podSelector": {}},
        {"namespaceSelector": {"matchExpressions": [{"key": "studio.dev/workspace", "operator": "DoesNotExist"}]}},
    ]}]


def test_studio_service_account_mounts_no_token():
    sa = C.build_service_account(REF)
    assert sa["metadata"]["name"] == "studio" and sa["automountServiceAccountToken"] is False


def test_children_change_hash_only_when_they_change():
    first = C.build_children(workspace())
    assert C.build_children(workspace()) == first
    changed = C.build_children(workspace(members=[{"kind": "User", "name": "olivia", "role": "owner"}]))
    hashes = lambda objs: {(o["kind"], o["metadata"]["name"]): o["metadata"]["annotations"]["studio.dev/spec-hash"] for o in objs}  # noqa: E731
    differing = {k for k, h in hashes(changed).items() if hashes(first)[k] != h}
    assert differing == {("RoleBinding", "studio-workspace-admin"), ("RoleBinding", "studio-workspace-member"),
                         ("RoleBinding", "studio-workspace-viewer"), ("ClusterRoleBinding", "studio-workspace:team")}


@pytest.mark.parametrize("user, groups, role", [
    ("olivia", [], "owner"),
    ("adam", ["devs"], "admin"),  # the highest of a direct and a group role
    ("zoe", ["devs", "system:authenticated"], "member"),
    ("system:serviceaccount:tools:ci", [], "member"),
    ("system:serviceaccount:other:ci", [], None),
    ("ci", [], None),
    ("zoe", ["auditors"], "viewer"),
    ("zoe", [], None),
])
def test_role_of_a_requesting_user(user, groups, role):
    assert role_of(workspace(), user, groups) == role
    assert role_of(None, user, groups) is None


def _rules(role: str) -> set[tuple[str, str, str]]:
    doc = yaml.safe_load((ROOT / "manifests" / "rbac" / f"{C.member_clusterrole(role)}.yaml").read_text())
    assert doc["kind"] == "ClusterRole" and doc["metadata"]["name"] == C.member_clusterrole(role)
    return {(g, r, v) for rule in doc["rules"] for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}


def test_shipped_member_roles_grow_from_viewer_to_owner():
    viewer, member, admin, owner = (_rules(r) for r in ("viewer", "member", "admin", "owner"))
    assert viewer < member < admin < owner
    assert member - viewer == {("studio.dev", "codestudios", "create")}
    assert ("studio.dev", "codestudios", "delete") in admin - member
    assert ("", "persistentvolumeclaims", "delete") in owner - admin
    assert all(v in ("get", "list", "watch") for _, _, v in viewer)


@pytest.mark.parametrize("role", C.ROLES)
def test_shipped_member_roles_never_reach_into_studios_or_secrets(role):
    rules = _rules(role)
    assert not any("*" in part for rule in rules for part in rule)
    resources = {r for _, r, _ in rules}
    assert not resources & {"pods/exec", "pods/attach", "pods/portforward", "pods/proxy", "pods/log",
                            "services/proxy", "secrets", "roles", "clusterroles", "workspaces", "resourcequotas/status"}
    assert not {(g, r, v) for g, r, v in rules if r in ("rolebindings", "resourcequotas", "networkpolicies")
                and v not in ("get", "list", "watch")}
    assert ("", "pods", "create") not in rules
