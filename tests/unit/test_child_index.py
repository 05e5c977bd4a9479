"""The studios' children are indexed by the operator from the watch stream; kopf sees the rest."""

from __future__ import annotations

import asyncio
import types

import kopf
import pytest
from kopf._cogs.clients import watching
from kopf._cogs.structs import references

from studio_operator import handlers, watch_gaps
from studio_operator.cache import Cache
from studio_operator.child_index import KINDS, Children
from studio_operator.config import Config
from studio_operator.controller import Controller

LISTED = watching.Bookmark.LISTED
PODS = references.Resource(group="", version="v1", plural="pods")
STUDIOS = references.Resource(group="studio.dev", version="v1alpha1", plural="codestudios")


def _pod(uid: str, studio: str | None, namespace: str = "ns", name: str = "p") -> dict:
    labels = {"studio.dev/codestudio": studio} if studio else {"app": "other"}
    return {"kind": "Pod", "metadata": {"uid": uid, "name": name, "namespace": namespace, "labels": labels}}


def _children() -> tuple[Children, list]:
    children, queued = Children(), []
    children.changed = lambda namespace, studio, urgent: queued.append((namespace, studio))
    return children, queued


def test_a_studios_pod_is_indexed_under_its_studio_and_kept_from_kopf():
    children, queued = _children()
    pod = _pod("u1", "s")
    assert children.take(PODS, {"type": "ADDED", "object": pod}) is True
    assert list(children.indexes["studio_pods"][("ns", "s")]) == [pod]
    assert queued == [("ns", "s")]


def test_other_pods_and_other_kinds_go_on_to_kopf():
    children, queued = _children()
    assert children.take(PODS, {"type": "ADDED", "object": _pod("u1", None)}) is False
    assert children.take(STUDIOS, {"type": "ADDED", "object": _pod("u2", "s")}) is False
    assert children.take(PODS, {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "9"}}}) is False
    assert len(children.indexes["studio_pods"]) == 0 and queued == []


def test_a_deleted_child_leaves_the_index_and_queues_its_studio():
    children, queued = _children()
    children.take(PODS, {"type": "ADDED", "object": _pod("u1", "s")})
    assert children.take(PODS, {"type": "DELETED", "object": _pod("u1", "s")}) is True
    assert ("ns", "s") not in children.indexes["studio_pods"]
    assert queued == [("ns", "s"), ("ns", "s")]


def test_a_relabelled_child_moves_and_both_studios_look_again():
    children, queued = _children()
    children.take(PODS, {"type": "ADDED", "object": _pod("u1", "a")})
    moved = _pod("u1", "b")
    children.take(PODS, {"type": "MODIFIED", "object": moved})
    assert ("ns", "a") not in children.indexes["studio_pods"]
    assert list(children.indexes["studio_pods"][("ns", "b")]) == [moved]
    assert queued == [("ns", "a"), ("ns", "a"), ("ns", "b")]


def test_a_child_that_lost_its_label_is_dropped_and_goes_on_to_kopf():
    children, queued = _children()
    children.take(PODS, {"type": "ADDED", "object": _pod("u1", "a")})
    assert children.take(PODS, {"type": "MODIFIED", "object": _pod("u1", None)}) is False
    assert len(children.indexes["studio_pods"]) == 0
    assert queued == [("ns", "a"), ("ns", "a")]


def test_only_a_pod_change_that_may_settle_its_studio_queues_it_as_urgent():
    children, urgency = Children(), []
    children.changed = lambda namespace, studio, urgent: urgency.append(urgent)
    claims = references.Resource(group="", version="v1", plural="persistentvolumeclaims")

    def pod(uid: str = "u2", **status) -> dict:
        return {**_pod(uid, "s"), "status": status}

    children.take(PODS, {"type": None, "object": pod("u1", phase="Running")})  # listed at startup
    children.take(PODS, {"type": "ADDED", "object": pod(phase="Pending")})  # the echo of its creation
    children.take(claims, {"type": "MODIFIED", "object": {**_pod("c1", "s"), "kind": "PersistentVolumeClaim"}})
    children.take(PODS, {"type": "MODIFIED", "object": pod(phase="Pending", conditions=[{"type": "PodScheduled"}])})
    creating = [{"name": "ide", "state": {"waiting": {"reason": "ContainerCreating"}}}]  # a kubelet pulling, say
    children.take(PODS, {"type": "MODIFIED", "object": pod(phase="Pending", containerStatuses=creating)})
    assert urgency == [False] * 5
    pull_error = [{"name": "ide", "state": {"waiting": {"reason": "ErrImagePull", "message": "not found"}}}]
    children.take(PODS, {"type": "MODIFIED", "object": pod(phase="Pending", containerStatuses=pull_error)})
    children.take(PODS, {"type": "MODIFIED", "object": pod(phase="Running")})
    children.take(PODS, {"type": "MODIFIED", "object": pod(phase="Failed")})
    going = pod(phase="Running")
    going["metadata"]["deletionTimestamp"] = "2026-12-03T10:00:00Z"
    children.take(PODS, {"type": "MODIFIED", "object": going})
    children.take(PODS, {"type": "DELETED", "object": pod(phase="Running")})
    assert urgency[5:] == [True] * 5


def test_two_children_of_one_studio_are_both_kept():
    children, _ = _children()
    first, second = _pod("u1", "s", name="s"), _pod("u2", "s", name="someone-elses")
    children.take(PODS, {"type": None, "object": first})
    children.take(PODS, {"type": None, "object": second})
    assert sorted(p["metadata"]["uid"] for p in children.indexes["studio_pods"][("ns", "s")]) == ["u1", "u2"]


def test_the_children_are_listed_once_every_kind_was_and_kopf_still_sees_the_bookmarks():
    children, _ = _children()
    kinds = [references.Resource(group=group, version="v1", plural=plural) for group, plural in KINDS]
    for resource in kinds[:-1]:
        assert children.take(resource, LISTED) is False
    assert not children.listed.is_set()
    children.take(STUDIOS, LISTED)
    assert not children.listed.is_set()
    children.take(kinds[-1], LISTED)
    assert children.listed.is_set()


@pytest.mark.asyncio
async def test_a_child_deleted_while_unwatched_leaves_the_index_after_the_relisting(monkeypatch):
    children, queued = _children()
    monkeypatch.setattr(watch_gaps, "CHILDREN", children)
    monkeypatch.setattr(watch_gaps, "_known", {})
    runs = [[{"type": None, "object": _pod("u1", "s")}, LISTED], [LISTED]]  # the second after a 410

    async def stream(**_):
        for event in runs.pop(0):
            yield event

    monkeypatch.setattr(watch_gaps, "_continuous_watch", stream)
    assert [e async for e in watch_gaps.continuous_watch_relisting(resource=PODS)] == [LISTED]
    assert ("ns", "s") in children.indexes["studio_pods"]
    assert [e async for e in watch_gaps.continuous_watch_relisting(resource=PODS)] == [LISTED]
    assert ("ns", "s") not in children.indexes["studio_pods"]
    assert queued == [("ns", "s"), ("ns", "s")]


def test_kopf_watches_every_child_kind_but_keeps_no_index_of_them():
    registry = kopf.get_default_registry()
    selectors = [h.selector for h in registry._watching.get_all_handlers() if h.fn is handlers.studio_children_watched]
    for group, plural in KINDS:
        resource = references.Resource(group=group, version="v1", plural=plural)
        assert sum(s.check(resource) for s in selectors) == 1, plural
    assert len(selectors) == len(KINDS)
    indexed = {h.id for h in registry._indexing.get_all_handlers()}
    assert not indexed & set(KINDS.values())


@pytest.mark.asyncio
async def test_no_key_is_reconciled_before_kopfs_indexes_and_the_children_are_complete():
    children = Children()
    seen: list = []

    async def reconcile(ctrl, *identity):
        seen.append(identity)

    async def close():
        pass

    ctrl = Controller(types.SimpleNamespace(close=close), Config(), reconcilers={"studio": (reconcile, "studios")})
    ctrl.cache = Cache(children)
    ctrl.start()
    try:
        children.take(PODS, {"type": None, "object": _pod("u1", "s")})  # queues its studio
        for group, plural in KINDS:
            children.take(references.Resource(group=group, version="v1", plural=plural), LISTED)
        await asyncio.sleep(0.05)
        assert seen == [] and len(ctrl.queue) == 1  # kopf is still listing
        ctrl.cache.set_indexed()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if seen:
                break
        assert seen == [("ns", "s")]
    finally:
        await ctrl.stop()


@pytest.mark.asyncio
async def test_kopfs_indexes_alone_do_not_make_the_cache_complete():
    cache = Cache(Children())
    cache.set_indexed()
    waiting = asyncio.create_task(cache.wait_ready())
    await asyncio.sleep(0.05)
    assert not waiting.done()
    waiting.cancel()
