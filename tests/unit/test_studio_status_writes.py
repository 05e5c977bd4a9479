"""When the studio reconcile writes status and posts Events: settled states and leaving Running
at once, the transient states of a studio that is not running yet only once they lasted
`progress_hold`."""

import dataclasses
import datetime

import pytest

from studio_operator.config import Config
from studio_operator.studios.reconcile import write_status
from tests.unit.studio_fixtures import studio

T0 = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@dataclasses.dataclass
class FakeKube:
    patches: list = dataclasses.field(default_factory=list)

    async def patch_status(self, api_version, kind, namespace, name, patch):
        self.patches.append(patch)
        return None


@dataclasses.dataclass
class FakeController:
    kube: FakeKube = dataclasses.field(default_factory=FakeKube)
    config: Config = dataclasses.field(default_factory=lambda: Config(progress_hold=2.0))
    events: list = dataclasses.field(default_factory=list)
    memo: dict = dataclasses.field(default_factory=dict)

    def event(self, involved, type_, reason, message):
        self.events.append(reason)


def status(state: str, **extra) -> dict:
    return {"state": state, "message": f"{state.lower()}", "conditions": [], **extra}


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


@pytest.mark.asyncio
async def test_a_start_that_settles_within_the_hold_writes_once():
    ctrl, s = FakeController(), studio(name="quick", state="Running", status=status("Stopped"))
    assert await write_status(ctrl, s, status("Starting"), at(0), progressing=True) == pytest.approx(2.0)
    assert await write_status(ctrl, s, status("Starting", pod="quick"), at(0.5), progressing=True) == pytest.approx(1.5)
    assert await write_status(ctrl, s, status("Running", pod="quick"), at(1.0), progressing=True) is None
    assert [p["state"] for p in ctrl.kube.patches] == ["Running"]
    assert ctrl.events == ["Running"]


@pytest.mark.asyncio
async def test_a_slow_start_shows_starting_from_when_it_began():
    ctrl, s = FakeController(), studio(name="slow", status=status("Stopped"))
    await write_status(ctrl, s, status("Starting"), at(0), progressing=True)
    assert await write_status(ctrl, s, status("Starting"), at(2.5), progressing=True) is None
    assert ctrl.kube.patches[0]["state"] == "Starting"
    assert ctrl.kube.patches[0]["lastStateChange"] == "2026-01-01T00:00:00Z"
    assert ctrl.events == []  # transient states post no Event


@pytest.mark.asyncio
async def test_failures_and_blocked_starts_are_written_at_once():
    ctrl = FakeController()
    await write_status(ctrl, studio(name="bad", status=status("Starting")), status("Failed"), at(0), progressing=True)
    await write_status(ctrl, studio(name="blocked"), status("Starting"), at(0), progressing=False)
    assert [p["state"] for p in ctrl.kube.patches] == ["Failed", "Starting"]
    assert ctrl.events == ["Failed"]


@pytest.mark.asyncio
async def test_leaving_running_is_written_at_once():
    ctrl, s = FakeController(), studio(name="r", status=status("Running"))
    assert await write_status(ctrl, s, status("Stopping"), at(0), progressing=True) is None
    assert [p["state"] for p in ctrl.kube.patches] == ["Stopping"]
    assert ctrl.events == []


@pytest.mark.asyncio
async def test_no_hold_when_configured_off():
    ctrl = FakeController(config=Config(progress_hold=0))
    await write_status(ctrl, studio(name="off", status=status("Stopped")), status("Starting"), at(0), progressing=True)
    assert [p["state"] for p in ctrl.kube.patches] == ["Starting"]


@pytest.mark.asyncio
async def test_a_status_that_did_not_change_is_not_written_and_posts_nothing():
    ctrl = FakeController()
    settled = studio(name="same", status=status("Running", lastStateChange="2026-01-01T00:00:00Z"))
    stored = settled.status.to_dict()
    assert await write_status(ctrl, settled, stored, at(60)) is None
    assert (ctrl.kube.patches, ctrl.events) == ([], [])
    # A change of message in the same state is written, with no second Event.
    await write_status(ctrl, settled, {**stored, "message": "the studio runs"}, at(61))
    assert [p.get("message") for p in ctrl.kube.patches] == ["the studio runs"]
    assert ctrl.events == []


@pytest.mark.asyncio
async def test_a_failure_is_a_warning_event_and_a_recovery_a_normal_one():
    events = []
    ctrl = FakeController()
    ctrl.event = lambda involved, type_, reason, message: events.append((type_, reason, message))
    await write_status(ctrl, studio(name="f", status=status("Starting")),
                       status("Failed", message="ErrImagePull: not found"), at(0))
    await write_status(ctrl, studio(name="f", status=status("Failed")), status("Running", message=None), at(5))
    assert events == [("Warning", "Failed", "ErrImagePull: not found"), ("Normal", "Running", "the studio is Running")]


NEW = {"state": "Starting"}  # what the API server shows of a studio the operator never wrote (the CRD's default)


@pytest.mark.asyncio
async def test_a_new_studio_making_headway_writes_once_when_running_and_posts_no_event():
    ctrl, s = FakeController(config=Config(progress_hold=2.0, first_start_hold=30.0)), studio(name="new", status=NEW)
    assert await write_status(ctrl, s, status("Starting"), at(0), True, headway=True) == pytest.approx(30.0)
    assert await write_status(ctrl, s, status("Starting", pod="new"), at(20), True, headway=True) == pytest.approx(10.0)
    assert await write_status(ctrl, s, status("Running", pod="new"), at(25), True, headway=True) is None
    assert [(p["state"], p["lastStateChange"]) for p in ctrl.kube.patches] == [("Running", "2026-01-01T00:00:25Z")]
    assert ctrl.events == []  # its first Running is no news


@pytest.mark.asyncio
async def test_a_new_studio_starting_longer_than_its_hold_says_so_from_its_first_look():
    ctrl, s = FakeController(config=Config(progress_hold=2.0, first_start_hold=30.0)), studio(name="slow", status=NEW)
    await write_status(ctrl, s, status("Starting"), at(0), True, headway=True)
    assert await write_status(ctrl, s, status("Starting"), at(31), True, headway=True) is None
    # Its state is shown already; the write adds the detail, stamped from the first look.
    assert [(p["message"], p["lastStateChange"]) for p in ctrl.kube.patches] == [("starting", "2026-01-01T00:00:00Z")]


@pytest.mark.asyncio
async def test_a_new_studio_whose_start_stalls_says_so_after_the_short_hold():
    ctrl, s = FakeController(config=Config(progress_hold=2.0, first_start_hold=30.0)), studio(name="stuck", status=NEW)
    assert await write_status(ctrl, s, status("Starting"), at(0), True, headway=False) == pytest.approx(2.0)
    assert await write_status(ctrl, s, status("Starting"), at(2), True, headway=False) is None
    assert [p["message"] for p in ctrl.kube.patches] == ["starting"]


@pytest.mark.asyncio
async def test_only_a_studio_never_written_gets_the_long_hold():
    ctrl = FakeController(config=Config(progress_hold=2.0, first_start_hold=30.0))
    written = studio(name="w", status={**status("Starting"), "observedGeneration": 2})
    assert await write_status(ctrl, written, status("Starting", message="other"), at(0), True, headway=True) == pytest.approx(2.0)


@pytest.mark.asyncio
async def test_the_first_run_after_a_failure_or_a_stop_posts_running():
    ctrl = FakeController()
    await write_status(ctrl, studio(name="a", status=status("Stopped")), status("Running"), at(0))
    await write_status(ctrl, studio(name="b", status=status("Failed")), status("Running"), at(0))
    await write_status(ctrl, studio(name="c", status={**status("Starting"), "lastActivity": "2026-01-01T00:00:00Z"}),
                       status("Running"), at(0))
    assert ctrl.events == ["Running", "Running", "Running"]
