"""The README's walkthrough, run as written against the test cluster and the session operator.

`sh` blocks run in order in bash; in `console` blocks, each `$ command` runs too (a `-w` watch
for a few seconds) and the line after it, the table header the README shows, must be the one
kubectl prints. The install commands above the walkthrough need an image registry; the chart
and install.yaml they use are tested in test_install.py.
"""

from __future__ import annotations

import re
import subprocess

from tests.e2e.install import ROOT
from tests.e2e.kube import Cluster
from tests.e2e.operator import OperatorProcess

SECTION = "## Walkthrough"


def walkthrough_blocks() -> list[tuple[str, str]]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(sh|console)\n(.*?)```", section, re.S)


def console_commands(block: str) -> list[tuple[str, str | None]]:
    """(command, header line shown under it, if any) for each `$ ` line."""
    lines = block.splitlines()
    out = []
    for i, line in enumerate(lines):
        if line.startswith("$ "):
            following = lines[i + 1] if i + 1 < len(lines) and not lines[i + 1].startswith("$ ") else None
            out.append((line[2:], following))
    return out


def run(cluster: Cluster, script: str, watch: bool = False) -> str:
    try:
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], env=cluster.env, capture_output=True,
                              text=True, timeout=5 if watch else 600, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        assert watch, f"timed out: {script}"
        return (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
    assert proc.returncode == 0, f"README command failed ({proc.returncode}):\n{script}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_readme_walkthrough_runs_as_written(cluster: Cluster, running_operator: OperatorProcess, request):
    blocks = walkthrough_blocks()
    assert [kind for kind, _ in blocks].count("sh") >= 4
    request.addfinalizer(lambda: run(cluster, "kubectl -n team-a delete codestudio alice --ignore-not-found --wait=false;"
                                              "kubectl delete workspace team-a --ignore-not-found --wait=false;"
                                              "kubectl delete codestudiotemplate jupyter --ignore-not-found --wait=false"))
    for kind, block in blocks:
        if kind == "sh":
            run(cluster, block)
            continue
        for command, header in console_commands(block):
            output = run(cluster, command, watch=" -w" in command)
            if header and header.startswith("NAME"):
                assert output.splitlines()[0].split() == header.split(), command
            else:
                assert output.strip(), command
    assert cluster.get("workspace", "team-a") is None
    assert cluster.get("codestudiotemplate", "jupyter") is None
