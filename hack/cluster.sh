#!/usr/bin/env bash
# The local control plane: etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
# kwok's fake nodes, run by `kwokctl --runtime binary` on loopback from binaries built by
# hack/build-controlplane.sh.
#
#   hack/cluster.sh up          start (or reuse) the cluster; the last line is its kubeconfig
#   hack/cluster.sh down        stop it and remove its state; nothing keeps running
#   hack/cluster.sh kubeconfig  print the kubeconfig path
#
# Environment: STUDIO_CLUSTER_NAME (default studio), STUDIO_CLUSTER_NODES (default 2) and
# STUDIO_CLUSTER_CONFIG (an extra kwokctl config file layered over hack/kwok/kwokctl.yaml,
# e.g. bench/kwokctl.yaml to lift the API server's limits).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=$("$root/hack/bindir.sh")
name=${STUDIO_CLUSTER_NAME:-studio}
nodes=${STUDIO_CLUSTER_NODES:-2}
configs=(--config "$root/hack/kwok/kwokctl.yaml")
if [ -n "${STUDIO_CLUSTER_CONFIG:-}" ]; then
  configs+=(--config "$STUDIO_CLUSTER_CONFIG")
fi
# One cluster per checkout, its state inside the checkout (ignored by git).
export KWOK_WORKDIR="$root/.work/kwok"
export KWOK_KUBECTL_BINARY="$bindir/kubectl"
kubeconfig="$KWOK_WORKDIR/clusters/$name/kubeconfig.yaml"
kubectl=("$bindir/kubectl" --kubeconfig "$kubeconfig")
kwokctl=("$bindir/kwokctl" --name "$name")

# This cluster's own API server and etcd serve it (not another cluster's, which took a port
# first: hack/own_servers.py), and it is ready.
healthy() {
  [ -f "$kubeconfig" ] || return 1
  local port
  port=$(sed -n 's|^ *server: https://127.0.0.1:\([0-9]*\)$|\1|p' "$kubeconfig")
  [ -n "$port" ] && python3 "$root/hack/own_servers.py" "$KWOK_WORKDIR/clusters/$name" "$port" || return 1
  "${kubectl[@]}" get --raw /readyz >/dev/null 2>&1
}

wait_for() {  # description, seconds, command...
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      echo "cluster: timed out after ${secs}s waiting for $what" >&2
      return 1
    fi
    sleep 1
  done
}

nodes_ready() {
  local ready
  ready=$("${kubectl[@]}" get nodes -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True)
  [ "$ready" -ge "$nodes" ]
}

create() {
  echo "cluster: creating '$name' (Kubernetes $("$bindir/kube-apiserver" --version | awk '{print $2}'))" >&2
  "${kwokctl[@]}" create cluster \
    "${configs[@]}" \
    --kube-apiserver-binary "$bindir/kube-apiserver" \
    --kube-controller-manager-binary "$bindir/kube-controller-manager" \
    --kube-scheduler-binary "$bindir/kube-scheduler" \
    --etcd-binary "$bindir/etcd" \
    --kwok-controller-binary "$bindir/kwok" \
    --kubeconfig "" \
    --wait 3m >&2 || return 1
  wait_for "this cluster's own API server and etcd on its ports" 30 healthy || return 1
  wait_for "the Stage CRD" 60 "${kubectl[@]}" get crd stages.kwok.x-k8s.io || return 1
  "${kubectl[@]}" apply --server-side --force-conflicts --field-manager=studio-cluster \
    -f "$root/hack/kwok/stages.yaml" >&2 || return 1
  "${kwokctl[@]}" scale node --replicas "$nodes" >&2 || return 1
  wait_for "$nodes Ready node(s)" 120 nodes_ready || return 1
  wait_for "the default ServiceAccount" 60 "${kubectl[@]}" -n default get serviceaccount default
}

up() {
  for b in kube-apiserver kube-controller-manager kube-scheduler kubectl etcd kwok kwokctl; do
    [ -x "$bindir/$b" ] || { echo "cluster: $bindir/$b is missing; run 'make controlplane'" >&2; exit 1; }
  done
  if healthy && nodes_ready 2>/dev/null; then
    echo "cluster: reusing the running cluster '$name'" >&2
  else
    # kwokctl picks free ports when it creates a cluster; another cluster on the machine can
    # take one before a component binds it. A fresh try picks new ports.
    local attempt
    for attempt in 1 2 3; do
      [ -d "$KWOK_WORKDIR/clusters/$name" ] && down >/dev/null 2>&1
      create && break
      echo "cluster: attempt $attempt to start '$name' failed" >&2
      rm -rf "$KWOK_WORKDIR/failed-logs" && cp -r "$KWOK_WORKDIR/clusters/$name/logs" "$KWOK_WORKDIR/failed-logs" 2>/dev/null || true
      if [ "$attempt" = 3 ]; then
        down >/dev/null 2>&1
        tail -n 5 "$KWOK_WORKDIR"/failed-logs/*.log >&2 2>/dev/null || true
        echo "cluster: could not start '$name'; component logs are in $KWOK_WORKDIR/failed-logs" >&2
        exit 1
      fi
    done
  fi
  echo "$kubeconfig"
}

down() {
  if [ -d "$KWOK_WORKDIR/clusters/$name" ]; then
    "${kwokctl[@]}" delete cluster >&2 || true
  fi
  # kwokctl stops components by pid file; make sure nothing of this cluster survives it.
  pkill -f -- "$KWOK_WORKDIR/clusters/$name/" 2>/dev/null || true
  rm -rf "${KWOK_WORKDIR:?}/clusters/$name"
  echo "cluster: '$name' is down" >&2
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  kubeconfig) echo "$kubeconfig" ;;
  *) echo "usage: $0 up|down|kubeconfig" >&2; exit 2 ;;
esac
