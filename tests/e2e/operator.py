"""The operator as a real process for e2e tests: started, SIGKILLed and restarted at will."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator

ROOT = pathlib.Path(__file__).resolve().parents[2]


def free_port() -> int:
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


WEBHOOK_CONFIGURATIONS = ("validatingwebhookconfiguration/studio.dev", "mutatingwebhookconfiguration/studio.dev")


@contextlib.contextmanager
def validating_webhooks_bypassed(kubectl: Callable[..., subprocess.CompletedProcess]) -> Iterator[None]:
    """The operator's validating webhooks out of the way (as a cluster admin may do, or a request
    racing another may slip past them), to show what holds without them; restored afterwards."""
    saved = json.loads(kubectl("get", WEBHOOK_CONFIGURATIONS[0], "-o", "json").stdout)
    for field in ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields"):
        saved["metadata"].pop(field, None)
    kubectl("delete", WEBHOOK_CONFIGURATIONS[0])
    try:
        yield
    finally:
        kubectl("create", "-f", "-", input=json.dumps(saved))


class OperatorProcess:
    def __init__(self, kubeconfig: str, log_path: pathlib.Path, env: dict[str, str] | None = None,
                 kubectl: Callable[..., subprocess.CompletedProcess] | None = None):
        """With `kubectl`, start() also waits until the API server calls this process's webhooks."""
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.extra_env = env or {}
        self.kubectl = kubectl
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.metrics_port = 0
        self.webhook_port = 0

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/healthz"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def start(self, timeout: float | None = 60) -> None:
        """Starts the process and, unless timeout is None, waits until it is ready."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port = free_port()
        self.metrics_port = free_port()
        self.webhook_port = free_port()
        env = {**os.environ, "KUBECONFIG": self.kubeconfig, "STUDIO_UNSCHEDULABLE_TIMEOUT": "5", **self.extra_env}
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [str(pathlib.Path(sys.executable).parent / "studio-operator"), "--liveness", self.health_url,
             "--metrics-host", "127.0.0.1", "--metrics-port", str(self.metrics_port),
             "--webhook-port", str(self.webhook_port)],
            env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        if timeout is not None:
            try:
                self.wait_ready(timeout)
            except AssertionError:
                self.stop()  # not left behind, retrying on its own, after the test run
                raise

    def wait_ready(self, timeout: float) -> None:
        """Until it answers its liveness probe and its webhooks are registered."""
        deadline = time.monotonic() + timeout
        while not self.healthy() or not self._webhooks_registered():
            if self.proc.poll() is not None:
                raise AssertionError(f"operator exited with {self.proc.returncode}; see {self.log_path}")
            if time.monotonic() > deadline:
                what = ("does not answer its liveness probe" if not self.healthy()
                        else f"is not what its webhooks call (port {self.webhook_port})")
                raise AssertionError(f"operator {what} at {self.health_url} after {timeout}s; see {self.log_path}")
            time.sleep(0.2)

    def healthy(self, timeout: float = 1) -> bool:
        """It runs and answers its liveness probe (kopf could stop inside a living process)."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(self.health_url, timeout=timeout) as resp:
                return resp.status == 200
        except OSError:
            return False

    def _webhooks_registered(self) -> bool:
        """Every webhook of ours calls this process's port (not a killed predecessor's)."""
        if self.kubectl is None:
            return True
        for configuration in WEBHOOK_CONFIGURATIONS:
            urls = self.kubectl("get", configuration, "-o", "jsonpath={.webhooks[*].clientConfig.url}",
                                check=False).stdout.split()
            if not urls or any(f":{self.webhook_port}/" not in url for url in urls):
                return False
        return True

    def kill(self) -> None:
        """SIGKILL: no cleanup, no goodbye, as a node failure or OOM kill would do."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()
