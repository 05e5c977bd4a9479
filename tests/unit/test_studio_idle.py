"""Idle stops: which timeout applies, what counts as activity, and what the plan does and says."""

import datetime

import pytest

from studio_operator import durations
from studio_operator.actions import Patch
from studio_operator.studios.idle import idle_timeout
from studio_operator.studios.plan import Observed, plan_studio
from tests.unit.studio_fixtures import pod, pvc, studio, template

NOW = datetime.datetime(2026, 1, 1, 12, tzinfo=datetime.UTC)
STARTED = "2026-01-01T09:00:00Z"  # the pod's creation, three hours before NOW


def plan(s, t=None, **observed):
    return plan_studio(Observed(studio=s, template=t or template(), pvc=pvc(), **observed), NOW)


def patches(p):
    return [a for a in p.actions if isinstance(a, Patch)]


@pytest.mark.parametrize(("text", "seconds"), [
    ("0", 0.0), ("90s", 90.0), ("30m", 1800.0), ("2h", 7200.0), ("1h30m", 5400.0), ("1.5h", 5400.0), ("500ms", 0.5),
])
def test_durations_read_as_the_api_writes_them(text, seconds):
    assert durations.seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "90", "h", "1x", "1h 30m", "-1s"])
def test_a_duration_the_api_would_refuse_is_an_error_saying_what_is_accepted(text):
    with pytest.raises(ValueError, match="use e.g. 90s, 30m or 1h30m"):
        durations.seconds(text)


def test_the_studios_idle_timeout_wins_over_its_templates_and_0_never_stops():
    assert idle_timeout(studio(), template()) is None
    assert idle_timeout(studio(), template(idleTimeout="2h")).seconds == 7200
    assert idle_timeout(studio(idleTimeout="30m"), template(idleTimeout="2h")).text == "30m"
    assert idle_timeout(studio(idleTimeout="0"), template(idleTimeout="2h")) is None


def test_a_studio_nobody_used_since_its_start_is_stopped_once_its_timeout_passed():
    s = studio(idleTimeout="2h")
    p = plan(s, pod=pod(created=STARTED))
    assert patches(p) == [Patch("studio.dev/v1alpha1", "CodeStudio", "ns", "s", {
        "metadata": {"resourceVersion": "41", "annotations": {"studio.dev/idle-stopped-generation": "4"}},
        "spec": {"state": "Stopped"},
    })]
    assert (p.status["state"], p.status["lastActivity"]) == ("Running", STARTED)


def test_the_idle_stop_comes_when_the_timeout_is_reached():
    # The recheck the plan asked for lands exactly then: waiting for a later event would let it run on.
    assert len(patches(plan(studio(idleTimeout="3h"), pod=pod(created=STARTED)))) == 1


def test_reported_activity_keeps_it_running_until_the_timeout_from_then():
    s = studio(idleTimeout="2h", annotations={"studio.dev/last-activity": "2026-01-01T11:30:00Z"})
    p = plan(s, pod=pod(created=STARTED))
    assert patches(p) == []
    assert p.status["lastActivity"] == "2026-01-01T11:30:00Z"
    assert p.recheck_after == 5400  # looked at again when the timeout would pass


def test_activity_recorded_before_counts_when_the_report_is_gone():
    s = studio(idleTimeout="2h", status={"lastActivity": "2026-01-01T11:00:00Z"})
    p = plan(s, pod=pod(created=STARTED))
    assert (patches(p), p.status["lastActivity"], p.recheck_after) == ([], "2026-01-01T11:00:00Z", 3600)


def test_a_report_from_the_future_counts_as_now_and_a_malformed_one_as_none():
    ahead = plan(studio(idleTimeout="2h", annotations={"studio.dev/last-activity": "2026-01-02T00:00:00Z"}),
                 pod=pod(created=STARTED))
    assert (ahead.status["lastActivity"], ahead.recheck_after) == ("2026-01-01T12:00:00Z", 7200)
    garbled = plan(studio(idleTimeout="2h", annotations={"studio.dev/last-activity": "yesterday"}), pod=pod(created=STARTED))
    assert len(patches(garbled)) == 1


def test_without_a_timeout_activity_is_reported_and_nothing_is_stopped_or_timed():
    p = plan(studio(annotations={"studio.dev/last-activity": "2026-01-01T11:30:00Z"}), pod=pod(created=STARTED))
    assert (patches(p), p.status["lastActivity"], p.recheck_after) == ([], "2026-01-01T11:30:00Z", None)


def test_a_studio_that_is_not_running_yet_is_not_idle():
    pending = pod(created="2026-01-01T00:00:00Z", status={"phase": "Pending", "conditions": []})
    p = plan(studio(idleTimeout="2h"), pod=pending)
    assert (p.status["state"], patches(p)) == ("Starting", [])


def test_the_idle_stop_says_why_until_the_spec_changes_again():
    stopped = {"lastActivity": "2026-01-01T09:00:00Z"}
    s = studio(idleTimeout="2h", state="Stopped", status=stopped, annotations={"studio.dev/idle-stopped-generation": "3"})
    p = plan(s)
    assert (p.status["state"], p.status["message"]) == (
        "Stopped",
        "stopped after 2h without activity (last activity 2026-01-01T09:00:00Z); set spec.state: Running to start it",
    )
    assert p.status["lastActivity"] == "2026-01-01T09:00:00Z"  # kept while nothing runs
    # Started and stopped again by someone since: generation 5, no longer the idle stop's.
    later = s.model_copy(update={"metadata": s.metadata.model_copy(update={"generation": 5})})
    assert plan(later).status["message"] == "the studio is stopped (spec.state: Stopped)"
