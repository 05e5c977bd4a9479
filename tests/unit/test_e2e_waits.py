"""The end-to-end suite's waits fail saying what they waited for and what they saw last: a bare
"timed out" leaves whoever reads a failed run to guess whether the studio was Starting, Failed
(and why), or never made."""

from __future__ import annotations

import pathlib

import pytest

from tests.e2e.kube import Cluster
from tests.e2e.studios import wait_state
from tests.e2e.workspaces import wait_phase, wait_ready


class FakeCluster(Cluster):
    def __init__(self, objects: dict[str, dict | None]):
        super().__init__(kubeconfig="unused", bindir=pathlib.Path("/nonexistent"))
        self.objects = objects

    def get(self, kind, name=None, namespace=None):
        return self.objects.get(f"{kind}/{name}")


FAILED_STUDIO = {"metadata": {"name": "s"}, "status": {
    "state": "Failed", "message": "ErrImagePull: cannot pull image example.org/py:9",
    "conditions": [{"type": "ImageReady", "status": "False", "reason": "ImagePullError",
                    "message": "ErrImagePull: cannot pull image example.org/py:9"}]}}


def test_a_studio_that_never_runs_fails_the_wait_with_its_state_and_reason():
    with pytest.raises(AssertionError) as failed:
        wait_state(FakeCluster({"codestudio/s": FAILED_STUDIO}), "ns", "s", "Running", timeout=0)
    message = str(failed.value)
    assert "waiting for studio ns/s to be Running" in message
    assert '"state": "Failed"' in message
    assert "ImageReady=False(ImagePullError: ErrImagePull: cannot pull image example.org/py:9)" in message


def test_a_studio_that_is_not_there_says_so():
    with pytest.raises(AssertionError, match="waiting for studio ns/gone to be Stopped; last seen: no such object"):
        wait_state(FakeCluster({}), "ns", "gone", "Stopped", timeout=0)


def test_a_workspace_wait_shows_its_phase_and_conditions():
    ws = {"metadata": {"name": "team"}, "status": {"phase": "Failed", "conditions": [
        {"type": "NamespaceReady", "status": "False", "reason": "NamespaceNotOwned",
         "message": "namespace team exists and was not created by the operator"}]}}
    cluster = FakeCluster({"workspace/team": ws})
    with pytest.raises(AssertionError) as failed:
        wait_phase(cluster, "team", "Active", timeout=0)
    assert '"phase": "Failed"' in str(failed.value)
    assert "NamespaceReady=False(NamespaceNotOwned: namespace team exists" in str(failed.value)
    with pytest.raises(AssertionError, match="waiting for workspace team to be Ready; last seen: .*NamespaceNotOwned"):
        wait_ready(cluster, "team", timeout=0)


def test_a_wait_that_is_met_returns_the_object():
    running = {"metadata": {"name": "s"}, "status": {"state": "Running"}}
    assert wait_state(FakeCluster({"codestudio/s": running}), "ns", "s", "Running", timeout=0) is running
