"""Which studio, if any, a template restarts to roll out its changes."""

from studio_operator.templates.rollout import StudioView, plan_rollout

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
