"""Read access to everything the operator watches: kopf's in-memory indexes, and the studios'
children, which the operator indexes itself (child_index.py).

kopf hands indexes to handlers as keyword arguments; the reconcilers run in the work queue,
outside any handler, so the first handler call binds them here. kopf's indexes are complete
once every one has seen its initial listing (index_readiness.py says when); the children are
complete once each of their kinds has been listed. The cache is ready when both are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable, Iterator, Mapping
from typing import Any

from .child_index import CHILDREN, Children
from .watched import slim

INDEXES = (
    "studios",
    "studios_by_template",
    "templates",
    "workspaces",
    "workspaces_by_namespace",
    "workspace_objects",
    "member_clusterroles",
    "build_jobs",
    "build_pods",
)


def _revision(obj: dict[str, Any]) -> int:
    try:
        return int(obj["metadata"].get("resourceVersion", "0"))
    except (TypeError, ValueError):
        return 0


class Cache:
    def __init__(self, children: Children = CHILDREN) -> None:
        self.children = children
        # Empty until the first handler call binds kopf's (an operator with nothing of kopf's
        # to watch has no handler call).
        self._indexes: dict[str, Mapping[Hashable, Any]] = {name: {} for name in INDEXES} | dict(children.indexes)
        self._bound = False
        # kopf's indexes have all seen their first listing (index_readiness.when_indexed).
        self._indexed = asyncio.Event()
        # Objects the operator itself just wrote, until the watch brings them (or something newer).
        self._written: dict[tuple[str, Hashable], dict[str, Any]] = {}
        # Objects the operator just created, by name: until when (monotonic) the watch is
        # waited for before they count as missing again.
        # Expectations, as Kubernetes' controllers keep them: (what, index, key, name or uid) -> until.
        self._expected: dict[tuple[str, str, Hashable, str], float] = {}

    @property
    def indexed(self) -> bool:
        """kopf's indexes are complete (the children may not be yet)."""
        return self._indexed.is_set()

    def set_indexed(self) -> None:
        self._indexed.set()

    @property
    def ready(self) -> bool:
        """Every watched kind is listed: the work queue runs (wait_ready has returned)."""
        return self._indexed.is_set() and self.children.listed.is_set()

    async def wait_ready(self) -> None:
        await self._indexed.wait()
        await self.children.listed.wait()

    def bind(self, handler_kwargs: Mapping[str, Any]) -> None:
        if not self._bound:
            self._indexes.update((name, handler_kwargs[name]) for name in INDEXES if name in handler_kwargs)
            self._bound = True

    def one(self, index: str, key: Hashable) -> dict[str, Any] | None:
        store = self._indexes[index].get(key)
        cached = next(iter(store), None) if store else None
        written = self._written.get((index, key))
        if written is None:
            return cached
        if cached is None:
            del self._written[(index, key)]
            return None
        if _revision(cached) >= _revision(written):
            del self._written[(index, key)]
            return cached
        return written

    def wrote(self, index: str, key: Hashable, obj: dict[str, Any]) -> None:
        """Remembers an object the operator wrote, so reconciles before its watch event see it.

        API servers backed by etcd give integer resourceVersions; where they are not, the
        cache simply waits for the watch.
        """
        if _revision(obj):
            # Slimmed as the indexes keep objects: an entry stays until the next look at that
            # key, which for a settled studio may be the next resync.
            self._written[(index, key)] = slim(obj)

    def _expect(self, entry: tuple[str, str, Hashable, str], ttl: float) -> None:
        now = time.monotonic()
        self._expected = {e: until for e, until in self._expected.items() if until > now}
        self._expected[entry] = now + ttl

    def _pending(self, entry: tuple[str, str, Hashable, str], seen: bool) -> float | None:
        """Seconds left of an expectation the watch has not met (`seen`) yet; else it ends."""
        left = self._expected.get(entry, 0.0) - time.monotonic()
        if left > 0 and not seen:
            return left
        self._expected.pop(entry, None)
        return None

    def created(self, index: str, key: Hashable, name: str, ttl: float) -> None:
        """Remembers an object the operator created: until the watch shows it, or `ttl` seconds
        pass, expected_in() says so (it is not created again for a 409)."""
        self._expect(("created", index, key, name), ttl)

    def expected_in(self, index: str, key: Hashable, name: str) -> float | None:
        """Seconds left to wait for an object the operator created that the index does not show
        yet; None when it shows it, or nothing is expected."""
        seen = any(o["metadata"]["name"] == name for o in self.all(index, key))
        return self._pending(("created", index, key, name), seen)

    def deleted(self, index: str, key: Hashable, uid: str, ttl: float) -> None:
        """Remembers an object the operator deleted: until the watch shows it going (or gone), or
        `ttl` seconds pass, deletion_expected() says so (it is not deleted again)."""
        self._expect(("deleted", index, key, uid), ttl)

    def deletion_expected(self, index: str, key: Hashable, uid: str) -> bool:
        """The operator deleted this object moments ago and the index still shows it live."""
        live = any(o["metadata"].get("uid") == uid and not o["metadata"].get("deletionTimestamp")
                   for o in self.all(index, key))
        return self._pending(("deleted", index, key, uid), not live) is not None

    def count(self, index: str, key: Hashable) -> int:
        store = self._indexes[index].get(key)
        return len(store) if store else 0

    def all(self, index: str, key: Hashable) -> list[Any]:
        return list(self._indexes[index].get(key) or ())

    def items(self, index: str) -> Iterator[tuple[Hashable, Any]]:
        for key, store in self._indexes[index].items():
            for value in store:
                yield key, value

    def keys(self, index: str) -> list[Hashable]:
        return list(self._indexes[index].keys())
