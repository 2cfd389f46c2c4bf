# tenant-operator. `make help` lists the targets.

SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

# Where the upstream ACK CRDs are read from (never copied into the repository).
ACK_CRDS_DIR ?= $(abspath ../shared/ack-crds)
export ACK_CRDS_DIR

CONTROLLER_GEN := go tool -modfile=hack/tools/go.mod controller-gen
# golangci-lint v2, pinned in its own module; .golangci.yml says which linters and why.
GOLANGCI_LINT := go tool -modfile=hack/lint/go.mod golangci-lint
# kube-apiserver, etcd and kubectl built from Go modules, cached by version outside the checkout.
KUBE_BINS = $(shell hack/kube-bins.sh)
IMG ?= ghcr.io/tenantops/tenant-operator:dev
# The fault tests kill the operator at every third write of an onboarding and a deletion: more
# than go test's default 10 minutes on 2 cores.
GO_TEST_FLAGS ?= -timeout 30m

##@ General

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: ## Generate CRDs and RBAC from kubebuilder markers into config/.
	rm -f config/crd/bases/*.yaml
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:artifacts:config=config/crd/bases
	$(CONTROLLER_GEN) rbac:roleName=tenant-operator paths=./controllers/... output:rbac:artifacts:config=config/rbac
	hack/sync-chart.sh
	go run ./hack/apidocs

.PHONY: generate
generate: ## Generate deepcopy code from the API types.
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/... paths=./controllers/ack/...

.PHONY: fmt
fmt: ## go fmt.
	go fmt ./...

.PHONY: vet
vet: ## go vet, the end-to-end tests (build tag e2e) included.
	go vet ./...
	go vet -tags e2e ./test/e2e

.PHONY: lint
lint: ## golangci-lint: gofmt, govet, errcheck, staticcheck, ineffassign, unused, misspell, importas, nilerr, gosec (.golangci.yml), the e2e tests included.
	$(GOLANGCI_LINT) run ./...

.PHONY: verify
verify: ## Fail when generated code, CRDs or RBAC are stale, or code is unformatted.
	hack/verify-generated.sh
	$(MAKE) lint

.PHONY: envtest
envtest: ## Build (once, cached) kube-apiserver, etcd and kubectl for envtest and the demo.
	@hack/kube-bins.sh

.PHONY: test-deps
test-deps: ## Install MariaDB and Redis (Debian packages) for the app's tests, when missing.
	@hack/test-deps.sh

# The fault tests kill and restart operators against deadlines: they run after the other packages,
# with the machine to themselves as in make chaos, instead of sharing two cores with the packages
# that build images and binaries (a deletion once missed its 90 s deadline that way).
.PHONY: test
test: verify envtest test-deps ## Run all tests: controllers on envtest, the app on real MariaDB, Redis and SQLite.
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" go test $(GO_TEST_FLAGS) $$(go list ./... | grep -v /test/faults$$) -count=1
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" go test $(GO_TEST_FLAGS) ./test/faults -count=1

.PHONY: unit
unit: ## Run the tests that need no API server, database or browser (the decisions, builders, app parts), in seconds.
	go test $(GO_TEST_FLAGS) $$(hack/unit-packages.sh) -count=1

.PHONY: bench
bench: envtest ## Run benchmarks; figures go into docs/benchmarks.md.
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" go test ./... -run '^$$' -bench . -benchmem

.PHONY: bench-app
bench-app: test-deps ## Measure the app on real MariaDB and Redis (recommend vs GROUP BY, cached GET vs bare handler).
	go run ./app/benchmark

.PHONY: bench-onboarding
bench-onboarding: envtest ## New tenant to Ready with a warm pool of databases and without, RDS played at a scaled 10-minute creation.
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" go run ./hack/onboarding

.PHONY: bench-recovery
bench-recovery: envtest test-deps ## Disaster recovery on two control planes and moto: RPO of 20 tenants' copies, writes at rest, RTO of a failover from a copy and from a standby.
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" go run ./hack/recovery

.PHONY: chaos
chaos: envtest ## Kill the operator at every write of an onboarding, a deletion and a warm-pool claim (make test: every third), plus conflicts and an outage.
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" FAULTS_EVERY_K=1 go test ./test/faults -count=1 -v -timeout 30m | grep -E '^(=== RUN|--- |    (faults|claims)_test|ok|FAIL|PASS)'

# Sizes make scale onboards, each on a fresh control plane.
TENANTS ?= 100,1000,2000

.PHONY: scale
scale: envtest ## The operator binary onboarding TENANTS (default 100,1000,2000) tenants in 2 cells, against the API server's ceilings.
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" go run ./hack/scale -tenants $(TENANTS)

##@ End to end on a real cluster

CLUSTER_DIR ?= /var/tmp/tenantops-cluster
export CLUSTER_DIR

.PHONY: cluster-up
cluster-up: ## Bring up a single-node cluster here (root): containerd, kubelet, kube-proxy, control plane.
	@hack/cluster-deps.sh
	@bins=$$(KUBE_BINS_CLUSTER=1 hack/kube-bins.sh) && go run ./hack/cluster up -bins "$$bins" -dir $(CLUSTER_DIR) \
	  -metrics-server "$$bins/metrics-server-$$(grep -o 'sigs.k8s.io/metrics-server v[0-9.]*' hack/metrics-server/go.mod | head -1 | cut -d' ' -f2)"

.PHONY: cluster-down
cluster-down: ## Take the cluster down and leave the host as it was (processes, mounts, iptables, sysctls).
	@go run ./hack/cluster down -dir $(CLUSTER_DIR)

.PHONY: e2e
e2e: ## Fresh cluster, the operator and app images in it, the end-to-end scenarios, teardown.
	hack/e2e.sh

##@ Build and run

.PHONY: build
build: ## Build the operator binary into bin/.
	go build -o bin/tenant-operator .

APP_IMG ?= ghcr.io/tenantops/app:dev

.PHONY: docker-build
docker-build: ## Build the operator image (needs a Docker engine; none runs on the CI machines).
	docker build -t $(IMG) .

.PHONY: docker-build-app
docker-build-app: ## Build the app image (needs a Docker engine).
	docker build -f app/Dockerfile -t $(APP_IMG) .

.PHONY: images
images: ## Build the operator's and the app's OCI image tarballs without Docker, into bin/images.
	go run ./hack/images -out bin/images -version $(or $(VERSION),dev)

.PHONY: run
run: ## Run the operator against the cluster in your kubeconfig.
	go run .

.PHONY: demo
demo: envtest ## Local control plane, the chart, the operator on config/samples; DEMO_ARGS=--play-aws adds local stores and the app.
	KUBEBUILDER_ASSETS="$(KUBE_BINS)" go run ./hack/demo $(DEMO_ARGS)

.PHONY: install
install: manifests ## Install the CRDs into the cluster in your kubeconfig.
	kubectl apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRDs (and with them every Tenant and RegionCell!) from the cluster.
	kubectl delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: manifests ## Deploy the operator with kustomize into the cluster in your kubeconfig.
	kubectl apply --server-side -k config/default

.PHONY: undeploy
undeploy: ## Remove the operator deployment.
	kubectl delete --ignore-not-found -k config/default
