"""The template reconcile's glue: what it writes when the API server refuses the build Job."""

import dataclasses
import datetime

import pytest

from studio_operator.api import CodeStudioTemplate
from studio_operator.conditions import merge_conditions
from studio_operator.config import Config
from studio_operator.kube import ApiError
from studio_operator.templates import reconcile
from studio_operator.templates.plan import Observed, plan_template
from tests.unit.studio_fixtures import template

NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)


@dataclasses.dataclass
class RefusingKube:
    refusal: ApiError
    statuses: list = dataclasses.field(default_factory=list)

    async def create(self, manifest):
        raise self.refusal

    async def patch_status(self, api_version, kind, namespace, name, patch):
        self.statuses.append(patch)
        return None


@dataclasses.dataclass
class FakeController:
    kube: RefusingKube
    config: Config = dataclasses.field(default_factory=Config)
    memo: dict = dataclasses.field(default_factory=dict)

    def event(self, *_):
        pass


async def _reconcile(monkeypatch, refusal: ApiError) -> FakeController:
    monkeypatch.setattr(reconcile, "observe", lambda ctrl, name: Observed(template=template(image=None), namespace="studio-system"))
    ctrl = FakeController(RefusingKube(refusal))
    await reconcile.reconcile_template(ctrl, "py")
    return ctrl


def _built(ctrl: FakeController) -> dict:
    return next(c for c in ctrl.kube.statuses[-1]["conditions"] if c["type"] == "Built")


@pytest.mark.asyncio
async def test_a_refused_build_job_fails_the_build_with_the_servers_message(monkeypatch):
    quota = 'jobs.batch "py-1" is forbidden: exceeded quota: builds, requested: count/jobs.batch=1'
    ctrl = await _reconcile(monkeypatch, ApiError(403, "Forbidden", quota))
    assert _built(ctrl)["reason"] == "BuildFailed" and quota in _built(ctrl)["message"]


@pytest.mark.asyncio
async def test_the_operators_own_missing_permission_also_fails_the_reconcile(monkeypatch):
    """So that it is retried with backoff, logged, and counted for the StudioOperatorForbidden alert."""
    denied = ('jobs.batch is forbidden: User "system:serviceaccount:studio-system:studio-operator" cannot create '
              'resource "jobs" in API group "batch" in the namespace "studio-system"')
    with pytest.raises(ApiError) as raised:
        await _reconcile(monkeypatch, ApiError(403, "Forbidden", denied))
    assert raised.value.status == 403


@pytest.mark.asyncio
async def test_a_change_of_the_studio_count_alone_is_written_at_most_every_ten_seconds(monkeypatch):
    ctrl = FakeController(RefusingKube(ApiError(500, "InternalError", "unused: a prebuilt image has no build Job")))
    settled = plan_template(Observed(template=template(), namespace="studio-system"), NOW).status
    body = template().model_dump(by_alias=True, exclude_none=True)
    body["metadata"]["generation"] = 1
    body["status"] = {**settled, "observedGeneration": 1, "conditions": merge_conditions(None, settled["conditions"], 1, NOW),
                      "codeStudios": 3}
    written = CodeStudioTemplate.model_validate(body)
    monkeypatch.setattr(reconcile, "observe", lambda ctrl, name: Observed(template=written, namespace="studio-system"))
    monkeypatch.setattr(reconcile, "now", lambda: NOW)
    assert await reconcile.reconcile_template(ctrl, "py") is None
    assert ctrl.kube.statuses == [{"codeStudios": 0}]  # the first change after a quiet spell: at once
    monkeypatch.setattr(reconcile, "now", lambda: NOW + datetime.timedelta(seconds=3))
    assert await reconcile.reconcile_template(ctrl, "py") == 7.0  # the next waits, and says how long
    assert len(ctrl.kube.statuses) == 1
    monkeypatch.setattr(reconcile, "now", lambda: NOW + datetime.timedelta(seconds=10))
    await reconcile.reconcile_template(ctrl, "py")
    assert ctrl.kube.statuses[-1] == {"codeStudios": 0}
