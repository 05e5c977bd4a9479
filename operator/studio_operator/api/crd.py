"""CustomResourceDefinitions generated from the models.

kube-custom-resource turns the pydantic models into CRDs (names, printer columns, refs
resolved, int-or-string); this module makes the result a structural schema the API server
accepts as-is: optional fields become plain omittable fields rather than `anyOf: [T, null]`,
and `default: null` disappears.
"""

from __future__ import annotations

from typing import Any

from kube_custom_resource import CustomResourceRegistry

from . import KINDS
from .common import GROUP

# Not "studio": kubectl expands categories before short names, so a category "studio" would
# shadow the CodeStudio short name (`kubectl patch studio x` would match three kinds).
CATEGORY = "studio-operator"


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
            schema = version["schema"]["openAPIV3Schema"]
            schema = _sort_required(_drop_null(schema))
            schema["type"] = "object"
            version["schema"]["openAPIV3Schema"] = schema
        crds.append(crd)
    return sorted(crds, key=lambda c: c["metadata"]["name"])
