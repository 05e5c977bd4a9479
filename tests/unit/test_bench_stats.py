"""The benchmark's arithmetic: percentiles, Prometheus counters, audit-log write counts."""

import json

import pytest

from bench.stats import audit_writes, counter_delta, milestones, parse_counters, percentile, sum_by, summary

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


def _at(verb, resource, name, agent, at, subresource=None, code=200):
    ref = {"resource": resource, "namespace": "b-0", "name": name}
    if subresource:
        ref["subresource"] = subresource
    return json.dumps({"stage": "ResponseComplete", "verb": verb, "userAgent": agent, "objectRef": ref,
                       "requestReceivedTimestamp": f"2026-01-01T00:00:{at:09.6f}Z", "responseStatus": {"code": code}})


def test_milestones_are_seconds_after_each_studios_creation():
    op, kcm, sched, kwok = "studio-operator/0.1.0", "kube-controller-manager/v1.36.3", "kube-scheduler/v1.36.3", "kwok-controller/v0.8.0"
    lines = [
        _at("create", "codestudios", "a", "studio-bench", 1.0),
        _at("patch", "persistentvolumeclaims", "a-home", op, 1.5),
        _at("patch", "persistentvolumeclaims", "a-home", op, 9.0),  # a later re-apply is not the request
        _at("update", "persistentvolumeclaims", "a-home", kcm, 2.5, subresource="status"),
        _at("create", "pods", "a", op, 2.0),
        _at("create", "pods", "a", op, 2.2, code=409),  # refused: not a milestone
        _at("create", "pods", "a", sched, 3.0, subresource="binding"),
        _at("patch", "pods", "a", kwok, 4.0, subresource="status"),
        _at("patch", "codestudios", "a", op, 2.1, subresource="status"),
        _at("patch", "codestudios", "a", op, 4.5, subresource="status"),  # the last status write counts
        _at("patch", "codestudios", "a", op, 30.0, subresource="status"),  # after the window
        _at("create", "codestudios", "b", "studio-bench", 2.0),
    ]
    got = milestones(lines, "b-", ["studio-operator"], "2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:20.000000Z")
    assert got["volume requested"] == {"n": 1, "p50": 0.5, "p95": 0.5}
    assert got["volume bound"]["p50"] == 1.5
    assert got["pod created"]["p50"] == 1.0
    assert got["pod scheduled"]["p50"] == 2.0
    assert got["pod running"]["p50"] == 3.0
    assert got["status written"]["p50"] == 3.5


def test_a_run_is_incomplete_when_any_phase_timed_out():
    from bench.report import incomplete
    run = {"operator": {"complete": True}, "baseline": {"complete": True},
           "lifecycle": {"stop": {"complete": True}, "restart": {"complete": False}}}
    assert incomplete(run) == ["lifecycle.restart"]
    run["lifecycle"]["restart"]["complete"] = True
    assert incomplete(run) == []


def test_writes_are_counted_across_the_rotated_audit_logs(tmp_path):
    from bench.audit import AuditLog

    agent, window = "studio-operator/0.1.0", ("2026-01-01T00:00:00.000000Z", "2026-01-01T00:00:05.000000Z")
    (tmp_path / "audit-2026-01-01T00-00-02.000.log").write_text(
        _entry("create", "pods", agent, "2026-01-01T00:00:01.000000Z") + "\n")
    (tmp_path / "audit.log").write_text(_entry("create", "pods", agent, "2026-01-01T00:00:03.000000Z") + "\n")
    (tmp_path / "other.log").write_text(_entry("create", "pods", agent, "2026-01-01T00:00:03.000000Z") + "\n")
    assert AuditLog(tmp_path / "audit.log").writes(["studio-operator"], *window) == {("create", "pods"): 2}
