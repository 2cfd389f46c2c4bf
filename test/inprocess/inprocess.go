// Package inprocess runs the operator inside the calling process, for the demo, the scale
// harness and the tests that need the whole operator (the controllers' own suite builds its
// manager itself, since this package imports the controllers).
package inprocess

import (
	"context"
	"io"
	"os"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/tenantops/tenant-operator/controllers"
)

// StartOperator runs the operator's manager in this process, as cfg's identity, until ctx ends:
// the same scheme, cache limits and controllers as main.go, no metrics listener, logs dropped.
// tune, when not nil, adjusts the manager's options (a counting client, leader election).
// stopped is closed once the manager has returned: a caller that runs operator after operator
// waits for it, so that none outlives its test.
func StartOperator(ctx context.Context, cfg *rest.Config, opts controllers.Options, tune func(*ctrl.Options)) (stopped <-chan struct{}, err error) {
	mo := ctrl.Options{
		Scheme: controllers.NewScheme(), Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: controllers.CacheOptions(), Logger: zap.New(zap.WriteTo(inprocessLogs())),
	}
	if tune != nil {
		tune(&mo)
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, err
	}
	if err := controllers.SetupAll(mgr, opts); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = mgr.Start(ctx)
	}()
	return done, nil
}

func inprocessLogs() io.Writer {
	if os.Getenv("INPROCESS_LOGS") != "" {
		return os.Stderr
	}
	return io.Discard
}
