"""A child the API server refuses (quota, validation, admission): which API calls still go out,
and what the studio's status says, through the glue that carries a plan out."""

from __future__ import annotations

import dataclasses

import pytest

from studio_operator.api import CodeStudioStatus
from studio_operator.config import Config
from studio_operator.kube import ApiError
from studio_operator.studios import children as C
from studio_operator.studios.plan import Observed
from studio_operator.studios.reconcile import carry_out, count_running
from studio_operator.studios.settings import resolve_settings
from tests.unit.studio_fixtures import pod, pvc, studio, template

QUOTA = 'persistentvolumeclaims "s-home" is forbidden: exceeded quota: q, requested: requests.storage=50Gi'


@dataclasses.dataclass
class FakeKube:
    refuse: dict[str, ApiError] = dataclasses.field(default_factory=dict)  # kind -> the answer
    calls: list = dataclasses.field(default_factory=list)
    patches: list = dataclasses.field(default_factory=list)

    async def apply(self, manifest):
        self.calls.append(("apply", manifest["kind"]))
        if manifest["kind"] in self.refuse:
            raise self.refuse[manifest["kind"]]
        return manifest

    async def create(self, manifest):
        self.calls.append(("create", manifest["kind"]))
        if manifest["kind"] in self.refuse:
            raise self.refuse[manifest["kind"]]
        return manifest

    async def delete(self, api_version, kind, namespace, name, uid=None):
        self.calls.append(("delete", kind))
        return True

    async def patch(self, api_version, kind, namespace, name, patch):
        self.calls.append(("patch", kind))
        if kind in self.refuse:
            raise self.refuse[kind]
        return patch

    async def patch_status(self, api_version, kind, namespace, name, patch):
        self.patches.append(patch)
        return None


class FakeCache:
    def created(self, *args):
        pass

    def deleted(self, *args):
        pass

    def wrote(self, *args):
        pass


@dataclasses.dataclass
class FakeController:
    kube: FakeKube
    config: Config = dataclasses.field(default_factory=lambda: Config(progress_hold=2.0))
    memo: dict = dataclasses.field(default_factory=dict)
    cache: FakeCache = dataclasses.field(default_factory=FakeCache)
    events: list = dataclasses.field(default_factory=list)

    def event(self, involved, type_, reason, message):
        self.events.append(reason)


def observed(s, **children):
    """A running studio whose pod runs the current spec, with the children its last owner had."""
    t = template()
    ref = C.StudioRef("s", "ns", "uid-1", s.status.owner)
    settings = resolve_settings(s, t, None)
    desired_pod = C.build_pod(C.StudioRef("s", "ns", "uid-1", s.spec.owner), settings, None)
    children.setdefault("pvc", pvc(size="10Gi"))
    return Observed(studio=s, template=t, pod=pod(spec_hash=desired_pod["metadata"]["annotations"]["studio.dev/spec-hash"]),
                    service=C.build_service(ref, settings), role=C.build_access_role(ref),
                    binding=C.build_access_binding(ref), **children)


def running(**spec):
    return studio(storage={"size": "50Gi"}, status={"state": "Running", "owner": "alice",
                                                    "volume": {"claimName": "s-home"}, "conditions": []}, **spec)


def condition(patch, type_):
    return next(c for c in patch["conditions"] if c["type"] == type_)


@pytest.mark.asyncio
async def test_a_refused_volume_resize_does_not_stop_a_stop():
    kube = FakeKube(refuse={"PersistentVolumeClaim": ApiError(403, "Forbidden", QUOTA)})
    await carry_out(FakeController(kube), observed(running(state="Stopped")))
    assert ("delete", "Pod") in kube.calls
    assert kube.patches[-1]["state"] == "Stopping"
    volume = condition(kube.patches[-1], "VolumeReady")
    assert (volume["status"], volume["reason"]) == ("False", "QuotaExceeded")
    assert "refuses the persistentvolumeclaim" in volume["message"] and QUOTA in volume["message"]
    assert volume["message"].endswith("request less storage, or raise the quota")  # stopping studios frees none


@pytest.mark.asyncio
async def test_a_refused_volume_resize_shows_on_a_running_studio_and_leaves_its_pod():
    kube = FakeKube(refuse={"PersistentVolumeClaim": ApiError(403, "Forbidden", QUOTA)})
    await carry_out(FakeController(kube), observed(running()))
    assert not any(verb in ("delete", "create") for verb, _ in kube.calls)
    written = kube.patches[-1]
    assert written["state"] == "Failed" and QUOTA in written["message"]
    ready = condition(written, "Ready")
    assert ready["status"] == "False" and QUOTA in ready["message"]
    assert condition(written, "VolumeReady")["reason"] == "QuotaExceeded"
    assert condition(written, "PodReady")["status"] == "True"  # the pod itself runs on


@pytest.mark.asyncio
async def test_an_owner_change_reaches_the_role_binding_though_the_volume_is_refused():
    kube = FakeKube(refuse={"PersistentVolumeClaim": ApiError(403, "Forbidden", QUOTA)})
    await carry_out(FakeController(kube), observed(running(owner="bob")))
    assert ("apply", "RoleBinding") in kube.calls


@pytest.mark.asyncio
async def test_a_refused_role_holds_back_its_binding_and_the_pod():
    refused = 'roles.rbac.authorization.k8s.io "s-access" is forbidden: exceeded quota: q, requested: count/roles=1'
    kube = FakeKube(refuse={"Role": ApiError(403, "Forbidden", refused)})
    s = studio()
    await carry_out(FakeController(kube), Observed(studio=s, template=template()))
    assert ("apply", "Role") in kube.calls and ("apply", "PersistentVolumeClaim") in kube.calls
    assert ("apply", "RoleBinding") not in kube.calls  # it would bind nothing: 404
    assert ("create", "Pod") not in kube.calls
    assert kube.patches[-1]["state"] == "Failed" and refused in kube.patches[-1]["message"]


@pytest.mark.asyncio
async def test_a_new_studio_under_delete_makes_no_claim_before_it_holds_the_finalizer():
    """Else a conflict on the finalizer (or a crash) and a delete before the next look leave a
    claim nobody deletes, which a new studio of that name and owner would start on."""
    s = studio(volumeReclaimPolicy="Delete")
    conflict = ApiError(409, "Conflict", "Operation cannot be fulfilled on codestudios.studio.dev \"s\": "
                                         "the object has been modified")
    ctrl = FakeController(FakeKube(refuse={"CodeStudio": conflict}))
    with pytest.raises(ApiError):
        await carry_out(ctrl, Observed(studio=s, template=template()))
    assert ctrl.kube.calls == [("patch", "CodeStudio")]

    ctrl = FakeController(FakeKube())
    await carry_out(ctrl, Observed(studio=s, template=template()))
    assert ctrl.kube.calls[0] == ("patch", "CodeStudio")
    assert ("apply", "PersistentVolumeClaim") in ctrl.kube.calls and ("create", "Pod") in ctrl.kube.calls


@pytest.mark.asyncio
async def test_a_refusal_longer_than_a_status_message_may_be_is_shown_cut():
    """An admission webhook may deny with pages of text (one line per violated policy); the
    status may hold 4,096 characters per message, and a longer one fails the whole status write."""
    violations = " ".join(f"[policy-{i}] container studio must set resources.limits.ephemeral-storage;" for i in range(80))
    denied = f'admission webhook "validation.gatekeeper.sh" denied the request: {violations}'
    kube = FakeKube(refuse={"Pod": ApiError(403, "Forbidden", denied)})
    await carry_out(FakeController(kube), Observed(studio=studio(), template=template()))
    written = kube.patches[-1]
    CodeStudioStatus.model_validate(written)  # as the CRD's schema, made from it, checks it
    assert written["state"] == "Failed" and written["message"].startswith(
        'the API server refuses the studio\'s Pod s: admission webhook "validation.gatekeeper.sh" denied the request: [policy-0]')
    assert written["message"].endswith("change the studio's spec or its template")
    assert condition(written, "Ready")["message"] == written["message"]


RBAC_DENIED = ('pods "s" is forbidden: User "system:serviceaccount:studio-system:studio-operator" cannot create '
               'resource "pods" in API group "" in the namespace "ns"')


@pytest.mark.asyncio
async def test_the_operators_own_missing_permission_is_no_fault_of_the_studio_and_fails_the_reconcile():
    """An operator whose RBAC lacks a permission (a chart older than its image): the studio says
    so rather than asking its owner to change the spec, and the reconcile fails too, so that it is
    retried with backoff, logged, and counted where the StudioOperatorForbidden alert looks."""
    kube = FakeKube(refuse={"Pod": ApiError(403, "Forbidden", RBAC_DENIED)})
    with pytest.raises(ApiError) as raised:
        await carry_out(FakeController(kube), Observed(studio=studio(), template=template()))
    assert raised.value.status == 403 and raised.value.reason == "Forbidden"
    written = kube.patches[-1]
    assert written["state"] == "Failed" and condition(written, "PodReady")["reason"] == "OperatorForbidden"
    assert RBAC_DENIED in written["message"] and "change the studio's spec" not in written["message"]
    assert "the operator's RBAC" in written["message"]


@pytest.mark.asyncio
async def test_a_server_error_on_a_child_is_retried_not_reported_as_a_refusal():
    # A 503 is the moment, not the spec: the queue retries it; the studio is not marked Failed.
    kube = FakeKube(refuse={"Service": ApiError(503, "ServiceUnavailable", "the server is currently unable")})
    with pytest.raises(ApiError, match="503"):
        await carry_out(FakeController(kube), Observed(studio=studio(), template=template()))
    assert ("create", "Pod") not in kube.calls and kube.patches == []


@pytest.mark.asyncio
async def test_a_refused_child_is_tried_again_after_a_while():
    # The quota may be raised, or another studio stopped, with no event on this studio.
    kube = FakeKube(refuse={"PersistentVolumeClaim": ApiError(403, "Forbidden", QUOTA)})
    assert await carry_out(FakeController(kube), Observed(studio=studio(), template=template())) == 30


@dataclasses.dataclass
class RecordingCache(FakeCache):
    expected: list = dataclasses.field(default_factory=list)

    def created(self, index, key, name, ttl):
        self.expected.append(("created", name, ttl))

    def deleted(self, index, key, uid, ttl):
        self.expected.append(("deleted", uid, ttl))


@pytest.mark.asyncio
async def test_the_pod_it_creates_or_deletes_is_expected_until_the_watch_shows_it():
    # So the next look, if it comes before the pod's own event, neither creates nor deletes it again.
    ctrl = FakeController(FakeKube(), cache=RecordingCache())
    await carry_out(ctrl, Observed(studio=studio(), template=template(), pvc=pvc()))
    await carry_out(ctrl, observed(running(state="Stopped")))
    assert ctrl.cache.expected == [("created", "s", 5.0), ("deleted", "pod-uid", 5.0)]


@pytest.mark.asyncio
async def test_the_running_count_for_maxrunningcodestudios_leaves_out_pods_that_are_going_and_its_own():
    def pod_of(studio_name, going=False):
        meta = {"name": studio_name, "labels": {"studio.dev/codestudio": studio_name}}
        return {"metadata": {**meta, "deletionTimestamp": "2026-01-01T00:00:00Z"} if going else meta}

    class ListingKube(FakeKube):
        async def list(self, api_version, kind, namespace, label_selector=None):
            return [pod_of("a"), pod_of("b", going=True), pod_of("s")]

    assert await count_running(FakeController(ListingKube()), "ns", "s") == 1
