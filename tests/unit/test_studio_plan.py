"""The studio reconcile as a pure function: what it does and reports for each observed state."""

import datetime

from studio_operator.conditions import rfc3339
from studio_operator.studios import children as C
from studio_operator.studios.plan import Apply, Create, Delete, Observed, Refused, plan_studio
from studio_operator.studios.settings import resolve_settings
from tests.unit.studio_fixtures import pod, pod_status, pvc, studio, template, workspace

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


def current_hash(s, t=None, ws=None) -> str:
    ref = C.StudioRef(s.metadata.name, s.metadata.namespace, s.metadata.uid, s.spec.owner)
    return C.build_pod(ref, resolve_settings(s, t or template(), ws), None)["metadata"]["annotations"]["studio.dev/spec-hash"]


def plan(s=None, **observed):
    s = s or studio()
    observed.setdefault("template", template())
    return plan_studio(Observed(studio=s, **observed), NOW)


def stored(p):
    return {k: v for k, v in p.status.items() if v is not None}


def kinds(p, action_type):
    return [a.manifest["kind"] for a in p.actions if isinstance(a, action_type)]


def test_new_studio_creates_every_child_and_starts():
    p = plan()
    assert kinds(p, Apply) == ["PersistentVolumeClaim", "Service", "Role", "RoleBinding"]
    assert kinds(p, Create) == ["Pod"]
    assert p.status["state"] == "Starting"
    assert p.status["volume"] is None  # named once the claim exists: a named claim that goes is a lost volume
    assert p.headway  # nothing the user need be told yet


def test_a_pod_created_moments_ago_and_not_seen_yet_is_waited_for_not_created_again():
    p = plan(pod_expected_in=3.5)
    assert kinds(p, Create) == []
    assert (p.status["state"], p.status["pod"], p.recheck_after) == ("Starting", "s", 3.5)
    assert p.status == plan().status  # the same report as when it was created


def test_a_restart_requested_before_the_new_pod_is_seen_is_not_taken_for_done():
    s = studio(restartRequestedAt="2026-01-01T00:05:00Z", status={"restartedAt": "2026-01-01T00:01:00Z"})
    waiting = plan(s, pvc=pvc(), pod_expected_in=3.5)
    assert waiting.status["restartedAt"] == "2026-01-01T00:01:00Z"
    # The pod, made before the request, shows up: it is replaced.
    seen = plan(studio(restartRequestedAt="2026-01-01T00:05:00Z", status=stored(waiting)),
                pod=pod(spec_hash=current_hash(s)), pvc=pvc())
    assert Delete("Pod", "s", "pod-uid") in seen.actions


def test_a_stop_before_the_new_pod_is_seen_waits_for_it_rather_than_report_stopped():
    p = plan(studio(state="Stopped"), pvc=pvc(), pod_expected_in=3.5)
    assert (p.status["state"], p.recheck_after) == ("Stopping", 3.5)


def test_running_pod_with_everything_in_place_does_nothing():
    s = studio()
    ref = C.StudioRef("s", "ns", "uid-1", "alice")
    settings = resolve_settings(s, template(), None)
    children = {
        "service": C.build_service(ref, settings),
        "role": C.build_access_role(ref),
        "binding": C.build_access_binding(ref),
    }
    p = plan(s, pod=pod(spec_hash=current_hash(s)), pvc=C.build_pvc(ref, settings, None) | {"status": {"phase": "Bound"}}, **children)
    assert p.actions == []
    # All of it, as `kubectl get codestudio -o yaml` shows it.
    assert p.status == {
        "observedGeneration": 3, "state": "Running", "message": None, "owner": "alice", "image": "example.org/py:1",
        "pendingRestart": False, "restartedAt": None, "pod": "s",
        "volume": {"claimName": "s-home", "phase": "Bound", "capacity": None},
        "endpoints": [{"name": "http", "url": "http://s.ns.svc:8888"}],
        "lastActivity": "2026-01-01T00:00:00Z",
        "conditions": [
            {"type": "VolumeReady", "status": "True", "reason": "Bound", "message": ""},
            {"type": "ImageReady", "status": "True", "reason": "ImageAvailable", "message": "example.org/py:1"},
            {"type": "PodReady", "status": "True", "reason": "PodReady", "message": ""},
            {"type": "Ready", "status": "True", "reason": "Running", "message": ""},
        ],
    }


def test_a_pod_deleted_moments_ago_is_not_deleted_again_on_a_stop_or_a_restart():
    stop = plan(studio(state="Stopped"), pod=pod(), pvc=pvc(), pod_deleted=True)
    assert ([a for a in stop.actions if isinstance(a, Delete)], stop.status["state"]) == ([], "Stopping")
    restart = plan(studio(restartRequestedAt="2026-01-01T00:05:00Z"), pod=pod(), pvc=pvc(), pod_deleted=True)
    assert ([a for a in restart.actions if isinstance(a, Delete)], restart.status["state"]) == ([], "Stopping")


def test_stop_deletes_the_pod_and_never_the_volume():
    p = plan(studio(state="Stopped"), pod=pod(), pvc=pvc())
    assert [a for a in p.actions if isinstance(a, Delete)] == [Delete("Pod", "s", "pod-uid")]
    assert not any(isinstance(a, Delete) and a.kind == "PersistentVolumeClaim" for a in p.actions)
    assert p.status["state"] == "Stopping"
    assert plan(studio(state="Stopped"), pvc=pvc()).status["state"] == "Stopped"


def test_stopped_workspace_stops_the_studio():
    p = plan(studio(), pod=pod(), pvc=pvc(), workspace=workspace(state="Stopped"))
    assert Delete("Pod", "s", "pod-uid") in p.actions
    assert "workspace team is stopped" in plan(studio(), pvc=pvc(), workspace=workspace(state="Stopped")).status["message"]


def test_restart_deletes_the_pod_then_creates_a_new_one_recording_the_time():
    s = studio(restartRequestedAt="2026-01-01T00:00:00Z")
    first = plan(s, pod=pod(spec_hash=current_hash(s)), pvc=pvc())
    assert Delete("Pod", "s", "pod-uid") in first.actions
    assert first.status["state"] == "Stopping"
    second = plan(s, pvc=pvc())
    created = [a.manifest for a in second.actions if isinstance(a, Create)]
    assert created[0]["metadata"]["annotations"]["studio.dev/restart-requested-at"] == "2026-01-01T00:00:00Z"
    assert second.status["restartedAt"] == "2026-01-01T00:00:00Z"


def test_carried_out_restart_is_not_repeated():
    s = studio(restartRequestedAt="2026-01-01T00:00:00Z", status={"restartedAt": "2026-01-01T00:00:00Z"})
    p = plan(s, pod=pod(spec_hash=current_hash(s)), pvc=pvc())
    assert not any(isinstance(a, Delete) for a in p.actions)
    # The pod carries the restart but the status write was lost: record it, do not restart again.
    s2 = studio(restartRequestedAt="2026-01-01T00:00:00Z")
    p2 = plan(s2, pod=pod(spec_hash=current_hash(s2), restart_at="2026-01-01T00:00:00Z"), pvc=pvc())
    assert not any(isinstance(a, Delete) for a in p2.actions)
    assert p2.status["restartedAt"] == "2026-01-01T00:00:00Z"


def test_a_restart_requested_in_lower_case_rfc3339_restarts():
    s = studio(restartRequestedAt="2026-01-01t00:05:00z", status={"restartedAt": "2026-01-01T00:01:00Z"})
    p = plan(s, pod=pod(spec_hash=current_hash(s)), pvc=pvc())
    assert Delete("Pod", "s", "pod-uid") in p.actions and p.status["state"] == "Stopping"


def test_terminating_pod_is_waited_for_before_a_new_one_starts():
    p = plan(pod=pod(deleting=True), pvc=pvc())
    assert not any(isinstance(a, Create) for a in p.actions)
    assert p.status["state"] == "Stopping"


def test_lost_volume_fails_and_nothing_is_recreated():
    s = studio(status={"volume": {"claimName": "s-home"}})
    p = plan(s)
    assert p.status["state"] == "Failed"
    assert p.status["conditions"][0]["reason"] == "VolumeLost"
    assert not any(isinstance(a, (Create, Apply)) and a.manifest["kind"] in ("Pod", "PersistentVolumeClaim")
                   for a in p.actions if not isinstance(a, Delete))


def test_volume_of_another_owner_is_never_attached():
    p = plan(studio(owner="mallory"), pvc=pvc(owner="alice"))
    assert p.status["state"] == "Failed"
    assert "belongs to alice" in p.status["message"]
    assert kinds(p, Create) == []


def test_owner_change_moves_the_volume_with_the_studio():
    # The studio granted alice access before; now it is bob's, and so is its volume.
    p = plan(studio(owner="bob", status={"owner": "alice"}), pvc=pvc(owner="alice"))
    assert p.status["state"] != "Failed"
    moved = [a.manifest for a in p.actions if isinstance(a, Apply) and a.manifest["kind"] == "PersistentVolumeClaim"]
    assert [m["metadata"]["annotations"]["studio.dev/owner"] for m in moved] == ["bob"]
    # A studio that never granted alice anything still may not take her volume.
    assert plan(studio(owner="bob", status={"owner": "carol"}), pvc=pvc(owner="alice")).status["state"] == "Failed"


def test_a_claim_made_for_this_studio_follows_its_owner_whatever_the_status_says():
    # The claim's apply was refused (a resize over quota) while the owner changed, and the
    # status already says bob; or the owner changed before a new studio's first status write.
    for status in ({"owner": "bob", "volume": {"claimName": "s-home"}}, {}):
        p = plan(studio(owner="bob", status=status), pvc=pvc(owner="alice", studio_uid="uid-1"))
        assert p.status["state"] != "Failed"
        moved = [a.manifest for a in p.actions if isinstance(a, Apply) and a.manifest["kind"] == "PersistentVolumeClaim"]
        assert [m["metadata"]["annotations"]["studio.dev/owner"] for m in moved] == ["bob"]
    # A volume retained from an earlier studio of that name stays its owner's.
    for status in ({"owner": "bob"}, {}):
        retained = plan(studio(owner="bob", status=status), pvc=pvc(owner="alice", studio_uid="uid-0"))
        assert retained.status["state"] == "Failed" and "belongs to alice" in retained.status["message"]


def test_a_retained_volume_is_its_owners_again_and_marked_as_the_new_studios():
    p = plan(studio(), pvc=pvc(owner="alice", studio_uid="uid-0"))
    assert p.status["state"] != "Failed"
    claim = [a.manifest for a in p.actions if isinstance(a, Apply) and a.manifest["kind"] == "PersistentVolumeClaim"][0]
    assert claim["metadata"]["annotations"]["studio.dev/codestudio-uid"] == "uid-1"


def test_clearing_the_owner_revokes_access_and_keeps_the_volume_theirs():
    old = C.StudioRef("s", "ns", "uid-1", "alice")
    s = studio(owner=None, storage={"size": "20Gi"}, status={"owner": "alice", "volume": {"claimName": "s-home"}})
    p = plan(s, pod=pod(spec_hash=current_hash(s)), pvc=pvc(studio_uid="uid-1"),
             role=C.build_access_role(old), binding=C.build_access_binding(old))
    applied = {a.manifest["kind"]: a.manifest for a in p.actions if isinstance(a, Apply)}
    assert applied["RoleBinding"]["subjects"] == []
    # The claim still names alice: it does not become anybody's by the owner going.
    assert applied["PersistentVolumeClaim"]["metadata"]["annotations"]["studio.dev/owner"] == "alice"
    later = plan(studio(owner="mallory"), pvc=pvc(studio_uid="uid-0"))
    assert later.status["state"] == "Failed" and "belongs to alice" in later.status["message"]


def test_missing_template_fails_with_what_to_do():
    p = plan(template=None, pvc=pvc())
    assert p.status["state"] == "Failed"
    assert "CodeStudioTemplate py does not exist" in p.status["message"]
    assert kinds(p, Create) == []


def test_template_still_building_waits():
    p = plan(template=template(image=None), pvc=pvc())
    assert p.status["state"] == "Starting"
    assert p.status["conditions"][1]["reason"] == "ImageBuilding"
    assert kinds(p, Create) == []
    assert not p.headway  # waiting on something else: said at once


def test_new_template_image_marks_running_studio_pending_restart_only():
    s = studio()
    p = plan(s, pod=pod(spec_hash="old"), pvc=pvc(), template=template("example.org/py:2"))
    assert p.status["pendingRestart"] is True
    assert not any(isinstance(a, Delete) for a in p.actions)


def test_failing_pod_with_stale_spec_is_replaced_at_once():
    failing = pod(pod_status("Pending", False, "ErrImagePull"), spec_hash="old")
    p = plan(pod=failing, pvc=pvc(), template=template("example.org/py:2"))
    assert Delete("Pod", "s", "pod-uid") in p.actions


def test_a_running_pod_whose_container_is_not_ready_is_kept_though_stale():
    # Its readiness probe fails for a moment (the IDE is busy): the user's work runs in it.
    p = plan(pod=pod(pod_status("Running", ready=False), spec_hash="old"), pvc=pvc(), template=template("example.org/py:2"))
    assert not any(isinstance(a, Delete) for a in p.actions)
    assert (p.status["state"], p.status["pendingRestart"]) == ("Starting", True)
    # Crash looping, or not running yet: nothing of the user's runs, so it is replaced.
    for status in (pod_status("Running", False, "CrashLoopBackOff", last_exit=1), pod_status("Pending", ready=False)):
        assert Delete("Pod", "s", "pod-uid") in plan(pod=pod(status, spec_hash="old"), pvc=pvc()).actions


def test_pull_error_is_failed_with_image_condition():
    s = studio()
    failing = pod(pod_status("Pending", False, "ErrImagePull", "not found"), spec_hash=current_hash(s))
    p = plan(s, pod=failing, pvc=pvc())
    assert p.status["state"] == "Failed"
    assert [c for c in p.status["conditions"] if c["type"] == "ImageReady"][0]["reason"] == "ImagePullError"


def test_pod_refused_by_the_resource_quota_fails_with_its_message():
    message = 'pods "s" is forbidden: exceeded quota: workspace-quota, requested: requests.cpu=3, limited: requests.cpu=2'
    p = plan(pvc=pvc(), workspace=workspace(quota={"cpu": 2}), refused=Refused("Pod", "s", 403, message))
    assert p.status["state"] == "Failed" and kinds(p, Create) == []
    assert [c["reason"] for c in p.status["conditions"] if c["type"] == "PodReady"] == ["QuotaExceeded"]
    assert message in p.status["message"]


def test_a_child_refused_as_invalid_fails_the_studio_naming_the_field():
    message = ('Pod "s" is invalid: spec.containers[0].resources.requests: Invalid value: "2Gi": '
               "must be less than or equal to memory limit of 1Gi")
    p = plan(pvc=pvc(), refused=Refused("Pod", "s", 422, message))
    assert p.status["state"] == "Failed" and kinds(p, Create) == []
    ready = [c for c in p.status["conditions"] if c["type"] == "Ready"][0]
    assert ready["status"] == "False" and ready["reason"] == "Failed"
    assert [c["reason"] for c in p.status["conditions"] if c["type"] == "PodReady"] == ["Invalid"]
    assert message in p.status["message"] and "change the studio's spec" in p.status["message"]


def test_a_child_refused_by_admission_policy_is_forbidden():
    message = 'persistentvolumeclaims "s-home" is forbidden: maximum storage usage per PersistentVolumeClaim is 5Gi'
    p = plan(refused=Refused("PersistentVolumeClaim", "s-home", 403, message))
    assert p.status["state"] == "Failed" and kinds(p, Create) == []
    assert [c["reason"] for c in p.status["conditions"] if c["type"] == "PodReady"] == ["Forbidden"]


def test_a_claim_the_api_server_refused_is_tried_again_not_taken_for_a_lost_volume():
    message = 'persistentvolumeclaims "s-home" is forbidden: exceeded quota: workspace-quota'
    refused = plan(refused=Refused("PersistentVolumeClaim", "s-home", 403, message))
    assert refused.status["volume"] is None
    # The next look, from the status just written: still no claim, and none was ever made.
    stored = {k: v for k, v in refused.status.items() if v is not None}
    again = plan(studio(status=stored))
    assert kinds(again, Apply)[0] == "PersistentVolumeClaim"
    assert "was deleted" not in (again.status["message"] or "")


def test_a_claim_seen_once_and_gone_is_a_lost_volume_never_recreated():
    seen = plan(pvc=pvc())
    stored = {k: v for k, v in seen.status.items() if v is not None}
    lost = plan(studio(status=stored))
    assert "PersistentVolumeClaim" not in kinds(lost, Apply)
    assert lost.status["volume"]["phase"] == "Lost" and "was deleted" in lost.status["message"]


def test_a_new_studio_waits_for_its_predecessors_claim_to_go_then_makes_a_new_one():
    # Deleted and applied again under volumeReclaimPolicy: Delete; the old claim still terminates.
    s = studio(volumeReclaimPolicy="Delete")
    # Seen before the garbage collector marks it, or while it terminates.
    for old in (pvc(studio_uid="uid-0", controller="uid-0"), pvc(deleting=True, studio_uid="uid-0", controller="uid-0")):
        waiting = plan(s, pvc=old)
        assert (waiting.status["state"], waiting.status["volume"]) == ("Starting", None)
        assert "previous home volume s-home" in waiting.status["message"]
        assert kinds(waiting, Create) == [] and "PersistentVolumeClaim" not in kinds(waiting, Apply)
    gone = plan(studio(volumeReclaimPolicy="Delete", status=stored(waiting)))
    assert kinds(gone, Apply)[0] == "PersistentVolumeClaim" and gone.status["state"] == "Starting"


def test_someone_elses_claim_is_not_named_so_its_going_is_no_lost_volume():
    foreign = plan(studio(owner="bob"), pvc=pvc(owner="alice"))
    assert foreign.status["state"] == "Failed" and foreign.status["volume"] is None
    gone = plan(studio(owner="bob", status=stored(foreign)))
    assert kinds(gone, Apply)[0] == "PersistentVolumeClaim" and gone.status["state"] == "Starting"


def test_the_studios_own_claim_being_deleted_is_a_lost_volume():
    s = studio(status={"volume": {"claimName": "s-home"}})
    deleting = plan(s, pod=pod(spec_hash=current_hash(s)), pvc=pvc(deleting=True))
    assert deleting.status["state"] == "Failed" and deleting.status["volume"]["claimName"] == "s-home"
    assert [c["reason"] for c in deleting.status["conditions"] if c["type"] == "VolumeReady"] == ["VolumeLost"]


def test_max_running_quota_blocks_a_new_start():
    p = plan(pvc=pvc(), workspace=workspace(quota={"maxRunningCodeStudios": 2}), running_in_namespace=2)
    assert p.status["state"] == "Failed"
    assert "maxRunningCodeStudios=2" in p.status["message"]
    assert kinds(p, Create) == []


def test_pod_waiting_for_its_volume_to_bind_is_starting_not_failed():
    waiting = pod_status("Pending", ready=False, conditions=[{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": "2025-12-31T23:50:00Z",
        "message": "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."}])
    s = studio()
    provisioning = plan(s, pod=pod(waiting, spec_hash=current_hash(s)), pvc=pvc(phase="Pending"))
    assert (provisioning.status["state"], provisioning.status["message"]) == ("Starting", "waiting for claim s-home to bind")
    assert provisioning.headway
    # Bound since the scheduler's last try: it will place the pod at its next one.
    bound = plan(s, pod=pod(waiting, spec_hash=current_hash(s)), pvc=pvc())
    assert bound.status["state"] == "Starting" and "waiting for the scheduler" in bound.status["message"]
    no_node = pod_status("Pending", ready=False, conditions=[{**waiting["conditions"][0], "message": "0/2 nodes are available: 2 Insufficient cpu."}])
    full = plan(s, pod=pod(no_node, spec_hash=current_hash(s)), pvc=pvc())
    assert full.status["state"] == "Failed" and "Unschedulable for 600s" in full.status["message"]


def test_a_ready_pod_whose_claim_the_cache_still_shows_pending_waits_briefly_for_its_bound_event():
    s = studio()

    def ready_at(ago):
        since = rfc3339(NOW - datetime.timedelta(seconds=ago))
        return pod(pod_status(conditions=[{"type": "Ready", "status": "True", "lastTransitionTime": since}]), spec_hash=current_hash(s))

    lagging = plan(s, pod=ready_at(1), pvc=pvc(phase="Pending"))
    assert (lagging.status["state"], lagging.status["message"]) == ("Starting", "the pod runs; waiting for claim s-home to report Bound")
    assert lagging.headway and lagging.recheck_after == 4.0
    # A claim event that never comes must not hold Running back for longer.
    late = plan(s, pod=ready_at(6), pvc=pvc(phase="Pending"))
    assert late.status["state"] == "Running" and not late.headway
    assert [c["status"] for c in late.status["conditions"] if c["type"] == "VolumeReady"] == ["False"]
    assert plan(s, pod=ready_at(1), pvc=pvc()).status["state"] == "Running"
    assert plan(s, pod=ready_at(1), pvc=pvc(phase="Lost")).status["state"] == "Running"  # no Bound event is coming


def test_a_studio_in_a_reserved_namespace_gets_nothing_and_says_why():
    p = plan(studio(namespace="kube-system"), pvc=None, namespace_reserved=True)
    assert p.actions == []
    assert p.status["state"] == "Failed"
    assert [c["reason"] for c in p.status["conditions"] if c["type"] == "Ready"] == ["ReservedNamespace"]
    assert "namespace kube-system is reserved" in p.status["message"]


def test_a_new_studio_waits_for_its_predecessors_claim_deleted_by_the_finalizer():
    # Since decision 0035 a claim has no owner reference: the predecessor's finalizer deletes it,
    # and only its uid annotation says whose it was.
    s = studio(volumeReclaimPolicy="Delete")
    waiting = plan(s, pvc=pvc(deleting=True, studio_uid="uid-0"))
    assert (waiting.status["state"], waiting.status["volume"]) == ("Starting", None)
    assert [c["reason"] for c in waiting.status["conditions"] if c["type"] == "VolumeReady"] == ["VolumeTerminating"]
    assert waiting.status["message"] == "waiting for the previous home volume s-home to be deleted; a new one is made then"
    assert kinds(waiting, Create) == []


def test_a_restart_of_a_stopped_studio_is_done_at_once_and_starts_nothing():
    # `studioctl studio restart` waits for restartedAt: nothing runs, so there is nothing to replace.
    s = studio(state="Stopped", restartRequestedAt="2026-01-01T00:05:00Z", status={"restartedAt": "2026-01-01T00:01:00Z"})
    p = plan(s, pvc=pvc())
    assert (p.status["state"], p.status["restartedAt"]) == ("Stopped", "2026-01-01T00:05:00Z")
    assert kinds(p, Create) == [] and not any(isinstance(a, Delete) for a in p.actions)


def test_a_pod_waiting_for_a_node_is_looked_at_again_when_its_timeout_ends():
    # No event comes when the timeout passes: without the recheck it would say Starting for ever.
    since = (NOW - datetime.timedelta(seconds=45)).strftime("%Y-%m-%dT%H:%M:%SZ")
    no_node = pod_status("Pending", ready=False, conditions=[{
        "type": "PodScheduled", "status": "False", "reason": "Unschedulable", "lastTransitionTime": since,
        "message": "0/2 nodes are available: 2 Insufficient cpu."}])
    s = studio()
    p = plan(s, pod=pod(no_node, spec_hash=current_hash(s)), pvc=pvc())
    assert (p.status["state"], p.recheck_after) == ("Starting", 15)
    assert not p.headway  # the user may want to know why: no node takes it


def test_a_stopped_studio_whose_volume_was_deleted_stays_stopped_and_says_so():
    s = studio(state="Stopped", status={"volume": {"claimName": "s-home"}})
    p = plan(s)
    assert p.status["state"] == "Stopped"
    assert [(c["status"], c["reason"]) for c in p.status["conditions"] if c["type"] == "VolumeReady"] == [("False", "VolumeLost")]
    assert kinds(p, Apply) == ["Service", "Role", "RoleBinding"]  # the claim is not made again


def test_the_status_shows_the_image_the_pod_runs_and_pod_ready_only_when_it_runs():
    s = studio()
    # A new template image: the studio still runs the old one until its restart.
    running = plan(s, pod=pod(spec_hash="old", image="example.org/py:1"), pvc=pvc(), template=template("example.org/py:2"))
    assert (running.status["image"], running.status["pendingRestart"]) == ("example.org/py:1", True)
    assert [c["status"] for c in running.status["conditions"] if c["type"] == "PodReady"] == ["True"]
    crashing = plan(s, pod=pod(pod_status("Running", False, "CrashLoopBackOff", last_exit=1), spec_hash=current_hash(s)),
                    pvc=pvc())
    assert crashing.status["state"] == "Failed"
    assert [(c["status"], c["reason"]) for c in crashing.status["conditions"] if c["type"] == "PodReady"] == [
        ("False", "CrashLoopBackOff")]


def test_a_pod_that_ended_is_replaced_at_once():
    # Evicted (node pressure), or its containers exited under a node failure: it never runs again.
    s = studio()
    for ended in ({"phase": "Failed", "reason": "Evicted", "message": "The node was low on resource: memory."},
                  {"phase": "Succeeded", "containerStatuses": []}):
        p = plan(s, pod=pod(ended, spec_hash=current_hash(s)), pvc=pvc())
        assert Delete("Pod", "s", "pod-uid") in p.actions
        assert (p.status["state"], p.status["message"]) == ("Starting", "replacing a pod that is not running")
