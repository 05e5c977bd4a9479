"""The chaos run's invariant checks (tests/e2e/invariants.py) hold on a converged snapshot and
fail on each way of breaking it: a check that cannot fail would prove nothing."""

from __future__ import annotations

import copy

import pytest

from tests.e2e import invariants as inv

IMAGE = "example.org/py:1"


def _child(kind: str, name: str, studio: str, uid: str | None = "uid-a", **extra) -> dict:
    meta = {"name": name, "namespace": "ns", "uid": f"{kind}-{name}", "labels": {inv.STUDIO_LABEL: studio}}
    if uid:
        meta["ownerReferences"] = [{"kind": "CodeStudio", "name": studio, "uid": uid, "controller": True}]
    return {"kind": kind, "metadata": meta, **extra}


def _claim(name: str, studio: str, uid: str) -> dict:
    claim = _child("PVC", name, studio, uid=None, status={"phase": "Bound"})
    claim["metadata"]["annotations"] = {inv.CLAIM_STUDIO_UID: uid}
    return claim


def _converged() -> inv.Snapshot:
    running = {
        "metadata": {"name": "a", "namespace": "ns", "uid": "uid-a", "generation": 4},
        "spec": {"template": "py", "owner": "alice", "state": "Running", "restartRequestedAt": "2026-01-01T00:00:00Z"},
        "status": {"observedGeneration": 4, "state": "Running", "owner": "alice", "pod": "a", "image": IMAGE,
                   "pendingRestart": False, "restartedAt": "2026-01-01T00:00:00Z",
                   "volume": {"claimName": "a-home", "phase": "Bound"},
                   "conditions": [{"type": "Ready", "status": "True"}]},
    }
    stopped = {
        "metadata": {"name": "b", "namespace": "ns", "uid": "uid-b", "generation": 2,
                     "finalizers": [inv.RECLAIM_FINALIZER]},
        "spec": {"template": "py", "owner": "bob", "state": "Stopped", "volumeReclaimPolicy": "Delete"},
        "status": {"observedGeneration": 2, "state": "Stopped", "owner": "bob",
                   "volume": {"claimName": "b-home", "phase": "Bound"},
                   "conditions": [{"type": "Ready", "status": "False"}]},
    }
    return inv.Snapshot(
        studios=[running, stopped],
        templates={"py": {"metadata": {"name": "py", "generation": 1}, "spec": {"image": {"prebuilt": IMAGE}}}},
        pods=[_child("Pod", "a", "a", spec={"containers": [{"image": IMAGE}]}, status={"phase": "Running"})],
        pvcs=[_claim("a-home", "a", "uid-a"), _claim("b-home", "b", "uid-b")],
        services=[_child("Service", "a", "a"), _child("Service", "b", "b", uid="uid-b")],
        roles=[_child("Role", "a-access", "a"), _child("Role", "b-access", "b", uid="uid-b")],
        bindings=[_child("RoleBinding", "a-access", "a", subjects=[{"name": "alice"}]),
                  _child("RoleBinding", "b-access", "b", uid="uid-b", subjects=[{"name": "bob"}])],
    )


def test_a_converged_snapshot_has_no_violations():
    assert inv.check_all(_converged()) == []


def test_a_pending_restart_excuses_an_old_image_under_on_restart():
    snap = _converged()
    snap.templates["py"]["spec"]["image"]["prebuilt"] = "example.org/py:2"
    snap.studios[0]["status"]["pendingRestart"] = True
    assert inv.check_all(snap) == []
    snap.templates["py"]["spec"]["updatePolicy"] = "Immediate"
    assert any("template has example.org/py:2" in p for p in inv.check_all(snap))


def _break(snap: inv.Snapshot, how: str) -> None:
    running, stopped = snap.studios
    pod = snap.pods[0]
    if how == "old image":
        snap.templates["py"]["spec"]["image"]["prebuilt"] = "example.org/py:2"
    elif how == "pending restart without a new image":
        running["status"]["pendingRestart"] = True
    elif how == "two pods":
        snap.pods.append(copy.deepcopy(pod) | {"metadata": {**pod["metadata"], "name": "a-2"}})
    elif how == "no pod":
        snap.pods.clear()
    elif how == "stopped with a pod":
        stopped["spec"]["state"] = "Stopped"
        snap.pods.append(_child("Pod", "b", "b", uid="uid-b", spec={"containers": [{"image": IMAGE}]}))
    elif how == "state differs":
        stopped["spec"]["state"] = "Running"
    elif how == "stale generation":
        running["metadata"]["generation"] = 5
    elif how == "restart not done":
        running["spec"]["restartRequestedAt"] = "2026-02-01T00:00:00Z"
    elif how == "ready while stopped":
        stopped["status"]["conditions"] = [{"type": "Ready", "status": "True"}]
    elif how == "status names another pod":
        running["status"]["pod"] = "x"
    elif how == "pod of another incarnation":
        pod["metadata"]["ownerReferences"][0]["uid"] = "uid-old"
    elif how == "volume missing":
        snap.pvcs.pop(0)
    elif how == "claim with an owner reference":
        snap.pvcs[1]["metadata"]["ownerReferences"] = [{"uid": "uid-b", "controller": True}]
    elif how == "claim made for another studio":
        snap.pvcs[0]["metadata"]["annotations"][inv.CLAIM_STUDIO_UID] = "uid-old"
    elif how == "no finalizer under Delete":
        stopped["metadata"]["finalizers"] = []
    elif how == "finalizer under Retain":
        running["metadata"]["finalizers"] = [inv.RECLAIM_FINALIZER]
    elif how == "role of another studio":
        snap.roles[0]["metadata"]["ownerReferences"][0]["uid"] = "uid-x"
    elif how == "access for someone else":
        snap.bindings[0]["subjects"] = [{"name": "mallory"}]
    elif how == "orphan service":
        snap.services.append(_child("Service", "gone", "gone", uid="uid-gone"))
    elif how == "template not reconciled":
        snap.templates["py"]["status"] = {"observedGeneration": 0}


@pytest.mark.parametrize("how", [
    "old image", "pending restart without a new image", "two pods", "no pod", "stopped with a pod",
    "state differs", "stale generation", "restart not done", "ready while stopped", "status names another pod",
    "pod of another incarnation", "volume missing", "claim with an owner reference", "claim made for another studio",
    "no finalizer under Delete", "finalizer under Retain", "role of another studio", "access for someone else",
    "orphan service", "template not reconciled",
])
def test_each_breakage_is_a_violation(how: str):
    snap = _converged()
    _break(snap, how)
    assert inv.check_all(snap), how


def test_volumes_may_go_only_with_a_studio_deleted_under_delete():
    ledger = inv.VolumeLedger()
    snap = _converged()
    for pvc in snap.pvcs:
        ledger.record(pvc)
    retained = {("ns", "a-home"): "PVC-a-home"}
    assert inv.check_volumes(ledger, snap.pvcs, set(), retained) == []

    b_gone = [p for p in snap.pvcs if p["metadata"]["name"] != "b-home"]
    assert inv.check_volumes(ledger, b_gone, {"uid-b"}, retained) == []
    assert "was deleted although" in inv.check_volumes(ledger, b_gone, set(), retained)[0]
    # b deleted under Delete, its claim still there: not collected.
    assert inv.check_volumes(ledger, snap.pvcs, {"uid-b"}, retained) == [
        "claim ('ns', 'b-home') outlives its studio, deleted under Delete"]

    # b deleted under Delete, its claim left and taken over by the next studio b: not collected either.
    adopted = copy.deepcopy(snap.pvcs)
    adopted[1]["metadata"]["annotations"][inv.CLAIM_STUDIO_UID] = "uid-b2"
    ledger.record(adopted[1])
    assert inv.check_volumes(ledger, adopted, {"uid-b"}, retained) == [
        "claim ('ns', 'b-home') outlives its studio, deleted under Delete"]

    replaced = copy.deepcopy(snap.pvcs)
    replaced[0]["metadata"]["uid"] = "PVC-a-home-2"
    problems = inv.check_volumes(ledger, replaced, set(), retained)
    assert any("a-home" in p and "was deleted" in p for p in problems)
    assert any("retained claim ns/a-home" in p for p in problems)


def _bindings(**subjects: list[str]) -> list[dict]:
    return [{"metadata": {"name": f"studio-workspace-{role}"}, "subjects": [{"kind": "User", "name": n} for n in names]}
            for role, names in subjects.items()]


MEMBERS = [{"name": "olga", "role": "owner"}, {"name": "mia", "role": "member"}, {"name": "max", "role": "member"}]


def test_members_bound_as_the_workspace_says():
    assert inv.check_members("ns", MEMBERS, _bindings(owner=["olga"], admin=[], member=["max", "mia"], viewer=[])) == []


@pytest.mark.parametrize("bindings", [
    _bindings(owner=["olga"], admin=[], member=["mia"], viewer=[]),  # an added member not bound
    _bindings(owner=["olga"], admin=["ada"], member=["max", "mia"], viewer=[]),  # a removed admin still bound
    _bindings(owner=["olga"], admin=[], member=["max", "mia"]),  # a role's binding missing
], ids=["added-not-bound", "removed-still-bound", "binding-missing"])
def test_members_check_fails_on_a_stale_binding(bindings):
    assert inv.check_members("ns", MEMBERS, bindings)


def test_a_converged_run_that_keeps_writing_is_a_violation():
    """A hot loop (a write that never settles, re-queued by its own echo) may leave every other
    invariant holding: only the objects' resourceVersions show it."""
    before = _converged()
    for i, obj in enumerate([*before.studios, *before.pods, *before.pvcs, *before.services]):
        obj["metadata"]["resourceVersion"] = str(100 + i)
    assert inv.check_quiet(before, copy.deepcopy(before)) == []

    after = copy.deepcopy(before)
    after.services[0]["metadata"]["resourceVersion"] = "999"
    after.studios[1]["metadata"]["resourceVersion"] = "1000"
    assert inv.check_quiet(before, after) == [
        "studio ns/b was written after convergence (resourceVersion 101 -> 1000)",
        "service ns/a was written after convergence (resourceVersion 105 -> 999)",
    ]
    gone = copy.deepcopy(before)
    del gone.pods[0]
    assert inv.check_quiet(before, gone) == ["pod ns/a was deleted or created after convergence"]
