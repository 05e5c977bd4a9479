"""studioctl ws ...: each command's output, exit code and effect on the server."""

from __future__ import annotations

import json
import subprocess

import yaml

from tests.e2e.cli import STUDIOCTL, studioctl, studioctl_json
from tests.e2e.kube import Cluster
from tests.e2e.workspaces import workspace_manifest


def members(cluster: Cluster, name: str) -> list[dict]:
    return cluster.get("workspace", name)["spec"].get("members", [])


def test_create_list_get_delete(cluster: Cluster, ws_name: str):
    created = studioctl(cluster, "ws", "create", ws_name, "--owner", "alice", "--tier", "gold", "--display-name", "Team A")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip() == f"workspace/{ws_name} created"
    spec = cluster.get("workspace", ws_name)["spec"]
    assert spec["tier"] == "gold" and spec["displayName"] == "Team A"
    assert spec["members"] == [{"kind": "User", "name": "alice", "role": "owner"}]

    listed = studioctl(cluster, "ws", "list")
    assert listed.returncode == 0
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["NAME", "PHASE", "NAMESPACE", "MEMBERS", "STUDIOS", "RUNNING", "TIER", "READY", "AGE"]
    row = next(r.split() for r in rows if r.split()[0] == ws_name)
    assert row[3] == "1" and row[6] == "gold"

    shown = studioctl(cluster, "ws", "get", ws_name)
    assert shown.returncode == 0
    assert f"Name:            {ws_name}" in shown.stdout
    assert "Display name:    Team A" in shown.stdout
    assert "Members:\n  KIND   NAME    ROLE\n  User   alice   owner" in shown.stdout

    deleted = studioctl(cluster, "ws", "delete", ws_name, "--wait", "--timeout", "60s")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == f"workspace/{ws_name} deleted"
    assert cluster.get("workspace", ws_name) is None


def test_list_json_and_yaml_parse(cluster: Cluster, ws_name: str):
    cluster.apply(workspace_manifest(ws_name, tier="silver"))
    doc = studioctl_json(cluster, "ws", "list")
    assert doc["kind"] == "List"
    item = next(i for i in doc["items"] if i["metadata"]["name"] == ws_name)
    assert item["kind"] == "Workspace" and item["spec"]["tier"] == "silver"
    assert "managedFields" not in item["metadata"]

    proc = studioctl(cluster, "ws", "get", ws_name, "-o", "yaml")
    assert proc.returncode == 0
    assert yaml.safe_load(proc.stdout)["metadata"]["name"] == ws_name


def test_add_user_remove_user(cluster: Cluster, ws_name: str):
    cluster.apply(workspace_manifest(ws_name, members=[{"name": "alice", "role": "owner"}]))
    added = studioctl(cluster, "ws", "add-user", ws_name, "bob", "--role", "admin")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == f"workspace/{ws_name}: User bob is admin"
    assert {"kind": "User", "name": "bob", "role": "admin"} in members(cluster, ws_name)

    # Adding again changes the role rather than adding a second entry.
    assert studioctl(cluster, "ws", "add-user", ws_name, "bob", "--role", "viewer").returncode == 0
    assert [m["role"] for m in members(cluster, ws_name) if m["name"] == "bob"] == ["viewer"]

    sa = studioctl(cluster, "ws", "add-user", ws_name, "ci", "--kind", "ServiceAccount", "--member-namespace", "tools")
    assert sa.returncode == 0, sa.stderr
    assert {"kind": "ServiceAccount", "name": "ci", "namespace": "tools", "role": "member"} in members(cluster, ws_name)

    removed = studioctl(cluster, "ws", "remove-user", ws_name, "bob")
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.strip() == f"workspace/{ws_name}: User bob removed"
    assert [m["name"] for m in members(cluster, ws_name)] == ["alice", "ci"]

    again = studioctl(cluster, "ws", "remove-user", ws_name, "bob")
    assert again.returncode == 1
    assert f"User bob is not a member of workspace {ws_name}" in again.stderr


def test_stop_and_start_write_spec(cluster: Cluster, ws_name: str):
    cluster.apply(workspace_manifest(ws_name))
    stopped = studioctl(cluster, "ws", "stop", ws_name)
    assert stopped.returncode == 0, stopped.stderr
    assert stopped.stdout.strip() == f"workspace/{ws_name} stop requested"
    assert cluster.get("workspace", ws_name)["spec"]["state"] == "Stopped"
    started = studioctl(cluster, "ws", "start", ws_name, "-o", "json")
    assert started.returncode == 0, started.stderr
    assert json.loads(started.stdout)["spec"]["state"] == "Active"
    assert cluster.get("workspace", ws_name)["spec"]["state"] == "Active"


def test_failures_exit_1_and_usage_errors_exit_2(cluster: Cluster, ws_name: str):
    missing = studioctl(cluster, "ws", "get", ws_name)
    assert missing.returncode == 1
    assert f'"{ws_name}" not found' in missing.stderr and missing.stdout == ""

    # The API server's validation (CEL) refuses a reserved namespace; the message says why.
    refused = studioctl(cluster, "ws", "create", ws_name, "--ws-namespace", "kube-system")
    assert refused.returncode == 1
    assert "kube-system" in refused.stderr and "reserved" in refused.stderr
    assert cluster.get("workspace", ws_name) is None

    for args in (["ws"], ["ws", "add-user", ws_name, "bob", "--role", "boss"], ["ws", "list", "-o", "wide"],
                 ["ws", "stop", ws_name, "--timeout", "soon"], ["nonsense"]):
        proc = studioctl(cluster, *args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert "usage:" in proc.stderr


def test_flags_go_before_or_after_the_subcommand(cluster: Cluster, ws_name: str):
    cluster.apply(workspace_manifest(ws_name))
    before = studioctl(cluster, "-o", "json", "ws", "get", ws_name)
    after = studioctl(cluster, "ws", "get", ws_name, "-o", "json")
    assert before.returncode == after.returncode == 0
    assert before.stdout == after.stdout


def test_unreachable_cluster_exits_1(cluster: Cluster, tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(unreachable_kubeconfig("https://127.0.0.1:1"))
    proc = studioctl(cluster, "--kubeconfig", str(kubeconfig), "ws", "list")
    assert proc.returncode == 1
    assert "cannot reach the API server" in proc.stderr


def unreachable_kubeconfig(server: str) -> str:
    return f"""apiVersion: v1
kind: Config
clusters: [{{name: c, cluster: {{server: "{server}", insecure-skip-tls-verify: true}}}}]
users: [{{name: u, user: {{token: none}}}}]
contexts: [{{name: c, context: {{cluster: c, user: u}}}}]
current-context: c
"""


def test_kubectl_plugin(cluster: Cluster, ws_name: str):
    """kubectl runs kubectl-studio from the PATH as `kubectl studio`."""
    cluster.apply(workspace_manifest(ws_name))
    env = {**cluster.env, "PATH": f"{STUDIOCTL.parent}:{cluster.env['PATH']}"}
    listed = subprocess.run([str(cluster.bindir / "kubectl"), "studio", "ws", "list", "-o", "json"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    assert ws_name in [i["metadata"]["name"] for i in json.loads(listed.stdout)["items"]]
    helped = subprocess.run([str(cluster.bindir / "kubectl"), "studio", "--help"], env=env, capture_output=True, text=True)
    assert helped.stdout.startswith("usage: kubectl studio ")
