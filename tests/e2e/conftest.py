"""Fixtures for end-to-end tests against a real kube-apiserver.

The cluster is the one `KUBECONFIG` points at when it answers, otherwise the local control
plane (hack/cluster.sh), started for the session and stopped after it unless
STUDIO_KEEP_CLUSTER=1. There is no skipping: without a cluster the session errors.
"""

from __future__ import annotations

import os
import pathlib
import subprocess

import pytest

from tests.e2e.install import operator_kubeconfig
from tests.e2e.kube import Cluster, kubeconfig_answers, unique_name
from tests.e2e.operator import WEBHOOK_CONFIGURATIONS, OperatorProcess
from tests.e2e.studios import BUILD_NAMESPACE, BUILD_STAGES

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    for item in items:
        if pathlib.Path(item.fspath).is_relative_to(ROOT / "tests" / "e2e"):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def cluster(request) -> Cluster:
    bindir = pathlib.Path(subprocess.check_output([ROOT / "hack" / "bindir.sh"], text=True).strip())
    env_kubeconfig = os.environ.get("KUBECONFIG")
    started = False
    if env_kubeconfig and kubeconfig_answers(env_kubeconfig, bindir):
        kubeconfig = env_kubeconfig
    else:
        if env_kubeconfig:
            print(f"\nKUBECONFIG={env_kubeconfig} does not answer; starting the local control plane")
        proc = subprocess.run(
            [ROOT / "hack" / "cluster.sh", "up"], stdout=subprocess.PIPE, text=True
        )
        if proc.returncode != 0:
            subprocess.run([ROOT / "hack" / "cluster.sh", "down"], check=False)
            pytest.fail(
                "no Kubernetes cluster for the e2e tests: KUBECONFIG does not point at one "
                f"and 'hack/cluster.sh up' failed with exit code {proc.returncode}",
                pytrace=False,
            )
        kubeconfig = proc.stdout.strip().splitlines()[-1]
        started = os.environ.get("STUDIO_KEEP_CLUSTER") != "1"
    c = Cluster(kubeconfig=kubeconfig, bindir=bindir)
    version = c.server_version()
    print(f"\ne2e against kube-apiserver {version['gitVersion']} ({kubeconfig})")
    request.config.stash[SERVER_VERSION] = version["gitVersion"]
    yield c
    if started:
        subprocess.run([ROOT / "hack" / "cluster.sh", "down"], check=False)


SERVER_VERSION = pytest.StashKey[str]()


@pytest.fixture
def namespace(cluster: Cluster, request) -> str:
    """A fresh namespace for one test, deleted after it."""
    name = unique_name(request.node.name)
    cluster.kubectl("create", "namespace", name)
    cluster.wait_for(
        lambda: cluster.kubectl("-n", name, "get", "serviceaccount", "default", check=False).returncode == 0,
        timeout=60,
        what=f"the default ServiceAccount in {name}",
    )
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false", check=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    version = config.stash.get(SERVER_VERSION, None)
    if version:
        terminalreporter.write_line(f"e2e tests ran against kube-apiserver {version}")


@pytest.fixture(scope="session")
def crds(cluster: Cluster) -> None:
    """The studio.dev CRDs, installed from crds/ and Established."""
    cluster.kubectl("apply", "--server-side", "--force-conflicts", "-f", str(ROOT / "crds"))
    cluster.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")


@pytest.fixture(scope="session")
def operator(cluster: Cluster, crds) -> OperatorProcess:
    """The operator running against the test cluster for the whole session (log in .work/)."""
    log_dir = ROOT / ".work"
    log_dir.mkdir(exist_ok=True)
    # As installed: under the chart's ServiceAccount and least-privilege roles.
    op = OperatorProcess(operator_kubeconfig(cluster, log_dir), log_dir / "operator-e2e.log", kubectl=cluster.kubectl)
    op.start()
    yield op
    op.stop()
    # A stopped operator leaves its webhooks registered (failing closed); this cluster needs them no more.
    cluster.kubectl("delete", "--ignore-not-found", *WEBHOOK_CONFIGURATIONS, check=False)


@pytest.fixture
def running_operator(operator: OperatorProcess) -> OperatorProcess:
    """The session operator, restarted first if an earlier test killed it."""
    if operator.proc is None or operator.proc.poll() is not None:
        operator.start()
    return operator


@pytest.fixture
def ws_name(cluster: Cluster, crds, request) -> str:
    """A workspace name for one test; whatever the test made of it is deleted after."""
    name = unique_name("ws")
    request.addfinalizer(lambda: cluster.kubectl("delete", "workspace", name, "--ignore-not-found", "--wait=false", check=False))
    return name


@pytest.fixture(scope="module")
def builds(cluster: Cluster):
    """The operator's namespace, where build Jobs run, and kwok playing the builder's contract."""
    cluster.kubectl("create", "namespace", BUILD_NAMESPACE, check=False)
    cluster.kubectl("apply", "-f", str(BUILD_STAGES))
    yield
    cluster.kubectl("delete", "-f", str(BUILD_STAGES), "--wait=false", check=False)
