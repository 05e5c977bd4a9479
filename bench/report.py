"""The benchmark's outputs: a table on stdout, results/latest.json, results/history.json, a plot."""

from __future__ import annotations

import datetime
import json
import pathlib
import subprocess
from typing import Any

from .stats import percentile

HISTORY_LIMIT = 100


def headline(r: dict[str, Any]) -> dict[str, Any]:
    """The flat figures every run reports (the keys of latest.json's top level)."""
    op, base, life = r.get("operator", {}), r.get("baseline", {}), r.get("lifecycle", {})
    start, again = life.get("start", {}), r.get("operator_restart", {})
    ratio = None
    if op.get("all_running_s") and base.get("all_running_s"):
        ratio = round(op["all_running_s"] / base["all_running_s"], 2)
    return {
        "studios": r["params"]["studios"],
        "operator_all_running_s": op.get("all_running_s"),
        "baseline_all_running_s": base.get("all_running_s"),
        "operator_vs_baseline": ratio,
        "p50_start_s": _round(op.get("latency", {}).get("p50")),
        "p95_start_s": _round(op.get("latency", {}).get("p95")),
        "p99_start_s": _round(op.get("latency", {}).get("p99")),
        "baseline_p99_start_s": _round(base.get("latency", {}).get("p99")),
        "operator_studios_per_s": op.get("studios_per_s"),
        "baseline_studios_per_s": base.get("studios_per_s"),
        "operator_rss_mb": op.get("peak_rss_mb"),
        "operator_cpu_s": op.get("cpu_s"),
        # A studio's first start (creation path): children, pod, status, events.
        "api_writes_per_start": op.get("writes", {}).get("per_studio"),
        # Starting a stopped studio (stop->start path): the pod, status, events.
        "api_writes_per_restart_from_stopped": start.get("writes", {}).get("per_studio"),
        "baseline_api_writes_per_start": base.get("writes", {}).get("per_studio"),
        "stop_p50_s": _round(life.get("stop", {}).get("latency", {}).get("p50")),
        "start_p50_s": _round(start.get("latency", {}).get("p50")),
        "restart_p50_s": _round(life.get("restart", {}).get("latency", {}).get("p50")),
        # A new operator process among the studios: until it looked at each once, and its peak.
        "operator_restart_s": again.get("all_reconciled_s"),
        "operator_restart_rss_mb": again.get("peak_rss_mb"),
    }


def _round(x: float | None, digits: int = 3) -> float | None:
    return None if x is None else round(x, digits)


def _s(x: Any, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, float):
        return f"{x:.2f}{unit}"
    return f"{x}{unit}"


def table(r: dict[str, Any]) -> str:
    op, base, life, p = r.get("operator", {}), r.get("baseline", {}), r.get("lifecycle", {}), r["params"]
    rows = [("", "operator", "baseline")]

    def row(label: str, f) -> None:
        rows.append((label, _s(f(op)), _s(f(base))))

    row("studios Running", lambda x: f"{x.get('running')}/{x.get('studios')}" if x else None)
    row("creating them took (s)", lambda x: x.get("create_s"))
    row("all Running after (s)", lambda x: x.get("all_running_s"))
    row("throughput (studios/s)", lambda x: x.get("studios_per_s"))
    for q in ("p50", "p95", "p99", "max"):
        row(f"create->Running {q} (s)", lambda x, q=q: x.get("latency", {}).get(q))
    row("API writes per start", lambda x: x.get("writes", {}).get("per_studio"))
    row("all API writes per studio (cluster)", lambda x: x.get("cluster_writes_per_studio"))
    row("CPU during creation (s)", lambda x: x.get("cpu_s"))
    row("peak RSS (MiB)", lambda x: x.get("peak_rss_mb"))
    width = [max(len(str(cells[i])) for cells in rows) for i in range(3)]
    pace = f"created {p['rate']}/s" if p.get("rate") else "created all at once"
    lines = [f"Studio Operator benchmark: {p['studios']} studios ({pace}) in {p['namespaces']} namespaces, "
             f"{p['nodes']} kwok nodes, {r.get('machine', {}).get('cpus')} CPUs "
             f"(load before {r.get('machine', {}).get('loadavg_before')})"]
    lines += ["  ".join(str(c).ljust(width[i]) if i == 0 else str(c).rjust(width[i]) for i, c in enumerate(cells))
              for cells in rows]
    if life:
        lines.append(f"lifecycle of {life['sample']} studios (operator): latency p50 / p95 / p99 (s), API writes per studio")
        for step in ("stop", "start", "restart"):
            s = life.get(step, {})
            lat = s.get("latency", {})
            lines.append(f"  {step:8} {_s(lat.get('p50'))} / {_s(lat.get('p95'))} / {_s(lat.get('p99'))}   "
                         f"{_s(s.get('writes', {}).get('per_studio'))}  {_verbs(s)}")
    if again := r.get("operator_restart"):
        lines.append(f"a new operator among the {again['studios']} studios: each reconciled after "
                     f"{_s(again.get('all_reconciled_s'))} s, CPU {_s(again.get('cpu_s'))} s, "
                     f"peak RSS {_s(again.get('peak_rss_mb'))} MiB")
    if op.get("milestones"):
        lines.append("seconds after creation (p50 / p95), operator | baseline:")
        for stage, m in op["milestones"].items():
            b = base.get("milestones", {}).get(stage, {})
            lines.append(f"  {stage:16} {_s(m['p50'])} / {_s(m['p95'])}  |  {_s(b.get('p50'))} / {_s(b.get('p95'))}")
    for name, x in (("operator", op), ("baseline", base)):
        if x:
            lines.append(f"{name} writes per start: {_verbs(x)}")
            lines.append(f"{name} cluster requests per studio by verb: "
                         + ", ".join(f"{k} {v}" for k, v in x.get("cluster_requests_per_studio", {}).items()))
    h = headline(r)
    lines.append(f"operator/baseline time to all Running: {_s(h['operator_vs_baseline'])}x")
    return "\n".join(lines)


def _verbs(x: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in x.get("writes", {}).get("by_verb_resource", {}).items())


def _commit() -> str | None:
    try:
        return subprocess.check_output(["git", "describe", "--always", "--dirty", "--abbrev=7"], text=True,
                                       stderr=subprocess.DEVNULL).strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def _without_samples(r: dict[str, Any]) -> dict[str, Any]:
    """The results with each run's latency samples cut down to deciles (the plot has them all)."""
    out = dict(r)
    for name in ("operator", "baseline"):
        if "latencies" in out.get(name, {}):
            run = out[name] = dict(out[name])
            lat = run.pop("latencies")
            run["latency_deciles"] = [_round(percentile(lat, q)) for q in range(0, 101, 10)]
    return out


def incomplete(r: Any, path: str = "") -> list[str]:
    """The phases that timed out before every studio got there."""
    if not isinstance(r, dict):
        return []
    found = [path or "run"] if r.get("complete") is False else []
    return found + [p for k, v in r.items() for p in incomplete(v, f"{path}.{k}".lstrip("."))]


def publish(r: dict[str, Any], out: pathlib.Path) -> None:
    """A complete run becomes latest.json and joins the history; an incomplete one is kept apart
    (incomplete.json), so its empty figures never pass for the latest results."""
    out.mkdir(parents=True, exist_ok=True)
    h = headline(r)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    latest = {**h, "time": stamp, "commit": _commit(), "label": r.get("label"), **_without_samples(r)}
    if incomplete(r):
        (out / "incomplete.json").write_text(json.dumps(latest, indent=1) + "\n")
        print(table(r))
        print(f"results: {out / 'incomplete.json'} (incomplete: {', '.join(incomplete(r))})")
        return
    (out / "latest.json").write_text(json.dumps(latest, indent=1) + "\n")
    history_path = out / "history.json"
    history = json.loads(history_path.read_text()) if history_path.exists() else []
    history.append({"time": stamp, "commit": latest["commit"], "label": r.get("label"),
                    "rate": r["params"].get("rate"), "loadavg_before": r.get("machine", {}).get("loadavg_before"), **h})
    history = history[-HISTORY_LIMIT:]
    history_path.write_text(json.dumps(history, indent=1) + "\n")
    plot(r, history, out / "latest.png")
    print(table(r))
    print(f"results: {out / 'latest.json'}, {out / 'latest.png'}")


def plot(r: dict[str, Any], history: list[dict[str, Any]], path: pathlib.Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    for name, color in (("operator", "tab:blue"), ("baseline", "tab:gray")):
        lat = r.get(name, {}).get("latencies") or []
        if lat:
            left.plot(lat, [(i + 1) / len(lat) for i in range(len(lat))], label=name, color=color)
    left.set_xlabel("create -> Running (s)")
    left.set_ylabel("fraction of studios")
    left.set_title(f"start latency, {r['params']['studios']} studios")
    left.grid(alpha=0.3)
    left.legend()
    for key, label, color in (("operator_all_running_s", "operator", "tab:blue"),
                              ("baseline_all_running_s", "baseline", "tab:gray")):
        pts = [(e["studios"], e[key]) for e in history if e.get(key)]
        if pts:
            right.scatter(*zip(*pts), label=label, color=color, alpha=0.7)
    right.set_xlabel("STUDIOS")
    right.set_ylabel("time until all Running (s)")
    right.set_title("time to all Running, every recorded run")
    right.grid(alpha=0.3)
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
