"""Watch gaps: an ERROR event restarts the stream; a fresh listing reports what went meanwhile."""

from __future__ import annotations

import inspect

import pytest
from kopf._cogs.clients import errors, watching

from studio_operator import watch_gaps

LISTED = watching.Bookmark.LISTED


def _event(type_, uid: str) -> dict:
    return {"type": type_, "object": {"metadata": {"uid": uid, "name": uid}}}


def _streams(*runs: list) -> object:
    """A fake kopf continuous_watch() whose successive calls replay these runs."""
    pending = list(runs)

    async def stream(**_):
        for item in pending.pop(0):
            if isinstance(item, Exception):
                raise item
            yield item

    return stream


async def _run(**kwargs) -> list:
    return [e async for e in watch_gaps.continuous_watch_relisting(**kwargs)]


@pytest.fixture(autouse=True)
def fresh(monkeypatch):
    monkeypatch.setattr(watch_gaps, "_known", {})
    monkeypatch.setattr(watch_gaps, "RESTART_DELAY", 0)


@pytest.mark.asyncio
async def test_a_watch_error_ends_the_stream_instead_of_stopping_the_operator(monkeypatch):
    error = watching.WatchingError("Error in the watch-stream: {'code': 500, 'message': 'etcdserver: leader changed'}")
    monkeypatch.setattr(watch_gaps, "_continuous_watch", _streams([_event(None, "a"), LISTED, error]))
    assert await _run(resource="pods") == [_event(None, "a"), LISTED]


@pytest.mark.asyncio
async def test_objects_missing_from_a_fresh_listing_are_reported_deleted(monkeypatch):
    monkeypatch.setattr(watch_gaps, "_continuous_watch", _streams(
        [_event(None, "a"), _event(None, "b"), LISTED, _event("ADDED", "c"), _event("DELETED", "b")],
        [_event(None, "c"), LISTED],  # after a 410: "a" went while nothing watched
    ))
    await _run(resource="pods")
    second = await _run(resource="pods")
    assert second == [_event(None, "c"), _event("DELETED", "a"), LISTED]


@pytest.mark.asyncio
async def test_objects_arrive_slimmed_and_a_deletion_seen_by_relisting_carries_the_last_one(monkeypatch):
    pod = {"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running"},
           "spec": {"containers": [{"image": "py:1", "env": [{"name": "A", "value": "b"}]}], "volumes": []},
           "metadata": {"uid": "a", "name": "a", "namespace": "ns", "labels": {"studio.dev/codestudio": "a"},
                        "ownerReferences": [{"uid": "s", "controller": True}], "annotations": {"x": "y"},
                        "managedFields": [{"manager": "studio-operator"}], "resourceVersion": "7"}}
    monkeypatch.setattr(watch_gaps, "_continuous_watch", _streams([{"type": None, "object": pod}, LISTED], [LISTED]))
    listed = (await _run(resource="pods"))[0]
    deleted = (await _run(resource="pods"))[0]
    slimmed = {"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running"}, "spec": {"containers": [{"image": "py:1"}]},
               "metadata": {k: v for k, v in pod["metadata"].items() if k != "managedFields"}}
    assert listed == {"type": None, "object": slimmed}
    assert deleted == {"type": "DELETED", "object": slimmed}


@pytest.mark.asyncio
async def test_an_interrupted_listing_reports_nothing(monkeypatch):
    monkeypatch.setattr(watch_gaps, "_continuous_watch", _streams(
        [_event(None, "a"), LISTED],
        [],  # the listing failed before it ended
        [_event(None, "a"), LISTED],
    ))
    for _ in range(3):
        events = await _run(resource="pods")
        assert all(e is LISTED or e["type"] is None for e in events)


@pytest.mark.asyncio
async def test_streams_are_tracked_apart(monkeypatch):
    monkeypatch.setattr(watch_gaps, "_continuous_watch", _streams([_event(None, "a"), LISTED], [LISTED]))
    await _run(resource="pods")
    assert await _run(resource="services") == [LISTED]


def test_kopf_watches_through_it_once_installed(monkeypatch):
    monkeypatch.setattr(watching, "continuous_watch", watching.continuous_watch)  # undone after the test
    watch_gaps.install()
    # infinite_watch() looks the name up in its module each time it (re)starts a stream.
    assert watching.continuous_watch is watch_gaps.continuous_watch_relisting
    assert "continuous_watch(" in inspect.getsource(watching.infinite_watch)


@pytest.mark.asyncio
async def test_a_listing_whose_continue_token_expired_is_started_afresh(monkeypatch):
    """The API server answers a page of a listing with 410 Gone once its continue token expired
    (etcd compacted it); kopf does not catch it, and a failed watcher stops the operator."""
    expired = errors.APIClientError(
        {"code": 410, "reason": "Expired", "message": "The provided continue parameter is too old to display a "
         "consistent list result. You can start a new list without the continue parameter."},
        status=410, headers={})
    monkeypatch.setattr(watch_gaps, "_continuous_watch", _streams(
        [_event(None, "a"), _event(None, "b"), expired],
        [_event(None, "b"), LISTED],  # listed afresh: "a" went meanwhile
    ))
    assert await _run(resource="pods") == [_event(None, "a"), _event(None, "b")]
    assert await _run(resource="pods") == [_event(None, "b"), _event("DELETED", "a"), LISTED]
