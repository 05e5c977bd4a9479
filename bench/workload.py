"""The benchmark's load: namespaces, one template, many studios; and a watch that times them.

Times are taken on this process's monotonic clock: a request's time is when its response
arrived, a state's time is when the watch delivered it. Both runs (operator and baseline) use
exactly this code, so their numbers compare.
"""

from __future__ import annotations

import asyncio
import datetime
import time
from collections.abc import Callable
from typing import Any

from . import client as K

API = "studio.dev/v1alpha1"
STUDIOS = f"/apis/{API}/codestudios"
TEMPLATE = "bench"
IMAGE = "quay.io/jupyter/base-notebook:2024-12-02"
CREATE_CONCURRENCY = 32

Key = tuple[str, str]
Predicate = Callable[[dict[str, Any]], bool]


def utc_stamp() -> str:
    """Now, in the audit log's format (RFC 3339, microseconds, UTC)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rfc3339_now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def template_manifest() -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "CodeStudioTemplate",
        "metadata": {"name": TEMPLATE},
        "spec": {"image": {"prebuilt": IMAGE}, "ports": [{"name": "http", "port": 8888}]},
    }


def studio_keys(prefix: str, studios: int, namespaces: int) -> list[Key]:
    """Studios spread round-robin over `namespaces` namespaces; owners repeat across namespaces."""
    return [(f"{prefix}{i % namespaces}", f"studio-{i:05d}") for i in range(studios)]


def studio_manifest(namespace: str, name: str, owner: str) -> dict[str, Any]:
    return {
        "apiVersion": API,
        "kind": "CodeStudio",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": TEMPLATE, "owner": owner},
    }


async def ensure(client: K.Session, path: str, manifest: dict[str, Any]) -> None:
    try:
        await K.request(client, "POST", path, manifest)
    except K.ApiError as exc:
        if exc.status != 409:
            raise


async def create_namespaces(client: K.Session, names: list[str]) -> None:
    await asyncio.gather(*(ensure(client, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                                 "metadata": {"name": n}}) for n in names))
    # Admission refuses pods in a namespace whose default ServiceAccount is not there yet.
    for n in names:
        while True:
            try:
                await K.request(client, "GET", f"/api/v1/namespaces/{n}/serviceaccounts/default")
                break
            except K.ApiError:
                await asyncio.sleep(0.2)


async def create_studios(client: K.Session, keys: list[Key], rate: float = 0) -> dict[Key, float]:
    """Creates the studios, CREATE_CONCURRENCY at a time, or `rate` per second when given;
    returns when each creation returned."""
    created: dict[Key, float] = {}
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)
    start = time.monotonic()

    async def one(i: int, ns: str, name: str) -> None:
        if rate:
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
        async with gate:
            body = studio_manifest(ns, name, owner=f"user-{i % 100}")
            try:
                await K.request(client, "POST", f"/apis/{API}/namespaces/{ns}/codestudios", body)
            except K.ApiError as exc:
                if exc.status != 409:
                    raise
            created[(ns, name)] = time.monotonic()

    await asyncio.gather(*(one(i, ns, name) for i, (ns, name) in enumerate(keys)))
    return created


async def patch_specs(client: K.Session, keys: list[Key], spec: dict[str, Any]) -> dict[Key, float]:
    done: dict[Key, float] = {}
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)

    async def one(ns: str, name: str) -> None:
        async with gate:
            await K.request(client, "PATCH", f"/apis/{API}/namespaces/{ns}/codestudios/{name}",
                            {"spec": spec}, content_type="application/merge-patch+json")
            done[(ns, name)] = time.monotonic()

    await asyncio.gather(*(one(ns, name) for ns, name in keys))
    return done


class Phase:
    """Waits for a set of studios to reach a condition; records when each did."""

    def __init__(self, keys: list[Key], reached: Predicate):
        self.pending = set(keys)
        self.reached = reached
        self.at: dict[Key, float] = {}
        self.done = asyncio.Event()
        if not self.pending:
            self.done.set()

    def see(self, key: Key, obj: dict[str, Any], t: float) -> None:
        if key in self.pending and self.reached(obj):
            self.pending.discard(key)
            self.at[key] = t
            if not self.pending:
                self.done.set()

    async def wait(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.done.wait(), timeout)
            return True
        except TimeoutError:
            return False


class StudioWatch:
    """One watch on every CodeStudio; feeds phases and keeps the latest object of each."""

    def __init__(self, client: K.Session, prefix: str):
        self.client = client
        self.prefix = prefix
        self.latest: dict[Key, dict[str, Any]] = {}
        self.phases: list[Phase] = []
        self.ready = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def phase(self, keys: list[Key], reached: Predicate) -> Phase:
        """A phase over `keys`; studios that already satisfy it count as reached now."""
        p = Phase(keys, reached)
        now = time.monotonic()
        for key in keys:
            if key in self.latest:
                p.see(key, self.latest[key], now)
        self.phases.append(p)
        return p

    async def _run(self) -> None:
        async for kind, obj in K.watch(self.client, STUDIOS):
            t = time.monotonic()
            if kind == "SYNCED":
                self.ready.set()
                continue
            meta = obj["metadata"]
            if not meta.get("namespace", "").startswith(self.prefix):
                continue
            key = (meta["namespace"], meta["name"])
            if kind == "DELETED":
                self.latest.pop(key, None)
                continue
            self.latest[key] = obj
            for p in self.phases:
                if p.pending:
                    p.see(key, obj, t)


def state_is(state: str) -> Predicate:
    return lambda obj: (obj.get("status") or {}).get("state") == state


def restarted(requested: str) -> Predicate:
    return lambda obj: (obj.get("status") or {}).get("state") == "Running" and obj["status"].get("restartedAt") == requested


def latencies(start: dict[Key, float], reached: dict[Key, float]) -> list[float]:
    return [max(0.0, reached[k] - start[k]) for k in reached if k in start]
