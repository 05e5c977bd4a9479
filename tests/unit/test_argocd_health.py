"""Argo CD health checks against sample statuses, in Argo CD's own test layout
(manifests/argocd/<group>/<kind>/health_test.yaml), run through a real Lua 5.1 interpreter."""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from tests.argocd import CHECKS, KINDS, ROOT, health, script


def cases():
    for kind in KINDS:
        folder = script(kind).parent
        for case in yaml.safe_load((folder / "health_test.yaml").read_text())["tests"]:
            yield pytest.param(folder / case["inputPath"], case["healthStatus"], id=f"{kind}-{pathlib.Path(case['inputPath']).stem}")


@pytest.mark.parametrize(("sample", "expected"), list(cases()))
def test_health_of_sample(sample: pathlib.Path, expected: dict[str, str]):
    assert health(yaml.safe_load(sample.read_text())) == expected


def test_each_kind_has_healthy_progressing_and_degraded_samples():
    for kind in KINDS:
        tests = yaml.safe_load((script(kind).parent / "health_test.yaml").read_text())["tests"]
        assert {"Healthy", "Progressing", "Degraded"} <= {t["healthStatus"]["status"] for t in tests}, kind


def test_gitops_doc_carries_the_same_scripts():
    """docs/gitops.md shows the argocd-cm entries users paste; they must be the files, verbatim."""
    doc = (ROOT / "docs" / "gitops.md").read_text()
    block = re.search(r"```yaml\n(# argocd-cm\n.*?)```", doc, re.S).group(1)
    data = yaml.safe_load(block)["data"]
    assert data == {f"resource.customizations.health.studio.dev_{kind}": script(kind).read_text() for kind in KINDS}
    assert CHECKS.is_dir()
