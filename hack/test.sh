#!/usr/bin/env bash
# Runs the test suite (default: all of tests/). The e2e fixtures find or start a cluster.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export PATH="$("$root/hack/bindir.sh"):$PATH"
# The slowest tests are listed at the end: where the suite's time goes.
exec .venv/bin/pytest --durations=15 "${@:-tests}"
