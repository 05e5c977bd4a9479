"""studioctl template ...: list, status and build logs."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.e2e.cli import STUDIOCTL, studioctl, studioctl_json
from tests.e2e.kube import Cluster, unique_name
from tests.e2e.studios import BUILD_NAMESPACE, build_template, make_template


def test_list_and_status_of_a_prebuilt_template(cluster: Cluster, crds, request):
    tpl = make_template(cluster, request, image="quay.io/jupyter/base-notebook:2024-12-02")
    listed = studioctl(cluster, "template", "list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split() == ["NAME", "IMAGE", "BUILD", "STUDIOS", "READY", "AGE"]
    row = next(line.split() for line in listed.stdout.splitlines() if line.split()[0] == tpl)
    assert row[1].startswith("quay.io/jupyter/base-notebook")
    assert tpl in [i["metadata"]["name"] for i in studioctl_json(cluster, "template", "list")["items"]]

    status = studioctl(cluster, "template", "status", tpl)
    assert status.returncode == 0
    assert "Source:     prebuilt quay.io/jupyter/base-notebook:2024-12-02" in status.stdout
    # The template's status object itself, as the API server has it.
    cluster.wait_for(lambda: studioctl_json(cluster, "template", "status", tpl)
                     == (cluster.get("codestudiotemplate", tpl).get("status") or {}), what="status -o json to be the stored status")

    logs = studioctl(cluster, "template", "logs", tpl)
    assert logs.returncode == 1
    assert f"error: template {tpl} uses a prebuilt image; it has no build" in logs.stderr

    missing = studioctl(cluster, "template", "status", "no-such-template")
    assert missing.returncode == 1 and '"no-such-template" not found' in missing.stderr


@pytest.mark.usefixtures("running_operator")
def test_logs_of_a_build(cluster: Cluster, tmp_path, request):
    """Needs the operator's image builds: a build Job whose pod kwok keeps running (no Stage
    completes it here)."""
    cluster.kubectl("create", "namespace", BUILD_NAMESPACE, check=False)
    tpl, _ = build_template(cluster, request, repository="registry.example.com/studios/np", push_secret=None)
    # What the builder would print, served by kwok's fake kubelet in the CRI log format.
    log = tmp_path / "build.log"
    log.write_text("".join(f"2026-01-01T00:00:0{i}.000000000Z stdout F {line}\n"
                           for i, line in enumerate(["STEP 1/3: FROM python:3.12-slim", "STEP 2/3: RUN pip install numpy",
                                                     "Pushed registry.example.com/studios/np"])))
    logs_name = unique_name("build-logs")
    cluster.apply({"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterLogs", "metadata": {"name": logs_name},
                   "spec": {"selector": {"matchNamespaces": [BUILD_NAMESPACE]}, "logs": [{"logsFile": str(log)}]}})
    request.addfinalizer(lambda: cluster.kubectl("delete", "clusterlogs", logs_name, check=False))

    job = cluster.wait_for(lambda: ((cluster.get("codestudiotemplate", tpl).get("status") or {}).get("build") or {}).get("job"),
                           timeout=60, what="the template's build job")
    cluster.wait_for(lambda: cluster.get("pods", namespace=BUILD_NAMESPACE) and any(
        p["metadata"]["labels"].get("job-name") == job for p in cluster.get("pods", namespace=BUILD_NAMESPACE)["items"]),
        timeout=60, what="the build pod")

    status = studioctl(cluster, "template", "status", tpl)
    assert "Build job:" in status.stdout and job in status.stdout
    logs = studioctl(cluster, "template", "logs", tpl)
    assert logs.returncode == 0, logs.stderr
    assert logs.stdout.splitlines() == ["STEP 1/3: FROM python:3.12-slim", "STEP 2/3: RUN pip install numpy",
                                        "Pushed registry.example.com/studios/np"]
    tail = studioctl(cluster, "template", "logs", tpl, "--tail", "1")
    assert tail.stdout.splitlines() == ["Pushed registry.example.com/studios/np"]
    nothing = studioctl(cluster, "template", "logs", tpl, "--tail", "0")  # as kubectl logs --tail=0
    assert (nothing.returncode, nothing.stdout, nothing.stderr) == (0, "", "")
    # An operator installed elsewhere runs its builds there: the flag, or the variable, says where.
    elsewhere = studioctl(cluster, "template", "logs", tpl, "--operator-namespace", "elsewhere")
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.startswith(f"error: build job elsewhere/{job} has no pods left"), elsewhere.stderr
    from_env = subprocess.run([str(STUDIOCTL), "template", "logs", tpl], capture_output=True, text=True, timeout=60,
                              env={**cluster.env, "STUDIO_OPERATOR_NAMESPACE": "elsewhere"})
    assert (from_env.returncode, from_env.stderr) == (1, elsewhere.stderr)
    assert json.loads(studioctl(cluster, "template", "status", tpl, "-o", "json").stdout)["build"]["job"] == job
