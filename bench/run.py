"""`make bench`: Studio Operator at scale, against the best a bare client could do.

Starts a dedicated control plane (hack/cluster.sh, cluster `bench`, with bench/kwokctl.yaml:
no API server in-flight limits or client QPS limits, an audit log of writes), creates STUDIOS
studios over several namespaces from one template and times them to Running under the
operator; then stops and starts and restarts a sample; then does the same creation with the
baseline client (bench/baseline.py) in fresh namespaces. Writes a table to stdout,
bench/results/latest.json, a history of runs and a plot; removes the cluster at the end.

Environment: STUDIOS (default 1000), BENCH_NAMESPACES (default STUDIOS/100, at least 2),
BENCH_SAMPLE (studios stopped/started/restarted, default 100), BENCH_TIMEOUT (seconds per
phase, default 120 + 0.3 * STUDIOS), BENCH_RATE (studios created per second; default 0: all at
once, 32 requests in flight), BENCH_LABEL (a note kept in the history), BENCH_OPERATOR_ENV (extra KEY=VALUE,... for the operator),
BENCH_PROFILE=1 (record the operator with py-spy into .work/bench/profile.txt; summarise it with
`python -m bench.profile`), BENCH_BASELINE=0 (skip the baseline), BENCH_KEEP_CLUSTER=1 (leave
the cluster up).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
import pathlib
import signal
import subprocess
import sys
import time
import urllib.request
from typing import Any

from . import cluster, procs, report
from . import client as K
from .audit import AuditLog
from .baseline import USER_AGENT as BASELINE_AGENT
from .stats import counter_delta, parse_counters, sum_by, summary
from .workload import (
    Key,
    StudioWatch,
    create_namespaces,
    create_studios,
    ensure,
    latencies,
    patch_specs,
    restarted,
    rfc3339_now,
    state_is,
    studio_keys,
    template_manifest,
    utc_stamp,
)

RESULTS = pathlib.Path(__file__).resolve().parent / "results"
LOGS = cluster.ROOT / ".work" / "bench"
BENCH_AGENT = "studio-bench"
OPERATOR_AGENTS = ("studio-operator", "kopf")
WRITE_VERBS = ("POST", "PUT", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION")


@dataclasses.dataclass(frozen=True)
class Params:
    studios: int
    namespaces: int
    sample: int
    nodes: int
    timeout: float
    rate: float  # studios created per second; 0: all at once

    @classmethod
    def from_env(cls) -> Params:
        studios = int(os.environ.get("STUDIOS", "1000"))
        return cls(
            studios=studios,
            namespaces=int(os.environ.get("BENCH_NAMESPACES", max(2, math.ceil(studios / 100)))),
            sample=min(studios, int(os.environ.get("BENCH_SAMPLE", "100"))),
            nodes=max(2, math.ceil(studios / 500)),
            timeout=float(os.environ.get("BENCH_TIMEOUT", 120 + studios * 0.3)),
            rate=float(os.environ.get("BENCH_RATE", "0")),
        )


async def api_requests(client) -> dict:
    return parse_counters(await K.text(client, "/metrics"), "apiserver_request_total")


def per_studio(counts: dict, n: int) -> dict[str, float]:
    return {k: round(v / n, 2) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])}


def writes_table(writes, n: int) -> dict[str, Any]:
    return {
        "per_studio": round(sum(writes.values()) / n, 2) if n else None,
        "by_verb_resource": {f"{verb} {res}": round(c / n, 2) for (verb, res), c in writes.most_common()},
    }


async def creation(client, watch: StudioWatch, audit: AuditLog, agents: tuple[str, ...], keys: list[Key],
                   timeout: float, rate: float) -> dict[str, Any]:
    """Creates the studios and times them to Running; counts the API traffic it took."""
    before = await api_requests(client)
    start = utc_stamp()
    phase = watch.phase(keys, state_is("Running"))
    t0 = time.monotonic()
    created = await create_studios(client, keys, rate)
    create_s = time.monotonic() - t0
    complete = await phase.wait(max(1.0, timeout - create_s))
    last = max(phase.at.values(), default=time.monotonic())
    await audit.quiesce(agents)
    end = utc_stamp()
    after = await api_requests(client)
    delta = counter_delta(before, after)
    n = len(keys)
    lat = latencies(created, phase.at)
    return {
        "studios": n,
        "running": len(phase.at),
        "complete": complete,
        "create_s": round(create_s, 2),
        "all_running_s": round(last - t0, 2) if complete else None,
        "studios_per_s": round(n / (last - t0), 1) if complete else None,
        "latency": summary(lat),
        "latencies": sorted(round(x, 3) for x in lat),
        "writes": writes_table(audit.writes(agents, start, end), n),
        "milestones": audit.milestones(keys[0][0].rstrip("0123456789"), agents, start, end),
        "cluster_requests_per_studio": per_studio(
            {verb: c for (verb,), c in sum_by(delta, "verb").items()}, n),
        "cluster_writes_per_studio": round(
            sum(c for (verb,), c in sum_by(delta, "verb").items() if verb in WRITE_VERBS) / n, 2),
    }


async def lifecycle(client, watch: StudioWatch, audit: AuditLog, sample: list[Key], timeout: float) -> dict[str, Any]:
    """Stop, start and restart a sample of running studios; latency and operator writes of each."""
    out: dict[str, Any] = {"sample": len(sample)}
    requested = None
    for step in ("stop", "start", "restart"):
        if step == "stop":
            spec, reached = {"state": "Stopped"}, state_is("Stopped")
        elif step == "start":
            spec, reached = {"state": "Running"}, state_is("Running")
        else:
            await asyncio.sleep(1.0)  # restartRequestedAt has one-second resolution
            requested = rfc3339_now()
            spec, reached = {"restartRequestedAt": requested}, restarted(requested)
        start = utc_stamp()
        phase = watch.phase(sample, reached)
        patched = await patch_specs(client, sample, spec)
        complete = await phase.wait(timeout)
        await audit.quiesce(OPERATOR_AGENTS)
        end = utc_stamp()
        out[step] = {
            "complete": complete,
            "reached": len(phase.at),
            "latency": summary(latencies(patched, phase.at)),
            "writes": writes_table(audit.writes(OPERATOR_AGENTS, start, end), len(sample)),
        }
    return out


def operator_process(kubeconfig: str, name: str = "operator") -> tuple[procs.Process, str, str]:
    """The operator, its liveness URL and its metrics URL."""
    port = 18080 + os.getpid() % 1000
    env = {"KUBECONFIG": kubeconfig}
    for item in filter(None, os.environ.get("BENCH_OPERATOR_ENV", "").split(",")):
        key, _, value = item.partition("=")
        env[key] = value
    argv = [str(pathlib.Path(sys.executable).parent / "studio-operator"), "--liveness",
            f"http://127.0.0.1:{port}/healthz", "--metrics-host", "127.0.0.1", "--metrics-port", str(port + 1)]
    return (procs.Process(name, argv, env, LOGS / f"{name}.log"), f"http://127.0.0.1:{port}/healthz",
            f"http://127.0.0.1:{port + 1}/metrics")


def reconciled_all(metrics: str, studios: int) -> bool:
    """The operator has finished at least one reconcile per studio (its reconcile-duration
    histogram) and has nothing left in its work queue."""
    try:
        with urllib.request.urlopen(metrics, timeout=5) as rsp:
            text = rsp.read().decode()
    except OSError:
        return False
    done = sum_by(parse_counters(text, "studio_operator_reconcile_duration_seconds_count"), "kind").get(("studio",), 0)
    return done >= studios and not sum(parse_counters(text, "studio_operator_work_queue_depth").values())


def restart_operator(kubeconfig: str, studios: int, timeout: float) -> dict[str, Any]:
    """A new operator process among the studios already there, as after an upgrade or a crash:
    how long until it has looked at every studio once, its CPU, and its peak RSS, which its
    startup sets (kopf holds every listed object until all its indexes have seen them all)."""
    operator, _, metrics = operator_process(kubeconfig, "operator-restarted")
    started = time.monotonic()
    operator.start()
    try:
        # Once a second: each scrape counts every studio's state, work for the operator measured.
        operator.wait_until(lambda: reconciled_all(metrics, studios), timeout, interval=1.0)
        return {"studios": studios, "all_reconciled_s": round(time.monotonic() - started, 1),
                "cpu_s": round(procs.cpu_seconds(operator.pid), 1),
                "peak_rss_mb": round(procs.memory_mb(operator.pid), 1)}
    except RuntimeError as exc:
        print(f"bench: restarted operator: {exc}", file=sys.stderr)
        return {"studios": studios, "complete": False,
                "peak_rss_mb": round(procs.memory_mb(operator.pid), 1) if operator.alive() else None}
    finally:
        operator.stop()


async def remove_webhooks(client: K.Session) -> None:
    """The stopped operator's webhooks stay registered, failing closed; the baseline has none."""
    for kind in ("validatingwebhookconfigurations", "mutatingwebhookconfigurations"):
        try:
            await K.request(client, "DELETE", f"/apis/admissionregistration.k8s.io/v1/{kind}/studio.dev")
        except K.ApiError as exc:
            if exc.status != 404:
                raise


def start_profiler(pid: int) -> subprocess.Popen | None:
    if os.environ.get("BENCH_PROFILE") != "1":
        return None
    out = LOGS / "profile.txt"
    return subprocess.Popen([str(pathlib.Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                             "--rate", "50", "--format", "raw", "--output", str(out)], stdout=subprocess.DEVNULL,
                            stderr=open(LOGS / "py-spy.log", "w"))


async def bench(p: Params, kubeconfig: str) -> dict[str, Any]:
    audit = AuditLog(cluster.audit_log())
    async with K.connect(kubeconfig, BENCH_AGENT) as client:
        cluster.install_crds(kubeconfig)
        await ensure(client, "/apis/studio.dev/v1alpha1/codestudiotemplates", template_manifest())
        results: dict[str, Any] = {"params": dataclasses.asdict(p)}

        # --- The operator.
        op_keys = studio_keys("bench-op-", p.studios, p.namespaces)
        op_namespaces = sorted({ns for ns, _ in op_keys})
        await create_namespaces(client, op_namespaces)
        operator, health, _ = operator_process(kubeconfig)
        operator.start()
        profiler = None
        try:
            operator.wait_healthy(health)
            profiler = start_profiler(operator.pid)
            watch = StudioWatch(client, "bench-op-")
            watch.start()
            await asyncio.wait_for(watch.ready.wait(), 120)
            cpu0 = procs.cpu_seconds(operator.pid)
            print(f"bench: operator: creating {p.studios} studios in {p.namespaces} namespaces", file=sys.stderr)
            results["operator"] = await creation(client, watch, audit, OPERATOR_AGENTS, op_keys, p.timeout, p.rate)
            results["operator"]["cpu_s"] = round(procs.cpu_seconds(operator.pid) - cpu0, 1)
            results["operator"]["rss_mb"] = round(procs.memory_mb(operator.pid), 1)
            print(f"bench: operator: {results['operator']['running']} Running; lifecycle of a sample", file=sys.stderr)
            sample = op_keys[:: max(1, len(op_keys) // p.sample)][: p.sample]
            results["lifecycle"] = await lifecycle(client, watch, audit, sample, p.timeout)
            results["operator"]["cpu_total_s"] = round(procs.cpu_seconds(operator.pid), 1)
            results["operator"]["peak_rss_mb"] = round(procs.memory_mb(operator.pid), 1)
            await watch.stop()
        finally:
            if profiler:
                profiler.send_signal(2)  # SIGINT: py-spy writes its output and exits
                profiler.wait(60)
            operator.stop()
        print(f"bench: a new operator among the {p.studios} studios", file=sys.stderr)
        results["operator_restart"] = restart_operator(kubeconfig, p.studios, p.timeout)

        if os.environ.get("BENCH_BASELINE") == "0":
            return results

        # --- The baseline, on fresh namespaces of the same cluster. The operator's studios stay
        # (deleting thousands takes the garbage collector minutes that would overlap this run).
        await remove_webhooks(client)
        base_keys = studio_keys("bench-base-", p.studios, p.namespaces)
        await create_namespaces(client, sorted({ns for ns, _ in base_keys}))
        baseline = procs.Process("baseline", [sys.executable, "-m", "bench.baseline", kubeconfig, "bench-base-"],
                                 {"PYTHONPATH": str(cluster.ROOT)}, LOGS / "baseline.log")
        baseline.start()
        try:
            baseline.wait_log("baseline: watching")
            watch = StudioWatch(client, "bench-base-")
            watch.start()
            await asyncio.wait_for(watch.ready.wait(), 120)
            cpu0 = procs.cpu_seconds(baseline.pid)
            print(f"bench: baseline: creating {p.studios} studios", file=sys.stderr)
            results["baseline"] = await creation(client, watch, audit, (BASELINE_AGENT,), base_keys, p.timeout, p.rate)
            results["baseline"]["cpu_s"] = round(procs.cpu_seconds(baseline.pid) - cpu0, 1)
            results["baseline"]["peak_rss_mb"] = round(procs.memory_mb(baseline.pid), 1)
            await watch.stop()
        finally:
            baseline.stop()
    return results


def main() -> None:
    # Stopped by SIGTERM (or SIGINT, even from a shell that ignores it in the background), the
    # benchmark still stops its processes and its cluster.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    p = Params.from_env()
    started = time.monotonic()
    load_before = os.getloadavg()
    print(f"bench: starting the bench cluster ({p.nodes} kwok nodes)", file=sys.stderr)
    try:
        results = asyncio.run(bench(p, cluster.up(p.nodes)))
    finally:
        if os.environ.get("BENCH_KEEP_CLUSTER") != "1":
            cluster.down()
    results["machine"] = {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                          "loadavg_after": [round(x, 2) for x in os.getloadavg()]}
    results["bench_s"] = round(time.monotonic() - started, 1)
    results["label"] = os.environ.get("BENCH_LABEL")
    report.publish(results, RESULTS)
    if missing := report.incomplete(results):
        sys.exit(f"bench: timed out before every studio got there in: {', '.join(missing)}")


if __name__ == "__main__":
    main()
