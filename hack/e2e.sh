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
go build -o bin/cluster ./hack/cluster
# A cluster left by an interrupted run carries its tenants: start from nothing.
bin/cluster down -dir "$CLUSTER_DIR" 2>/dev/null || true

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
}
trap teardown EXIT

start=$(date +%s)
kubeconfig=$(bin/cluster up -bins "$bins" -dir "$CLUSTER_DIR")
E2E_KUBECONFIG=$kubeconfig E2E_TIMINGS=bin/e2e-timings.md \
  go test -tags e2e ./test/e2e -count=1 -v -timeout 45m ${E2E_TEST_FLAGS:-}
status=0
say "passed in $(( $(date +%s) - start )) s (cluster up, scenarios, excluding teardown)"
