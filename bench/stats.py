"""Pure numbers: percentiles, Prometheus counters, audit-log counts. Unit-tested."""

from __future__ import annotations

import datetime
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

Labels = tuple[tuple[str, str], ...]

_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?P<labels>.*)\})?\s+(?P<value>\S+)(?:\s+\d+)?$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between closest ranks, as numpy's default."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary(values: Sequence[float]) -> dict[str, float | int | None]:
    return {
        "n": len(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values) if values else None,
        "mean": sum(values) / len(values) if values else None,
    }


def parse_counters(text: str, name: str) -> dict[Labels, float]:
    """The samples of one metric in Prometheus text format, keyed by their sorted labels."""
    out: dict[Labels, float] = {}
    for line in text.splitlines():
        if not line.startswith(name):
            continue
        m = _SAMPLE.match(line)
        if not m or m["name"] != name:
            continue
        labels = tuple(sorted((k, v.replace('\\"', '"').replace("\\\\", "\\")) for k, v in _LABEL.findall(m["labels"] or "")))
        out[labels] = float(m["value"])
    return out


def counter_delta(before: Mapping[Labels, float], after: Mapping[Labels, float]) -> dict[Labels, float]:
    """How much each counter grew (a series new in `after` counts from zero)."""
    return {k: v - before.get(k, 0.0) for k, v in after.items() if v - before.get(k, 0.0) > 0}


def sum_by(delta: Mapping[Labels, float], *keys: str) -> dict[tuple[str, ...], float]:
    """Counter values summed over every label but `keys`."""
    out: Counter = Counter()
    for labels, value in delta.items():
        d = dict(labels)
        out[tuple(d.get(k, "") for k in keys)] += value
    return dict(out)


def audit_writes(lines: Iterable[str], user_agents: Sequence[str], start: str, end: str,
                 namespaces: str = "") -> Counter:
    """Writes in an audit log (JSON lines) by (verb, resource[/subresource]).

    Only entries whose user agent starts with one of `user_agents`, received in [start, end)
    (RFC 3339 strings in UTC, compared as text: the API server writes one fixed format), and,
    when `namespaces` is given, in namespaces starting with it.
    """
    out: Counter = Counter()
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        if e.get("stage") != "ResponseComplete" or not e.get("userAgent", "").startswith(tuple(user_agents)):
            continue
        if not (start <= e.get("requestReceivedTimestamp", "") < end):
            continue
        ref = e.get("objectRef") or {}
        if namespaces and not ref.get("namespace", "").startswith(namespaces):
            continue
        resource = ref.get("resource", "?") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        out[(e["verb"], resource)] += 1
    return out


# Milestones of a studio's start in the audit log: (name, verb, resource, agent prefix or None
# for the controller under test, first or last occurrence).
MILESTONES = (
    ("volume requested", ("create", "patch"), "persistentvolumeclaims", None, "first"),
    ("volume bound", ("update", "patch"), "persistentvolumeclaims/status", "kube-controller-manager", "first"),
    ("pod created", ("create",), "pods", None, "first"),
    ("pod scheduled", ("create",), "pods/binding", "kube-scheduler", "first"),
    ("pod running", ("patch", "update"), "pods/status", "kwok", "first"),
    ("status written", ("patch", "update"), "codestudios/status", None, "last"),
)


def _seconds(stamp: str) -> float:
    return datetime.datetime.fromisoformat(stamp).timestamp()


def milestones(lines: Iterable[str], namespaces: str, controller_agents: Sequence[str], start: str, end: str
               ) -> dict[str, dict]:
    """When, after its creation, each studio passed each milestone: p50/p95 seconds per milestone.

    From audit-log entries received in [start, end) in namespaces starting with `namespaces`.
    Shows where a start's time goes: the controller's own steps (volume requested, pod created,
    status written) against the cluster's (binding the volume, scheduling, running the pod).
    """
    created: dict[tuple[str, str], float] = {}
    seen: dict[tuple[str, str], dict[str, float]] = {}
    for line in lines:
        try:
            e = json.loads(line)
        except ValueError:
            continue
        ref = e.get("objectRef") or {}
        ns = ref.get("namespace", "")
        if (e.get("stage") != "ResponseComplete" or not ns.startswith(namespaces)
                or e.get("responseStatus", {}).get("code", 200) >= 400
                or not start <= e.get("requestReceivedTimestamp", "") < end):
            continue
        resource = ref.get("resource", "") + (f"/{ref['subresource']}" if ref.get("subresource") else "")
        name = ref.get("name", "")
        t = _seconds(e["requestReceivedTimestamp"])
        if resource == "codestudios" and e["verb"] == "create":
            created.setdefault((ns, name), t)
            continue
        agent = e.get("userAgent", "")
        for stage, verbs, res, who, which in MILESTONES:
            if resource != res or e["verb"] not in verbs:
                continue
            if not agent.startswith(tuple(controller_agents) if who is None else who):
                continue
            key = (ns, name.removesuffix("-home") if res.startswith("persistentvolumeclaims") else name)
            stages = seen.setdefault(key, {})
            if which == "last" or stage not in stages:
                stages[stage] = t
    out = {}
    for stage, *_ in MILESTONES:
        offsets = [seen[k][stage] - t0 for k, t0 in created.items() if stage in seen.get(k, {})]
        out[stage] = {"n": len(offsets), "p50": _r(percentile(offsets, 50)), "p95": _r(percentile(offsets, 95))}
    return out


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 2)
