// Package inprocess runs the operator inside the calling process, for the demo, the scale
// harness and the tests that need the whole operator (the controllers' own suite builds its
// manager itself, since this package imports the controllers).
package inprocess

import (
	"context"
	"io"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

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
