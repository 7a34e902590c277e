#!/usr/bin/env bash
# Builds the real programs the e2e suite runs — etcd, kube-apiserver, Helm 3 and
# pilot-discovery —
# from the Go module proxy, into a cache outside the repository keyed by version,
# so that only the first run on a machine pays for them (kube-apiserver is about
# ten CPU-minutes). Prints the cache folder on its last line.
#
#   MESHC_E2E_CACHE   where binaries are kept (default: ~/.cache/meshc-e2e)
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.0}   # the etcd k8s.io/kubernetes v1.37.2 pins for its client
cache=${MESHC_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshc-e2e}
repo=$(cd "$(dirname "$0")/.." && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod

bindir="$cache/bin"
mkdir -p "$bindir"

# A throw-away module: k8s.io/kubernetes needs every staging module replaced by
# the published one of the same minor, as its own go.mod replaces them with paths.
build_apiserver() {
  local out="$bindir/kube-apiserver-$K8S_VERSION"
  [ -x "$out" ] && return
  local mod="$cache/mod-kubernetes-$K8S_VERSION"
  local staging="v0.${K8S_VERSION#v1.}"
  rm -rf "$mod" && mkdir -p "$mod"
  (
    cd "$mod"
    go mod init meshc.dev/e2e-kubernetes >/dev/null 2>&1
    go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
    local gomod
    gomod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$K8S_VERSION.mod"
    {
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo "replace ("
      sed -n '/^replace (/,/^)/p' "$gomod" | awk '/=> \.\/staging/ {print "\t" $1 " => " $1 " '"$staging"'"}'
      echo ")"
    } >>go.mod
    cat >tools.go <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
    go mod tidy -e >/dev/null 2>&1 || true
    local major=${K8S_VERSION#v}; major=${major%%.*}
    local minor=${K8S_VERSION#v*.}; minor=${minor%%.*}
    go build -trimpath -o "$out.tmp" -ldflags "-s -w \
      -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
      -X k8s.io/component-base/version.gitMajor=$major \
      -X k8s.io/component-base/version.gitMinor=$minor" \
      k8s.io/kubernetes/cmd/kube-apiserver
    mv "$out.tmp" "$out"
  )
}

# build_from_module NAME MODULE VERSION PACKAGE [LDFLAGS] builds PACKAGE of
# MODULE at VERSION in a throw-away module (meshc's go.sum is left alone)
# into $bindir/NAME-VERSION.
build_from_module() {
  local name=$1 module=$2 version=$3 pkg=$4 ldflags=${5:-}
  local out="$bindir/$name-$version"
  [ -x "$out" ] && return
  local mod="$cache/mod-$name-$version"
  rm -rf "$mod" && mkdir -p "$mod"
  (
    cd "$mod"
    go mod init "meshc.dev/e2e-$name" >/dev/null 2>&1
    go get "$module@$version"
    go build -trimpath -o "$out.tmp" -ldflags "-s -w $ldflags" "$pkg"
    mv "$out.tmp" "$out"
  )
}

build_etcd() {
  build_from_module etcd go.etcd.io/etcd/server/v3 "$ETCD_VERSION" go.etcd.io/etcd/server/v3
}

# Helm 3 at the version meshc's own module pins: kustomize's --enable-helm
# refuses any other major version.
build_helm() {
  local v
  v=$(cd "$repo" && go list -m -f '{{.Version}}' helm.sh/helm/v3)
  build_from_module helm helm.sh/helm/v3 "$v" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$v"
}

# pilot-discovery (istiod) from the istio.io/istio module meshc itself depends
# on — a master snapshot, not the release an example pins — so the istiod suite
# needs nothing beyond the module proxy.
build_pilot() {
  local v
  v=$(cd "$repo" && go list -m -f '{{.Version}}' istio.io/istio)
  build_from_module pilot-discovery istio.io/istio "$v" istio.io/istio/pilot/cmd/pilot-discovery \
    "-X istio.io/istio/pkg/version.buildVersion=$v -X istio.io/istio/pkg/version.buildStatus=Clean"
}

what=${1:-all}
case "$what" in
  all) build_etcd; build_helm; build_apiserver; build_pilot ;;
  etcd) build_etcd ;;
  helm) build_helm ;;
  kube-apiserver) build_apiserver ;;
  pilot-discovery) build_pilot ;;
  *) echo "usage: $0 [all|etcd|helm|kube-apiserver|pilot-discovery]" >&2; exit 2 ;;
esac
echo "$cache"
