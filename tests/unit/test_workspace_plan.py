"""The workspace reconcile as a pure function: what it does and reports for each observed state."""

import pytest

from studio_operator.actions import Apply, Create, Delete, Patch
from studio_operator.workspaces import children as C
from studio_operator.workspaces.plan import FINALIZER, Observed, plan_workspace
from tests.unit.workspace_fixtures import claim, namespace, pod, quota, studio, workspace


def in_place(ws):
    """The children as the operator applied them (what the watch brings back)."""
    return [{**c, "metadata": {**c["metadata"], "uid": f"{c['kind']}-uid"}} for c in C.build_children(ws)]


def own_namespace(ws):
    """The namespace as the operator created it for the workspace."""
    ns = C.build_namespace(C.workspace_ref(ws))
    return {**ns, "metadata": {**ns["metadata"], "uid": "ns-uid"}, "status": {"phase": "Active"}}


def plan(ws=None, **observed):
    ws = ws or workspace()
    observed.setdefault("namespace", own_namespace(ws))
    observed.setdefault("operator_namespace", "studio-system")
    return plan_workspace(Observed(workspace=ws, **observed))


def conditions(p):
    return {c["type"]: (c["status"], c["reason"]) for c in p.status["conditions"]}


def kinds(p, action_type):
    return [(a.manifest["kind"], a.manifest["metadata"]["name"]) for a in p.actions if isinstance(a, action_type)]


def test_new_workspace_takes_its_finalizer_first_then_creates_its_namespace():
    p = plan(workspace(finalizers=()), namespace=None)
    assert p.actions[0] == Patch("studio.dev/v1alpha1", "Workspace", None, "team",
                                 {"metadata": {"finalizers": [FINALIZER], "resourceVersion": "41"}})
    assert kinds(p, Create) == [("Namespace", "team")]
    assert len(p.actions) == 2
    assert p.status["phase"] == "Pending" and p.status["namespace"] is None
    assert conditions(p)["Ready"] == ("False", "Creating")


def test_finalizer_is_added_next_to_others():
    p = plan(workspace(finalizers=("example.com/keep",)), namespace=None)
    assert p.actions[0].patch["metadata"]["finalizers"] == ["example.com/keep", FINALIZER]


def test_own_namespace_gets_every_child_and_the_workspace_is_active():
    p = plan()
    assert kinds(p, Apply) == [(o["kind"], o["metadata"]["name"]) for o in in_place(workspace())]
    assert p.status["phase"] == "Active" and p.status["namespace"] == "team"
    assert p.status["members"] == 5 and p.status["observedGeneration"] == 2
    assert plan(workspace(tier="gold")).status["tier"] == "gold"  # shown in status and the printer columns
    assert conditions(p) == {"NamespaceReady": ("True", "Created"), "RBACReady": ("True", "Bound"),
                             "QuotaReady": ("True", "NoQuota"), "Ready": ("True", "Active")}


def test_everything_in_place_does_nothing():
    ws = workspace()
    assert plan(ws, children=in_place(ws)).actions == []


def test_a_changed_label_on_the_namespace_is_put_back():
    p = plan(namespace=namespace(), children=in_place(workspace()))
    assert kinds(p, Apply) == [("Namespace", "team")]


def test_a_namespace_an_earlier_version_made_a_dependent_of_the_workspace_is_released():
    ws = workspace()
    legacy = namespace(legacy=True)
    legacy["metadata"]["ownerReferences"].append({"kind": "Thing", "name": "other", "uid": "other-uid"})
    p = plan(ws, namespace=legacy, children=in_place(ws))
    assert p.actions[0] == Patch("v1", "Namespace", None, "team", {"metadata": {
        "ownerReferences": [{"kind": "Thing", "name": "other", "uid": "other-uid"}],
        "annotations": {"studio.dev/workspace-uid": "wuid"}, "resourceVersion": "7"}})
    assert kinds(p, Apply) == [("Namespace", "team")]
    assert p.status["phase"] == "Active"


@pytest.mark.parametrize("ns", ["default", "kube-system", "kube-public", "studio-operator"])
def test_reserved_namespace_is_never_touched(ns):
    p = plan(workspace(namespace=ns), namespace=namespace(ns, owner_uid=None), operator_namespace="studio-operator")
    assert p.actions == []
    assert p.status["phase"] == "Failed"
    assert conditions(p)["Ready"] == ("False", "ReservedNamespace")
    assert f"namespace {ns} is reserved" in p.status["conditions"][0]["message"]


@pytest.mark.parametrize("owner_uid", [None, "an-earlier-workspace-of-that-name"])
def test_a_namespace_the_operator_did_not_create_is_not_adopted(owner_uid):
    p = plan(namespace=namespace(owner_uid=owner_uid))
    assert p.actions == []
    assert p.status["phase"] == "Failed" and p.status["namespace"] is None
    assert conditions(p)["NamespaceReady"] == ("False", "NamespaceNotOwned")
    assert conditions(p)["Ready"] == ("False", "NamespaceNotOwned")
    assert "was not created by studio-operator for this workspace" in p.status["conditions"][0]["message"]
    assert p.recheck_after  # in case its owner deletes it


def test_a_terminating_namespace_is_waited_for():
    p = plan(namespace=namespace(owner_uid=None, deleting=True))
    assert p.actions == [] and p.status["phase"] == "Pending" and p.recheck_after
    assert conditions(p)["Ready"] == ("False", "NamespaceTerminating")


def test_children_no_longer_wanted_are_deleted():
    with_quota = workspace(quota={"cpu": 2})
    ws = workspace()
    p = plan(ws, children=in_place(with_quota))
    deleted = {(a.kind, a.name, a.uid, a.namespace) for a in p.actions if isinstance(a, Delete)}
    assert deleted == {("ResourceQuota", "workspace-quota", "ResourceQuota-uid", "team"),
                       ("LimitRange", "workspace-defaults", "LimitRange-uid", "team")}
    assert not kinds(p, Apply)
    # One already going is not deleted again.
    going = [{**c, "metadata": {**c["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
             if c["kind"] == "ResourceQuota" else c for c in in_place(with_quota)]
    assert {a.kind for a in plan(ws, children=going).actions if isinstance(a, Delete)} == {"LimitRange"}


def test_objects_labelled_for_the_workspace_elsewhere_are_left_alone():
    """Anyone who may label a NetworkPolicy in their namespace, or a ClusterRole, could label it
    for a workspace: the operator must not delete it as a child no longer wanted."""
    ws = workspace()
    label = {"studio.dev/workspace": "team"}
    elsewhere = [
        {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
         "metadata": {"name": "payments-egress", "namespace": "payments", "uid": "np", "labels": label}},
        # Named as a child of the workspace, in another namespace: not the child either.
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": {"name": "studio", "namespace": "payments", "uid": "sa", "labels": label}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": {"name": "platform-admin", "uid": "cr", "labels": label}},
        # In the workspace's own namespace, but of a kind the operator never makes for it.
        {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
         "metadata": {"name": "datasets", "namespace": "team", "uid": "pvc", "labels": label}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "platform-admins", "uid": "crb", "labels": label,
                      "ownerReferences": [{"kind": "Workspace", "name": "team", "uid": "an-earlier-team"}]}},
    ]
    p = plan(ws, children=in_place(ws) + elsewhere)
    assert p.actions == []
    # The workspace's own children no longer wanted still go.
    stale = {"apiVersion": "v1", "kind": "ResourceQuota",
             "metadata": {"name": "old-quota", "namespace": "team", "uid": "q", "labels": label}}
    p = plan(ws, children=in_place(ws) + elsewhere + [stale])
    assert p.actions == [Delete("ResourceQuota", "old-quota", "q", "v1", "team")]


def test_a_service_account_member_the_api_server_would_refuse_is_named_and_the_others_bound():
    """A Workspace stored before the CRD refused such names: one invalid subject would make the
    API server refuse the whole binding, leaving removed members bound and no status written."""
    members = [{"kind": "User", "name": "olivia", "role": "owner"},
               {"kind": "ServiceAccount", "name": "CI_Bot", "namespace": "tools", "role": "member"},
               {"kind": "Group", "name": "devs", "role": "member"}]
    ws = workspace(members=members)
    p = plan(ws)
    member_binding = next(a.manifest for a in p.actions
                          if isinstance(a, Apply) and a.manifest["metadata"]["name"] == "studio-workspace-member")
    assert member_binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]
    assert conditions(p)["RBACReady"] == ("False", "InvalidMember")
    assert conditions(p)["Ready"] == ("False", "InvalidMember")
    message = next(c["message"] for c in p.status["conditions"] if c["type"] == "RBACReady")
    assert message.startswith("member(s) ServiceAccount tools/CI_Bot not bound: a ServiceAccount member's name must "
                              "be a DNS subdomain: lowercase letters, digits")
    assert "(2 other member(s) bound)" in message


def test_missing_member_cluster_roles_are_reported():
    ws = workspace()
    p = plan(ws, children=in_place(ws), member_roles=frozenset({"studio-workspace-owner", "studio-workspace-viewer"}))
    assert conditions(p)["RBACReady"] == ("False", "ClusterRoleMissing")
    assert conditions(p)["Ready"] == ("False", "ClusterRoleMissing")
    message = next(c["message"] for c in p.status["conditions"] if c["type"] == "RBACReady")
    assert "studio-workspace-admin, studio-workspace-member do not exist" in message


@pytest.mark.parametrize("observed_quota, ready", [
    (None, ("False", "QuotaPending")),
    ({"spec": {"hard": {"requests.cpu": "2"}}}, ("False", "QuotaPending")),  # not yet counted
    (quota({"requests.cpu": "1"}), ("False", "QuotaPending")),  # counted against the old limit
    (quota({"requests.cpu": "2000m"}, {"requests.cpu": "500m"}), ("True", "Enforced")),
])
def test_quota_is_ready_once_the_quota_controller_counted_it(observed_quota, ready):
    ws = workspace(quota={"cpu": 2})
    children = [c for c in in_place(ws) if c["kind"] != "ResourceQuota"]
    if observed_quota:
        children.append({**C.build_resource_quota(C.workspace_ref(ws), ws.spec.quota), **observed_quota})
    p = plan(ws, children=children)
    assert conditions(p)["QuotaReady"] == ready
    # Not Ready while the quota is not enforced yet: studios could exceed it meanwhile.
    assert conditions(p)["Ready"] == (("True", "Active") if ready[0] == "True" else ready)


def test_quota_in_nano_and_micro_units_and_exponents_is_ready_once_counted():
    """The CRD accepts every Kubernetes quantity; the API server writes them back canonically."""
    ws = workspace(quota={"cpu": "100n", "memory": "5u", "storage": "1e9"})
    counted = quota({"requests.cpu": "100n", "requests.memory": "5u", "requests.storage": "1G"})
    children = [c for c in in_place(ws) if c["kind"] != "ResourceQuota"]
    children.append({**C.build_resource_quota(C.workspace_ref(ws), ws.spec.quota), **counted})
    p = plan(ws, children=children)
    assert conditions(p)["QuotaReady"] == ("True", "Enforced")
    assert p.status["phase"] == "Active"


def test_status_counts_studios_and_shows_quota_usage():
    ws = workspace(quota={"cpu": 4, "maxCodeStudios": 9})
    children = [c for c in in_place(ws) if c["kind"] != "ResourceQuota"]
    q = quota({"requests.cpu": "4", "count/codestudios.studio.dev": "9"},
              {"requests.cpu": "1500m", "count/codestudios.studio.dev": "4"})
    rq = C.build_resource_quota(C.workspace_ref(ws), ws.spec.quota)
    children.append({**rq, "status": q["status"]})
    studios = [studio("a"), studio("b"), studio("c", "Stopped"), studio("d", "Failed")]
    p = plan(ws, children=children, studios=studios)
    assert p.status["codeStudios"] == {"total": 4, "running": 2, "stopped": 1}
    assert p.status["usage"] == {"codeStudios": "4", "cpu": "1500m"}


@pytest.mark.parametrize("pods, studios, phase", [
    ([pod("a"), pod("b", deleting=True)], [], "Stopping"),
    ([pod("b", deleting=True)], [], "Stopping"),
    ([], [studio("a", "Stopping"), studio("b", "Stopped")], "Stopping"),
    ([], [studio("a", "Starting")], "Stopping"),  # its pod made moments ago, not seen yet
    ([], [studio("a", "Stopped"), studio("b", "Failed"), studio("c", None)], "Stopped"),
    ([], [], "Stopped"),
])
def test_stopped_workspace_is_stopping_until_every_pod_is_gone_and_studios_say_so(pods, studios, phase):
    ws = workspace(state="Stopped")
    p = plan(ws, children=in_place(ws), pods=pods, studios=studios)
    assert p.status["phase"] == phase
    assert conditions(p)["Ready"] == ("True", phase)
    assert p.wake == []


@pytest.mark.parametrize("limit, running, woken", [
    (2, ["a"], ["w1"]),
    (3, ["a"], ["w1", "w2"]),
    (1, ["a"], []),
    (None, ["a"], []),
])
def test_studios_waiting_for_a_running_slot_are_woken_when_one_frees(limit, running, woken):
    ws = workspace(quota={"maxRunningCodeStudios": limit} if limit else {})
    studios = [studio("a"), studio("w1", "Failed", waiting_for_quota=True), studio("w2", "Failed", waiting_for_quota=True),
               studio("x", "Failed")]
    p = plan(ws, children=in_place(ws), studios=studios, pods=[pod(n) for n in running] + [pod("gone", deleting=True)])
    assert p.wake == woken


# --- deletion ----------------------------------------------------------------------------------


def deleting(**spec):
    return workspace(deleting=True, **spec)


def test_protected_workspace_with_studios_is_not_deleted():
    p = plan(deleting(), studios=[studio("b"), studio("a"), studio("c", deleting=True)], claims=[claim("a")])
    assert p.actions == []
    assert p.status["phase"] == "Terminating"
    ready = next(c for c in p.status["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "DeletionBlocked"
    assert "deletionPolicy Protect and still holds 2 CodeStudio(s): a, b;" in ready["message"]


def test_a_protected_workspace_whose_studios_are_all_going_is_not_blocked():
    p = plan(deleting(), studios=[studio("a", deleting=True)], claims=[claim("a")])
    assert p.actions == []
    ready = next(c for c in p.status["conditions"] if c["type"] == "Ready")
    assert (ready["reason"], ready["message"]) == ("DeletingStudios", "deleting 1 CodeStudio(s): a")


def test_cascade_deletes_the_studios_first():
    p = plan(deleting(deletionPolicy="Cascade"), studios=[studio("a"), studio("b", deleting=True)], claims=[claim("a")])
    assert p.actions == [Delete("CodeStudio", "a", "a-uid", "studio.dev/v1alpha1", "team")]
    assert p.recheck_after


@pytest.mark.parametrize("policy", ["Protect", "Cascade"])
def test_without_studios_retained_volumes_are_kept_and_the_namespace_deleted(policy):
    # "going": deleted by its studio under volumeReclaimPolicy: Delete; its volume goes with it.
    going = claim("going", "pv-going")
    going["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    claims = [claim("kept", "pv-kept", owner="mia"), claim("dropped", "pv-dropped", owned=True), claim("unbound", None),
              going]
    p = plan(deleting(deletionPolicy=policy), claims=claims)
    patches = [a for a in p.actions if isinstance(a, Patch)]
    assert [(a.kind, a.name) for a in patches] == [("PersistentVolume", "pv-kept")]
    assert patches[0].patch == {
        "metadata": {"labels": {"studio.dev/workspace": "team", "studio.dev/codestudio": "kept"},
                     "annotations": {"studio.dev/claim": "team/kept-home", "studio.dev/owner": "mia"}},
        "spec": {"persistentVolumeReclaimPolicy": "Retain"},
    }
    assert p.actions[-1] == Delete("Namespace", "team", "ns-uid")  # after the volumes are safe
    assert p.status["phase"] == "Terminating"


def test_a_terminating_namespace_is_not_deleted_again():
    p = plan(deleting(), namespace=namespace(deleting=True))
    assert not [a for a in p.actions if isinstance(a, Delete)]


@pytest.mark.parametrize("ns", [None, namespace(owner_uid=None)])
def test_once_nothing_of_it_is_left_the_finalizer_goes(ns):
    p = plan(workspace(deleting=True, finalizers=("example.com/keep", FINALIZER)), namespace=ns,
             studios=[studio("in-someone-elses-namespace")])
    assert p.actions == [Patch("studio.dev/v1alpha1", "Workspace", None, "team",
                               {"metadata": {"finalizers": ["example.com/keep"], "resourceVersion": "41"}})]


def test_without_the_finalizer_a_deleted_workspace_needs_nothing():
    assert plan(workspace(deleting=True, finalizers=())).actions == []
