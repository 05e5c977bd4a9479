#!/usr/bin/env bash
# Prints the cache folder of the control-plane binaries for the pinned versions.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
# The wrapper module's go.sum is part of the key so a dependency bump never reuses stale binaries.
sum=$(cat "$here/controlplane/go.mod" "$here/controlplane/go.sum" | sha256sum | cut -c1-12)
echo "${XDG_CACHE_HOME:-$HOME/.cache}/studio-operator/kube-${KUBE_VERSION}-etcd-${ETCD_VERSION}-kwok-${KWOK_VERSION}-helm-${HELM_VERSION}-${sum}/bin"
