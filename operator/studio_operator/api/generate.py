"""Writes crds/*.yaml and docs/api.md from the models: `python -m studio_operator.api.generate`.

`--check` writes nothing and exits 1 when a committed file differs from what the models give.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from typing import Any

import yaml

from . import KINDS
from .crd import build_crds

HEADER = "# Generated from operator/studio_operator/api by `make crds`. Do not edit.\n"


def crd_files(root: pathlib.Path) -> dict[pathlib.Path, str]:
    return {
        root / "crds" / f"{crd['metadata']['name']}.yaml": HEADER + yaml.safe_dump(crd, sort_keys=False, width=100)
        for crd in build_crds()
    }


def _type_of(schema: dict[str, Any]) -> str:
    if schema.get("x-kubernetes-int-or-string"):
        return "quantity"
    t = schema.get("type", "object")
    if t == "array":
        return f"[]{_type_of(schema.get('items', {}))}"
    if t == "object" and "additionalProperties" in schema:
        return f"map[string]{_type_of(schema['additionalProperties'])}"
    if "enum" in schema:
        return " \\| ".join(f"`{v}`" for v in schema["enum"])
    if schema.get("format") == "date-time":
        return "date-time"
    return t


def _limits(schema: dict[str, Any]) -> list[str]:
    """What the schema itself enforces, in words."""
    out = []
    if "minimum" in schema and "maximum" in schema:
        out.append(f"{schema['minimum']} to {schema['maximum']}")
    elif "minimum" in schema:
        out.append(f"at least {schema['minimum']}")
    if schema.get("minLength") == 1 or schema.get("minItems") == 1:
        out.append("not empty")
    if "maxLength" in schema:
        out.append(f"at most {schema['maxLength']} characters")
    if "maxItems" in schema or "maxProperties" in schema:
        out.append(f"at most {schema.get('maxItems', schema.get('maxProperties'))} entries")
    if schema.get("x-kubernetes-list-type") == "map":
        out.append("unique by " + " and ".join(schema["x-kubernetes-list-map-keys"]))
    elif schema.get("x-kubernetes-list-type") == "set":
        out.append("no duplicates")
    # Items and map values that are objects have rows of their own; scalar ones only this one.
    for key in ("items", "additionalProperties"):
        inner = schema.get(key)
        if isinstance(inner, dict) and "properties" not in inner:
            out += [f"each {limit}" for limit in _limits(inner)]
    return out


def _rules(schema: dict[str, Any]) -> list[str]:
    """Messages of the CEL rules on the schema, its array items and its map values."""
    nodes = [schema, schema.get("items", {}), schema.get("additionalProperties", {})]
    return [r["message"] for n in nodes if isinstance(n, dict) for r in n.get("x-kubernetes-validations", [])
            if "fieldPath" not in r]


def _rules_by_field(schema: dict[str, Any], path: str, out: dict[str, list[str]]) -> dict[str, list[str]]:
    """Messages of rules that name a field below where they sit (fieldPath), by that field's path;
    rules on array items (each Workspace member) count too."""
    for rule in schema.get("x-kubernetes-validations", []):
        if "fieldPath" in rule:
            out.setdefault(path + rule["fieldPath"], []).append(rule["message"])
    if isinstance(schema.get("items"), dict):
        _rules_by_field(schema["items"], path + "[]", out)
    for name, prop in schema.get("properties", {}).items():
        _rules_by_field(prop, f"{path}.{name}", out)
    return out


def _rows(schema: dict[str, Any], path: str, required: set[str], named: dict[str, list[str]]) -> list[str]:
    rows = []
    for name, prop in schema.get("properties", {}).items():
        here = f"{path}.{name}"
        notes = ["required"] if name in required else []
        if "default" in prop:
            notes.append(f"default `{json.dumps(prop['default'])}`")
        notes += _limits(prop) + _rules(prop) + named.get(here, [])
        desc, note = (t.replace("\n", " ").replace("|", "\\|") for t in (prop.get("description", ""), "; ".join(notes)))
        rows.append(f"| `{here}` | {_type_of(prop)} | {desc} | {note} |")
        inner = prop.get("items", prop) if prop.get("type") == "array" else prop
        if inner.get("properties"):
            suffix = "[]" if prop.get("type") == "array" else ""
            rows.extend(_rows(inner, here + suffix, set(inner.get("required", [])), named))
    return rows


def api_reference(root: pathlib.Path) -> str:
    out = [
        "# API reference: studio.dev/v1alpha1",
        "",
        "Generated from the models in `operator/studio_operator/api/` by `make crds`; a test fails",
        "when this page or `crds/` drifts from them. `kubectl explain <kind>.spec` shows the same",
        "descriptions. Examples that the API server accepts are in `manifests/samples/`.",
        "",
        "The API server refuses bad input at `kubectl apply` time with the offending field's path and",
        "what would be accepted, e.g. `spec.namespace: Invalid value: \"kube-system\": must not be",
        "default, kube-* or studio-system`. Unknown fields are refused too (kubectl's default strict",
        "field validation). `kubectl get studio-operator -A` lists every kind.",
        "",
    ]
    crds = {crd["spec"]["names"]["kind"]: crd for crd in build_crds()}
    samples = sorted((root / "manifests" / "samples").glob("*.yaml"))
    for kind in (m.__name__ for m in KINDS):
        crd = crds[kind]
        names = crd["spec"]["names"]
        version = crd["spec"]["versions"][0]
        schema = version["schema"]["openAPIV3Schema"]
        examples = [f"`{p.relative_to(root)}`" for p in samples if f"\nkind: {kind}\n" in p.read_text()]
        out += [
            f"## {kind}",
            "",
            schema.get("description", ""),
            "",
            f"- Scope: {crd['spec']['scope']}; short name `{', '.join(names['shortNames'])}`; "
            f"category `{', '.join(names['categories'])}`",
            "- Printer columns: " + ", ".join(c["name"] for c in version["additionalPrinterColumns"]),
            *(["- Examples: " + ", ".join(examples)] if examples else []),
            *(f"- Rule: {message}" for message in _rules(schema)),
            "",
            "| Field | Type | Description | Notes |",
            "| --- | --- | --- | --- |",
            *_rows(schema, "", set(schema.get("required", [])), _rules_by_field(schema, "", {})),
            "",
        ]
    return "\n".join(out)


def all_files(root: pathlib.Path) -> dict[pathlib.Path, str]:
    return {**crd_files(root), root / "docs" / "api.md": api_reference(root)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=pathlib.Path, default=pathlib.Path.cwd())
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    drift = []
    for path, text in all_files(args.root).items():
        if args.check:
            if not path.exists() or path.read_text() != text:
                drift.append(str(path))
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    if drift:
        print("out of date (run `make crds`): " + ", ".join(drift), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
