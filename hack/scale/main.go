// Command scale measures the operator onboarding a region's tenants, against the API server's
// own write ceiling measured in the same run, on a local control plane (kube-apiserver + etcd
// built from Go modules). For each size it starts a fresh control plane and:
//
//  1. Measures two ceilings: small ConfigMaps server-side-applied by 16 writers with no
//     client-side limit, and the 11 objects a tenant is made of (from the operator's own
//     builders) applied the same way. These are the most this machine's API server writes.
//
//  2. Runs the real operator binary in its own process with its shipped defaults (client
//     budget, workers), as its own user; two cells in one region; an event-driven player
//     (testenv.StartPlayer: informers, 8 workers per system) writes, as ACK, the Job controller
//     and the kubelet would, the status that takes each tenant to Ready.
//
//  3. Creates the tenants and counts them Ready from a watch. Reported: time, tenants per
//     second against the ceilings, the operator's writes per tenant (from its own client metrics,
//     and by kind from the API server's audit log), reconciles per tenant, heap per tenant, the
//     CPU of the operator, the API server and etcd, and what the load balancers need.
//
//  4. Restarts the operator: time for a cold cache to reconcile every tenant, its writes (must
//     be zero), and one reconcile's CPU.
//
//     go run ./hack/scale -tenants 100,1000,2000
package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/test/testenv"
)

func main() {
	sizes := flag.String("tenants", "1000", "comma-separated numbers of tenants; each size runs on a fresh control plane")
	cells := flag.Int("cells", 2, "cells in the region the tenants are spread over")
	writers := flag.Int("writers", 16, "concurrent writers for the ceilings and for creating Tenants")
	ceilingWrites := flag.Int("ceiling-writes", 4000, "ConfigMaps written to measure the small-object ceiling")
	ceilingTenants := flag.Int("ceiling-tenants", 200, "tenants' objects written to measure the tenant-object ceiling")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(devNull{})))
	stopOnSignal()
	var results []result
	bin, err := buildOperator()
	removeBinary := onInterrupt(func() {
		if bin != "" {
			_ = os.RemoveAll(filepath.Dir(bin))
		}
	})
	if err == nil {
		for _, s := range strings.Split(*sizes, ",") {
			n, convErr := strconv.Atoi(strings.TrimSpace(s))
			if convErr != nil {
				err = convErr
				break
			}
			var r result
			if r, err = runSize(bin, n, *cells, *writers, *ceilingWrites, *ceilingTenants); err != nil {
				break
			}
			results = append(results, r)
		}
	}
	removeBinary()
	printSummary(results)
	code := 0
	if err != nil {
		fmt.Fprintln(os.Stderr, "scale:", err)
		code = 1
	}
	exitAfterCleanups(code)
}

type devNull struct{}

func (devNull) Write(p []byte) (int, error) { return len(p), nil }

// result is what one size measured.
type result struct {
	tenants, cells, objectsPerTenant   int
	ceilingWrites, ceilingTenants      float64 // writes/s of small objects; tenants/s of tenant objects
	onboarding                         time.Duration
	writes, events, statusWrites       float64
	byKind                             map[string]int
	reconciles, cellReconciles         float64
	heapPerTenant                      float64 // bytes
	operatorCPU, apiserverCPU, etcdCPU float64 // share of one core during onboarding
	rules, certHosts                   int
	restart                            time.Duration
	restartWrites                      float64
	cpuPerReconcile                    time.Duration
	steadyWrites                       float64
	played                             int64
}

func (r result) tenantsPerSecond() float64 { return float64(r.tenants) / r.onboarding.Seconds() }

func runSize(bin string, n, cells, writers, ceilingWrites, ceilingTenants int) (result, error) {
	r := result{tenants: n, cells: cells}
	fmt.Printf("\n=== %d tenants, %d cells (%d CPUs, %s) ===\n", n, cells, runtime.NumCPU(), runtime.Version())
	work, err := os.MkdirTemp("", "tenantops-scale-")
	if err != nil {
		return r, err
	}
	defer onInterrupt(func() { _ = os.RemoveAll(work) })()
	audit := filepath.Join(work, "audit.log")
	env, err := testenv.StartWith(func(e *envtest.Environment) { auditOperatorWrites(e, work, audit) })
	if err != nil {
		return r, err
	}
	defer onInterrupt(func() { _ = env.Stop() })()
	admin := rest.CopyConfig(env.Config)
	admin.QPS, admin.Burst = -1, 1000 // the harness itself is not limited
	c, err := client.New(admin, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return r, err
	}
	ctx := context.Background()

	if r.ceilingWrites, err = ceilingOfConfigMaps(ctx, c, writers, ceilingWrites); err != nil {
		return r, err
	}
	if r.ceilingTenants, r.objectsPerTenant, err = ceilingOfTenantObjects(ctx, c, writers, ceilingTenants); err != nil {
		return r, err
	}
	fmt.Printf("ceilings: %.0f writes/s of small ConfigMaps; %.1f tenants/s of a tenant's %d objects (%.0f writes/s)\n",
		r.ceilingWrites, r.ceilingTenants, r.objectsPerTenant, r.ceilingTenants*float64(r.objectsPerTenant))

	op, err := startOperator(bin, env, work)
	if err != nil {
		return r, err
	}
	defer onInterrupt(op.stop)()
	playCtx, stopPlay := context.WithCancel(ctx)
	defer stopPlay()
	player, err := testenv.StartPlayer(playCtx, admin, testenv.PlayerOptions{})
	if err != nil {
		return r, err
	}
	if err := createCells(ctx, c, cells, n); err != nil {
		return r, err
	}
	ready, err := countReady(playCtx, admin)
	if err != nil {
		return r, err
	}
	if err := waitFor(10*time.Minute, "the cells Ready", func() (bool, error) { return cellsReady(ctx, c, cells) }); err != nil {
		return r, err
	}
	before, err := op.scrape()
	if err != nil {
		return r, err
	}
	cpuBefore := serverCPU()
	playedBefore := player.Played()

	start := time.Now()
	if err := createTenants(ctx, c, n, writers); err != nil {
		return r, err
	}
	if err := waitFor(30*time.Minute, fmt.Sprintf("%d tenants Ready", n), func() (bool, error) { return ready() >= n, nil }); err != nil {
		return r, err
	}
	r.onboarding = time.Since(start)
	r.played = player.Played() - playedBefore
	cpuAfter := serverCPU()
	after, err := op.scrape()
	if err != nil {
		return r, err
	}
	stopPlay()
	secs := r.onboarding.Seconds()
	r.writes = after.writes() - before.writes()
	r.reconciles = after.reconciles("tenant") - before.reconciles("tenant")
	r.cellReconciles = after.reconciles("regioncell") - before.reconciles("regioncell")
	r.operatorCPU = (after.value("process_cpu_seconds_total") - before.value("process_cpu_seconds_total")) / secs
	r.apiserverCPU = (cpuAfter["kube-apiserver"] - cpuBefore["kube-apiserver"]) / secs
	r.etcdCPU = (cpuAfter["etcd"] - cpuBefore["etcd"]) / secs
	r.byKind, r.statusWrites, r.events = auditedWrites(audit, start)
	heapBefore, heapAfter := before.heap(), op.settledHeap()
	r.heapPerTenant = (heapAfter - heapBefore) / float64(n)
	if r.rules, r.certHosts, err = loadBalancerNeeds(ctx, c); err != nil {
		return r, err
	}
	fmt.Printf("onboarding: all %d Ready after %s (%.1f tenants/s = %.2f of the tenant-object ceiling)\n",
		n, r.onboarding.Round(time.Millisecond), r.tenantsPerSecond(), r.tenantsPerSecond()/r.ceilingTenants)
	fmt.Printf("operator writes: %.0f (%.1f per tenant, %.0f/s = %.2f of the small-object ceiling); player (ACK, Job controller, kubelet): %d\n",
		r.writes, r.writes/float64(n), r.writes/secs, r.writes/secs/r.ceilingWrites, r.played)
	fmt.Printf("reconciles per tenant: tenant %.1f, regioncell %.2f; heap per tenant %.0f KiB (%.0f -> %.0f MiB)\n",
		r.reconciles/float64(n), r.cellReconciles/float64(n), r.heapPerTenant/1024, heapBefore/(1<<20), heapAfter/(1<<20))
	fmt.Printf("CPU during onboarding (share of one core): operator %.2f, kube-apiserver %.2f, etcd %.2f\n", r.operatorCPU, r.apiserverCPU, r.etcdCPU)
	fmt.Println("operator writes by verb and kind (API server audit log):")
	for _, k := range slices.Sorted(maps.Keys(r.byKind)) {
		fmt.Printf("  %-44s %7d  (%.2f per tenant)\n", k, r.byKind[k], float64(r.byKind[k])/float64(n))
	}
	fmt.Printf("load balancers: %d Ingress rules, %d certificate host names, for %d tenants in %d cells\n", r.rules, r.certHosts, n, cells)

	// A restart: a new process, a cold cache, every tenant reconciled again.
	op.stop()
	op2, err := startOperator(bin, env, work)
	if err != nil {
		return r, err
	}
	defer onInterrupt(op2.stop)()
	restart := time.Now()
	var m metrics
	if err := waitFor(15*time.Minute, "the restarted operator to reconcile every tenant", func() (bool, error) {
		var err error
		m, err = op2.scrape()
		return err == nil && m.reconciles("tenant") >= float64(n), nil
	}); err != nil {
		return r, err
	}
	r.restart = time.Since(restart)
	time.Sleep(2 * time.Second) // let anything the reconciles would write arrive
	if m, err = op2.scrape(); err != nil {
		return r, err
	}
	r.restartWrites = m.writes()
	fmt.Printf("restart: %d tenants reconciled from a cold cache in %s; writes: %.0f\n", n, r.restart.Round(time.Millisecond), r.restartWrites)

	// Steady state: every tenant touched once (an annotation no step reads), each reconcile's CPU.
	if err := steadyReconciles(ctx, c, op2, n, writers, &r); err != nil {
		return r, err
	}
	fmt.Printf("steady state: %d reconciles, CPU per reconcile %s, writes %.0f\n", n, r.cpuPerReconcile.Round(10*time.Microsecond), r.steadyWrites)
	return r, nil
}

// steadyReconciles annotates every tenant once and measures what the operator spends on the
// reconciles that follow: CPU per reconcile, and writes (none: nothing changed).
func steadyReconciles(ctx context.Context, c client.Client, op *operator, n, writers int, r *result) error {
	before, err := op.scrape()
	if err != nil {
		return err
	}
	stamp := time.Now().Format(time.RFC3339Nano)
	if err := parallel(n, writers, func(i int) error {
		t := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("t%05d", i)}}
		patch := []byte(`{"metadata":{"annotations":{"example.com/scale-poke":"` + stamp + `"}}}`)
		return c.Patch(ctx, t, client.RawPatch(types.MergePatchType, patch))
	}); err != nil {
		return err
	}
	want := before.reconciles("tenant") + float64(n)
	if err := waitFor(10*time.Minute, "a reconcile of every touched tenant", func() (bool, error) {
		m, err := op.scrape()
		return err == nil && m.reconciles("tenant") >= want, nil
	}); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	after, err := op.scrape()
	if err != nil {
		return err
	}
	reconciles := after.reconciles("tenant") - before.reconciles("tenant")
	r.cpuPerReconcile = time.Duration((after.value("process_cpu_seconds_total") - before.value("process_cpu_seconds_total")) / reconciles * float64(time.Second))
	r.steadyWrites = after.writes() - before.writes()
	return nil
}

func printSummary(rs []result) {
	if len(rs) == 0 {
		return
	}
	fmt.Printf("\n| | %s |\n|---|%s\n", join(rs, func(r result) string { return fmt.Sprintf("%d tenants, %d cells", r.tenants, r.cells) }), strings.Repeat("---|", len(rs)))
	row := func(name string, f func(r result) string) { fmt.Printf("| %s | %s |\n", name, join(rs, f)) }
	row("all Ready", func(r result) string { return r.onboarding.Round(100 * time.Millisecond).String() })
	row("tenants/s", func(r result) string { return fmt.Sprintf("%.1f", r.tenantsPerSecond()) })
	row("ceiling: tenants/s of a tenant's objects (writes/s of ConfigMaps)", func(r result) string {
		return fmt.Sprintf("%.1f of %d objects (%.0f)", r.ceilingTenants, r.objectsPerTenant, r.ceilingWrites)
	})
	row("fraction of the ceiling: tenant objects / ConfigMaps", func(r result) string {
		return fmt.Sprintf("%.2f / %.2f", r.tenantsPerSecond()/r.ceilingTenants, r.writes/r.onboarding.Seconds()/r.ceilingWrites)
	})
	row("operator writes per tenant (of which status, Events)", func(r result) string {
		n := float64(r.tenants)
		return fmt.Sprintf("%.1f (%.1f, %.1f)", r.writes/n, r.statusWrites/n, r.events/n)
	})
	row("Tenant reconciles per tenant", func(r result) string { return fmt.Sprintf("%.1f", r.reconciles/float64(r.tenants)) })
	row("heap per tenant", func(r result) string { return fmt.Sprintf("%.0f KiB", r.heapPerTenant/1024) })
	row("CPU (cores): operator / kube-apiserver / etcd", func(r result) string {
		return fmt.Sprintf("%.2f / %.2f / %.2f", r.operatorCPU, r.apiserverCPU, r.etcdCPU)
	})
	row("cold restart: time, writes", func(r result) string {
		return fmt.Sprintf("%s, %.0f", r.restart.Round(100*time.Millisecond), r.restartWrites)
	})
	row("steady state: CPU per Tenant reconcile, writes", func(r result) string {
		return fmt.Sprintf("%s, %.0f", r.cpuPerReconcile.Round(10*time.Microsecond), r.steadyWrites)
	})
	row("load balancer rules / certificate names", func(r result) string { return fmt.Sprintf("%d / %d", r.rules, r.certHosts) })
}

func join(rs []result, f func(result) string) string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return strings.Join(out, " | ")
}

// buildOperator builds the operator binary as shipped.
func buildOperator() (string, error) {
	dir, err := os.MkdirTemp("", "tenantops-scale-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "tenant-operator")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = testenv.Root()
	cmd.Stderr = os.Stderr
	return bin, cmd.Run()
}

func createCells(ctx context.Context, c client.Client, cells, tenants int) error {
	for i := range cells {
		cell, err := testenv.SampleCell()
		if err != nil {
			return err
		}
		cell.Name = fmt.Sprintf("%s-%c", cell.Spec.Region, 'a'+i)
		// Room for every tenant, spread evenly by the least-full rule.
		cell.Spec.Capacity.MaxTenants = int32(tenants/cells + 10)
		if err := c.Create(ctx, cell); err != nil {
			return err
		}
	}
	return nil
}

func cellsReady(ctx context.Context, c client.Client, want int) (bool, error) {
	var cells saasv1.RegionCellList
	if err := c.List(ctx, &cells); err != nil {
		return false, err
	}
	ok := 0
	for _, cell := range cells.Items {
		for _, cond := range cell.Status.Conditions {
			if cond.Type == saasv1.ConditionReady && cond.Status == metav1.ConditionTrue {
				ok++
			}
		}
	}
	return ok == want, nil
}

func createTenants(ctx context.Context, c client.Client, n, writers int) error {
	return parallel(n, writers, func(i int) error {
		name := fmt.Sprintf("t%05d", i)
		return c.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: saasv1.TenantSpec{
			DisplayName: name, Region: "eu-west-1", Subdomain: name, AdminEmail: "admin@" + name + ".example"}})
	})
}

// countReady watches Tenants and returns a function that says how many are Ready now.
func countReady(ctx context.Context, cfg *rest.Config) (func() int, error) {
	informers, err := cache.New(cfg, cache.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return nil, err
	}
	inf, err := informers.GetInformer(ctx, &saasv1.Tenant{})
	if err != nil {
		return nil, err
	}
	readyNow := map[string]bool{}
	var mu sync.Mutex
	note := func(obj any) {
		t, ok := obj.(*saasv1.Tenant)
		if !ok {
			return
		}
		mu.Lock()
		readyNow[t.Name] = t.Status.Phase == saasv1.PhaseReady
		mu.Unlock()
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: note, UpdateFunc: func(_, o any) { note(o) }}); err != nil {
		return nil, err
	}
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		return nil, fmt.Errorf("tenant watch did not sync")
	}
	return func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, r := range readyNow {
			if r {
				n++
			}
		}
		return n
	}, nil
}

// loadBalancerNeeds counts the rules and certificate host names of every Ingress: what the
// load balancers (ALB: 100 rules, 25 certificates by default) are asked for.
func loadBalancerNeeds(ctx context.Context, c client.Client) (rules, certHosts int, err error) {
	var ings networkingv1.IngressList
	if err := c.List(ctx, &ings); err != nil {
		return 0, 0, err
	}
	hosts := map[string]bool{}
	for _, ing := range ings.Items {
		rules += len(ing.Spec.Rules)
		for _, tls := range ing.Spec.TLS {
			for _, h := range tls.Hosts {
				hosts[ing.Annotations["alb.ingress.kubernetes.io/group.name"]+"/"+h] = true
			}
		}
	}
	return rules, len(hosts), nil
}

func waitFor(within time.Duration, what string, cond func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
