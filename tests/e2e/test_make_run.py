"""`make run` (hack/run.sh): the liveness endpoint `studioctl doctor --operator-url` asks."""

from __future__ import annotations

import json
import os
import pathlib
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable

import pytest

from tests.e2e.cli import studioctl
from tests.e2e.kube import Cluster
from tests.e2e.operator import OperatorProcess

ROOT = pathlib.Path(__file__).resolve().parents[2]
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
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop takes its webhooks away again
        proc.wait(30)
    return log.read_text()


def test_make_run_serves_the_liveness_endpoint_doctor_asks(cluster: Cluster, operator: OperatorProcess, tmp_path):
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", 8080)) == 0:
            pytest.skip("port 8080, make run's liveness endpoint, is taken on this machine")
    operator.stop()  # one operator at a time; the next test's running_operator starts it again

    def doctor_asks_the_operator() -> None:
        proc = studioctl(cluster, "doctor", "--operator-url", DEFAULT_HEALTH, "-o", "json")
        findings = [f for f in json.loads(proc.stdout)["findings"] if f["check"] == "operator"]
        assert findings == [{"check": "operator", "subject": DEFAULT_HEALTH, "status": "ok",
                             "message": "healthy (HTTP 200)", "next_step": ""}]

    make_run(cluster.kubeconfig, tmp_path / "run.log", while_running=doctor_asks_the_operator)
