// Package testenv starts a real kube-apiserver and etcd (controller-runtime's envtest) with the
// project's CRDs, the upstream ACK CRDs and the Prometheus Operator's CRDs installed, for tests
// and for `make demo`.
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Root is the repository's top directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ACKCRDDirs are the directories of the upstream ACK CRDs: $ACK_CRDS_DIR (default
// ../shared/ack-crds beside the repository), one directory per controller plus common/.
func ACKCRDDirs() ([]string, error) {
	base := os.Getenv("ACK_CRDS_DIR")
	if base == "" {
		base = filepath.Join(Root(), "..", "shared", "ack-crds")
	}
	entries, err := os.ReadDir(base)
	if err != nil {
		return nil, fmt.Errorf("ACK CRDs: %w (set ACK_CRDS_DIR to the directory holding rds-controller-*, route53-controller-*, elasticache-controller-* and common)", err)
	}
	var dirs []string
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(base, e.Name()))
		}
	}
	for _, want := range []string{"rds-controller", "route53-controller", "elasticache-controller", "common"} {
		found := false
		for _, d := range dirs {
			found = found || strings.HasPrefix(filepath.Base(d), want)
		}
		if !found {
			return nil, fmt.Errorf("ACK CRDs: no %s directory in %s", want, base)
		}
	}
	return dirs, nil
}

// MonitoringCRDDirs are the Prometheus Operator's CRDs (ServiceMonitor, PodMonitor,
// PrometheusRule): $MONITORING_CRDS_DIR (default ../shared/monitoring-crds beside the repository),
// one directory per release.
func MonitoringCRDDirs() ([]string, error) {
	base := os.Getenv("MONITORING_CRDS_DIR")
	if base == "" {
		base = filepath.Join(Root(), "..", "shared", "monitoring-crds")
	}
	dirs, err := filepath.Glob(filepath.Join(base, "prometheus-operator-*"))
	if err != nil || len(dirs) == 0 {
		return nil, fmt.Errorf("monitoring CRDs: no prometheus-operator-* directory in %s (set MONITORING_CRDS_DIR)", base)
	}
	return dirs, nil
}

// binaryAssets finds kube-apiserver and etcd: $KUBEBUILDER_ASSETS, or hack/kube-bins.sh, which
// builds them from Go modules the first time and prints their cached directory.
func binaryAssets() (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		return dir, nil
	}
	cmd := exec.Command(filepath.Join(Root(), "hack", "kube-bins.sh"))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("hack/kube-bins.sh: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// Env is a running control plane.
type Env struct {
	*envtest.Environment
	Config *rest.Config
}

// Start starts a control plane with all CRDs installed. Stop it with Env.Stop.
func Start() (*Env, error) { return StartWith(nil) }

// StartWith is Start with a chance to configure the environment first (flags of the API server,
// such as an audit log).
func StartWith(configure func(*envtest.Environment)) (*Env, error) {
	assets, err := binaryAssets()
	if err != nil {
		return nil, err
	}
	ackDirs, err := ACKCRDDirs()
	if err != nil {
		return nil, err
	}
	monitoringDirs, err := MonitoringCRDDirs()
	if err != nil {
		return nil, err
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     append(append([]string{filepath.Join(Root(), "config", "crd", "bases")}, ackDirs...), monitoringDirs...),
		ErrorIfCRDPathMissing: true,
	}
	if configure != nil {
		configure(env)
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("starting kube-apiserver and etcd from %s: %w", assets, err)
	}
	return &Env{Environment: env, Config: cfg}, nil
}
