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


def _rows(schema: dict[str, Any], path: str, required: set[str]) -> list[str]:
    rows = []
    for name, prop in schema.get("properties", {}).items():
        here = f"{path}.{name}"
        notes = []
        if name in required:
            notes.append("required")
        if "default" in prop:
            notes.append(f"default `{json.dumps(prop['default'])}`")
        for rule in prop.get("x-kubernetes-validations", []):
            notes.append(rule["message"])
        desc = prop.get("description", "").replace("\n", " ").replace("|", "\\|")
        rows.append(f"| `{here}` | {_type_of(prop)} | {desc} | {'; '.join(notes)} |")
        inner = prop.get("items", prop) if prop.get("type") == "array" else prop
        if inner.get("properties"):
            rows.extend(_rows(inner, here + ("[]" if prop.get("type") == "array" else ""), set(inner.get("required", []))))
    return rows


def api_reference() -> str:
    out = [
        "# API reference: studio.dev/v1alpha1",
        "",
        "Generated from the models in `operator/studio_operator/api/` by `make crds`; a test fails",
        "when this page or `crds/` drifts from them. `kubectl explain <kind>.spec` shows the same text.",
        "",
    ]
    for crd in build_crds():
        names = crd["spec"]["names"]
        version = crd["spec"]["versions"][0]
        schema = version["schema"]["openAPIV3Schema"]
        out += [
            f"## {names['kind']}",
            "",
            schema.get("description", ""),
            "",
            f"- Scope: {crd['spec']['scope']}; short name `{', '.join(names['shortNames'])}`; category `{', '.join(names['categories'])}`",
            "- Printer columns: " + ", ".join(c["name"] for c in version["additionalPrinterColumns"]),
            "",
        ]
        for rule in schema["properties"]["spec"].get("x-kubernetes-validations", []):
            out.append(f"- Rule: {rule['message']}")
        out += ["", "| Field | Type | Description | Notes |", "| --- | --- | --- | --- |"]
        out += _rows(schema, "", set(schema.get("required", [])))
        out.append("")
    return "\n".join(out)


def all_files(root: pathlib.Path) -> dict[pathlib.Path, str]:
    return {**crd_files(root), root / "docs" / "api.md": api_reference()}


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
