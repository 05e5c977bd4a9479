"""The benchmark's own control plane: hack/cluster.sh with bench/kwokctl.yaml layered on top."""

from __future__ import annotations

import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[1]
NAME = "bench"


def _env(nodes: int) -> dict[str, str]:
    return {
        **os.environ,
        "STUDIO_CLUSTER_NAME": NAME,
        "STUDIO_CLUSTER_NODES": str(nodes),
        "STUDIO_CLUSTER_CONFIG": "bench/kwokctl.yaml",
    }


def bindir() -> pathlib.Path:
    return pathlib.Path(subprocess.check_output([ROOT / "hack" / "bindir.sh"], text=True).strip())


def up(nodes: int) -> str:
    """Starts a fresh bench cluster (any earlier one is removed first); returns its kubeconfig."""
    down()
    out = subprocess.run([ROOT / "hack" / "cluster.sh", "up"], env=_env(nodes), cwd=ROOT,
                         stdout=subprocess.PIPE, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def down() -> None:
    subprocess.run([ROOT / "hack" / "cluster.sh", "down"], env=_env(0), cwd=ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def audit_log() -> pathlib.Path:
    return ROOT / ".work" / "kwok" / "clusters" / NAME / "logs" / "audit.log"


def kubectl(kubeconfig: str, *args: str) -> str:
    return subprocess.run([bindir() / "kubectl", "--kubeconfig", kubeconfig, *args],
                          stdout=subprocess.PIPE, text=True, check=True).stdout


def install_crds(kubeconfig: str) -> None:
    kubectl(kubeconfig, "apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "crds"))
    kubectl(kubeconfig, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
