"""The work queue's retry rules, driven step by step on the event loop (no waiting on clocks)."""

from __future__ import annotations

import asyncio

import pytest

from studio_operator.kube import ApiError, RetryLater
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


class Timers:
    """Takes the queue off the clock: the loop's time stands still but for fire(), which moves it
    on to the next timer due, which the loop then runs. Records each timer's delay."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.delays: list[float] = []
        self._timers: list[asyncio.TimerHandle] = []
        self._now = loop.time()
        self._loop, self._call_later = loop, loop.call_later
        loop.time = lambda: self._now  # type: ignore[method-assign]
        loop.call_later = self._record  # type: ignore[method-assign]

    @property
    def now(self) -> float:
        return self._now

    @property
    def due(self) -> list[asyncio.TimerHandle]:
        return sorted((t for t in self._timers if not t.cancelled() and t.when() > self._now), key=lambda t: t.when())

    def _record(self, delay, callback, *args):
        self.delays.append(delay)
        self._timers.append(handle := self._call_later(delay, callback, *args))
        return handle

    async def fire(self) -> None:
        self._now = self.due[0].when()
        await _settle()

    def restore(self) -> None:
        del self._loop.time, self._loop.call_later


async def _retry_delays(outcomes: list) -> list[float]:
    """The delays the queue waits before each retry of a key whose runs end as `outcomes` say
    (an exception raised, else the value returned), each retry let run as soon as it is due."""
    timers = Timers(asyncio.get_running_loop())
    pending = list(outcomes)

    async def process(key: str) -> float | None:
        outcome = pending.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    queue = WorkQueue(process, workers=1)
    queue.start()
    try:
        while pending and len(timers.delays) < 20:
            if timers.due:
                await timers.fire()
            else:
                queue.add("k")  # an event: after a success, the next run comes from a change
                await _settle()
    finally:
        await queue.stop()
        timers.restore()
    return timers.delays


BOOM = ApiError(500, "InternalError", "boom")


@pytest.mark.asyncio
async def test_a_failing_key_is_retried_after_a_doubling_delay_up_to_a_minute():
    assert await _retry_delays([BOOM] * 9 + [None]) == [0.5, 1, 2, 4, 8, 16, 32, 60, 60]


@pytest.mark.asyncio
async def test_a_success_starts_the_backoff_afresh():
    assert await _retry_delays([BOOM, BOOM, None, BOOM, None]) == [0.5, 1, 0.5]


@pytest.mark.asyncio
async def test_the_servers_retry_after_or_the_reconcilers_delay_sets_the_retry():
    assert await _retry_delays([ApiError(429, "TooManyRequests", "slow down", retry_after=30), None]) == [30]
    assert await _retry_delays([RetryLater("the namespace is not ready", delay=10), None]) == [10]


@pytest.mark.asyncio
async def test_a_reconciler_that_asks_for_another_look_gets_it_after_its_delay():
    assert await _retry_delays([5.0, None]) == [5.0]


@pytest.mark.asyncio
async def test_of_two_wake_ups_asked_for_a_key_the_earlier_one_counts():
    timers = Timers(asyncio.get_running_loop())
    runs: list[float] = []

    async def process(key: str) -> None:
        runs.append(timers.now)

    queue = WorkQueue(process, workers=1)
    queue.start()
    start = timers.now
    try:
        queue.add("k", delay=5)  # e.g. an unschedulable pod's timeout
        queue.add("k", delay=30)  # e.g. a periodic look: it must not put the timeout off
        while timers.due:
            await timers.fire()
        assert runs == [start + 5]
        queue.add("k", delay=30)
        queue.add("k", delay=2)  # an earlier one replaces a later one
        while timers.due:
            await timers.fire()
        assert runs == [start + 5, start + 7]
    finally:
        await queue.stop()
        timers.restore()
