"""studioctl studio ...: listing and showing studios, and start/stop/restart/open with the
operator carrying them out."""

from __future__ import annotations

import contextlib
import http.server
import json
import signal
import subprocess
import threading
import urllib.request

import pytest

from tests.e2e.cli import STUDIOCTL, studioctl, studioctl_json
from tests.e2e.kube import Cluster, unique_name
from tests.e2e.studios import build_template, make_template, pod_uid, studio_manifest, wait_state

UNPULLABLE = "registry.invalid/studios/none:1"  # kwok's nodes fail to pull from *.invalid registries


def test_list_get_status(cluster: Cluster, crds, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply([studio_manifest("ana", namespace, tpl, owner="ana"),
                   studio_manifest("ben", namespace, tpl, owner="ben", state="Stopped")])

    listed = studioctl(cluster, "studio", "list", "-n", namespace)
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["NAME", "STATE", "OWNER", "TEMPLATE", "READY", "AGE"]
    assert [r.split()[0] for r in rows] == ["ana", "ben"]
    assert rows[0].split()[2:4] == ["ana", tpl]

    mine = studioctl_json(cluster, "studio", "list", "-n", namespace, "--owner", "ben")
    assert [i["metadata"]["name"] for i in mine["items"]] == ["ben"]
    everywhere = studioctl(cluster, "studio", "list", "-A", "--template", tpl)
    assert everywhere.stdout.splitlines()[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert {tuple(r.split()[:2]) for r in everywhere.stdout.splitlines()[1:]} == {(namespace, "ana"), (namespace, "ben")}
    none = studioctl(cluster, "studio", "list", "-n", namespace, "--template", "no-such-template")
    assert none.returncode == 0 and none.stdout.strip() == f"No code studios found in namespace {namespace}."

    shown = studioctl(cluster, "studio", "get", "ben", "-n", namespace)
    assert shown.returncode == 0
    assert "Owner:" in shown.stdout and "Desired state:   Stopped" in shown.stdout
    # The status object itself, as the API server has it, however far the operator got.
    cluster.wait_for(lambda: studioctl_json(cluster, "studio", "status", "ana", "-n", namespace)
                     == (cluster.get("codestudio", "ana", namespace).get("status") or {}),
                     what="status -o json to be the stored status")

    missing = studioctl(cluster, "studio", "status", "nobody", "-n", namespace)
    assert missing.returncode == 1 and '"nobody" not found' in missing.stderr


@pytest.mark.usefixtures("running_operator")
def test_stop_wait_returns_once_stopped(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("cleo", namespace, tpl, owner="cleo"))
    wait_state(cluster, namespace, "cleo", "Running")

    proc = studioctl(cluster, "studio", "stop", "cleo", "-n", namespace, "--wait", "--timeout", "60s")
    assert proc.returncode == 0, proc.stderr
    # Right when the command returns, the studio is Stopped and its pod gone.
    obj = cluster.get("codestudio", "cleo", namespace)
    assert obj["status"]["state"] == "Stopped"
    assert obj["status"]["observedGeneration"] == obj["metadata"]["generation"]
    assert cluster.get("pod", "cleo", namespace) is None
    assert proc.stdout.splitlines() == ["codestudio/cleo stop requested", "codestudio/cleo Stopped"]
    assert f"waiting for CodeStudio {namespace}/cleo to be Stopped (timeout 60s)" in proc.stderr
    assert proc.stderr.rstrip().endswith("Stopped")  # the progress display ends on the outcome


@pytest.mark.usefixtures("running_operator")
def test_start_and_restart_wait(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("dan", namespace, tpl, owner="dan", state="Stopped"))
    wait_state(cluster, namespace, "dan", "Stopped")

    started = studioctl(cluster, "studio", "start", "dan", "-n", namespace, "--wait", "-o", "json")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["status"]["state"] == "Running"  # -o json: the object afterwards
    first = pod_uid(cluster, namespace, "dan")
    assert first

    restarted = studioctl(cluster, "studio", "restart", "dan", "-n", namespace, "--wait")
    assert restarted.returncode == 0, restarted.stderr
    assert restarted.stdout.splitlines()[-1] == "codestudio/dan Running"
    obj = cluster.get("codestudio", "dan", namespace)
    assert obj["status"]["restartedAt"] == obj["spec"]["restartRequestedAt"]
    assert pod_uid(cluster, namespace, "dan") not in (None, first)

    # A second restart within the same second still restarts (its time is newer).
    again = studioctl(cluster, "studio", "restart", "dan", "-n", namespace, "--wait")
    assert again.returncode == 0, again.stderr
    assert cluster.get("codestudio", "dan", namespace)["spec"]["restartRequestedAt"] > obj["spec"]["restartRequestedAt"]


@pytest.mark.usefixtures("running_operator")
def test_wait_exits_1_when_the_studio_fails(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request, image=UNPULLABLE)
    cluster.apply(studio_manifest("eve", namespace, tpl, owner="eve", state="Stopped"))
    wait_state(cluster, namespace, "eve", "Stopped")
    proc = studioctl(cluster, "studio", "start", "eve", "-n", namespace, "--wait", "--timeout", "60s")
    assert proc.returncode == 1
    assert f'error: CodeStudio {namespace}/eve is Failed: ErrImagePull: failed to pull image "{UNPULLABLE}"' in proc.stderr


@pytest.mark.usefixtures("running_operator")
def test_wait_times_out_with_exit_1(cluster: Cluster, namespace: str, request):
    tpl, _ = build_template(cluster, request, push_secret=None)  # never built here: the studio stays Starting
    cluster.apply(studio_manifest("fay", namespace, tpl, owner="fay", state="Stopped"))
    wait_state(cluster, namespace, "fay", "Stopped")
    proc = studioctl(cluster, "studio", "start", "fay", "-n", namespace, "--wait", "--timeout", "3s")
    assert proc.returncode == 1
    assert f"error: timed out after 3s waiting for CodeStudio {namespace}/fay to be Running (now: Starting" in proc.stderr
    assert cluster.get("codestudio", "fay", namespace)["spec"]["state"] == "Running"  # the request stands


def test_change_owner(cluster: Cluster, crds, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("gus", namespace, tpl, owner="gus", state="Stopped"))
    proc = studioctl(cluster, "studio", "change-owner", "gus", "carol", "-n", namespace)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "codestudio/gus owner is now carol"
    assert cluster.get("codestudio", "gus", namespace)["spec"]["owner"] == "carol"


@contextlib.contextmanager
def http_server(body: bytes):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()


@pytest.mark.usefixtures("running_operator")
def test_open_forwards_the_main_port(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)  # main port 8888
    cluster.apply(studio_manifest("hal", namespace, tpl, owner="hal"))
    wait_state(cluster, namespace, "hal", "Running")
    with http_server(b"hello from the studio") as port:
        # kwok's fake kubelet forwards the pod's port 8888 to our server: the path a real
        # port-forward takes (client -> API server -> kubelet -> pod) is the same.
        forward = unique_name("pf")
        cluster.apply({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterPortForward", "metadata": {"name": forward},
                       "spec": {"selector": {"matchNamespaces": [namespace]},
                                "forwards": [{"ports": [8888], "target": {"port": port, "address": "127.0.0.1"}}]}})
        request.addfinalizer(lambda: cluster.kubectl("delete", "clusterportforward", forward, check=False))
        proc = subprocess.Popen([str(STUDIOCTL), "studio", "open", "hal", "-n", namespace], env=cluster.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            url = proc.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.poll() is not None else url
            for _ in range(2):  # each connection gets its own stream
                with urllib.request.urlopen(url, timeout=30) as resp:
                    assert resp.read() == b"hello from the studio"
            # A second `open` on the port the first holds: an error, not a traceback.
            busy = url.rsplit(":", 1)[1].rstrip("/")
            second = studioctl(cluster, "studio", "open", "hal", "-n", namespace, "--port", busy)
            assert (second.returncode, second.stdout) == (1, "")
            assert second.stderr == f"error: cannot listen on 127.0.0.1:{busy}: Address already in use\n"
            # The traffic is reported as activity, which the idle timeout counts from.
            reported = cluster.wait_for(lambda: (cluster.get("codestudio", "hal", namespace)["metadata"].get("annotations")
                                                 or {}).get("studio.dev/last-activity"), what="activity to be reported")
            cluster.wait_for(lambda: cluster.get("codestudio", "hal", namespace)["status"].get("lastActivity") == reported,
                             what="the operator to record the activity")
        finally:
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "to codestudio/hal (pod hal port 8888)" in err


def test_open_refuses_a_studio_that_is_not_running(cluster: Cluster, crds, namespace: str, request):
    tpl = make_template(cluster, request)
    cluster.apply(studio_manifest("ivy", namespace, tpl, owner="ivy", state="Stopped"))
    proc = studioctl(cluster, "studio", "open", "ivy", "-n", namespace)
    assert proc.returncode == 1
    assert "not Running; start it first" in proc.stderr
