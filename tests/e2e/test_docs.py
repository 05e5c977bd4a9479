"""The examples of docs/cli.md and docs/sdk.md run as written, in order, with the operator.

```sh blocks run in bash (set -euo pipefail) with studioctl and kubectl on the PATH;
```python blocks run in one shared namespace, as in a notebook. Other blocks (console
transcripts) are illustrations and do not run.
"""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys

import pytest

from tests.e2e.kube import Cluster
from tests.e2e.operator import OperatorProcess
from tests.e2e.workspaces import install_member_roles

ROOT = pathlib.Path(__file__).resolve().parents[2]
FENCE = re.compile(r"^```(sh|python)\n(.*?)^```$", re.S | re.M)
# What the examples create; removed before (a previous run may have left it) and after.
LEFTOVERS = {"team-a": ("notebook",), "team-b": ("bob-notebook",)}
TEMPLATES = ("jupyter", "jupyter-sdk")


def blocks(path: pathlib.Path) -> list[tuple[str, str]]:
    return FENCE.findall(path.read_text())


def clean(cluster: Cluster) -> None:
    for namespace, studios in LEFTOVERS.items():
        for studio in studios:
            cluster.kubectl("-n", namespace, "delete", "codestudio", studio, "--ignore-not-found", "--timeout=60s", check=False)
        cluster.kubectl("delete", "workspace", namespace, "--ignore-not-found", "--timeout=60s", check=False)
    cluster.kubectl("delete", "codestudiotemplate", *TEMPLATES, "--ignore-not-found", check=False)


@pytest.fixture
def docs_env(cluster: Cluster, running_operator: OperatorProcess, monkeypatch):
    install_member_roles(cluster)  # part of every install
    clean(cluster)
    env = {**cluster.env, "PATH": f"{pathlib.Path(sys.executable).parent}:{cluster.env['PATH']}",
           "STUDIO_OPERATOR_URL": running_operator.health_url}
    for key in ("KUBECONFIG", "STUDIO_OPERATOR_URL"):
        monkeypatch.setenv(key, env[key])
    yield env
    clean(cluster)


@pytest.mark.parametrize("doc", ["cli.md", "sdk.md"])
def test_examples_run(doc: str, docs_env: dict[str, str], tmp_path):
    path = ROOT / "docs" / doc
    found = blocks(path)
    assert found, f"no runnable examples in {path}"
    scope: dict = {"__name__": f"docs_{doc.replace('.', '_')}"}
    for number, (language, code) in enumerate(found, 1):
        where = f"{path.relative_to(ROOT)} example {number}"
        if language == "sh":
            proc = subprocess.run(["bash", "-euo", "pipefail", "-c", code], env=docs_env, cwd=tmp_path,
                                  capture_output=True, text=True, timeout=600)
            assert proc.returncode == 0, f"{where} exited {proc.returncode}:\n{code}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        else:
            exec(compile(code, where, "exec"), scope)  # noqa: S102 - running the docs is the point
