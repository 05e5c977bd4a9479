"""`make run` (hack/run.sh) against a cluster KUBECONFIG names: what it installs, whether it
registers its webhooks, and the liveness endpoint `studioctl doctor --operator-url` asks."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Callable

import pytest
import yaml

from tests.e2e.cli import studioctl
from tests.e2e.kube import Cluster
from tests.e2e.operator import OperatorProcess, free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLE_WORKSPACE = yaml.safe_load((ROOT / "manifests" / "samples" / "workspace.yaml").read_text())["metadata"]["name"]
DEFAULT_HEALTH = "http://127.0.0.1:8080/healthz"  # docs/cli.md: what `make run` serves


def make_run(kubeconfig: str, log: pathlib.Path, health: str | None = None,
             while_running: Callable[[], None] = lambda: None) -> str:
    """Runs hack/run.sh (with STUDIO_LIVENESS_ENDPOINT=health, if given) until its operator answers
    its liveness probe, then while_running(), then Ctrl-C; returns what it printed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_WEBHOOK_", "STUDIO_LIVENESS_"))}
    env.update(KUBECONFIG=kubeconfig, **({"STUDIO_LIVENESS_ENDPOINT": health} if health else {}))
    url = health or DEFAULT_HEALTH
    with log.open("w") as out:
        proc = subprocess.Popen([str(ROOT / "hack" / "run.sh")], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, f"make run exited with {proc.returncode}:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no answer on {url} after 90s:\n{log.read_text()}"
            try:
                with urllib.request.urlopen(url, timeout=1) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        while_running()
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop (its webhooks stay; the next operator takes them over)
        proc.wait(30)
    return log.read_text()


def test_make_run_against_another_cluster_installs_no_samples_and_registers_no_webhooks(
        cluster: Cluster, operator: OperatorProcess, tmp_path):
    operator.stop()  # one operator at a time; the next test's running_operator starts it again
    # The test cluster under another kubeconfig path: to run.sh, some cluster other than the local one.
    elsewhere = tmp_path / "kubeconfig"
    shutil.copy(cluster.kubeconfig, elsewhere)

    # A free port rather than the default 8080, which something else on the machine may hold.
    health = f"http://127.0.0.1:{free_port()}/healthz"

    def doctor_asks_the_operator() -> None:
        proc = studioctl(cluster, "doctor", "--operator-url", health, "-o", "json")
        findings = [f for f in json.loads(proc.stdout)["findings"] if f["check"] == "operator"]
        assert findings == [{"check": "operator", "subject": health, "status": "ok",
                             "message": "healthy (HTTP 200)", "next_step": ""}]

    out = make_run(str(elsewhere), tmp_path / "run.log", health=health, while_running=doctor_asks_the_operator)
    assert "run: registering no admission webhooks: this cluster's API server cannot call 127.0.0.1 here" in out
    assert "webhook_managed=False" in out  # the operator's "started: Config(...)" line
    assert cluster.kubectl("get", "workspace", SAMPLE_WORKSPACE, check=False).returncode != 0, "samples applied"


def test_make_run_against_the_local_control_plane_registers_its_webhooks(cluster: Cluster, operator: OperatorProcess,
                                                                          tmp_path):
    local = subprocess.run([str(ROOT / "hack" / "cluster.sh"), "kubeconfig"], capture_output=True, text=True,
                           check=True).stdout.strip()
    if os.path.realpath(local) != os.path.realpath(cluster.kubeconfig):
        pytest.skip("the tests run against KUBECONFIG's cluster, not the local control plane")
    operator.stop()
    out = make_run(cluster.kubeconfig, tmp_path / "run.log", health=f"http://127.0.0.1:{free_port()}/healthz")
    assert "registering no admission webhooks" not in out
    assert "webhook_managed=True" in out
    # Samples go only into a control plane make run started itself.
    assert cluster.kubectl("get", "workspace", SAMPLE_WORKSPACE, check=False).returncode != 0, "samples applied"
