"""CustomResourceDefinitions generated from the models.

kube-custom-resource turns the pydantic models into CRDs (names, short names, printer
columns, int-or-string, camelCase). This module makes each schema one the API server accepts
as-is and documents well: references are inlined with the field's own description winning
over its type's docstring (the library lets the docstring win, so `kubectl explain` showed
the wrong text for required nested objects), optional fields become plain omittable fields
rather than `anyOf: [T, null]`, and `default: null` disappears.
"""

from __future__ import annotations

from typing import Any

from kube_custom_resource import CustomResourceRegistry, schema

from . import KINDS
from .common import GROUP

# Not "studio": kubectl expands categories before short names, so a category "studio" would
# shadow the CodeStudio short name (`kubectl patch studio x` would match three kinds).
CATEGORY = "studio-operator"


def _inline_refs(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline_refs(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    own = {k: _inline_refs(v, defs) for k, v in node.items() if k != "$ref"}
    if "$ref" not in node:
        return own
    return {**_inline_refs(defs[node["$ref"].removeprefix("#/$defs/")], defs), **own}


def openapi_schema(model: type[schema.BaseModel]) -> dict[str, Any]:
    """The model's schema with references inlined, before the structural clean-up."""
    raw = super(schema.BaseModel, model).model_json_schema()  # pydantic's own, refs unresolved
    defs = raw.pop("$defs", {})
    return schema.remove_fields(_inline_refs(raw, defs), "title")


def _drop_null(node: Any) -> Any:
    if isinstance(node, list):
        return [_drop_null(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: _drop_null(v) for k, v in node.items()}
    any_of = node.get("anyOf")
    if isinstance(any_of, list) and any(s == {"type": "null"} for s in any_of):
        rest = [s for s in any_of if s != {"type": "null"}]
        node.pop("anyOf")
        if len(rest) == 1:
            # The field's own description wins over the type's docstring.
            node = {**rest[0], **{k: v for k, v in node.items() if k != "default" or v is not None}}
        else:
            node["anyOf"] = rest
    if "default" in node and node["default"] is None:
        del node["default"]
    return node


def _sort_required(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _sort_required(v) for k, v in node.items()}
        if isinstance(out.get("required"), list):
            out["required"] = sorted(out["required"])
        return out
    if isinstance(node, list):
        return [_sort_required(item) for item in node]
    return node


def build_crds() -> list[dict[str, Any]]:
    """The three CRDs, in a stable order, ready for `kubectl apply`."""
    registry = CustomResourceRegistry(GROUP, categories=[CATEGORY])
    for model in KINDS:
        registry.register_model(model)
    crds = []
    for definition in registry:
        crd = definition.kubernetes_resource(include_defaults=True)
        crd["metadata"]["labels"] = {"app.kubernetes.io/part-of": "studio-operator"}
        for version in crd["spec"]["versions"]:
            openapi = _sort_required(_drop_null(openapi_schema(definition.versions[version["name"]].model)))
            openapi["type"] = "object"
            version["schema"]["openAPIV3Schema"] = openapi
        crds.append(crd)
    return sorted(crds, key=lambda c: c["metadata"]["name"])
