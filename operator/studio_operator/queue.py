"""A coalescing work queue, as controller-runtime has: watches say *which* object to look at,
workers decide *what* to do from the latest observed state.

- a key added while it waits runs once (bursts of events coalesce);
- a key never runs twice at once; added while running, it runs again afterwards;
- a failing key is retried with exponential backoff (or the server's Retry-After); a new event
  runs it sooner, except while the server's Retry-After holds: APF throttling means "not now";
- a key may ask to be looked at again after a delay (timeouts, polling);
- an urgent key goes ahead of every other waiting key (an urgent add of a waiting key moves it
  ahead): what a user waits to see, e.g. a pod that now runs, is not queued behind a burst of
  new studios' and their children's first looks.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Hashable

from .kube import ApiError, RetryLater

log = logging.getLogger(__name__)

Key = Hashable
Process = Callable[[Key], Awaitable[float | None]]

BASE_DELAY = 0.5
MAX_DELAY = 60.0


class WorkQueue:
    def __init__(self, process: Process, workers: int = 16):
        self._process = process
        self._workers = workers
        # A key waits in one lane; moving it to the urgent one leaves a stale entry behind,
        # skipped when reached. `_ready` counts the waiting keys.
        self._urgent: collections.deque[Key] = collections.deque()
        self._normal: collections.deque[Key] = collections.deque()
        self._waiting: dict[Key, bool] = {}  # key -> urgent
        self._ready = asyncio.Semaphore(0)
        self._running: set[Key] = set()
        self._again: dict[Key, bool] = {}  # added while running -> urgent
        self._timers: dict[Key, asyncio.TimerHandle] = {}
        self._failures: dict[Key, int] = {}
        self._hold: dict[Key, float] = {}  # loop time before which the server asked not to retry
        self._tasks: list[asyncio.Task] = []

    def add(self, key: Key, delay: float = 0.0, urgent: bool = False) -> None:
        hold = self._hold.get(key)
        if hold is not None:
            remaining = hold - asyncio.get_running_loop().time()
            if remaining > 0:
                delay = max(delay, remaining)
            else:
                del self._hold[key]
        if delay > 0:
            timer = self._timers.get(key)
            loop = asyncio.get_running_loop()
            if timer is not None and timer.when() <= loop.time() + delay:
                return  # an earlier wake-up is already due
            if timer is not None:
                timer.cancel()
            self._timers[key] = loop.call_later(delay, self._fire, key)
            return
        if key in self._running:
            self._again[key] = self._again.get(key, False) or urgent
        elif key not in self._waiting:
            self._waiting[key] = urgent
            (self._urgent if urgent else self._normal).append(key)
            self._ready.release()
        elif urgent and not self._waiting[key]:
            self._waiting[key] = True
            self._urgent.append(key)

    async def _next(self) -> Key:
        await self._ready.acquire()
        for lane, urgent in ((self._urgent, True), (self._normal, False)):
            while lane:
                key = lane.popleft()
                if self._waiting.get(key) is urgent:
                    del self._waiting[key]
                    return key
        raise AssertionError("a waiting key is in no lane")

    def _fire(self, key: Key) -> None:
        self._timers.pop(key, None)
        self.add(key)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker(), name=f"worker-{i}") for i in range(self._workers)]

    async def stop(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def __len__(self) -> int:
        return len(self._waiting)

    async def _worker(self) -> None:
        while True:
            key = await self._next()
            self._running.add(key)
            try:
                after = await self._process(key)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is retried; none may kill a worker
                self.add(key, self._backoff(key, exc))
            else:
                self._failures.pop(key, None)
                self._hold.pop(key, None)
                if after:
                    self.add(key, after)
            finally:
                self._running.discard(key)
                if key in self._again:
                    self.add(key, urgent=self._again.pop(key))

    def _backoff(self, key: Key, exc: Exception) -> float:
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        delay = min(BASE_DELAY * 2 ** (failures - 1), MAX_DELAY)
        retry_after = getattr(exc, "retry_after", None)
        server_delay = retry_after or getattr(exc, "delay", None)
        if server_delay:
            delay = max(delay, server_delay)
        if retry_after:
            self._hold[key] = asyncio.get_running_loop().time() + delay
        level = logging.INFO if isinstance(exc, (RetryLater, ApiError)) and getattr(exc, "retryable", True) else logging.ERROR
        log.log(level, "reconciling %s failed (attempt %d, retry in %.1fs): %s", key, failures, delay, exc,
                exc_info=level == logging.ERROR and not isinstance(exc, ApiError))
        return delay
