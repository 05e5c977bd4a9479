"""Which studio, if any, a template restarts to roll out its changes."""

from studio_operator.templates.rollout import StudioView, plan_rollout, studio_view

NEW = "registry.example.com/studios/py@sha256:" + "b" * 64


def studio(name: str, state: str = "Running", pending: bool = False, image: str | None = "old", **kw) -> StudioView:
    return StudioView("ns", name, state, pending, image, kw.pop("message", ""), name, f"uid-{name}", **kw)


def test_nothing_pending_is_rolled_out():
    r = plan_rollout("Immediate", NEW, [studio("a"), studio("b", "Stopped", image=None)])
    assert r.restart is None and r.condition["status"] == "True"


def test_on_restart_never_restarts_and_names_who_waits():
    r = plan_rollout("OnRestart", NEW, [studio("b", pending=True), studio("a", pending=True)])
    assert r.restart is None
    assert r.condition["reason"] == "PendingRestart" and "ns/a, ns/b" in r.condition["message"]


def test_immediate_restarts_one_running_studio_in_name_order():
    r = plan_rollout("Immediate", NEW, [studio("c", pending=True), studio("a", pending=True), studio("b", pending=True)])
    assert r.restart.name == "a"
    assert r.condition["reason"] == "RollingOut" and "restarting ns/a" in r.condition["message"]


def test_immediate_waits_while_any_studio_settles():
    for busy in (studio("a", "Starting"), studio("a", "Stopping"), studio("a", pod_deleting=True)):
        r = plan_rollout("Immediate", NEW, [busy, studio("b", pending=True)])
        assert r.restart is None and "waiting for ns/a" in r.condition["message"]


def test_immediate_halts_when_a_studio_fails_on_the_new_image():
    r = plan_rollout("Immediate", NEW, [studio("a", "Failed", image=NEW, message="ErrImagePull"), studio("b", pending=True)])
    assert r.restart is None
    assert r.condition["reason"] == "RolloutHalted" and "ns/a failed" in r.condition["message"]
    # A studio failing on an older image for its own reasons does not hold the others back.
    r = plan_rollout("Immediate", NEW, [studio("a", "Failed", image="old"), studio("b", pending=True)])
    assert r.restart.name == "b"


def test_a_paused_rollout_restarts_nothing():
    r = plan_rollout("Immediate", NEW, [studio("a", pending=True)], paused=True)
    assert r.restart is None and r.condition["status"] == "False"


def test_long_lists_of_names_are_cut_short():
    many = [studio(f"s{i:02}", pending=True) for i in range(25)]
    message = plan_rollout("OnRestart", NEW, many).condition["message"]
    assert "ns/s09" in message and "ns/s10" not in message and "and 15 more" in message


def body(name: str, state: str = "Running", pending: bool = True) -> dict:
    return {"metadata": {"namespace": "ns", "name": name},
            "status": {"state": state, "pendingRestart": pending, "image": "old"}}


def pod(uid: str, ready: bool = True, deleting: bool = False) -> dict:
    meta = {"name": "p", "uid": uid, **({"deletionTimestamp": "2026-01-01T00:00:00Z"} if deleting else {})}
    return {"metadata": meta, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_a_pod_the_rollout_deleted_is_going_before_the_cache_shows_it():
    # The cache still shows the deleted pod Running and Ready: it must not be a candidate again.
    a = studio_view(body("a"), pod("p1"), deleted_pod_uid="p1")
    assert a.pod_deleting and a.state == "Starting" and a.pending_restart
    r = plan_rollout("Immediate", NEW, [a, studio_view(body("b"), pod("p2"), None)])
    assert r.restart is None and "waiting for ns/a" in r.condition["message"]


def test_a_new_pod_after_the_rollout_is_up_to_date_before_the_studio_says_so():
    a = studio_view(body("a"), pod("p3"), deleted_pod_uid="p1")
    assert not a.pending_restart and not a.pod_deleting and a.state == "Running"
    r = plan_rollout("Immediate", NEW, [a, studio_view(body("b"), pod("p2"), None)])
    assert r.restart.name == "b"


def test_a_running_studio_whose_pod_is_missing_or_not_ready_is_settling():
    for p in (None, pod("p1", ready=False), pod("p1", deleting=True)):
        assert studio_view(body("a"), p, None).state == "Starting"
    assert studio_view(body("a", "Stopped", pending=False), None, None).state == "Stopped"
