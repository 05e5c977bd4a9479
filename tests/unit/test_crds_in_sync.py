"""crds/ and docs/api.md are generated from the models; drift fails here."""

import pathlib

from studio_operator.api.generate import all_files

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_generated_files_match_the_models():
    stale = [str(p.relative_to(ROOT)) for p, text in all_files(ROOT).items() if not p.exists() or p.read_text() != text]
    assert not stale, f"run `make crds`: {stale} differ from the models"
