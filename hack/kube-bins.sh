#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from Go modules (hack/kube-bins/go.mod) into a
# versioned cache outside the checkout, the same layout setup-envtest uses, so every clone
# and every CI run on this machine reuses one build. Prints the directory on stdout.
#
#   hack/kube-bins.sh            # build what is missing, print the directory
#   KUBE_BINS_CLUSTER=1 hack/kube-bins.sh   # also the kubelet, scheduler, controller manager, proxy, metrics-server, helm
#   KUBE_BINS_DIR=/x hack/kube-bins.sh
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mod="$here/kube-bins"
k8s_version=$(awk '$1=="k8s.io/kubernetes"{print $2; exit}' "$mod/go.mod")
etcd_version=$(awk '$1=="go.etcd.io/etcd/server/v3"{print $2; exit}' "$mod/go.mod")
goos=$(go env GOOS); goarch=$(go env GOARCH)
dir=${KUBE_BINS_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/kubebuilder-envtest/k8s/${k8s_version#v}-$goos-$goarch}
mkdir -p "$dir"

log() { echo "kube-bins: $*" >&2; }

build() { # name package ldflags [module directory]
  local name=$1 pkg=$2 ldflags=$3 in=${4:-$mod}
  if [ -x "$dir/$name" ]; then return; fi
  log "building $name from $pkg (first time only; a few minutes on 2 cores)"
  local tmp="$dir/.$name.tmp.$$"
  (cd "$in" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$tmp" "$pkg")
  mv -f "$tmp" "$dir/$name"
}

kv=k8s.io/component-base/version
kube_ldflags="-X $kv.gitVersion=$k8s_version -X $kv.gitMajor=$(echo "${k8s_version#v}" | cut -d. -f1) \
 -X $kv.gitMinor=$(echo "${k8s_version#v}" | cut -d. -f2) -X $kv.gitTreeState=clean -X $kv.buildDate=1970-01-01T00:00:00Z"
ev=go.etcd.io/etcd/api/v3/version
etcd_ldflags="-X $ev.Version=${etcd_version#v} -X $ev.GitSHA=module-$etcd_version"

# Built one after another: in parallel they would fight over 2 cores and memory.
build etcd go.etcd.io/etcd/server/v3 "$etcd_ldflags"
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"
if [ "${KUBE_BINS_KUBECTL:-1}" = 1 ]; then
  build kubectl k8s.io/kubernetes/cmd/kubectl "$kube_ldflags"
fi
# The rest of a single-node cluster (make cluster-up), only when asked: KUBE_BINS_CLUSTER=1.
if [ "${KUBE_BINS_CLUSTER:-0}" = 1 ]; then
  for c in kube-controller-manager kube-scheduler kubelet kube-proxy; do
    build "$c" "k8s.io/kubernetes/cmd/$c" "$kube_ldflags"
  done
  # The metrics-server, from its own module (hack/metrics-server), named by its version.
  ms_version=$(grep -o 'sigs.k8s.io/metrics-server v[0-9.]*' "$here/metrics-server/go.mod" | head -1 | cut -d' ' -f2)
  build "metrics-server-$ms_version" sigs.k8s.io/metrics-server/cmd/metrics-server \
    "-X k8s.io/client-go/pkg/version.gitVersion=$ms_version -X k8s.io/client-go/pkg/version.gitTreeState=clean" "$here/metrics-server"
  # The helm CLI, at the version of the Helm SDK the chart tests use (hack/helm), for make e2e.
  helm_version=$(grep -o 'helm.sh/helm/v3 v[0-9.]*' "$here/helm/go.mod" | head -1 | cut -d' ' -f2)
  build "helm-$helm_version" helm.sh/helm/v3/cmd/helm \
    "-X helm.sh/helm/v3/internal/version.version=$helm_version -X helm.sh/helm/v3/internal/version.gitTreeState=clean" "$here/helm"
fi
echo "$dir"
