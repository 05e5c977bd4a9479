"""Prometheus metrics: the series the operator exports, and the /metrics endpoint.

Counters and histograms are updated where things happen (the controller's dispatch, the
reconcilers); the object gauges are computed from kopf's indexes at scrape time, so they
never drift from what the operator sees. The endpoint runs inside the operator's event loop
(aiohttp, as kopf's own liveness endpoint), so scrapes read the indexes without locking.
docs/operations.md lists every series with example queries and alerts.
"""

from __future__ import annotations

import contextlib
import datetime
import time
import typing
from collections import Counter as Tally
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sized
from typing import TYPE_CHECKING, Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .api.codestudio import StudioState
from .api.workspace import WorkspacePhase
from .conditions import parse_time, ready_status
from .kube import ApiError, RetryLater

if TYPE_CHECKING:
    from .cache import Cache

PREFIX = "studio_operator"

STUDIO_STATES = typing.get_args(StudioState)
WORKSPACE_PHASES = typing.get_args(WorkspacePhase)
# Objects without that status field yet (not reconciled yet).
UNKNOWN = "Unknown"

RECONCILE_SECONDS = Histogram(
    f"{PREFIX}_reconcile_duration_seconds",
    "Time one reconcile of one object took, by kind of object.",
    ["kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
RECONCILE_ERRORS = Counter(
    f"{PREFIX}_reconcile_errors_total",
    "Reconciles that failed for a reason other than a transient API error (see api_retries), by "
    "kind and reason (the API server's reason, e.g. Forbidden or Invalid, or the exception type).",
    ["kind", "reason"],
)
API_RETRIES = Counter(
    f"{PREFIX}_api_retries_total",
    "Reconciles retried with backoff after a transient API error (409 Conflict, 429, 5xx, or the "
    "API server unreachable), by kind and reason.",
    ["kind", "reason"],
)
STUDIO_START_SECONDS = Histogram(
    f"{PREFIX}_codestudio_start_seconds",
    "Seconds from a CodeStudio entering Starting (its creation, a start or a restart) to Running.",
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
BUILD_SECONDS = Histogram(
    f"{PREFIX}_template_build_duration_seconds",
    "Duration of finished CodeStudioTemplate image builds, by result (Succeeded or Failed).",
    ["result"],
    buckets=(10, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)
BUILDS = Counter(
    f"{PREFIX}_template_builds_total",
    "Finished CodeStudioTemplate image builds, by result (Succeeded or Failed; a refused Job is a Failed build).",
    ["result"],
)
QUEUE_DEPTH = Gauge(f"{PREFIX}_work_queue_depth", "Objects waiting in the work queue.")


def failure_reason(exc: BaseException) -> tuple[bool, str]:
    """(transient, reason) for a failed reconcile: transient ones are retried API errors."""
    if isinstance(exc, ApiError):
        return exc.retryable, exc.reason or str(exc.status)
    if isinstance(exc, RetryLater):
        return True, "Unavailable"
    return False, type(exc).__name__


@contextlib.contextmanager
def reconciling(kind: str) -> Iterator[None]:
    """Times one reconcile and counts its failure, if any (the exception propagates)."""
    started = time.perf_counter()
    try:
        yield
    except Exception as exc:
        transient, reason = failure_reason(exc)
        (API_RETRIES if transient else RECONCILE_ERRORS).labels(kind, reason).inc()
        raise
    finally:
        RECONCILE_SECONDS.labels(kind).observe(time.perf_counter() - started)


def _status(*path: str) -> Callable[[dict[str, Any]], str | None]:
    def read(body: dict[str, Any]) -> str | None:
        value: Any = body.get("status") or {}
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        return value
    return read


def count_states(bodies: Iterable[dict[str, Any]], read: Callable[[dict[str, Any]], str | None],
                 known: tuple[str, ...]) -> dict[str, int]:
    """How many objects are in each state, every known state included (as 0 when none is)."""
    tally = Tally(read(body) or UNKNOWN for body in bodies)
    return {state: tally.get(state, 0) for state in (*known, *sorted(set(tally) - set(known)))}


class CacheCollector(Collector):
    """Object gauges from the operator's cache, computed at scrape time."""

    GAUGES = (
        # (metric, help, index, label, how to read it, values always reported)
        (f"{PREFIX}_codestudios", "CodeStudios by status.state.", "studios", "state", _status("state"),
         (*STUDIO_STATES, UNKNOWN)),
        (f"{PREFIX}_workspaces", "Workspaces by status.phase.", "workspaces", "phase", _status("phase"),
         (*WORKSPACE_PHASES, UNKNOWN)),
        (f"{PREFIX}_codestudiotemplates", "CodeStudioTemplates by the status of their Ready condition.",
         "templates", "ready", ready_status, ("True", "False", UNKNOWN)),
    )

    def __init__(self) -> None:
        self.cache: Cache | None = None

    def collect(self) -> Iterator[GaugeMetricFamily]:
        if self.cache is None:
            return
        # 0 for as long as a kind cannot be listed (RBAC lacking list on it, say): the operator
        # runs and answers its probes, and reconciles nothing, with only its log saying why.
        yield GaugeMetricFamily(f"{PREFIX}_cache_ready", "1 once every watched kind is listed and reconciles "
                                "run; 0 before.", value=int(self.cache.ready))
        if not self.cache.indexed:
            return  # nothing is known before kopf's first listing
        for name, help_, index, label, read, known in self.GAUGES:
            family = GaugeMetricFamily(name, help_, labels=[label])
            for value, count in count_states((body for _, body in self.cache.items(index)), read, known).items():
                family.add_metric([value], count)
            yield family


CACHE_COLLECTOR = CacheCollector()
REGISTRY.register(CACHE_COLLECTOR)


def observe(cache: Cache, queue: Sized) -> None:
    """Points the scrape-time gauges at the running operator's cache and work queue."""
    CACHE_COLLECTOR.cache = cache
    QUEUE_DEPTH.set_function(lambda: len(queue))


def build_finished(build: dict[str, Any]) -> None:
    """A template's build reached Succeeded or Failed (its status.build, RFC 3339 times)."""
    result = build["phase"]
    BUILDS.labels(result).inc()
    started, finished = parse_time(build.get("startedAt")), parse_time(build.get("finishedAt"))
    if started and finished:
        BUILD_SECONDS.labels(result).observe(max((finished - started).total_seconds(), 0.0))


def studio_started(starting_since: datetime.datetime | None, at: datetime.datetime) -> None:
    """A studio went from Starting to Running; its status stamped when Starting began."""
    if starting_since is not None:
        STUDIO_START_SECONDS.observe(max((at - starting_since).total_seconds(), 0.0))


async def _metrics(_: web.Request) -> web.Response:
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


@contextlib.asynccontextmanager
async def serving(host: str, port: int) -> AsyncIterator[None]:
    """Serves /metrics on host:port while the block runs; port 0 serves nothing."""
    if not port:
        yield
        return
    app = web.Application()
    app.router.add_get("/metrics", _metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    try:
        yield
    finally:
        await runner.cleanup()
