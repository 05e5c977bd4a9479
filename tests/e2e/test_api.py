"""The studio.dev API as a user meets it: CRDs, samples, defaults, kubectl, validation.

Everything here talks to the real kube-apiserver; nothing needs the operator.
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from studio_operator.api import KINDS
from tests.e2e.kube import Cluster, unique_name
from tests.e2e.studios import API, make_template, studio_manifest, template_manifest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "manifests" / "samples"

pytestmark = pytest.mark.usefixtures("crds")


def cleanup(cluster: Cluster, request, kind: str, name: str, namespace: str | None = None) -> None:
    args = ["delete", kind, name, "--ignore-not-found", "--wait=false", *(["-n", namespace] if namespace else [])]
    request.addfinalizer(lambda: cluster.kubectl(*args, check=False))


def workspace_manifest(name: str, **spec) -> dict:
    return {"apiVersion": API, "kind": "Workspace", "metadata": {"name": name}, "spec": spec}


def test_crds_are_established_with_their_names(cluster: Cluster):
    for path in sorted((ROOT / "crds").glob("*.yaml")):
        name = yaml.safe_load(path.read_text())["metadata"]["name"]
        crd = cluster.get("crd", name)
        conditions = {c["type"]: c["status"] for c in crd["status"]["conditions"]}
        assert conditions.get("Established") == "True", (name, conditions)
        assert conditions.get("NamesAccepted") == "True", (name, conditions)
        assert "NonStructuralSchema" not in conditions, (name, conditions)
        assert crd["status"]["acceptedNames"]["categories"] == ["studio-operator"]
    kinds = cluster.kubectl("api-resources", "--api-group=studio.dev", "-o", "wide", "--no-headers").stdout
    rows = {line.split()[0]: line.split() for line in kinds.splitlines()}
    assert rows["workspaces"][1] == "ws"
    assert rows["codestudiotemplates"][1] == "studiotemplate"
    assert rows["codestudios"][1] == "studio"


def test_samples_pass_server_side_dry_run(cluster: Cluster, namespace: str, request):
    docs = [d for path in sorted(SAMPLES.glob("*.yaml")) for d in yaml.safe_load_all(path.read_text()) if d]
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["CodeStudio", "CodeStudio", "CodeStudioTemplate", "CodeStudioTemplate", "Workspace"]
    (workspace,) = [d for d in docs if d["kind"] == "Workspace"]
    assert {m["role"] for m in workspace["spec"]["members"]} >= {"owner", "member"} and workspace["spec"]["quota"]
    templates = {d["metadata"]["name"]: d for d in docs if d["kind"] == "CodeStudioTemplate"}
    assert sorted(next(iter(t["spec"]["image"])) for t in templates.values()) == ["build", "prebuilt"]
    for doc in docs:
        if doc["kind"] == "CodeStudio":
            # Studios live in the workspace's namespace, which only the operator creates.
            assert doc["metadata"]["namespace"] == workspace["spec"]["namespace"]
            assert doc["spec"]["template"] in templates
            # A dry run stores no template, and admission refuses a studio of a missing one.
            existing = make_template(cluster, request)
            doc = {**doc, "metadata": {**doc["metadata"], "namespace": namespace},
                   "spec": {**doc["spec"], "template": existing}}
        out = cluster.apply(doc, "--dry-run=server").stdout
        assert out.strip() == f"{doc['kind'].lower()}.studio.dev/{doc['metadata']['name']} created (server dry run)"


def test_defaults_are_stored(cluster: Cluster, namespace: str, request):
    ws, tpl, build = unique_name("defaults"), unique_name("defaults"), unique_name("defaults-build")
    for kind, name in (("workspace", ws), ("codestudiotemplate", tpl), ("codestudiotemplate", build)):
        cleanup(cluster, request, kind, name)
    sent = [
        workspace_manifest(ws, members=[{"name": "alice"}]),
        {"apiVersion": API, "kind": "CodeStudioTemplate", "metadata": {"name": tpl},
         "spec": {"image": {"prebuilt": "python:3.12-slim"}, "env": [{"name": "EMPTY"}]}},
        {"apiVersion": API, "kind": "CodeStudioTemplate", "metadata": {"name": build},
         "spec": {"image": {"build": {"baseImage": "python:3.12-slim",
                                      "registry": {"repository": "registry.example.com/studios/python"}}}}},
        studio_manifest("minimal", namespace, tpl, owner="alice"),
    ]
    cluster.apply(sent)
    stored = [cluster.get(d["kind"].lower(), d["metadata"]["name"], d["metadata"].get("namespace")) for d in sent]

    assert stored[0]["spec"] == {
        "members": [{"kind": "User", "name": "alice", "role": "member"}],
        "state": "Active",
        "deletionPolicy": "Protect",
    }
    assert stored[1]["spec"] == {
        "image": {"prebuilt": "python:3.12-slim"},
        "env": [{"name": "EMPTY", "value": ""}],
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "storage": {"mountPath": "/home/studio"},
        "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000},
        "updatePolicy": "OnRestart",
    }
    assert stored[2]["spec"]["image"]["build"] == {
        "baseImage": "python:3.12-slim",
        "registry": {"repository": "registry.example.com/studios/python"},
        "dockerfile": "",
        "builderImage": "gcr.io/kaniko-project/executor:v1.23.2",
    }
    assert stored[3]["spec"] == {"template": tpl, "owner": "alice", "state": "Running", "volumeReclaimPolicy": "Retain"}
    # The models default as the API server does: the operator reads the same spec whether
    # or not the server filled the defaults in.
    models = {m.__name__: m for m in KINDS}
    for doc, obj in zip(sent, stored):
        model = models[doc["kind"]]
        assert model.model_validate(obj).spec == model.model_validate(doc).spec, doc["kind"]


def table(text: str) -> list[dict[str, str]]:
    """Rows of a kubectl table by column name; cells may be empty."""
    header, *lines = text.splitlines()
    starts = [m.start() for m in re.finditer(r"\S+", header)]
    names = header.split()
    bounds = list(zip(starts, starts[1:] + [None]))
    return [{n: line[a:b].strip() for n, (a, b) in zip(names, bounds)} for line in lines]


def test_get_studio_shows_its_columns_and_the_category_lists_every_kind(cluster: Cluster, namespace: str, request):
    ws, tpl = unique_name("columns"), unique_name("columns")
    cleanup(cluster, request, "workspace", ws)
    cleanup(cluster, request, "codestudiotemplate", tpl)
    cluster.apply([workspace_manifest(ws, tier="gold"), template_manifest(tpl),
                   studio_manifest("carol", namespace, tpl, owner="carol")])

    out = cluster.kubectl("get", "studio", "-A").stdout
    assert out.split("\n")[0].split() == ["NAMESPACE", "NAME", "STATE", "OWNER", "TEMPLATE", "READY", "AGE"]
    (row,) = [r for r in table(out) if (r["NAMESPACE"], r["NAME"]) == (namespace, "carol")]
    assert (row["OWNER"], row["TEMPLATE"]) == ("carol", tpl)

    listing = cluster.kubectl("get", "studio-operator", "-A").stdout
    # With -A kubectl puts an (empty) NAMESPACE column before cluster-scoped kinds too.
    headers = [line.split()[1:] for line in listing.splitlines() if line.startswith("NAMESPACE ")]
    assert headers == [
        ["NAME", "STATE", "OWNER", "TEMPLATE", "READY", "AGE"],
        ["NAME", "IMAGE", "BUILD", "STUDIOS", "READY", "AGE"],
        ["NAME", "PHASE", "NAMESPACE", "STUDIOS", "TIER", "READY", "AGE"],
    ]
    assert f"workspace.studio.dev/{ws}" in listing and "gold" in listing
    assert f"codestudiotemplate.studio.dev/{tpl}" in listing
    assert "codestudio.studio.dev/carol" in listing


def test_short_names_reach_each_kind(cluster: Cluster, namespace: str, request):
    ws, tpl = unique_name("short"), unique_name("short")
    cleanup(cluster, request, "workspace", ws)
    cleanup(cluster, request, "codestudiotemplate", tpl)
    cluster.apply([workspace_manifest(ws), template_manifest(tpl), studio_manifest("dave", namespace, tpl)])
    assert cluster.kubectl("get", "ws", ws, "-o", "name").stdout.strip() == f"workspace.studio.dev/{ws}"
    assert cluster.kubectl("get", "studiotemplate", tpl, "-o", "name").stdout.strip() == (
        f"codestudiotemplate.studio.dev/{tpl}"
    )
    assert cluster.kubectl("-n", namespace, "get", "studio", "dave", "-o", "name").stdout.strip() == (
        "codestudio.studio.dev/dave"
    )


@pytest.mark.parametrize("model", KINDS, ids=lambda m: m.__name__)
def test_explain_describes_every_spec_field(cluster: Cluster, model):
    out = cluster.kubectl("explain", f"{model.__name__.lower()}.spec").stdout
    flat = " ".join(out.split())
    spec = model.model_fields["spec"].annotation
    for field in spec.model_fields.values():
        assert re.search(rf"^  {field.alias}\t<", out, re.M), f"{field.alias} missing from kubectl explain"
        assert " ".join(field.description.split()) in flat, f"{field.alias}'s description missing"


def test_workspace_namespace_is_immutable(cluster: Cluster, request):
    name, ns = unique_name("immutable"), unique_name("team")
    cleanup(cluster, request, "workspace", name)
    cluster.apply(workspace_manifest(name, namespace=ns))
    cluster.apply(workspace_manifest(name, namespace=ns, tier="gold"))  # other fields still change

    refused = cluster.apply(workspace_manifest(name, namespace=unique_name("other")), check=False)
    assert refused.returncode != 0
    assert f"spec.namespace: Invalid value: is immutable: the workspace keeps namespace {ns}" in refused.stderr
    refused = cluster.apply(workspace_manifest(name), check=False)  # dropping it would mean the name
    assert f"the workspace keeps namespace {ns}" in refused.stderr
    assert cluster.get("workspace", name)["spec"]["namespace"] == ns


def test_workspace_may_write_out_its_default_namespace_but_not_change_it(cluster: Cluster, request):
    name = unique_name("implicit")
    cleanup(cluster, request, "workspace", name)
    cluster.apply(workspace_manifest(name))
    cluster.apply(workspace_manifest(name, namespace=name))  # the default, now explicit
    refused = cluster.apply(workspace_manifest(name, namespace="elsewhere"), check=False)
    assert f"spec.namespace: Invalid value: is immutable: the workspace keeps namespace {name}" in refused.stderr


def test_storage_size_grows_but_never_shrinks(cluster: Cluster, namespace: str, request):
    tpl = make_template(cluster, request)  # admission refuses a studio of a missing template

    def apply(**spec):
        return cluster.apply(studio_manifest("erin", namespace, tpl, owner="erin", **spec), check=False)

    assert apply(storage={"size": "10Gi"}).returncode == 0
    assert apply(storage={"size": "20Gi"}).returncode == 0
    assert apply(storage={"size": "20480Mi"}).returncode == 0  # the same size, written differently
    for shrink in ({"storage": {"size": "5Gi"}}, {"storage": {}}, {}):
        refused = apply(**shrink)
        assert refused.returncode != 0, shrink
        assert "spec.storage.size: Invalid value: may grow but never shrink below its current 20480Mi" in refused.stderr
    assert cluster.get("codestudio", "erin", namespace)["spec"]["storage"] == {"size": "20480Mi"}
