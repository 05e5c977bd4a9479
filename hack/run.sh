#!/usr/bin/env bash
# `make run` (README.md, "`make run` in detail"): the operator in the foreground, serving its
# liveness endpoint on http://127.0.0.1:8080/healthz, against KUBECONFIG's cluster; or, when that
# does not answer, against the local control plane (started here) with the samples installed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=$("$root/hack/bindir.sh")
kubectl="$bindir/kubectl"
local_kubeconfig=$("$root/hack/cluster.sh" kubeconfig)
samples=false
if [ -n "${KUBECONFIG:-}" ] && "$kubectl" get --raw /readyz --request-timeout=5s >/dev/null 2>&1; then
  echo "run: using the cluster in KUBECONFIG=$KUBECONFIG" >&2
  # Another cluster's API server cannot call this machine's loopback, the webhooks' default
  # address, and those that fail closed would refuse every new studio: none unless told where.
  if [ "$(realpath -m "$KUBECONFIG")" != "$(realpath -m "$local_kubeconfig")" ] &&
     [ -z "${STUDIO_WEBHOOK_MANAGED:-}" ] && [ -z "${STUDIO_WEBHOOK_HOST:-}" ]; then
    export STUDIO_WEBHOOK_MANAGED=false
    echo "run: registering no admission webhooks: this cluster's API server cannot call 127.0.0.1 here" \
      "(set STUDIO_WEBHOOK_MANAGED=true, STUDIO_WEBHOOK_HOST and STUDIO_WEBHOOK_ADDR=0.0.0.0 to register them)" >&2
  fi
else
  make -C "$root" --no-print-directory controlplane
  KUBECONFIG=$("$root/hack/cluster.sh" up | tail -n 1)
  export KUBECONFIG
  samples=true
  echo "run: local control plane up; KUBECONFIG=$KUBECONFIG" >&2
fi
"$kubectl" apply --server-side --force-conflicts -f "$root/crds/" >&2
"$kubectl" wait --for=condition=Established crd --all --timeout=60s >/dev/null
# The operator's own namespace, where template image builds run.
"$kubectl" create namespace "${STUDIO_NAMESPACE:-studio-system}" --dry-run=client -o yaml | "$kubectl" apply -f - >&2
# The ClusterRoles workspace members are bound to (an install ships them).
"$kubectl" apply --server-side --force-conflicts -f "$root/manifests/rbac/" >&2
if $samples && compgen -G "$root/manifests/samples/*.yaml" >/dev/null; then
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
