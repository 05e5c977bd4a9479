"""Deterministic Dockerfile rendering from a template's build spec.

The same inputs always give the same bytes: package lists are deduplicated and sorted (they
are sets in the API), so reordering them builds nothing new. The API patterns already refuse
spaces and shell characters in package names; rendering still quotes every word for the
shell and refuses anything that could end a Dockerfile instruction early.
"""

from __future__ import annotations

import re
import shlex

from ..api.template import ImageBuild

# Anything that would end or split a Dockerfile line (and so smuggle in an instruction).
_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f]")


class InvalidBuildInput(ValueError):
    """A build input that cannot be rendered safely; the message says which and why."""


def _word(kind: str, value: str) -> str:
    if not value or _LINE_BREAKS.search(value) or value != value.strip():
        raise InvalidBuildInput(f"{kind} {value!r} is empty or holds whitespace or control characters")
    return shlex.quote(value)


def _packages(kind: str, names: list[str]) -> list[str]:
    return [_word(kind, name) for name in sorted(set(names))]


def _continued(lines: list[str]) -> str:
    """One instruction over several lines, one package a line, so Dockerfile diffs read well."""
    return " \\\n".join(lines)


def _extra_lines(text: str) -> list[str]:
    """The user's extra instructions, verbatim but for line endings and trailing blanks."""
    if "\x00" in text:
        raise InvalidBuildInput("image.build.dockerfile holds a NUL character")
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return lines


def render_dockerfile(build: ImageBuild) -> str:
    """The Dockerfile the builder runs, ending in a newline."""
    base = build.base_image
    if not base or re.search(r"\s", base) or _LINE_BREAKS.search(base):
        raise InvalidBuildInput(f"image.build.baseImage {base!r} holds whitespace or control characters")
    out = [
        "# Rendered by studio-operator from a CodeStudioTemplate; edit the template, not this file.",
        f"FROM {base}",
        # Package managers need root; studios run as the template's non-root user regardless.
        "USER root",
    ]
    apt = _packages("apt package", build.apt_packages)
    if apt:
        out.append(_continued([
            "RUN apt-get update",
            " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends",
            *(f"      {word}" for word in apt),
            " && rm -rf /var/lib/apt/lists/*",
        ]))
    pip = _packages("pip package", build.pip_packages)
    if pip:
        out.append(_continued(["RUN python3 -m pip install --no-cache-dir", *(f"      {word}" for word in pip)]))
    out.extend(_extra_lines(build.dockerfile))
    return "\n".join(out) + "\n"
