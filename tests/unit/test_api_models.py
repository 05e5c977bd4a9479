"""The API models on their own: defaults, round trips, value formats and the CRDs they give."""

from __future__ import annotations

import pathlib
import re
import types
import typing

import pydantic
import pytest
import yaml

from studio_operator.api import KINDS, CodeStudioSpec, CodeStudioTemplateSpec, WorkspaceSpec
from studio_operator.api.common import DNSLabel, Duration, EnvName, Quantity, StorageSize
from studio_operator.api.crd import build_crds
from studio_operator.api.template import AptPackage, ImageRef, PipPackage, PortName, Repository

ROOT = pathlib.Path(__file__).resolve().parents[2]
MODELS = {m.__name__: m for m in KINDS}


def test_workspace_defaults():
    assert WorkspaceSpec().to_dict() == {"members": [], "state": "Active", "deletionPolicy": "Protect"}
    spec = WorkspaceSpec.model_validate({"members": [{"name": "alice"}]})
    assert spec.members[0].to_dict() == {"kind": "User", "name": "alice", "role": "member"}


def test_template_defaults():
    spec = CodeStudioTemplateSpec.model_validate({"image": {"prebuilt": "python:3.12-slim"}})
    assert spec.to_dict() == {
        "image": {"prebuilt": "python:3.12-slim"},
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "command": [],
        "args": [],
        "env": [],
        "storage": {"mountPath": "/home/studio"},
        "securityContext": {"runAsUser": 1000, "runAsGroup": 1000, "fsGroup": 1000},
        "updatePolicy": "OnRestart",
    }
    build = CodeStudioTemplateSpec.model_validate(
        {"image": {"build": {"baseImage": "python:3.12-slim", "registry": {"repository": "r.example.com/s/p"}}}}
    ).image.build
    assert (build.dockerfile, build.builder_image) == ("", "gcr.io/kaniko-project/executor:v1.23.2")


def test_codestudio_defaults():
    assert CodeStudioSpec(template="vscode").to_dict() == {
        "template": "vscode",
        "state": "Running",
        "env": [],
        "volumeReclaimPolicy": "Retain",
    }


def _samples() -> list[dict]:
    paths = sorted((ROOT / "manifests" / "samples").glob("*.yaml"))
    return [d for p in paths for d in yaml.safe_load_all(p.read_text()) if d]


@pytest.mark.parametrize("doc", _samples(), ids=lambda d: f"{d['kind']}-{d['metadata']['name']}")
def test_samples_round_trip_through_the_models(doc):
    obj = MODELS[doc["kind"]].model_validate(doc)
    again = MODELS[doc["kind"]].model_validate({**doc, "spec": obj.spec.to_dict()})
    assert again.spec == obj.spec
    assert set(doc["spec"]) <= set(obj.spec.to_dict()), "a sample field the model does not know"


def test_quantities_read_as_strings():
    spec = WorkspaceSpec.model_validate({"quota": {"cpu": 32, "memory": "128Gi", "maxCodeStudios": 3}})
    assert spec.quota.to_dict() == {"cpu": "32", "memory": "128Gi", "maxCodeStudios": 3}


# Each format: values pydantic (and, through the generated CEL rule, the API server) accepts
# and refuses. The e2e corpus shows the API server's side.
FORMATS = [
    pytest.param(DNSLabel, ["team-a", "a", "0ab", "a" * 63], ["Team-A", "team_a", "-a", "a-", "a.b", "a" * 64, ""],
                 id="DNSLabel"),
    pytest.param(PortName, ["http", "web-ui", "h2c", "a1-b2"], ["8080", "HTTP", "a--b", "-http", "jupyter-lab-server"],
                 id="PortName"),
    pytest.param(EnvName, ["HOME", "_X", "my_var2"], ["2X", "MY-VAR", "MY VAR", ""], id="EnvName"),
    pytest.param(Duration, ["0", "90s", "30m", "2h", "1h30m", "1.5h"], ["2 hours", "1d", "h", "-1h", ""],
                 id="Duration"),
    pytest.param(Quantity, [0, 2, "500m", "2Gi", "1e3", "+1", "0.5"], ["-1", -1, "lots", "1 core", "2GB", ""],
                 id="Quantity"),
    pytest.param(StorageSize, ["10Gi", "500Mi", "1Ti"], ["10GB", "-5Gi", "ten"], id="StorageSize"),
    pytest.param(AptPackage, ["git", "build-essential", "python3-venv=3.11.2-1", "libc6=2.36-9+deb12u4"],
                 ["numpy; rm -rf /", "git curl", "$(curl x)", "Git", "`id`"], id="AptPackage"),
    pytest.param(PipPackage, ["numpy", "numpy==2.1.0", "pandas>=2,<3", "jupyterlab[full]~=4.3", "zope.interface"],
                 ["$(curl x)", "numpy; rm -rf /", "pandas >= 2", "git+https://x/y", "-e ."], id="PipPackage"),
    pytest.param(ImageRef, ["python:3.12-slim", "docker.io/codercom/code-server:4.96.4",
                            "r.example.com:5000/a/b@sha256:" + "a" * 64],
                 ["Python:3", "python 3", "python:", "@sha256:abc", "python:3.12-é"], id="ImageRef"),
    pytest.param(Repository, ["registry.example.com/studios/python", "localhost:5000/a"],
                 ["registry.example.com", "r.example.com/a:tag"], id="Repository"),
]


@pytest.mark.parametrize(("kind", "good", "bad"), FORMATS)
def test_value_formats(kind, good, bad):
    adapter = pydantic.TypeAdapter(kind)
    for value in good:
        adapter.validate_python(value)
    for value in bad:
        with pytest.raises(pydantic.ValidationError):
            adapter.validate_python(value)


def _walk(node: dict, path: str = ""):
    """Every (path, schema) of a property, array item or map value below node."""
    for name, prop in node.get("properties", {}).items():
        yield f"{path}.{name}", prop
        yield from _walk(prop, f"{path}.{name}")
    for key, suffix in (("items", "[]"), ("additionalProperties", "[*]")):
        if isinstance(node.get(key), dict):
            yield path + suffix, node[key]
            yield from _walk(node[key], path + suffix)


def _schemas():
    kinds = [(c["spec"]["names"]["kind"], c["spec"]["versions"][0]) for c in build_crds()]
    return [pytest.param(kind, version, id=kind) for kind, version in kinds]


@pytest.mark.parametrize(("kind", "version"), _schemas())
def test_schema_is_documented_strict_and_explains_its_rules(kind, version):
    schema = version["schema"]["openAPIV3Schema"]
    for path, prop in _walk(schema):
        if path.endswith(("[]", "[*]")):
            continue
        assert prop.get("description"), f"{kind}{path} has no description for kubectl explain"
        assert "pattern" not in prop, f"{kind}{path}: a failed pattern shows the bare regex; use formatted()"
    for path, node in [("", schema), *_walk(schema)]:
        assert not node.get("x-kubernetes-preserve-unknown-fields"), f"{kind}{path} keeps unknown fields"
        for rule in node.get("x-kubernetes-validations", []):
            assert rule.get("message"), f"{kind}{path}: rule {rule['rule']} has no message"


@pytest.mark.parametrize(("kind", "version"), _schemas())
def test_every_string_list_and_map_is_bounded(kind, version):
    """docs/security.md promises schema bounds on every list and string (resource exhaustion)."""
    for path, node in _walk(version["schema"]["openAPIV3Schema"]):
        if node.get("type") == "string" and "enum" not in node:
            assert "maxLength" in node, f"{kind}{path}: a string without maxLength"
        if node.get("type") == "array":
            assert "maxItems" in node, f"{kind}{path}: a list without maxItems"
        if "additionalProperties" in node:
            assert "maxProperties" in node, f"{kind}{path}: a map without maxProperties"


@pytest.mark.parametrize("field", ["command", "args"])
def test_a_command_or_argument_is_at_most_32_kib(field):
    base = {"image": {"prebuilt": "python:3.12-slim"}}
    CodeStudioTemplateSpec.model_validate({**base, field: ["sh", "x" * 32768]})
    with pytest.raises(pydantic.ValidationError, match="at most 32768 characters"):
        CodeStudioTemplateSpec.model_validate({**base, field: ["sh", "x" * 32769]})


@pytest.mark.parametrize(("kind", "version"), _schemas())
def test_printer_columns_point_at_fields(kind, version):
    paths = {path for path, _ in _walk(version["schema"]["openAPIV3Schema"])}
    for column in version["additionalPrinterColumns"]:
        field = re.sub(r"\[\?\(.*\)\]", "[]", column["jsonPath"])  # conditions[?(@.type=="Ready")] -> []
        assert field == ".metadata.creationTimestamp" or field in paths, f"{kind} column {column['name']}: {field}"


def _model_in(annotation) -> type[pydantic.BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, typing.Annotated):
        return next(filter(None, map(_model_in, typing.get_args(annotation))), None)
    return None


def _fields(model: type[pydantic.BaseModel], node: dict, path: str):
    for field in model.model_fields.values():
        prop = node["properties"][field.alias]
        yield f"{path}.{field.alias}", field, prop
        inner = _model_in(field.annotation)
        if inner:
            yield from _fields(inner, prop.get("items", prop), f"{path}.{field.alias}")


@pytest.mark.parametrize("model", KINDS, ids=lambda m: m.__name__)
def test_a_fields_own_description_wins_over_its_types_docstring(model):
    (crd,) = [c for c in build_crds() if c["spec"]["names"]["kind"] == model.__name__]
    spec_model = model.model_fields["spec"].annotation
    node = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    for path, field, prop in _fields(spec_model, node, ".spec"):
        if field.description:
            assert prop["description"] == field.description, path
