// Command scale times the operator onboarding many tenants against the API server's own write
// ceiling, on a local control plane (kube-apiserver + etcd built from Go modules).
//
//  1. The ceiling: W writers server-side-apply small objects as fast as the API server takes
//     them, with no client-side rate limit. That is the most this machine's API server writes.
//
//  2. Onboarding: one RegionCell and N Tenants; a player writes, as ACK, the Job controller and
//     the kubelet would, the status that takes each tenant to Ready. Reported: time to all
//     Ready, the operator's writes by kind, and its write rate against the ceiling.
//
//  3. Restart: a fresh operator process state (new manager, cold cache) re-reconciles every
//     tenant; reported: time to reconcile all, and writes (which must be zero).
//
//     go run ./hack/scale -tenants 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
)

func main() {
	tenants := flag.Int("tenants", 1000, "tenants to onboard")
	writers := flag.Int("writers", 16, "concurrent writers for the ceiling measurement")
	ceilingWrites := flag.Int("ceiling-writes", 4000, "objects written to measure the ceiling")
	concurrency := flag.Int("max-concurrent-reconciles", 8, "the operator's --max-concurrent-reconciles")
	qps := flag.Float64("qps", -1, "the operator's client QPS limit (-1: none, to measure the server)")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(devNull{})))
	if err := run(*tenants, *writers, *ceilingWrites, *concurrency, float32(*qps)); err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		os.Exit(1)
	}
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

func run(n, writers, ceilingWrites, concurrency int, qps float32) error {
	fmt.Printf("machine: %d CPUs, %s\n", runtime.NumCPU(), runtime.Version())
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	cfg := rest.CopyConfig(env.Config)
	cfg.QPS, cfg.Burst = -1, 1000
	scheme := controllers.NewScheme()
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return err
	}
	ctx := context.Background()

	ceiling, err := measureCeiling(ctx, c, writers, ceilingWrites)
	if err != nil {
		return err
	}
	fmt.Printf("API server write ceiling: %.0f writes/s (%d server-side applies of ConfigMaps, %d writers)\n", ceiling, ceilingWrites, writers)

	opCfg := rest.CopyConfig(env.Config)
	opCfg.QPS, opCfg.Burst = qps, 1000
	counter := &testenv.WriteLog{}
	mgrCtx, stopMgr := context.WithCancel(ctx)
	defer stopMgr()
	if err := startOperator(mgrCtx, opCfg, counter, concurrency); err != nil {
		return err
	}

	cell, err := testenv.SampleCell()
	if err != nil {
		return err
	}
	cell.Spec.Capacity.MaxTenants = int32(n + 10)
	if err := c.Create(ctx, cell); err != nil {
		return err
	}
	playCtx, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	var played atomic.Int64
	go testenv.PlayEverything(playCtx, c, func(string) { played.Add(1) })

	start := time.Now()
	if err := createTenants(ctx, c, n, writers); err != nil {
		return err
	}
	created := time.Since(start)
	if err := waitAllReady(ctx, c, n, 15*time.Minute); err != nil {
		return err
	}
	onboarding := time.Since(start)
	stopPlay()
	byKind := counter.CountByVerbAndKind(0)
	total, statusWrites := 0, 0
	for k, v := range byKind {
		total += v
		if strings.HasPrefix(k, "patch/status") {
			statusWrites += v
		}
	}
	fmt.Printf("\nonboarding %d tenants: created in %s, all Ready after %s (%.1f tenants/s)\n", n, created.Round(time.Millisecond), onboarding.Round(time.Millisecond), float64(n)/onboarding.Seconds())
	fmt.Printf("operator writes: %d (%.1f per tenant), of which status: %d (%.2f per tenant); player (ACK, Job controller, kubelet) writes: %d\n",
		total, float64(total)/float64(n), statusWrites, float64(statusWrites)/float64(n), played.Load())
	fmt.Printf("operator write rate: %.0f writes/s = %.0f%% of the ceiling\n", float64(total)/onboarding.Seconds(), 100*float64(total)/onboarding.Seconds()/ceiling)
	fmt.Println("operator writes by verb and kind:")
	for _, k := range sortedKeys(byKind) {
		fmt.Printf("  %-40s %6d  (%.2f per tenant)\n", k, byKind[k], float64(byKind[k])/float64(n))
	}
	fmt.Printf("reconciles: tenant %.0f, regioncell %.0f; reconcile errors: tenant %.0f, regioncell %.0f\n",
		testenv.ReconcileTotal("tenant"), testenv.ReconcileTotal("regioncell"),
		testenv.MetricTotal("controller_runtime_reconcile_errors_total", "tenant"), testenv.MetricTotal("controller_runtime_reconcile_errors_total", "regioncell"))
	// What the load balancer needs, whatever the number of tenants (ALB: 100 rules and 25
	// certificates per listener by default).
	var ings networkingv1.IngressList
	if err := c.List(ctx, &ings); err != nil {
		return err
	}
	rules, certHosts := 0, map[string]bool{}
	for _, ing := range ings.Items {
		rules += len(ing.Spec.Rules)
		for _, tls := range ing.Spec.TLS {
			for _, h := range tls.Hosts {
				certHosts[h] = true
			}
		}
	}
	fmt.Printf("load balancer: %d Ingress rules, %d certificate host names, for %d tenants\n", rules, len(certHosts), n)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("heap in use after onboarding (operator cache + harness): %.0f MiB\n", float64(ms.HeapInuse)/(1<<20))

	// A restart: a fresh manager with a cold cache re-reconciles everything.
	stopMgr()
	time.Sleep(time.Second)
	counter2 := &testenv.WriteLog{}
	before := testenv.ReconcileTotal("tenant")
	restart := time.Now()
	mgrCtx2, stopMgr2 := context.WithCancel(ctx)
	defer stopMgr2()
	if err := startOperator(mgrCtx2, opCfg, counter2, concurrency); err != nil {
		return err
	}
	for testenv.ReconcileTotal("tenant")-before < float64(n) {
		if time.Since(restart) > 10*time.Minute {
			return fmt.Errorf("restart: only %.0f of %d tenants reconciled", testenv.ReconcileTotal("tenant")-before, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resync := time.Since(restart)
	time.Sleep(2 * time.Second)
	fmt.Printf("\nrestart: %d tenants reconciled from a cold cache in %s (%.0f reconciles/s); writes: %d %v\n",
		n, resync.Round(time.Millisecond), float64(n)/resync.Seconds(), len(counter2.Since(0)), counter2.CountByVerbAndKind(0))
	return nil
}

func measureCeiling(ctx context.Context, c client.Client, writers, total int) (float64, error) {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ceiling"}}); err != nil {
		return 0, err
	}
	payload := strings.Repeat("x", 1024)
	start := time.Now()
	err := parallel(total, writers, func(i int) error {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("ConfigMap")
		u.SetNamespace("ceiling")
		u.SetName(fmt.Sprintf("cm-%d", i))
		u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "ceiling"})
		_ = unstructured.SetNestedField(u.Object, payload, "data", "payload")
		return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("ceiling"), client.ForceOwnership)
	})
	return float64(total) / time.Since(start).Seconds(), err
}

// parallel calls do for 1..n from the given number of workers, and returns the first error;
// a worker stops at its first error.
func parallel(n, workers int, do func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := do(int(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

var skipNameValidation = true

func startOperator(ctx context.Context, cfg *rest.Config, counter *testenv.WriteLog, concurrency int) error {
	return inprocess.StartOperator(ctx, cfg, controllers.Options{MaxConcurrentReconciles: concurrency}, func(o *ctrl.Options) {
		o.NewClient = func(cfg *rest.Config, opts client.Options) (client.Client, error) {
			cl, err := client.NewWithWatch(cfg, opts)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(cl, counter.Funcs()), nil
		}
		// The restart runs a second manager in this process, with the same controller names.
		o.Controller = config.Controller{SkipNameValidation: &skipNameValidation}
	})
}

func createTenants(ctx context.Context, c client.Client, n, writers int) error {
	return parallel(n, writers, func(i int) error {
		name := fmt.Sprintf("t%05d", i)
		return c.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: saasv1.TenantSpec{
			DisplayName: name, Region: "eu-west-1", Subdomain: name, AdminEmail: "admin@" + name + ".example"}})
	})
}

func waitAllReady(ctx context.Context, c client.Client, n int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var list saasv1.TenantList
		if err := c.List(ctx, &list); err != nil {
			return err
		}
		ready := 0
		for _, t := range list.Items {
			if t.Status.Phase == saasv1.PhaseReady {
				ready++
			}
		}
		if ready == n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d tenants Ready after %s", ready, n, timeout)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
