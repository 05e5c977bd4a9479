"""The work queue's retry rules, driven step by step on the event loop (no waiting on clocks)."""

from __future__ import annotations

import asyncio

import pytest

from studio_operator.kube import ApiError
from studio_operator.queue import WorkQueue


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def _failing_queue(error: Exception) -> tuple[WorkQueue, list[str]]:
    runs: list[str] = []

    async def process(key: str) -> None:
        runs.append(key)
        raise error

    queue = WorkQueue(process, workers=2)
    queue.start()
    queue.add("k")
    await _settle()
    assert runs == ["k"]
    return queue, runs


@pytest.mark.asyncio
async def test_an_event_does_not_cut_short_the_servers_retry_after():
    queue, runs = await _failing_queue(ApiError(429, "TooManyRequests", "slow down", retry_after=30))
    queue.add("k")  # e.g. a child changed meanwhile
    await _settle()
    assert runs == ["k"], "ran again inside the server's Retry-After"
    await queue.stop()


@pytest.mark.asyncio
async def test_an_event_runs_a_key_in_plain_backoff_at_once():
    queue, runs = await _failing_queue(ApiError(500, "InternalError", "boom"))
    queue.add("k")
    await _settle()
    assert runs == ["k", "k"]
    await queue.stop()


async def _ordered_queue() -> tuple[WorkQueue, list[str], asyncio.Event]:
    """One worker, held on its first key until released, so the rest wait in the queue."""
    runs: list[str] = []
    release = asyncio.Event()

    async def process(key: str) -> None:
        runs.append(key)
        if key == "first":
            await release.wait()

    queue = WorkQueue(process, workers=1)
    queue.start()
    queue.add("first")
    await _settle()
    return queue, runs, release


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("adds", "runs_after_first"),
    [
        pytest.param([("new-1", False), ("new-2", False), ("pod-running", True), ("new-3", False)],
                     ["pod-running", "new-1", "new-2", "new-3"], id="an urgent key goes ahead of the waiting ones"),
        pytest.param([("new-1", False), ("studio", False), ("studio", True)],
                     ["studio", "new-1"], id="an urgent add moves a waiting key ahead and it runs once"),
        pytest.param([("new-1", False), ("first", True)],
                     ["first", "new-1"], id="a key made urgent while it runs runs again ahead of the waiting ones"),
    ],
)
async def test_the_order_keys_run_in(adds, runs_after_first):
    queue, runs, release = await _ordered_queue()
    for key, urgent in adds:
        queue.add(key, urgent=urgent)
    # The depth metric counts each waiting key once; "first" is running, so it is not waiting.
    assert len(queue) == len({key for key, _ in adds} - {"first"})
    release.set()
    await _settle()
    assert runs == ["first", *runs_after_first]
    assert len(queue) == 0
    await queue.stop()
