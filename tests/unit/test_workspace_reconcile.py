"""The workspace reconcile's glue: what it writes when the API server refuses one of its objects."""

import dataclasses
import datetime

import pytest

from studio_operator.api import Workspace
from studio_operator.cache import INDEXES, Cache
from studio_operator.child_index import Children
from studio_operator.config import Config
from studio_operator.kube import ApiError
from studio_operator.workspaces import reconcile
from studio_operator.workspaces.plan import Observed
from tests.unit.workspace_fixtures import claim, namespace, studio, workspace

REFUSED = "studio-workspace-admin"


@dataclasses.dataclass
class FakeKube:
    applied: list = dataclasses.field(default_factory=list)
    statuses: list = dataclasses.field(default_factory=list)

    async def apply(self, manifest):
        if manifest["metadata"]["name"] == REFUSED and manifest["kind"] == "RoleBinding":
            raise ApiError(422, "Invalid", f'RoleBinding "{REFUSED}" is invalid: denied by policy')
        self.applied.append((manifest["kind"], manifest["metadata"]["name"]))
        return manifest

    async def patch_status(self, api_version, kind, namespace, name, patch):
        self.statuses.append(patch)
        return None


@dataclasses.dataclass
class FakeController:
    kube: FakeKube = dataclasses.field(default_factory=FakeKube)
    config: Config = dataclasses.field(default_factory=Config)
    memo: dict = dataclasses.field(default_factory=dict)

    def event(self, *_):
        pass

    def enqueue(self, *_):
        pass


@pytest.mark.asyncio
async def test_one_refused_object_does_not_stop_the_others_and_the_status_says_so(monkeypatch):
    ws = workspace()

    async def observe(ctrl, name):
        return Observed(workspace=ws, namespace=namespace(), operator_namespace="studio-system")

    monkeypatch.setattr(reconcile, "observe", observe)
    ctrl = FakeController()
    recheck = await reconcile.reconcile_workspace(ctrl, "team")
    # Every other binding was applied, among them the one that drops a removed member.
    assert ("RoleBinding", "studio-workspace-member") in ctrl.kube.applied
    assert ("NetworkPolicy", "workspace-isolation") in ctrl.kube.applied
    assert ("RoleBinding", REFUSED) not in ctrl.kube.applied
    conditions = {c["type"]: c for c in ctrl.kube.statuses[0]["conditions"]}
    assert conditions["RBACReady"]["status"] == "False" and conditions["RBACReady"]["reason"] == "Refused"
    assert f"RoleBinding {REFUSED} was refused: " in conditions["RBACReady"]["message"]
    assert "denied by policy" in conditions["Ready"]["message"]
    assert conditions["QuotaReady"]["status"] == "True"
    assert recheck == reconcile.REFUSED_RECHECK


@dataclasses.dataclass
class PatchRefusingKube(FakeKube):
    """Refuses patches of one kind, as an admission policy may."""

    refused_kind: str = "PersistentVolume"
    calls: list = dataclasses.field(default_factory=list)

    async def patch(self, api_version, kind, namespace, name, patch):
        self.calls.append(("patch", kind, name))
        if kind == self.refused_kind:
            raise ApiError(403, "Forbidden", f'{kind.lower()}s "{name}" is forbidden: ValidatingAdmissionPolicy '
                                             "'freeze' with binding 'freeze' denied request: frozen for maintenance")
        return {}

    async def create(self, manifest):
        self.calls.append(("create", manifest["kind"], manifest["metadata"]["name"]))
        return manifest

    async def delete(self, api_version, kind, namespace, name, uid=None):
        self.calls.append(("delete", kind, name))
        return True


@pytest.mark.asyncio
async def test_a_deleted_workspace_keeps_its_namespace_while_a_retained_volume_cannot_be_kept(monkeypatch):
    """Deleting the namespace deletes its claims, and a volume still under the Delete reclaim
    policy with them: a retained studio's volume must be switched to Retain first."""
    ws = workspace(deleting=True, deletionPolicy="Cascade")

    async def observe(ctrl, name):
        return Observed(workspace=ws, namespace=namespace(), claims=[claim("a", volume="pv-a")],
                        operator_namespace="studio-system")

    monkeypatch.setattr(reconcile, "observe", observe)
    ctrl = FakeController(kube=PatchRefusingKube())
    recheck = await reconcile.reconcile_workspace(ctrl, "team")
    assert ("patch", "PersistentVolume", "pv-a") in ctrl.kube.calls
    assert ("delete", "Namespace", "team") not in ctrl.kube.calls
    ready = {c["type"]: c for c in ctrl.kube.statuses[0]["conditions"]}["Ready"]
    assert ready["status"] == "False" and "PersistentVolume pv-a was refused: " in ready["message"]
    assert recheck == reconcile.REFUSED_RECHECK  # tried again after a while, not at the deletion's 2 s pace


@pytest.mark.asyncio
async def test_no_namespace_is_made_for_a_workspace_that_could_not_take_its_finalizer(monkeypatch):
    """Without it, deleting the workspace runs no cleanup: its namespace would be left behind."""
    ws = workspace(finalizers=())

    async def observe(ctrl, name):
        return Observed(workspace=ws, namespace=None, operator_namespace="studio-system")

    monkeypatch.setattr(reconcile, "observe", observe)
    ctrl = FakeController(kube=PatchRefusingKube(refused_kind="Workspace"))
    await reconcile.reconcile_workspace(ctrl, "team")
    assert ctrl.kube.calls == [("patch", "Workspace", "team")]
    ready = {c["type"]: c for c in ctrl.kube.statuses[0]["conditions"]}["Ready"]
    assert ready["status"] == "False" and "Workspace team was refused: " in ready["message"]


@pytest.mark.asyncio
async def test_the_operators_own_missing_permission_fails_the_reconcile_after_the_other_writes(monkeypatch):
    """So that it is retried with backoff, logged, and counted for the StudioOperatorForbidden alert."""
    ws = workspace()

    async def observe(ctrl, name):
        return Observed(workspace=ws, namespace=namespace(), operator_namespace="studio-system")

    class RBACKube(FakeKube):
        async def apply(self, manifest):
            if manifest["kind"] == "NetworkPolicy":
                raise ApiError(403, "Forbidden", 'networkpolicies.networking.k8s.io "workspace-isolation" is forbidden: '
                                                 'User "system:serviceaccount:studio-system:studio-operator" cannot patch '
                                                 'resource "networkpolicies" in API group "networking.k8s.io"')
            return await super().apply(manifest)

    monkeypatch.setattr(reconcile, "observe", observe)
    ctrl = FakeController(kube=RBACKube())
    with pytest.raises(ApiError) as raised:
        await reconcile.reconcile_workspace(ctrl, "team")
    assert raised.value.status == 403
    assert ("RoleBinding", "studio-workspace-member") in ctrl.kube.applied  # the others went ahead
    ready = {c["type"]: c for c in ctrl.kube.statuses[0]["conditions"]}["Ready"]
    assert "NetworkPolicy workspace-isolation was refused: " in ready["message"]


def _cache(*workspaces, namespaces=(), studios=()):
    """The operator's cache holding these workspaces, namespaces and studios (kopf's indexes)."""
    cache = Cache(Children())
    bodies = [w.model_dump(by_alias=True, exclude_none=True) for w in workspaces]
    cache.bind({name: {} for name in INDEXES} | {
        "workspaces": {b["metadata"]["name"]: [b] for b in bodies},
        "workspaces_by_namespace": {b["spec"].get("namespace") or b["metadata"]["name"]: [b] for b in bodies},
        "workspace_objects": {b["metadata"]["name"]: [ns for ns in namespaces] for b in bodies},
        "studios": {(s["metadata"]["namespace"], s["metadata"]["name"]): [s] for s in studios},
    })
    return cache


def test_a_workspace_governs_only_a_namespace_it_made():
    # One that names another team's namespace must not stop, or set quotas on, that team's studios.
    assert reconcile.workspace_of(_cache(workspace(), namespaces=[namespace()]), "team").metadata.name == "team"
    assert reconcile.workspace_of(_cache(workspace(), namespaces=[namespace(owner_uid="other")]), "team") is None
    assert reconcile.workspace_of(_cache(workspace()), "team") is None  # its namespace not made yet
    assert reconcile.workspace_of(_cache(workspace(), namespaces=[namespace()]), "payments") is None


def test_a_workspaces_studios_are_those_of_its_namespace():
    ours, theirs = studio("a"), {**studio("b"), "metadata": {**studio("b")["metadata"], "namespace": "payments"}}
    assert reconcile.in_namespace(_cache(studios=[ours, theirs]), "studios", "team") == [ours]


@pytest.mark.asyncio
async def test_a_namespace_not_in_the_cache_is_read_live():
    """Someone else's namespace carries no label of ours, so the cache never holds it: without a
    live read the operator would try to create it for ever instead of saying it is not adopted."""
    class Live(FakeKube):
        async def get(self, api_version, kind, namespace_, name):
            return namespace(owner_uid=None) if (kind, name) == ("Namespace", "team") else None

    ctrl = FakeController(kube=Live())
    ctrl.cache = _cache(workspace())
    obs = await reconcile.observe(ctrl, "team")
    assert obs.namespace == namespace(owner_uid=None)


def _plan_of(monkeypatch, ws, **observed):
    async def observe(ctrl, name):
        return Observed(workspace=ws, namespace=namespace(), operator_namespace="studio-system", **observed)

    monkeypatch.setattr(reconcile, "observe", observe)


@pytest.mark.asyncio
async def test_a_server_error_is_retried_not_reported_as_a_refusal(monkeypatch):
    class Unavailable(FakeKube):
        async def apply(self, manifest):
            raise ApiError(503, "ServiceUnavailable", "the server is currently unable to handle the request")

    _plan_of(monkeypatch, workspace())
    ctrl = FakeController(kube=Unavailable())
    with pytest.raises(ApiError, match="503"):
        await reconcile.reconcile_workspace(ctrl, "team")
    assert ctrl.kube.statuses == []


@pytest.mark.asyncio
async def test_a_freed_running_slot_wakes_a_studio_waiting_for_it(monkeypatch):
    woken = []
    ctrl = FakeController()
    ctrl.enqueue = lambda *key: woken.append(key)
    _plan_of(monkeypatch, workspace(quota={"maxRunningCodeStudios": 1}),
             studios=[studio("a", "Stopped"), studio("w", "Failed", waiting_for_quota=True)])
    await reconcile.reconcile_workspace(ctrl, "team")
    assert woken == [("studio", "team", "w")]


@pytest.mark.asyncio
async def test_the_status_is_written_when_it_changes_with_an_event_when_the_phase_does():
    events = []
    ctrl = FakeController()
    ctrl.event = lambda involved, type_, reason, message: events.append((type_, reason, message))
    failed = {"observedGeneration": 2, "phase": "Failed", "conditions": [
        {"type": "Ready", "status": "False", "reason": "NamespaceNotOwned", "message": "namespace team exists"}]}
    await reconcile.write_status(ctrl, workspace(), failed)
    assert [p["phase"] for p in ctrl.kube.statuses] == ["Failed"]
    assert events == [("Warning", "Failed", "namespace team exists")]
    # Looked at again, nothing changed: nothing written, nothing posted.
    body = workspace().model_dump(by_alias=True, exclude_none=True)
    stored = Workspace.model_validate(body | {"status": {**failed, "conditions": [
        {**failed["conditions"][0], "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 2}]}})
    await reconcile.write_status(ctrl, stored, stored.status.to_dict())
    assert (len(ctrl.kube.statuses), len(events)) == (1, 1)
    # A change within the phase is written, with no second Event.
    await reconcile.write_status(ctrl, stored, {**stored.status.to_dict(), "members": 6})
    assert (len(ctrl.kube.statuses), len(events)) == (2, 1)


@pytest.mark.asyncio
async def test_a_change_of_counts_alone_waits_for_the_tally_pace_other_changes_do_not(monkeypatch):
    ctrl = FakeController()
    at = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    monkeypatch.setattr(reconcile, "now", lambda: at)
    stored = workspace().model_dump(by_alias=True, exclude_none=True)
    ready = {"type": "Ready", "status": "True", "reason": "Active", "message": "", "lastTransitionTime": "2026-01-01T00:00:00Z",
             "observedGeneration": 2}
    status = {"observedGeneration": 2, "phase": "Active", "conditions": [ready], "codeStudios": {"total": 1, "running": 1, "stopped": 0}}
    ws = Workspace.model_validate(stored | {"status": status})
    more = {**status, "codeStudios": {"total": 2, "running": 2, "stopped": 0}}
    assert await reconcile.write_status(ctrl, ws, more) is None  # the first after a quiet spell: at once
    at += datetime.timedelta(seconds=4)
    assert await reconcile.write_status(ctrl, ws, {**more, "usage": {"codeStudios": "3"}}) == 6.0
    assert len(ctrl.kube.statuses) == 1
    # Anything but a count is written at once.
    await reconcile.write_status(ctrl, ws, {**more, "members": 6})
    last = ctrl.kube.statuses[-1]
    assert (last["members"], last["codeStudios"]) == (6, {"total": 2, "running": 2, "stopped": 0})
    at += datetime.timedelta(seconds=10)
    assert await reconcile.write_status(ctrl, ws, {**more, "usage": {"codeStudios": "3"}}) is None
    assert ctrl.kube.statuses[-1]["usage"] == {"codeStudios": "3"} and len(ctrl.kube.statuses) == 3
