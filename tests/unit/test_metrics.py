"""Metrics: how failures are classified and how object states are counted."""

from __future__ import annotations

import contextlib
import datetime

import pytest
from prometheus_client import REGISTRY

from studio_operator import metrics
from studio_operator.cache import Cache
from studio_operator.kube import ApiError, RetryLater


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (ApiError(409, "Conflict", "the object has been modified"), (True, "Conflict")),
        (ApiError(429, "TooManyRequests", "slow down", retry_after=2), (True, "TooManyRequests")),
        (ApiError(503, "", "unavailable"), (True, "503")),
        (ApiError(403, "Forbidden", "cannot create pods"), (False, "Forbidden")),
        (ApiError(422, "Invalid", "spec.containers: Required value"), (False, "Invalid")),
        (RetryLater("connection refused"), (True, "Unavailable")),
        (KeyError("spec"), (False, "KeyError")),
    ],
)
def test_failures_are_transient_api_errors_or_reconcile_errors(exc, expected):
    assert metrics.failure_reason(exc) == expected


def test_reconciling_counts_failures_once_and_times_every_reconcile():
    before = (sample("studio_operator_api_retries_total", kind="unit", reason="Conflict"),
              sample("studio_operator_reconcile_errors_total", kind="unit", reason="Forbidden"),
              sample("studio_operator_reconcile_duration_seconds_count", kind="unit"))
    for exc in (ApiError(409, "Conflict", "x"), ApiError(403, "Forbidden", "y"), None):
        with pytest.raises(ApiError) if exc else contextlib.nullcontext():
            with metrics.reconciling("unit"):
                if exc:
                    raise exc
    after = (sample("studio_operator_api_retries_total", kind="unit", reason="Conflict"),
             sample("studio_operator_reconcile_errors_total", kind="unit", reason="Forbidden"),
             sample("studio_operator_reconcile_duration_seconds_count", kind="unit"))
    assert [a - b for a, b in zip(after, before)] == [1, 1, 3]


def test_states_are_counted_with_every_known_state_reported():
    bodies = [{"status": {"state": "Running"}}, {"status": {"state": "Running"}}, {"status": {"state": "Failed"}},
              {"metadata": {"name": "new"}}, {"status": {"state": "Sleeping"}}]
    counts = metrics.count_states(bodies, metrics._status("state"), (*metrics.STUDIO_STATES, metrics.UNKNOWN))
    assert counts == {"Starting": 0, "Running": 2, "Stopping": 0, "Stopped": 0, "Failed": 1, "Unknown": 1,
                      "Sleeping": 1}


def test_gauges_come_from_the_cache_at_scrape_time():
    cache = Cache()
    studios = {("ns", "a"): [{"status": {"state": "Running"}}], ("ns", "b"): [{"status": {"state": "Stopped"}}]}
    templates = {"t": [{"status": {"conditions": [{"type": "Ready", "status": "False"}]}}]}
    cache.bind({"studios": studios, "templates": templates, "workspaces": {}})
    metrics.observe(cache, [])
    # Absent, not 0, until the first listing of every kind has finished (docs/operations.md).
    assert REGISTRY.get_sample_value("studio_operator_codestudios", {"state": "Running"}) is None
    assert REGISTRY.get_sample_value("studio_operator_cache_ready") == 0  # reported, as 0
    cache.set_indexed()
    assert sample("studio_operator_codestudios", state="Running") == 1
    assert REGISTRY.get_sample_value("studio_operator_cache_ready") == 0  # the children's listing is not done yet
    cache.children.listed.set()
    assert REGISTRY.get_sample_value("studio_operator_cache_ready") == 1
    studios[("ns", "b")] = [{"status": {"state": "Running"}}]
    assert sample("studio_operator_codestudios", state="Running") == 2
    assert sample("studio_operator_codestudios", state="Stopped") == 0
    assert sample("studio_operator_codestudiotemplates", ready="False") == 1
    assert sample("studio_operator_workspaces", phase="Active") == 0


def test_start_latency_is_measured_from_entering_starting():
    before = sample("studio_operator_codestudio_start_seconds_sum")
    t0 = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)
    metrics.studio_started(t0, t0 + datetime.timedelta(seconds=7))
    assert sample("studio_operator_codestudio_start_seconds_sum") - before == 7
