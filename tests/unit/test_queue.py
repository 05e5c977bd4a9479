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
