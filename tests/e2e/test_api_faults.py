"""API faults: the operator talks to the real API server only through tests/e2e/faultproxy.py.

Each test switches faults on, changes studios meanwhile, switches them off and checks that the
operator stayed alive, retried with backoff, deleted nothing, and converged.
"""

from __future__ import annotations

import json
import random
import time

import pytest

from tests.e2e import invariants as inv
from tests.e2e.chaos import read_snapshot
from tests.e2e.conftest import ROOT
from tests.e2e.faultproxy import FaultProxy, Faults
from tests.e2e.kube import Cluster, unique_name
from tests.e2e.operator import OperatorProcess
from tests.e2e.rest import Rest
from tests.e2e.studios import make_template, pvc_uid, rfc3339_now, set_spec, studio_manifest, wait_state
from tests.e2e.workspaces import (
    install_member_roles,
    make_workspace,
    member,
    wait_ready,
    workspace,
    workspace_manifest,
)

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
def proxied_operator(cluster: Cluster, operator: OperatorProcess, proxy: FaultProxy, tmp_path):
    """An operator that reaches the API server only through the proxy (the API server calls its
    webhooks directly). The session operator is stopped meanwhile (two operators would both
    act; this one registers the webhooks again with its port), and restarted by the next test that needs it."""
    operator.stop()
    op = OperatorProcess(proxy.kubeconfig(str(tmp_path / "kubeconfig")), ROOT / ".work" / "operator-faults.log",
                         kubectl=cluster.kubectl)
    op.start()
    yield op
    still_alive = alive(op)
    op.stop()
    assert still_alive, f"the operator exited; see {op.log_path}"
    # The operator never deletes a claim here: only that of a studio deleted under Delete, and
    # these tests delete none.
    assert not proxy.requests(lambda r: r.method == "DELETE" and "/persistentvolumeclaims" in r.path)


@pytest.fixture
def rest(cluster: Cluster):
    r = Rest(cluster.kubeconfig)
    yield r
    r.close()


def alive(op: OperatorProcess) -> bool:
    return op.proc is not None and op.proc.poll() is None


def converge(rest: Rest, namespace: str, templates: list[str], op: OperatorProcess, studios: list[str],
             bound: float = CONVERGE_BOUND) -> float:
    """Seconds until every invariant holds for exactly `studios` (so that no snapshot that missed
    them passes for a converged one)."""
    started = time.monotonic()
    problems: list[str] = []
    while time.monotonic() - started < bound:
        assert alive(op), "the operator exited"
        snapshot = read_snapshot(rest, [namespace], templates)
        problems = inv.check_all(snapshot)
        found = sorted(s["metadata"]["name"] for s in snapshot.studios)
        if found != sorted(studios):
            problems.append(f"studios in {namespace} are {found}, the test made {sorted(studios)}")
        if not op.healthy(timeout=5):
            problems.append("the operator does not answer its liveness probe")
        if not problems:
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"not converged {bound}s after the faults stopped:\n  " + "\n  ".join(problems[:20]))


def persist(change) -> None:
    """A user's change made during faults, retried as a user would: the API server, or a webhook
    that reads the API, may answer with an error meanwhile."""
    for attempt in range(10):
        try:
            change()
            return
        except AssertionError:
            if attempt == 9:
                raise
            time.sleep(1)


def in_namespace(namespace: str):
    return lambda req: f"/namespaces/{namespace}/" in req.path


def _members_bound(cluster: Cluster, ws: str, members: list[dict[str, str]]) -> bool:
    ready = inv.condition(workspace(cluster, ws) or {}, "Ready").get("status") == "True"
    return ready and not inv.check_members(ws, members, cluster.get("rolebindings", namespace=ws)["items"])


def test_every_fault_kind_while_studios_and_workspaces_change(cluster: Cluster, proxy: FaultProxy,
                                                              proxied_operator: OperatorProcess, rest: Rest, request):
    install_member_roles(cluster)
    tpl = make_template(cluster, request)
    team = [member("olga", "owner"), member("mia", "member")]
    ws = make_workspace(cluster, request, members=team)
    wait_ready(cluster, ws)
    names = [f"f{i}" for i in range(10)]
    for name in names[:5]:
        cluster.apply(studio_manifest(name, ws, tpl, owner=name))
    for name in names[:5]:
        wait_state(cluster, ws, name, "Running")
    volumes = {n: pvc_uid(cluster, ws, f"{n}-home") for n in names[:5]}

    # Every conditional write (a resourceVersion in it: workspace finalizers) conflicts meanwhile.
    proxy.inject(Faults({"500": 0.05, "503": 0.05, "429": 0.05, "409": 1.0, "410": 0.25, "error": 0.1,
                         "drop": 0.04, "hang": 0.03}, retry_after=1, every_kind_once=True))
    proxy.drop_watches()  # every watch comes back through the faults
    team = [*team, member("vic", "viewer"), member("ada", "admin")]
    other = unique_name("ws")
    changes = [
        lambda: set_spec(cluster, ws, "f0", state="Stopped"),
        lambda: set_spec(cluster, ws, "f1", restartRequestedAt=rfc3339_now()),
        lambda: cluster.apply(workspace_manifest(other, deletionPolicy="Cascade")),
        *(lambda n=n: cluster.apply(studio_manifest(n, ws, tpl, owner=n)) for n in names[5:]),
        lambda: cluster.kubectl("patch", "workspace", ws, "--type=merge", "-p", json.dumps({"spec": {"members": team}})),
        lambda: cluster.kubectl("patch", "codestudiotemplate", tpl, "--type=merge",
                                "-p", '{"spec":{"image":{"prebuilt":"quay.io/jupyter/base-notebook:2025-01-01"}}}'),
        lambda: set_spec(cluster, ws, "f2", state="Stopped"),
        lambda: cluster.kubectl("-n", ws, "delete", "pod", "f3"),
        lambda: cluster.kubectl("delete", "workspace", other, "--wait=false"),
        lambda: set_spec(cluster, ws, "f0", state="Running"),
        lambda: set_spec(cluster, ws, "f4", restartRequestedAt=rfc3339_now()),
        lambda: proxy.drop_watches(),
    ]
    for change in changes:
        persist(change)
        assert alive(proxied_operator), "the operator exited under faults"
        time.sleep(3)
    proxy.inject(None)

    took = converge(rest, ws, [tpl], proxied_operator, names, bound=CONVERGE_BOUND + WATCH_INACTIVITY)
    cluster.wait_for(lambda: _members_bound(cluster, ws, team) and workspace(cluster, other) is None,
                     timeout=CONVERGE_BOUND, what="the members bound and the deleted workspace gone")
    print(f"converged {took:.1f}s after the faults stopped")
    assert {n: pvc_uid(cluster, ws, f"{n}-home") for n in names[:5]} == volumes
    for kind in ("500", "503", "429", "409", "410", "error", "drop", "hang"):
        assert proxy.counts[kind] > 0, f"no {kind} fault was injected: {dict(proxy.counts)}"


def _writes_in(namespace: str):
    return lambda req: req.write and in_namespace(namespace)(req)


def _write_gaps_under(faults: Faults, seconds: float, cluster: Cluster, proxy: FaultProxy, namespace: str,
                      template: str, studio: str) -> list[float]:
    """Creates a studio and lets the faults act for `seconds`: the gaps between the operator's
    attempts to write the studio's home volume (its first write)."""
    proxy.inject(faults)
    cluster.apply(studio_manifest(studio, namespace, template, owner=studio))
    time.sleep(seconds)  # a fixed window in which to count the retries
    path = f"/namespaces/{namespace}/persistentvolumeclaims/{studio}-home"
    attempts = [r.at for r in proxy.requests(lambda r: r.method == "PATCH" and path in r.path)]
    proxy.inject(None)
    gaps = [b - a for a, b in zip(attempts, attempts[1:])]
    print(f"{len(attempts)} attempts in {seconds}s, gaps {[round(g, 2) for g in gaps]}")
    return gaps


def test_failing_writes_back_off_exponentially(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                               proxied_operator: OperatorProcess, rest: Rest, request):
    tpl = make_template(cluster, request)
    gaps = _write_gaps_under(Faults({"503": 1.0}, only=_writes_in(namespace)), 20, cluster, proxy, namespace, tpl, "backoff")
    assert 4 <= len(gaps) + 1 <= 8, "retries (attempts) either stopped or hot-loop"
    # Events right after the create may run it early (as in controller-runtime); then it doubles.
    tail = gaps[-3:]
    assert all(later >= earlier * 1.5 for earlier, later in zip(tail, tail[1:])), "the backoff does not grow"
    assert max(gaps) >= 4
    assert alive(proxied_operator)
    wait_state(cluster, namespace, "backoff", "Running", timeout=CONVERGE_BOUND)


def test_retry_after_is_honoured(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                 proxied_operator: OperatorProcess, rest: Rest, request):
    tpl = make_template(cluster, request)
    gaps = _write_gaps_under(Faults({"429": 1.0}, only=_writes_in(namespace), retry_after=4), 14,
                             cluster, proxy, namespace, tpl, "throttled")
    assert len(gaps) >= 1 and all(g >= 3.9 for g in gaps), "retried sooner than the server asked"
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
    persist(lambda: set_spec(cluster, namespace, "before", state="Stopped"))
    # Created for oneself: the webhook cannot check, with the API down, that someone may create a
    # studio for another user, and refuses that (tests/unit/test_admission_api_errors.py).
    during = studio_manifest("during", namespace, tpl)
    del during["spec"]["owner"]
    persist(lambda: cluster.apply(during))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert alive(proxied_operator), "the operator exited during the outage"
        time.sleep(1)
    proxy.inject(None)
    took = converge(rest, namespace, [tpl], proxied_operator, ["before", "during"])
    print(f"converged {took:.1f}s after a 60s outage ({proxy.counts['503']} requests refused)")
    assert pvc_uid(cluster, namespace, "before-home") == volume


def test_an_operator_started_while_the_api_server_refuses_everything_starts_once_it_answers(
        cluster: Cluster, operator: OperatorProcess, proxy: FaultProxy, tmp_path):
    """As when the operator's pod starts before a restarting control plane answers: logging in
    asks the server for its version, and a failed login is tried again every 5 s."""
    operator.stop()
    proxy.inject(Faults({"503": 1.0}))
    op = OperatorProcess(proxy.kubeconfig(str(tmp_path / "kubeconfig")), ROOT / ".work" / "operator-faults.log",
                         kubectl=cluster.kubectl)
    op.start(timeout=None)
    try:
        time.sleep(8)
        assert alive(op) and not op.healthy(), "started, or exited, with every request refused"
        refused = proxy.counts["503"]
        proxy.inject(None)
        started = time.monotonic()
        op.wait_ready(timeout=30)
        print(f"ready {time.monotonic() - started:.1f}s after the API server answered ({refused} requests refused)")
    finally:
        op.stop()
    assert refused > 0


def test_hung_writes_time_out_and_are_retried(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                              proxied_operator: OperatorProcess, rest: Rest, request):
    """Writes that never get an answer (a half-open connection) must not hold their studios for ever."""
    tpl = make_template(cluster, request)
    proxy.inject(Faults({"hang": 1.0}, only=lambda req: req.write and in_namespace(namespace)(req)))
    for i in range(3):
        cluster.apply(studio_manifest(f"h{i}", namespace, tpl, owner=f"h{i}"))
    time.sleep(5)
    proxy.inject(None)
    took = converge(rest, namespace, [tpl], proxied_operator, ["h0", "h1", "h2"])
    print(f"converged {took:.1f}s after {proxy.counts['hang']} writes hung")
    assert proxy.counts["hang"] >= 3


def test_watch_errors_and_hung_watches(cluster: Cluster, namespace: str, proxy: FaultProxy,
                                       proxied_operator: OperatorProcess, rest: Rest, request):
    """Watches expire (410), drop, or hang with the connection open; no change may be missed."""
    tpl = make_template(cluster, request)
    proxy.inject(Faults({"410": 0.4, "drop": 0.3, "hang": 0.3}, only=lambda req: req.watch, every_kind_once=True))
    proxy.drop_watches()
    time.sleep(5)
    for i in range(4):
        persist(lambda i=i: cluster.apply(studio_manifest(f"w{i}", namespace, tpl, owner=f"w{i}")))
    time.sleep(10)
    proxy.inject(None)
    took = converge(rest, namespace, [tpl], proxied_operator, ["w0", "w1", "w2", "w3"],
                    bound=CONVERGE_BOUND + WATCH_INACTIVITY)
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


def test_a_pod_deleted_while_its_watch_was_down_is_noticed_after_relisting(
        cluster: Cluster, namespace: str, proxy: FaultProxy, proxied_operator: OperatorProcess, request):
    """The pod goes while the pod watch hangs; the watch then expires (410) and lists afresh."""
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("gap", namespace, tpl, owner="gap"))
    wait_state(cluster, namespace, "gap", "Running")
    pod_watch = lambda req: req.watch and req.path == "/api/v1/pods"  # noqa: E731
    proxy.inject(Faults({"hang": 1.0}, only=pod_watch))
    proxy.drop_watches()
    cluster.wait_for(lambda: proxy.counts["hang"], timeout=30, what="the pod watch to hang")
    set_spec(cluster, namespace, "gap", state="Stopped")
    cluster.wait_for(lambda: cluster.get("pod", "gap", namespace) is None, timeout=30, what="the pod to go")
    # The next pod watch expires before it shows what it missed: kopf lists afresh.
    proxy.inject(Faults({"410": 1.0}, only=pod_watch, events_before=(0, 0)))
    proxy.drop_watches()
    cluster.wait_for(lambda: proxy.counts["410"], timeout=30, what="the pod watch to expire")
    proxy.inject(None)
    wait_state(cluster, namespace, "gap", "Stopped", timeout=20)
    assert proxy.counts["hang"] >= 1 and proxy.counts["410"] >= 1
    set_spec(cluster, namespace, "gap", state="Running")
    wait_state(cluster, namespace, "gap", "Running", timeout=30)
