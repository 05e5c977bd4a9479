"""Which cached objects count as a studio's children: only its own, by name and controller."""

from __future__ import annotations

import types

from studio_operator import cache as cache_module
from studio_operator.cache import INDEXES, Cache
from studio_operator.child_index import Children
from studio_operator.config import Config
from studio_operator.studios.reconcile import observe

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


def _ctrl(**children: list[dict]):
    cache = Cache(Children())
    indexes = {name: {} for name in INDEXES}
    indexes["studios"] = {("ns", "s"): [STUDIO]}
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
