"""The container image, without a Docker engine: the Dockerfile passes hadolint and keeps its
promises, and the entrypoint runs from a virtualenv built the way the image builds it."""

from __future__ import annotations

import os
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def stages() -> list[list[tuple[str, str]]]:
    """The Dockerfile's stages as (instruction, arguments) lists, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out: list[list[tuple[str, str]]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, args = line.partition(" ")
        if instruction.upper() == "FROM":
            out.append([])
        if out:
            out[-1].append((instruction.upper(), args.strip()))
    return out


def test_hadolint_finds_nothing():
    hadolint = pathlib.Path(sys.executable).parent / "hadolint"
    proc = subprocess.run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_final_stage_is_slim_non_root_and_has_no_build_steps():
    *build, final = stages()
    assert build, "multi-stage: the virtualenv is built in an earlier stage"
    (base,) = [args for ins, args in final if ins == "FROM"]
    assert "AS" not in base.upper()
    arg_default = re.search(r"^ARG PYTHON_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M).group(1)
    assert arg_default.startswith("python:") and "slim" in arg_default
    assert not [args for ins, args in final if ins == "RUN"], "the runtime stage runs nothing: no compilers, no pip"
    copies = [args for ins, args in final if ins == "COPY"]
    assert copies and all(c.startswith("--from=build ") for c in copies)
    (user,) = [args for ins, args in final if ins == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and gid.isdigit() and int(gid) != 0
    assert ("ENTRYPOINT", '["studio-operator"]') in final


def test_the_image_exposes_the_charts_ports():
    values = yaml.safe_load((ROOT / "helm" / "studio-operator" / "values.yaml").read_text())
    (exposed,) = [args for ins, args in stages()[-1] if ins == "EXPOSE"]
    assert exposed.split() == [str(values["healthPort"]), str(values["metrics"]["port"]), str(values["webhook"]["port"])]


@pytest.fixture(scope="module")
def image_venv(tmp_path_factory) -> pathlib.Path:
    """A virtualenv built by the script the image's build stage runs.

    The wheels (the lock's, and setuptools to build the package) are fetched once into .work/;
    the build itself then runs offline, as fast as a local install.
    """
    wheels = ROOT / ".work" / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    "-d", str(wheels), "-c", str(ROOT / "requirements.lock"), str(ROOT), "setuptools>=68"],
                   check=True, timeout=900)
    venv = tmp_path_factory.mktemp("image") / "venv"
    env = {**os.environ, "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels)}
    subprocess.run([ROOT / "hack" / "image-venv.sh", str(venv), str(ROOT)], check=True, timeout=900, env=env)
    return venv


def test_entrypoint_runs_from_the_image_virtualenv(image_venv: pathlib.Path):
    help_ = subprocess.run([image_venv / "bin" / "studio-operator", "--help"], capture_output=True, text=True, check=True)
    assert "--metrics-port" in help_.stdout and "--liveness" in help_.stdout
    # Every module imports with the runtime dependencies alone (nothing from the dev extra).
    code = ("import importlib, pkgutil, studio_operator as p\n"
            "[importlib.import_module(m.name) for m in pkgutil.walk_packages(p.__path__, 'studio_operator.')]\n"
            "import importlib.util as u; print(u.find_spec('pytest') is None, u.find_spec('pip') is None)")
    out = subprocess.run([image_venv / "bin" / "python", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"], "no test tools and no installer in the runtime environment"
