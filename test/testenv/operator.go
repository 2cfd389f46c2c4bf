package testenv

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/yaml"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
)

// StartOperator runs the operator's manager in this process, as cfg's identity, until ctx ends:
// the same scheme, cache limits and controllers as main.go, no metrics listener, logs dropped.
// tune, when not nil, adjusts the manager's options (a counting client, leader election).
func StartOperator(ctx context.Context, cfg *rest.Config, opts controllers.Options, tune func(*ctrl.Options)) error {
	mo := ctrl.Options{
		Scheme: controllers.NewScheme(), Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: controllers.CacheOptions(), Logger: zap.New(zap.WriteTo(io.Discard)),
	}
	if tune != nil {
		tune(&mo)
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return err
	}
	if err := controllers.SetupAll(mgr, opts); err != nil {
		return err
	}
	go func() { _ = mgr.Start(ctx) }()
	return nil
}

// SampleCell is config/samples' RegionCell without its notifications: no webhook receiver or
// SNS topic is reachable from here.
func SampleCell() (*saasv1.RegionCell, error) {
	raw, err := os.ReadFile(filepath.Join(Root(), "config", "samples", "saas_v1alpha1_regioncell.yaml"))
	if err != nil {
		return nil, err
	}
	cell := &saasv1.RegionCell{}
	if err := yaml.Unmarshal(raw, cell); err != nil {
		return nil, err
	}
	cell.Spec.Notifications = nil
	return cell, nil
}
