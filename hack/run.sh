#!/usr/bin/env bash
# `make run`: the operator in the foreground against KUBECONFIG's cluster, or, when that does
# not answer, against the local control plane (started here), with CRDs and samples installed.
# It serves the liveness endpoint on http://127.0.0.1:8080/healthz (STUDIO_LIVENESS_ENDPOINT for
# another), which `studioctl doctor --operator-url` asks.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=$("$root/hack/bindir.sh")
kubectl="$bindir/kubectl"
if [ -n "${KUBECONFIG:-}" ] && "$kubectl" get --raw /readyz --request-timeout=5s >/dev/null 2>&1; then
  echo "run: using the cluster in KUBECONFIG=$KUBECONFIG" >&2
else
  make -C "$root" --no-print-directory controlplane
  KUBECONFIG=$("$root/hack/cluster.sh" up | tail -n 1)
  export KUBECONFIG
  echo "run: local control plane up; KUBECONFIG=$KUBECONFIG" >&2
fi
"$kubectl" apply --server-side --force-conflicts -f "$root/crds/" >&2
"$kubectl" wait --for=condition=Established crd --all --timeout=60s >/dev/null
# The operator's own namespace, where template image builds run.
"$kubectl" create namespace "${STUDIO_NAMESPACE:-studio-system}" --dry-run=client -o yaml | "$kubectl" apply -f - >&2
# The ClusterRoles workspace members are bound to (an install ships them).
"$kubectl" apply --server-side --force-conflicts -f "$root/manifests/rbac/" >&2
if compgen -G "$root/manifests/samples/*.yaml" >/dev/null; then
  # Samples refer to each other: the studios live in the namespace the operator creates for the
  # sample workspace, so whatever the API refuses now is applied again, in the background, until
  # it is accepted (the operator, started below, makes that happen) or two minutes have passed.
  if ! "$kubectl" apply -f "$root/manifests/samples/" >/dev/null 2>&1; then
    (
      for _ in $(seq 60); do
        sleep 2
        if "$kubectl" apply -f "$root/manifests/samples/" >/dev/null 2>&1; then
          echo "run: samples applied" >&2
          exit 0
        fi
      done
      echo "run: some samples were still refused after 2 minutes:" >&2
      "$kubectl" apply -f "$root/manifests/samples/" >&2 || true
    ) &
  fi
fi
echo "run: starting studio-operator (Ctrl-C stops it; 'make cluster-down' stops the cluster)" >&2
exec "$root/.venv/bin/studio-operator" --liveness "${STUDIO_LIVENESS_ENDPOINT:-http://127.0.0.1:8080/healthz}" "$@"
