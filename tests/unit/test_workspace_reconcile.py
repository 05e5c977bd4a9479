"""The workspace reconcile's glue: what it writes when the API server refuses one of its objects."""

import dataclasses

import pytest

from studio_operator.config import Config
from studio_operator.kube import ApiError
from studio_operator.workspaces import reconcile
from studio_operator.workspaces.plan import Observed
from tests.unit.workspace_fixtures import claim, namespace, workspace

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
    assert recheck


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
