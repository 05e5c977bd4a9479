"""API faults: the operator talks to the real API server only through tests/e2e/faultproxy.py.

Each test switches faults on, changes studios meanwhile, switches them off and checks that the
operator stayed alive, retried with backoff, deleted nothing, and converged.
"""

from __future__ import annotations

import random
import time

import pytest

from tests.e2e import invariants as inv
from tests.e2e.chaos import read_snapshot
from tests.e2e.conftest import ROOT
from tests.e2e.faultproxy import FaultProxy, Faults
from tests.e2e.kube import Cluster
from tests.e2e.operator import OperatorProcess
from tests.e2e.rest import Rest
from tests.e2e.studios import make_template, pvc_uid, rfc3339_now, set_spec, studio_manifest, wait_state

# Seconds the operator may take to converge once the faults stop; a hung watch is noticed only
# after the operator's watch inactivity timeout (handlers.py), so tests that hang watches add it.
CONVERGE_BOUND = 60
WATCH_INACTIVITY = 60


@pytest.fixture
def proxy(cluster: Cluster, request):
    seed = random.SystemRandom().randrange(2**31)
    print(f"\nfault proxy seed {seed}")
    p = FaultProxy(cluster.kubeconfig, seed)
    p.start()
    yield p
    p.stop()
    print(f"faults injected: {dict(p.counts)} over {len(p.log)} requests")


@pytest.fixture
def proxied_operator(operator: OperatorProcess, proxy: FaultProxy, tmp_path):
    """An operator that reaches the API server only through the proxy. The session operator is
    stopped meanwhile (two operators would both act), and restarted by the next test that needs it."""
    operator.stop()
    op = OperatorProcess(proxy.kubeconfig(str(tmp_path / "kubeconfig")), ROOT / ".work" / "operator-faults.log")
    op.start()
    yield op
    still_alive = alive(op)
    op.stop()
    assert still_alive, f"the operator exited; see {op.log_path}"
    # The operator never deletes a claim (Delete-policy volumes go with their studio, by GC).
    assert not proxy.requests(lambda r: r.method == "DELETE" and "/persistentvolumeclaims" in r.path)


@pytest.fixture
def rest(cluster: Cluster):
    r = Rest(cluster.kubeconfig)
    yield r
    r.close()


def alive(op: OperatorProcess) -> bool:
    return op.proc is not None and op.proc.poll() is None


def converge(rest: Rest, namespace: str, templates: list[str], op: OperatorProcess, bound: float = CONVERGE_BOUND) -> float:
    started = time.monotonic()
    problems: list[str] = []
    while time.monotonic() - started < bound:
        assert alive(op), "the operator exited"
        problems = inv.check_all(read_snapshot(rest, [namespace], templates))
        if not problems:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"not converged {bound}s after the faults stopped:\n  " + "\n  ".join(problems[:20]))


def in_namespace(namespace: str):
    return lambda req: f"/namespaces/{namespace}/" in req.path


def test_every_fault_kind_while_studios_change(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                               proxied_operator: OperatorProcess, rest: Rest, request):
    tpl = make_template(cluster, request)
    names = [f"f{i}" for i in range(10)]
    for name in names[:5]:
        cluster.apply(studio_manifest(name, namespace, tpl, owner=name))
    for name in names[:5]:
        wait_state(cluster, namespace, name, "Running")
    volumes = {n: pvc_uid(cluster, namespace, f"{n}-home") for n in names[:5]}

    proxy.inject(Faults({"500": 0.05, "503": 0.05, "429": 0.05, "409": 0.1, "410": 0.25, "error": 0.1,
                         "drop": 0.04, "hang": 0.03}, retry_after=1))
    proxy.drop_watches()  # every watch comes back through the faults
    changes = [
        lambda: set_spec(cluster, namespace, "f0", state="Stopped"),
        lambda: set_spec(cluster, namespace, "f1", restartRequestedAt=rfc3339_now()),
        *(lambda n=n: cluster.apply(studio_manifest(n, namespace, tpl, owner=n)) for n in names[5:]),
        lambda: cluster.kubectl("patch", "codestudiotemplate", tpl, "--type=merge",
                                "-p", '{"spec":{"image":{"prebuilt":"quay.io/jupyter/base-notebook:2025-01-01"}}}'),
        lambda: set_spec(cluster, namespace, "f2", state="Stopped"),
        lambda: cluster.kubectl("-n", namespace, "delete", "pod", "f3"),
        lambda: set_spec(cluster, namespace, "f0", state="Running"),
        lambda: set_spec(cluster, namespace, "f4", restartRequestedAt=rfc3339_now()),
        lambda: proxy.drop_watches(),
    ]
    for change in changes:
        change()
        assert alive(proxied_operator), "the operator exited under faults"
        time.sleep(3)
    proxy.inject(None)

    took = converge(rest, namespace, [tpl], proxied_operator, bound=CONVERGE_BOUND + WATCH_INACTIVITY)
    print(f"converged {took:.1f}s after the faults stopped")
    assert {n: pvc_uid(cluster, namespace, f"{n}-home") for n in names[:5]} == volumes
    for kind in ("500", "503", "429", "409", "410", "error", "drop", "hang"):
        assert proxy.counts[kind] > 0, f"no {kind} fault was injected: {dict(proxy.counts)}"


def _attempts(proxy: FaultProxy, namespace: str, studio: str) -> list[float]:
    """When the operator tried to write the studio's home volume (its first write)."""
    path = f"/namespaces/{namespace}/persistentvolumeclaims/{studio}-home"
    return [r.at for r in proxy.requests(lambda r: r.method == "PATCH" and path in r.path)]


def test_failing_writes_back_off_exponentially(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                               proxied_operator: OperatorProcess, rest: Rest, request):
    tpl = make_template(cluster, request)
    proxy.inject(Faults({"503": 1.0}, only=lambda req: req.write and in_namespace(namespace)(req)))
    cluster.apply(studio_manifest("backoff", namespace, tpl, owner="backoff"))
    time.sleep(20)
    attempts = _attempts(proxy, namespace, "backoff")
    proxy.inject(None)
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    print(f"{len(attempts)} attempts in 20s, gaps {[round(g, 2) for g in gaps]}")
    assert 4 <= len(attempts) <= 8, "retries either stopped or hot-loop"
    # Events right after the create may run it early (as in controller-runtime); then it doubles.
    tail = gaps[-3:]
    assert all(later >= earlier * 1.5 for earlier, later in zip(tail, tail[1:])), "the backoff does not grow"
    assert max(gaps) >= 4
    assert alive(proxied_operator)
    wait_state(cluster, namespace, "backoff", "Running", timeout=CONVERGE_BOUND)


def test_retry_after_is_honoured(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                 proxied_operator: OperatorProcess, rest: Rest, request):
    tpl = make_template(cluster, request)
    proxy.inject(Faults({"429": 1.0}, only=lambda req: req.write and in_namespace(namespace)(req), retry_after=4))
    cluster.apply(studio_manifest("throttled", namespace, tpl, owner="throttled"))
    time.sleep(14)
    attempts = _attempts(proxy, namespace, "throttled")
    proxy.inject(None)
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    print(f"{len(attempts)} attempts in 14s under Retry-After: 4, gaps {[round(g, 2) for g in gaps]}")
    assert len(attempts) >= 2 and all(g >= 3.9 for g in gaps), "retried sooner than the server asked"
    wait_state(cluster, namespace, "throttled", "Running", timeout=CONVERGE_BOUND)


def test_outage_longer_than_any_retry_budget(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                             proxied_operator: OperatorProcess, rest: Rest, request):
    """Every request fails with 503 for a minute, as during a control-plane upgrade."""
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("before", namespace, tpl, owner="before"))
    wait_state(cluster, namespace, "before", "Running")
    volume = pvc_uid(cluster, namespace, "before-home")
    proxy.inject(Faults({"503": 1.0}))
    proxy.drop_watches()
    set_spec(cluster, namespace, "before", state="Stopped")
    cluster.apply(studio_manifest("during", namespace, tpl, owner="during"))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert alive(proxied_operator), "the operator exited during the outage"
        time.sleep(1)
    proxy.inject(None)
    took = converge(rest, namespace, [tpl], proxied_operator)
    print(f"converged {took:.1f}s after a 60s outage ({proxy.counts['503']} requests refused)")
    assert pvc_uid(cluster, namespace, "before-home") == volume


def test_hung_writes_time_out_and_are_retried(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                              proxied_operator: OperatorProcess, rest: Rest, request):
    """Writes that never get an answer (a half-open connection) must not hold their studios for ever."""
    tpl = make_template(cluster, request)
    proxy.inject(Faults({"hang": 1.0}, only=lambda req: req.write and in_namespace(namespace)(req)))
    for i in range(3):
        cluster.apply(studio_manifest(f"h{i}", namespace, tpl, owner=f"h{i}"))
    time.sleep(5)
    proxy.inject(None)
    took = converge(rest, namespace, [tpl], proxied_operator)
    print(f"converged {took:.1f}s after {proxy.counts['hang']} writes hung")
    assert proxy.counts["hang"] >= 3


def test_watch_errors_and_hung_watches(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                       proxied_operator: OperatorProcess, rest: Rest, request):
    """Watches expire (410), drop, or hang with the connection open; no change may be missed."""
    tpl = make_template(cluster, request)
    proxy.inject(Faults({"410": 0.4, "drop": 0.3, "hang": 0.3}, only=lambda req: req.watch))
    proxy.drop_watches()
    time.sleep(5)
    for i in range(4):
        cluster.apply(studio_manifest(f"w{i}", namespace, tpl, owner=f"w{i}"))
    time.sleep(10)
    proxy.inject(None)
    took = converge(rest, namespace, [tpl], proxied_operator, bound=CONVERGE_BOUND + WATCH_INACTIVITY)
    print(f"converged {took:.1f}s after watch faults stopped")
    hung = proxy.counts["hang"]
    assert hung > 0 and proxy.counts["410"] > 0 and proxy.counts["drop"] > 0


def test_in_stream_watch_error(cluster: Cluster, namespace: str, proxy: FaultProxy,
                               proxied_operator: OperatorProcess, rest: Rest, request):
    """An ERROR event other than 410 in a watch (an apiserver's internal error mid-stream)."""
    tpl = make_template(cluster, request)
    proxy.inject(Faults({"error": 1.0}, only=lambda req: req.watch and "codestudios" in req.path))
    proxy.drop_watches()
    time.sleep(5)
    proxy.inject(None)
    assert alive(proxied_operator)
    cluster.apply(studio_manifest("after", namespace, tpl, owner="after"))
    wait_state(cluster, namespace, "after", "Running", timeout=CONVERGE_BOUND)
    assert proxy.counts["error"] > 0
