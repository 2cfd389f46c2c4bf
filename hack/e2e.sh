#!/usr/bin/env bash
# make e2e: a fresh single-node cluster (hack/cluster), the end-to-end scenarios (test/e2e), and
# the cluster taken down again whatever happened. On failure the cluster's logs (every
# component's, the API server's audit log, and a dump of the objects) are kept in bin/e2e-logs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CLUSTER_DIR=${CLUSTER_DIR:-/var/tmp/tenantops-cluster}
say() { echo "e2e: $*" >&2; }

hack/cluster-deps.sh
hack/test-deps.sh
bins=$(KUBE_BINS_CLUSTER=1 hack/kube-bins.sh)
export HELM="$bins/helm-$(grep -o 'helm.sh/helm/v3 v[0-9.]*' hack/helm/go.mod | head -1 | cut -d' ' -f2)"
metrics_server="$bins/metrics-server-$(grep -o 'sigs.k8s.io/metrics-server v[0-9.]*' hack/metrics-server/go.mod | head -1 | cut -d' ' -f2)"
go build -o bin/cluster ./hack/cluster
# A cluster left by an interrupted run carries its tenants: start from nothing.
bin/cluster down -dir "$CLUSTER_DIR" 2>/dev/null || true

# What the host looks like to the cluster: interfaces, routes, firewall rules, mounts, network
# namespaces, listening sockets and the sysctls the kubelet and kube-proxy touch. The same
# picture must come back after teardown.
fingerprint() {
  ip -o link | awk '{print $2}'
  ip route; ip -6 route
  for t in iptables ip6tables; do "$t-save" 2>/dev/null | grep -E '^(-A|:[A-Z])' | sed 's/ \[[0-9]*:[0-9]*\]$//' | grep -vE '^:(INPUT|OUTPUT|FORWARD|PREROUTING|POSTROUTING) ACCEPT$' || true; done
  awk '{print $2}' /proc/mounts | sort
  ls /run/netns 2>/dev/null || true
  ss -Hltn 2>/dev/null | awk '{print $4}' | sort
  for s in kernel/panic kernel/panic_on_oops vm/overcommit_memory vm/panic_on_oom kernel/keys/root_maxkeys \
    kernel/keys/root_maxbytes net/ipv4/ip_forward net/ipv4/conf/all/route_localnet net/netfilter/nf_conntrack_max \
    net/netfilter/nf_conntrack_tcp_timeout_established net/netfilter/nf_conntrack_tcp_timeout_close_wait; do
    echo "$s=$(cat /proc/sys/$s 2>/dev/null)"
  done
}
mkdir -p bin
fingerprint > bin/host-before.txt

status=1
teardown() {
  if [ "$status" != 0 ] && [ -d "$CLUSTER_DIR/logs" ]; then
    if [ -f "$CLUSTER_DIR/kubeconfig/admin.kubeconfig" ]; then
      "$bins/kubectl" --kubeconfig "$CLUSTER_DIR/kubeconfig/admin.kubeconfig" get all,tenants,regioncells,events -A -o wide \
        > "$CLUSTER_DIR/logs/objects.txt" 2>&1 || true
    fi
    rm -rf bin/e2e-logs && cp -r "$CLUSTER_DIR/logs" bin/e2e-logs && cp -r "$CLUSTER_DIR/pod-logs" bin/e2e-logs/pods 2>/dev/null || true
    say "failed; logs kept in bin/e2e-logs"
  fi
  bin/cluster down -dir "$CLUSTER_DIR" || true
  fingerprint > bin/host-after.txt
  if ! diff -u bin/host-before.txt bin/host-after.txt >&2; then
    say "the host was not left as it was (above: before/after)"
    exit 1
  fi
  say "the host is as it was before the cluster"
}
trap teardown EXIT

start=$(date +%s)
kubeconfig=$(bin/cluster up -bins "$bins" -metrics-server "$metrics_server" -dir "$CLUSTER_DIR")
# up is idempotent: a second one over the running cluster starts nothing.
if bin/cluster up -bins "$bins" -metrics-server "$metrics_server" -dir "$CLUSTER_DIR" 2>&1 >/dev/null | grep started; then
  say "a second cluster up started something (above)"; exit 1
fi
E2E_KUBECONFIG=$kubeconfig E2E_TIMINGS=bin/e2e-timings.md \
  go test -tags e2e ./test/e2e -count=1 -v -timeout 45m ${E2E_TEST_FLAGS:-}
status=0
say "passed in $(( $(date +%s) - start )) s (cluster up, scenarios, excluding teardown)"
