"""The chart's CRDs are copies of crds/ and its ClusterRole is permissions.py; drift fails here."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from hack.chart import chart_files
from studio_operator.permissions import RULES, cluster_role_rules, namespace_role_rules

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_chart_files_match_their_sources():
    stale = [str(p.relative_to(ROOT)) for p, text in chart_files(ROOT).items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run `make manifests`: {stale} differ from crds/ or permissions.py"


def test_chart_crds_are_exactly_the_generated_ones():
    chart = sorted(p.name for p in (ROOT / "helm" / "studio-operator" / "crds").iterdir())
    assert chart == sorted(p.name for p in (ROOT / "crds").glob("*.yaml"))


def test_operator_rules_name_no_wildcards_and_say_why():
    for rule in RULES:
        assert rule.why, rule
        assert "*" not in (rule.group, *rule.resources, *rule.verbs), rule
    for rule in cluster_role_rules() + namespace_role_rules():
        assert set(rule) <= {"apiGroups", "resources", "resourceNames", "verbs"}  # no nonResourceURLs
        assert "*" not in rule.get("resourceNames", [])


def test_operator_never_may_escalate_bind_or_impersonate_freely():
    verbs = {v for rule in cluster_role_rules() for v in rule["verbs"]}
    assert not verbs & {"escalate", "impersonate", "*"}
    secrets = [r for r in cluster_role_rules() if "secrets" in r["resources"]]
    assert not secrets, "the operator reads no Secrets"


def test_operator_may_set_block_owner_deletion_on_every_owner_it_names():
    """Under OwnerReferencesPermissionEnforcement (OpenShift, hardened clusters; the local control
    plane runs it too) an owner reference with blockOwnerDeletion needs update of the owner's
    finalizers: else every child create is Forbidden."""
    granted = {(g, r) for rule in cluster_role_rules() if "update" in rule["verbs"]
               for g in rule["apiGroups"] for r in rule["resources"]}
    for owner in ("codestudios", "codestudiotemplates", "workspaces"):
        assert ("studio.dev", f"{owner}/finalizers") in granted, owner


def test_the_role_templates_list_the_rules_verbatim():
    for name, rules in (("clusterrole", cluster_role_rules()), ("role", namespace_role_rules())):
        text = (ROOT / "helm" / "studio-operator" / "templates" / f"{name}.yaml").read_text()
        body = text.split("rules:\n", 1)[1].rsplit("{{- end }}", 1)[0]
        assert yaml.safe_load(body) == rules, name


def test_every_chart_value_is_documented():
    from hack.chart import values_table

    assert "| `metrics.port` | `8081` |" in values_table((ROOT / "helm" / "studio-operator" / "values.yaml").read_text())
    with pytest.raises(ValueError, match="replicas has no"):
        values_table("# -- Documented.\nimage: x\nreplicas: 2\n")
