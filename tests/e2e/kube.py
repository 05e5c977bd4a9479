"""A small test-side handle on a cluster: kubectl with the right kubeconfig, and waiting."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

import yaml


def unique_name(hint: str, max_len: int = 40) -> str:
    """A DNS label derived from a test name, unique per call."""
    base = re.sub(r"[^a-z0-9-]+", "-", hint.lower()).strip("-")[: max_len - 7].strip("-")
    return f"{base or 't'}-{uuid.uuid4().hex[:6]}"


def kubeconfig_answers(kubeconfig: str, bindir: pathlib.Path) -> bool:
    proc = subprocess.run(
        [bindir / "kubectl", "--kubeconfig", kubeconfig, "get", "--raw", "/readyz", "--request-timeout=5s"],
        capture_output=True,
        text=True,
    )
    return proc.returncode == 0


@dataclasses.dataclass
class Cluster:
    kubeconfig: str
    bindir: pathlib.Path
    # kubectl's discovery cache of this run's cluster alone: its shared one (~/.kube/cache) is
    # keyed by host and port, which local clusters reuse, and another cluster's resources of the
    # same names (a CRD `codestudios` in another group) then made kubectl read the wrong ones.
    kubectl_cache: str = dataclasses.field(default_factory=lambda: tempfile.mkdtemp(prefix="kubectl-cache-"))

    @property
    def env(self) -> dict[str, str]:
        import os

        return {**os.environ, "KUBECONFIG": self.kubeconfig, "KUBECACHEDIR": self.kubectl_cache,
                "PATH": f"{self.bindir}:{os.environ['PATH']}"}

    def kubectl(
        self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(self.bindir / "kubectl"), "--kubeconfig", self.kubeconfig, "--cache-dir", self.kubectl_cache, *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        return proc

    def apply(self, manifest: dict[str, Any] | list[dict[str, Any]] | str, *args: str, check: bool = True):
        text = manifest if isinstance(manifest, str) else yaml.safe_dump_all(
            manifest if isinstance(manifest, list) else [manifest]
        )
        return self.kubectl("apply", "-f", "-", *args, input=text, check=check)

    def get(self, kind: str, name: str | None = None, namespace: str | None = None) -> dict[str, Any] | None:
        args = ["get", kind, *([name] if name else []), "-o", "json"]
        if namespace:
            args += ["-n", namespace]
        proc = self.kubectl(*args, check=False)
        if proc.returncode != 0:
            if "NotFound" in proc.stderr or "not found" in proc.stderr:
                return None
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stderr}")
        return json.loads(proc.stdout)

    def server_version(self) -> dict[str, str]:
        return json.loads(self.kubectl("get", "--raw", "/version").stdout)

    @staticmethod
    def wait_for(predicate: Callable[[], Any], timeout: float = 30, what: str = "condition", interval: float = 0.2,
                 seen: Callable[[], Any] | None = None):
        """Polls until predicate returns something truthy; returns it. On timeout, fails naming what
        it waited for and what it saw last: `seen()` when given, else the predicate's last answer."""
        deadline = time.monotonic() + timeout
        last: Any = None
        while True:
            last = predicate()
            if last:
                return last
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; "
                                     f"last seen: {seen() if seen else repr(last)}")
            time.sleep(interval)

    def wait_for_object(self, fetch: Callable[[], dict[str, Any] | None], accept: Callable[[dict[str, Any]], Any],
                        what: str, timeout: float = 30) -> dict[str, Any]:
        """Polls fetch() until the object it returns passes accept; returns the object. On timeout,
        fails with the object's last status (or its absence), as `kubectl get -o yaml` would show it."""
        last: list[dict[str, Any] | None] = [None]

        def accepted():
            last[0] = fetch()
            return last[0] if last[0] is not None and accept(last[0]) else None

        return self.wait_for(accepted, timeout=timeout, what=what, seen=lambda: describe(last[0]))


def describe(obj: dict[str, Any] | None) -> str:
    """An object's status in one line, conditions as type=status(reason: message)."""
    if obj is None:
        return "no such object"
    status = dict(obj.get("status") or {})
    conditions = status.pop("conditions", None) or []
    shown = [f"{c.get('type')}={c.get('status')}({c.get('reason')}: {c.get('message') or ''})" for c in conditions]
    return json.dumps(status, sort_keys=True) + (f" conditions: {', '.join(shown)}" if shown else "")
