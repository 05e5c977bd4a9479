"""Pure parts of the SDK: studio filters, restart times, the futures' judges."""

from __future__ import annotations

import datetime

import pytest

from studio_operator.client import OperationFailed
from studio_operator.client.operations import Operation, gone, status_reached
from studio_operator.client.studios import filter_studios, next_restart_time

T0 = datetime.datetime(2026, 1, 2, 12, 0, 0, 500000, tzinfo=datetime.UTC)


def studio(name, owner, state, template):
    return {"metadata": {"name": name}, "spec": {"owner": owner, "template": template}, "status": {"state": state}}


def test_filters_combine():
    objs = [studio("a", "ann", "Running", "py"), studio("b", "bob", "Stopped", "py"), studio("c", "ann", "Stopped", "r")]
    assert [o["metadata"]["name"] for o in filter_studios(objs, owner="ann")] == ["a", "c"]
    assert [o["metadata"]["name"] for o in filter_studios(objs, owner="ann", state="Stopped")] == ["c"]
    assert [o["metadata"]["name"] for o in filter_studios(objs, template="py")] == ["a", "b"]
    assert filter_studios([{"metadata": {"name": "new"}, "spec": {}}], state="Running") == []  # no status yet


def test_restart_time_is_newer_than_the_previous_request():
    assert next_restart_time(None, T0) == "2026-01-02T12:00:00Z"
    assert next_restart_time("2026-01-02T11:00:00Z", T0) == "2026-01-02T12:00:00Z"
    # Same second as the previous request: one second later, or the operator would see nothing new.
    assert next_restart_time("2026-01-02T12:00:00Z", T0) == "2026-01-02T12:00:01Z"
    assert next_restart_time("2026-01-02T12:00:05Z", T0) == "2026-01-02T12:00:06Z"


def obj(generation, **status):
    return {"metadata": {"generation": generation, "finalizers": []}, "status": status}


def test_status_reached_waits_for_the_generation_then_the_target():
    judge = status_reached("CodeStudio ns/a", "state", "Stopped", 3, lambda s: s["state"])
    stale = judge(obj(3, observedGeneration=2, state="Stopped"))
    assert not stale.done and "has not acted" in stale.text  # Stopped, but from before our change
    assert judge(obj(3, observedGeneration=3, state="Stopping", message="the pod is stopping")).text == "Stopping: the pod is stopping"
    done = judge(obj(3, observedGeneration=3, state="Stopped"))
    assert done.done and done.result == "Stopped"


def test_status_reached_raises_on_failed_and_on_deletion():
    judge = status_reached("CodeStudio ns/a", "state", "Running", 1, dict)
    with pytest.raises(OperationFailed, match="CodeStudio ns/a is Failed: ErrImagePull: no such image"):
        judge(obj(1, observedGeneration=1, state="Failed", message="ErrImagePull: no such image"))
    with pytest.raises(OperationFailed, match="was deleted"):
        judge(None)


def test_workspace_judge_uses_the_ready_condition_message():
    judge = status_reached("Workspace w", "phase", "Active", 1, dict)
    progress = judge(obj(1, observedGeneration=1, phase="Pending",
                         conditions=[{"type": "Ready", "status": "False", "message": "creating namespace"}]))
    assert progress.text == "Pending: creating namespace"


def test_extra_condition_for_restarts():
    judge = status_reached("CodeStudio ns/a", "state", "Running", 2, dict, also=lambda s: s.get("restartedAt") == "t1")
    assert not judge(obj(2, observedGeneration=2, state="Running", restartedAt="t0")).done
    assert judge(obj(2, observedGeneration=2, state="Running", restartedAt="t1")).done


def test_gone_and_the_operation_loop():
    reads = iter([obj(1) | {"metadata": {"finalizers": ["studio.dev/cleanup"]}}, None])
    seen = []
    operation = Operation("thing to go", lambda: next(reads), gone("thing"))
    assert operation.wait_for_result(timeout=5, on_progress=seen.append, interval=0) is None
    assert seen == ["deleting, waiting for studio.dev/cleanup", "deleted"]


def test_api_errors_keep_the_servers_message():
    from kubernetes.client.exceptions import ApiException

    from studio_operator.client.errors import AlreadyExists, Conflict, Forbidden, Invalid, NotFound, from_api_exception

    def error(status, body):
        return from_api_exception(ApiException(status=status, reason="x", body=body))

    refused = error(403, '{"message": "admission webhook \\"owner.studio.dev\\" denied the request: not yours"}')
    assert isinstance(refused, Forbidden) and "not yours" in str(refused)
    assert isinstance(error(422, '{"message": "spec.namespace: Invalid value"}'), Invalid)
    assert isinstance(error(409, '{"message": "workspaces.studio.dev \\"a\\" already exists"}'), AlreadyExists)
    assert isinstance(error(409, '{"message": "the object has been modified"}'), Conflict)
    missing = error(404, "404 page not found")
    assert isinstance(missing, NotFound) and str(missing) == "the API server does not serve this resource"
    # Only where the resource is one of the CRDs' does the message blame them.
    crds = from_api_exception(ApiException(status=404, reason="x", body="404 page not found"), "are the CRDs installed?")
    assert str(crds) == "the API server does not serve this resource: are the CRDs installed?"
