"""crds/ and docs/api.md are generated from the models; drift fails here, and so does a rule or limit api.md leaves out."""

import pathlib

from studio_operator.api.crd import build_crds
from studio_operator.api.generate import all_files, api_reference

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_generated_files_match_the_models():
    stale = [str(p.relative_to(ROOT)) for p, text in all_files(ROOT).items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run `make crds`: {stale} differ from the models"


def _nodes(node: dict):
    """node and every schema below it: properties, array items, map values."""
    yield node
    for child in [*node.get("properties", {}).values(), node.get("items"), node.get("additionalProperties")]:
        if isinstance(child, dict):
            yield from _nodes(child)


def _notes(reference: str, field: str) -> str:
    (row,) = [line for line in reference.splitlines() if line.startswith(f"| `{field}` |")]
    return row.rsplit(" | ", 1)[1].removesuffix(" |")


def test_the_api_reference_states_every_rule():
    reference = api_reference(ROOT)
    for crd in build_crds():
        for node in _nodes(crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]):
            for rule in node.get("x-kubernetes-validations", []):
                assert rule["message"] in reference, f"{crd['metadata']['name']}: {rule['message']!r} is not in docs/api.md"


def test_the_api_reference_states_rules_and_limits_of_list_items():
    reference = api_reference(ROOT)
    assert _notes(reference, ".spec.members[].namespace").endswith(
        "; a ServiceAccount member needs namespace; namespace is only for ServiceAccount members")
    for packages in (".spec.image.build.aptPackages", ".spec.image.build.pipPackages"):
        assert "at most 200 entries; no duplicates; each at most 128 characters; must be" in _notes(reference, packages)
