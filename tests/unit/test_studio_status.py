"""Table-driven: pod phases and container states in, studio state out."""

import datetime

import pytest

from studio_operator.studios.status import pod_health
from tests.unit.studio_fixtures import pod, pod_status

NOW = datetime.datetime(2026, 1, 1, 0, 1, 0, tzinfo=datetime.UTC)


def unschedulable(since: str) -> list[dict]:
    return [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
             "message": "0/2 nodes are available: 2 Insufficient cpu.", "lastTransitionTime": since}]


@pytest.mark.parametrize(
    ("status", "state", "reason"),
    [
        (pod_status("Running", ready=True), "Running", "PodReady"),
        (pod_status("Running", ready=False), "Starting", "ContainersNotReady"),
        (pod_status("Pending", ready=False), "Starting", "PodPending"),
        (pod_status("Pending", ready=False, waiting="ContainerCreating"), "Starting", "PodPending"),
        (pod_status("Pending", ready=False, waiting="ErrImagePull", message="not found"), "Failed", "ErrImagePull"),
        (pod_status("Pending", ready=False, waiting="ImagePullBackOff"), "Failed", "ImagePullBackOff"),
        (pod_status("Pending", ready=False, waiting="InvalidImageName"), "Failed", "InvalidImageName"),
        (pod_status("Pending", ready=False, waiting="ErrImageNeverPull"), "Failed", "ErrImageNeverPull"),
        (pod_status("Running", ready=False, waiting="CrashLoopBackOff", last_exit=137), "Failed", "CrashLoopBackOff"),
        (pod_status("Pending", ready=False, waiting="CreateContainerConfigError"), "Failed", "CreateContainerConfigError"),
        (pod_status("Pending", ready=False, waiting="CreateContainerError"), "Failed", "CreateContainerError"),
        (pod_status("Running", ready=False, waiting="RunContainerError", last_exit=128), "Failed", "RunContainerError"),
        (pod_status("Pending", ready=False, conditions=unschedulable("2026-01-01T00:00:58Z")), "Starting", "Unschedulable"),
        (pod_status("Pending", ready=False, conditions=unschedulable("2026-01-01T00:00:00Z")), "Failed", "Unschedulable"),
    ],
)
def test_pod_health(status, state, reason):
    health = pod_health(pod(status), NOW, unschedulable_timeout=30)
    assert (health.state, health.reason) == (state, reason)


def test_pull_error_message_names_the_image_and_marks_image_error():
    health = pod_health(pod(pod_status("Pending", False, "ErrImagePull", 'failed to pull "x.invalid/a:1"')), NOW, 30)
    assert health.image_error
    assert health.message == 'ErrImagePull: failed to pull "x.invalid/a:1"'


def test_crash_loop_message_carries_the_exit_code():
    health = pod_health(pod(pod_status("Running", False, "CrashLoopBackOff", "back-off 10s", last_exit=3)), NOW, 30)
    assert "last exit code 3" in health.message
    assert not health.image_error


def test_unschedulable_asks_to_be_rechecked_when_the_timeout_ends():
    health = pod_health(pod(pod_status("Pending", False, conditions=unschedulable("2026-01-01T00:00:50Z"))), NOW, 30)
    assert health.recheck_after == pytest.approx(20)
    assert "Insufficient cpu" in health.message


def test_unschedulable_past_the_timeout_fails_though_its_claim_waits_for_the_pod():
    # WaitForFirstConsumer binds a claim only once its pod is scheduled: the claim is no excuse.
    health = pod_health(pod(pod_status("Pending", False, conditions=unschedulable("2026-01-01T00:00:00Z"))), NOW, 30,
                        claim="s-home", claim_bound=False)
    assert (health.state, health.reason) == ("Failed", "Unschedulable")
    assert "Insufficient cpu" in health.message


def test_a_pull_error_without_a_message_names_the_image():
    health = pod_health(pod(pod_status("Pending", False, "ImagePullBackOff")), NOW, 30)
    assert health.message == "ImagePullBackOff: cannot pull image example.org/py:1"


def test_unschedulable_fails_when_the_timeout_is_reached_not_a_moment_later():
    # The recheck the timeout asked for comes exactly then: it must settle the studio.
    health = pod_health(pod(pod_status("Pending", False, conditions=unschedulable("2026-01-01T00:00:30Z"))), NOW, 30)
    assert (health.state, health.reason) == ("Failed", "Unschedulable")
