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
async def test_an_urgent_key_goes_ahead_of_the_waiting_ones():
    queue, runs, release = await _ordered_queue()
    queue.add("new-1")
    queue.add("new-2")
    queue.add("pod-running", urgent=True)
    queue.add("new-3")
    release.set()
    await _settle()
    assert runs == ["first", "pod-running", "new-1", "new-2", "new-3"]
    assert len(queue) == 0
    await queue.stop()


@pytest.mark.asyncio
async def test_an_urgent_add_moves_a_waiting_key_ahead_and_it_runs_once():
    queue, runs, release = await _ordered_queue()
    queue.add("new-1")
    queue.add("studio")
    queue.add("studio", urgent=True)
    assert len(queue) == 2
    release.set()
    await _settle()
    assert runs == ["first", "studio", "new-1"]
    await queue.stop()


@pytest.mark.asyncio
async def test_a_key_made_urgent_while_it_runs_runs_again_ahead_of_the_waiting_ones():
    queue, runs, release = await _ordered_queue()
    queue.add("new-1")
    queue.add("first", urgent=True)
    release.set()
    await _settle()
    assert runs == ["first", "first", "new-1"]
    await queue.stop()
