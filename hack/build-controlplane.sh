#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager, kube-scheduler, kubectl, etcd, helm, kwok
# and kwokctl from their Go modules into a cache outside the repo. Idempotent: a binary that
# is already in the cache is not built again, so a clean clone reuses earlier builds.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/versions.env"
bindir=$("$here/bindir.sh")
mkdir -p "$bindir"

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-buildvcs=false

have_all() {
  local b
  for b in "$@"; do [ -x "$bindir/$b" ] || return 1; done
}

build_kube() {
  have_all kube-apiserver kube-controller-manager kube-scheduler kubectl etcd && return 0
  local minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ld="-s -w"
  local pkg
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ld+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ld+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  echo "building Kubernetes $KUBE_VERSION and etcd $ETCD_VERSION into $bindir (a cold build takes many minutes)" >&2
  local tmp; tmp=$(mktemp -d "$bindir/.build.XXXXXX")
  (cd "$here/controlplane" && go build -trimpath -tags selinux,notest,grpcnotrace -ldflags "$ld" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kubectl)
  (cd "$here/controlplane" && go build -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3)
  mv "$tmp"/* "$bindir/" && rmdir "$tmp"
}

build_go_install() {  # name, package@version, ldflags
  have_all "$1" && return 0
  echo "building $2" >&2
  GOBIN="$bindir" go install -trimpath -ldflags "$3" "$2"
}

build_kube
build_go_install kwok "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}"
build_go_install kwokctl "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION" "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v} -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=${KUBE_VERSION#v}"
build_go_install helm "helm.sh/helm/v3/cmd/helm@$HELM_VERSION" "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
echo "$bindir"
