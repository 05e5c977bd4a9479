"""The running operator's state: client, cache, work queue, and the dispatch of queued keys.

A work item is `(kind, *identity)`, e.g. `("studio", namespace, name)`; each kind has one
reconciler `async (controller, *identity) -> seconds until it wants another look, or None`.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from . import metrics
from .cache import Cache
from .config import Config
from .conditions import now
from .events import build_event
from .kube import ApiError, Kube
from .queue import WorkQueue

log = logging.getLogger(__name__)

Reconciler = Callable[..., Awaitable[float | None]]


class Controller:
    def __init__(self, kube: Kube, config: Config, reconcilers: dict[str, tuple[Reconciler, str]]):
        """`reconcilers` maps a kind to its reconciler and the index whose keys are its objects."""
        self.kube = kube
        self.config = config
        self.cache = Cache()
        self.reconcilers = reconcilers
        self.queue = WorkQueue(self._process, workers=config.workers)
        self._running: asyncio.Task | None = None
        self._events: set[asyncio.Task] = set()
        # In-memory notes reconcilers keep between runs (lost on restart, so never the only truth).
        self.memo: dict[str, Any] = {}
        # Serialises decisions that must not race, e.g. taking a namespace's last running slot.
        self.locks: collections.defaultdict[Hashable, asyncio.Lock] = collections.defaultdict(asyncio.Lock)

    def start(self) -> None:
        metrics.observe(self.cache, self.queue)
        self.cache.children.changed = lambda namespace, name, urgent: self.enqueue("studio", namespace, name,
                                                                                 urgent=urgent)
        self._running = asyncio.create_task(self._run(), name="controller")

    async def stop(self) -> None:
        if self._running:
            self._running.cancel()
        await self.queue.stop()
        self.cache.children.changed = lambda namespace, name, urgent: None
        await self.kube.close()

    def enqueue(self, kind: str, *identity: Hashable, delay: float = 0.0, urgent: bool = False) -> None:
        self.queue.add((kind, *identity), delay, urgent)

    def event(self, involved: dict[str, Any], type_: str, reason: str, message: str) -> None:
        """Posts an Event about an object in the background; a lost Event is only logged."""
        task = asyncio.create_task(self._post_event(involved, type_, reason, message))
        self._events.add(task)
        task.add_done_callback(self._events.discard)

    async def _post_event(self, involved: dict[str, Any], type_: str, reason: str, message: str) -> None:
        try:
            await self.kube.create(build_event(involved, type_, reason, message, now()))
        except Exception as exc:  # noqa: BLE001 - events are best effort
            log.warning("could not post event %s on %s: %s", reason, involved["metadata"]["name"], exc)

    async def _process(self, key: tuple) -> float | None:
        kind, *identity = key
        reconcile, _ = self.reconcilers[kind]
        with metrics.reconciling(kind):
            try:
                return await reconcile(self, *identity)
            except ApiError as exc:
                if exc.namespace_terminating:
                    # Nothing left to do: the namespace takes the object with it.
                    log.debug("skipping %s: %s", key, exc.message)
                    return None
                raise

    def resync(self) -> None:
        for kind, (_, index) in self.reconcilers.items():
            for key in self.cache.keys(index):
                self.enqueue(kind, *(key if isinstance(key, tuple) else (key,)))

    async def _run(self) -> None:
        # Keys are queued from the first watch events on (the children's while kopf still lists
        # the rest); none is reconciled against a half-filled cache.
        await self.cache.wait_ready()
        self.queue.start()
        while True:
            await asyncio.sleep(self.config.resync_period)
            self.resync()
