"""Which cached objects count as a studio's children: only its own, by name and controller."""

from __future__ import annotations

import types

import pytest

from studio_operator import cache as cache_module
from studio_operator.cache import INDEXES, Cache
from studio_operator.child_index import Children
from studio_operator.config import Config
from studio_operator.studios.reconcile import observe, reconcile_studio

STUDIO = {
    "apiVersion": "studio.dev/v1alpha1", "kind": "CodeStudio",
    "metadata": {"name": "s", "namespace": "ns", "uid": "uid-1", "generation": 1},
    "spec": {"template": "py", "owner": "alice"},
}


def _obj(kind: str, name: str, controller: str | None) -> dict:
    meta = {"name": name, "namespace": "ns", "uid": f"{kind}-{name}-{controller}", "labels": {"studio.dev/codestudio": "s"}}
    if controller:
        meta["ownerReferences"] = [{"kind": "CodeStudio", "name": "s", "uid": controller, "controller": True}]
    return {"kind": kind, "metadata": meta}


def _ctrl(studio: dict = STUDIO, **children: list[dict]):
    cache = Cache(Children())
    indexes = {name: {} for name in INDEXES}
    indexes["studios"] = {("ns", "s"): [studio]}
    for index, objs in children.items():
        for obj in objs:
            cache.children.indexes[index].put(("ns", "s"), obj["metadata"]["uid"], obj)
    cache.bind(indexes)
    return types.SimpleNamespace(cache=cache, config=Config())


def test_a_pod_someone_labelled_as_the_studios_is_not_its_pod():
    spoof = _obj("Pod", "evil", None)
    spoof_with_name = _obj("Pod", "s", "uid-other")
    obs = observe(_ctrl(studio_pods=[spoof, spoof_with_name]), "ns", "s")
    assert obs.pod is None


def test_its_own_pod_is_found_among_others():
    own = _obj("Pod", "s", "uid-1")
    obs = observe(_ctrl(studio_pods=[_obj("Pod", "evil", "uid-1"), _obj("Pod", "s", "uid-old"), own]), "ns", "s")
    assert obs.pod is own


def test_children_by_name_and_the_home_volume_by_name_alone():
    role = _obj("Role", "s-access", "uid-1")
    retained = _obj("PersistentVolumeClaim", "s-home", None)  # Retain: no owner reference
    obs = observe(_ctrl(studio_roles=[_obj("Role", "s-other", "uid-1"), role],
                        studio_pvcs=[_obj("PersistentVolumeClaim", "evil-home", None), retained]), "ns", "s")
    assert obs.role is role and obs.pvc is retained and obs.service is None and obs.binding is None


def test_a_pod_just_created_is_expected_until_the_watch_shows_it_or_a_few_seconds_pass(monkeypatch):
    """The claim's and Service's events can bring a look before the new pod's own: the pod is
    expected then, not created again for a 409."""
    clock = [100.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    ctrl = _ctrl()
    assert observe(ctrl, "ns", "s").pod_expected_in is None  # nothing created

    ctrl.cache.created("studio_pods", ("ns", "s"), "s", ttl=5)
    clock[0] += 2
    assert observe(ctrl, "ns", "s").pod_expected_in == 3

    clock[0] += 3  # lapsed: created again (a 409 if it exists after all)
    assert observe(ctrl, "ns", "s").pod_expected_in is None

    ctrl = _ctrl(studio_pods=[_obj("Pod", "s", "uid-1")])
    ctrl.cache.created("studio_pods", ("ns", "s"), "s", ttl=5)
    obs = observe(ctrl, "ns", "s")
    assert obs.pod is not None and obs.pod_expected_in is None  # the watch brought it


def test_a_pod_just_deleted_is_going_until_the_watch_shows_it_or_a_few_seconds_pass(monkeypatch):
    """A look that comes before the deleted pod's own event (the studio's status write brings
    one) must not delete it again: one more write for nothing, as a stop measured 1.36 deletes."""
    clock = [100.0]
    monkeypatch.setattr(cache_module.time, "monotonic", lambda: clock[0])
    pod = _obj("Pod", "s", "uid-1")
    ctrl = _ctrl(studio_pods=[pod])
    assert observe(ctrl, "ns", "s").pod_deleted is False  # nothing deleted

    ctrl.cache.deleted("studio_pods", ("ns", "s"), pod["metadata"]["uid"], ttl=5)
    clock[0] += 2
    assert observe(ctrl, "ns", "s").pod_deleted is True

    clock[0] += 3  # lapsed: deleted again (harmless if it is going after all)
    assert observe(ctrl, "ns", "s").pod_deleted is False

    going = _obj("Pod", "s", "uid-1") | {"metadata": {**pod["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    ctrl = _ctrl(studio_pods=[going])
    ctrl.cache.deleted("studio_pods", ("ns", "s"), pod["metadata"]["uid"], ttl=5)
    assert observe(ctrl, "ns", "s").pod_deleted is False  # the watch shows it going: nothing left to expect


class _Kube:
    """Answers the reconcile's writes; the claim is read live as the cache shows it."""

    def __init__(self, claim: dict):
        self.claim, self.calls, self.statuses = claim, [], []

    async def get(self, api_version, kind, namespace, name):
        return self.claim if kind == "PersistentVolumeClaim" else None

    async def delete(self, api_version, kind, namespace, name, uid=None):
        self.calls.append(("delete", kind))
        return True

    async def patch(self, api_version, kind, namespace, name, patch):
        self.calls.append(("patch", kind))
        return None

    async def apply(self, manifest):
        self.calls.append(("apply", manifest["kind"]))
        return manifest

    async def create(self, manifest):
        self.calls.append(("create", manifest["kind"]))
        return manifest

    async def patch_status(self, api_version, kind, namespace, name, patch):
        self.statuses.append(patch)
        return None


@pytest.mark.asyncio
async def test_a_new_studio_does_not_take_the_claim_its_predecessor_deleted_before_the_watch_shows_it_going():
    """Deleted under Delete, a studio's claim goes, then its finalizer: a studio applied again at
    once must wait for a new volume, not start on the one being deleted (which would then be
    lost to it for good: VolumeLost)."""
    old = {**STUDIO, "metadata": {**STUDIO["metadata"], "uid": "uid-old", "resourceVersion": "7",
                                  "deletionTimestamp": "2026-01-01T00:00:00Z",
                                  "finalizers": ["studio.dev/reclaim-volume"]},
           "spec": {**STUDIO["spec"], "volumeReclaimPolicy": "Delete"}}
    claim = _obj("PersistentVolumeClaim", "s-home", None)
    claim["metadata"]["annotations"] = {"studio.dev/codestudio-uid": "uid-old", "studio.dev/owner": "alice"}
    claim["spec"] = {"storageClassName": "standard", "resources": {"requests": {"storage": "10Gi"}}}
    claim["status"] = {"phase": "Bound"}
    ctrl = _ctrl(studio_pvcs=[claim])
    ctrl.cache._indexes["studios"] = {("ns", "s"): [old]}
    ctrl.cache._indexes["templates"] = {"py": [{
        "apiVersion": "studio.dev/v1alpha1", "kind": "CodeStudioTemplate", "metadata": {"name": "py", "uid": "t"},
        "spec": {"image": {"prebuilt": "example.org/py:1"}, "ports": [{"name": "http", "port": 8888}]}}]}
    ctrl.kube, ctrl.memo, ctrl.event = _Kube(claim), {}, lambda *args: None
    await reconcile_studio(ctrl, "ns", "s")
    assert ctrl.kube.calls == [("delete", "PersistentVolumeClaim"), ("patch", "CodeStudio")]

    # The studio is gone and applied again; the claim's watch has not shown it going yet.
    ctrl.cache._indexes["studios"] = {("ns", "s"): [{**STUDIO, "metadata": {**STUDIO["metadata"], "uid": "uid-new"}}]}
    ctrl.kube.calls.clear()
    await reconcile_studio(ctrl, "ns", "s")
    assert ("apply", "PersistentVolumeClaim") not in ctrl.kube.calls and ("create", "Pod") not in ctrl.kube.calls
    volume = next(c for c in ctrl.kube.statuses[-1]["conditions"] if c["type"] == "VolumeReady")
    assert volume["reason"] == "VolumeTerminating" and ctrl.kube.statuses[-1].get("volume") is None


class LiveKube:
    """The API server's answers where the reconcile reads live, and the writes it gets."""

    def __init__(self, claim: dict | None):
        self.claim, self.reads, self.patches = claim, [], []

    async def get(self, api_version, kind, namespace, name):
        self.reads.append((kind, name))
        return self.claim if kind == "PersistentVolumeClaim" else None

    async def apply(self, manifest):
        return manifest

    async def create(self, manifest):
        return manifest

    async def patch(self, *args):
        return None

    async def patch_status(self, api_version, kind, namespace, name, patch):
        self.patches.append(patch)


@pytest.mark.asyncio
async def test_a_named_volume_missing_from_the_cache_is_read_live_before_it_is_called_lost():
    """The cache may lag the claim's own create: only the API server may say it is gone."""
    named = {**STUDIO, "status": {"volume": {"claimName": "s-home"}}}
    claim = {**_obj("PersistentVolumeClaim", "s-home", None), "spec": {"resources": {"requests": {"storage": "10Gi"}}},
             "status": {"phase": "Bound"}}
    for live, reason in ((claim, "Bound"), (None, "VolumeLost")):
        ctrl = _ctrl(named)
        ctrl.kube, ctrl.memo, ctrl.events = LiveKube(live), {}, []
        ctrl.event = lambda involved, type_, why, message: ctrl.events.append(why)
        await reconcile_studio(ctrl, "ns", "s")
        assert ("PersistentVolumeClaim", "s-home") in ctrl.kube.reads
        volume = next(c for c in ctrl.kube.patches[-1]["conditions"] if c["type"] == "VolumeReady")
        assert volume["reason"] == reason
