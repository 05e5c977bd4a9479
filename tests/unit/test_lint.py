"""Pyflakes over the code: an undefined name in an error path (once a NameError that turned a
refused build Job into an endless retry) fails here, not in a user's cluster."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_ruff_finds_no_undefined_names_or_unused_imports():
    ruff = pathlib.Path(sys.executable).parent / "ruff"
    paths = [p for p in ("operator", "tests", "hack", "bench") if (ROOT / p).exists()]
    result = subprocess.run([str(ruff), "check", "--output-format", "concise", *paths],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
