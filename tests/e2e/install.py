"""The chart and the operator's identity as the tests use them.

The session's operator runs under the ServiceAccount and ClusterRole the chart installs, with a
token of that ServiceAccount: every e2e test then also proves the chart grants the operator
enough, and the API server refuses anything permissions.py does not list.
"""

from __future__ import annotations

import json
import pathlib
import subprocess

import yaml

from tests.e2e.kube import Cluster

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "studio-operator"
RELEASE, NAMESPACE = "studio-operator", "studio-system"
KUBE_VERSION = "1.30.0"  # helm built from source would assume v1.20 for offline rendering


def helm(cluster: Cluster, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([str(cluster.bindir / "helm"), *args], env=cluster.env, capture_output=True, text=True,
                          timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def render(cluster: Cluster, *args: str, release: str = RELEASE, namespace: str = NAMESPACE) -> list[dict]:
    """`helm template` of the chart, as objects."""
    out = helm(cluster, "template", release, str(CHART), "--namespace", namespace, "--kube-version", KUBE_VERSION,
               *args).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def operator_kubeconfig(cluster: Cluster, directory: pathlib.Path) -> str:
    """A kubeconfig for the chart's operator ServiceAccount, its RBAC (and the member ClusterRoles)
    applied from the chart. Its token comes from an exec plugin, as cloud clusters' kubeconfigs
    have it: kopf's own login does not run exec plugins, so every e2e test also proves that the
    operator's watches log in through its own handler (kube.connection_info)."""
    templates = ("namespace", "serviceaccount", "clusterrole", "clusterrolebinding", "role", "rolebinding",
                 "member-clusterroles")
    identity = render(cluster, "--set", "createNamespace=true", *(f"--show-only=templates/{t}.yaml" for t in templates))
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "--field-manager=studio-e2e", "-f", "-",
                    input=yaml.safe_dump_all(identity))
    account = next(d["metadata"]["name"] for d in identity if d["kind"] == "ServiceAccount")
    token = cluster.kubectl("-n", NAMESPACE, "create", "token", account, "--duration=24h").stdout.strip()
    credential = directory / "operator-credential.json"
    credential.touch(mode=0o600)
    credential.write_text(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                                      "status": {"token": token}}))
    admin = yaml.safe_load(cluster.kubectl("config", "view", "--raw", "--minify", "--flatten").stdout)
    context = admin["contexts"][0]["context"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": admin["clusters"],
        "users": [{"name": account, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1", "command": "cat", "args": [str(credential)],
            "interactiveMode": "Never"}}}],
        "contexts": [{"name": account, "context": {"cluster": context["cluster"], "user": account}}],
        "current-context": account,
    }
    path = directory / "operator-kubeconfig.yaml"
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return str(path)
