#!/usr/bin/env bash
# Builds the operator's runtime virtualenv at $1, as the container image does (Dockerfile):
# the package and its runtime dependencies only, pinned by requirements.lock, no pip left in it.
# tests/unit/test_image.py builds one the same way and runs the entrypoint from it.
set -euo pipefail
dest=$1
src=${2:-.}
python3 -m venv "$dest"
"$dest/bin/pip" install --quiet --disable-pip-version-check \
  -c "$src/requirements.lock" "$src"
# The runtime installs nothing: drop the installer and setuptools from the environment.
"$dest/bin/pip" uninstall --quiet --yes setuptools pip
