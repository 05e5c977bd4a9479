"""The benchmark's arithmetic: percentiles, Prometheus counters, audit-log write counts."""

import json

import pytest

from bench.stats import audit_writes, counter_delta, parse_counters, percentile, sum_by, summary

METRICS = """\
# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 10
apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="pods",scope="resource",subresource="status",verb="PATCH",version="v1"} 4
apiserver_request_total{code="200",component="apiserver",dry_run="",group="studio.dev",resource="codestudios",scope="cluster",subresource="",verb="WATCH",version="v1alpha1"} 2
apiserver_request_total_other{verb="POST"} 99
apiserver_request_duration_seconds_bucket{verb="POST",le="0.05"} 7
"""


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([1.0], 99, 1.0),
        ([3.0, 1.0, 2.0], 50, 2.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([float(i) for i in range(1, 101)], 95, 95.05),  # interpolated, as numpy.percentile
        ([float(i) for i in range(1, 101)], 99, 99.01),
        ([5.0, 1.0], 100, 5.0),
        ([5.0, 1.0], 0, 1.0),
    ],
)
def test_percentile_interpolates_between_ranks(values, q, expected):
    assert percentile(values, q) == pytest.approx(expected)


def test_summary_of_nothing_is_empty_not_zero():
    assert summary([]) == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None, "mean": None}
    assert summary([2.0, 4.0])["mean"] == 3.0


def test_parse_counters_reads_only_the_named_metric():
    counters = parse_counters(METRICS, "apiserver_request_total")
    assert len(counters) == 3
    post = next(v for labels, v in counters.items() if dict(labels)["verb"] == "POST")
    assert post == 10.0
    assert dict(next(iter(counters)))["resource"] == "pods"


def test_counter_delta_and_sum_by_verb():
    before = parse_counters(METRICS, "apiserver_request_total")
    after_text = METRICS.replace('verb="POST",version="v1"} 10', 'verb="POST",version="v1"} 25') + (
        'apiserver_request_total{code="200",group="",resource="services",subresource="",verb="APPLY"} 3\n'
    )
    delta = counter_delta(before, parse_counters(after_text, "apiserver_request_total"))
    assert sum_by(delta, "verb") == {("POST",): 15.0, ("APPLY",): 3.0}  # unchanged series drop out


def _entry(verb, resource, agent, at, namespace="ns-1", subresource=None, stage="ResponseComplete"):
    ref = {"resource": resource, "namespace": namespace, "name": "x"}
    if subresource:
        ref["subresource"] = subresource
    return json.dumps({"kind": "Event", "stage": stage, "verb": verb, "userAgent": agent,
                       "requestReceivedTimestamp": at, "objectRef": ref})


def test_audit_writes_filters_by_agent_window_and_namespace():
    lines = [
        _entry("patch", "codestudios", "studio-operator/0.1.0", "2026-01-01T00:00:01.000000Z", subresource="status"),
        _entry("create", "pods", "studio-operator/0.1.0", "2026-01-01T00:00:02.000000Z"),
        _entry("create", "pods", "studio-operator/0.1.0", "2026-01-01T00:00:02.500000Z", stage="ResponseStarted"),
        _entry("create", "pods", "kube-scheduler/v1.36.3", "2026-01-01T00:00:02.000000Z"),
        _entry("create", "pods", "studio-operator/0.1.0", "2026-01-01T00:00:09.000000Z"),  # after the window
        _entry("create", "events", "studio-operator/0.1.0", "2026-01-01T00:00:03.000000Z", namespace="other"),
        "not json",
    ]
    got = audit_writes(lines, ["studio-operator"], "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:05.000000Z", "ns-")
    assert got == {("patch", "codestudios/status"): 1, ("create", "pods"): 1}
