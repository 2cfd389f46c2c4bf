// Module metrics-server builds the Kubernetes metrics-server for the single-node cluster
// (hack/cluster up -metrics-server), so the app's HPA sees real CPU. Its own dependency versions
// are kept apart from the operator's.
module github.com/tenantops/tenant-operator/hack/metrics-server

go 1.26.0

require sigs.k8s.io/metrics-server v0.8.0
