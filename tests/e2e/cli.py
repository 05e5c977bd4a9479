"""Running studioctl as users do: a real process, its stdout, stderr and exit code."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from typing import Any

from tests.e2e.kube import Cluster

STUDIOCTL = pathlib.Path(sys.executable).parent / "studioctl"


def studioctl(cluster: Cluster, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(STUDIOCTL), *args], env=cluster.env, capture_output=True, text=True, timeout=timeout)


def studioctl_json(cluster: Cluster, *args: str) -> Any:
    """studioctl ... -o json, which must succeed and print one JSON document."""
    proc = studioctl(cluster, *args, "-o", "json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)

