// Command onboarding measures how long a new tenant waits for its first served page, with a
// cell's warm pool of databases and without, in one run on one local control plane
// (kube-apiserver + etcd), with the operator in process at its shipped defaults and the
// event-driven stand-ins (testenv.StartPlayer) playing AWS, the Job controller and the kubelet.
//
// RDS is played at a stated creation time: 10 minutes (a Multi-AZ instance's usual 10 to 20)
// scaled down by -scale (60: 10 s here), and reported as such; adopting an instance that exists
// (a claim from the pool) takes no time, as ACK's adoption of an available instance does not.
//
// For each mode, a cell of config/samples' shape (its own region) takes -tenants new tenants,
// -at-once of them at a time, a wave every -every (one scaled creation time plus 2 s by
// default). Reported per mode: time from a Tenant's creation to Ready (DNS in sync, app
// available: its first page served), p50/p99/max; the operator's own part of it (the time not
// spent waiting for the RDS stand-in: creation to its DBInstance, and its database available
// to Ready); how many tenants claimed a pool database; and, with the pool, how long each wave's
// claims took to be refilled.
//
//	go run ./hack/onboarding -tenants 50 -at-once 10 -pool 10
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"
	"time"

	toolscache "k8s.io/client-go/tools/cache"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
)

func main() {
	tenants := flag.Int("tenants", 50, "new tenants per mode")
	atOnce := flag.Int("at-once", 10, "tenants created together, per wave")
	pool := flag.Int("pool", 10, "warm pool size of the pooled mode")
	rdsMinutes := flag.Float64("rds-minutes", 10, "RDS creation time being played, in real minutes")
	scale := flag.Float64("scale", 60, "how much faster than real the RDS stand-in makes an instance")
	every := flag.Duration("every", 0, "time between waves (one scaled RDS creation time plus 2 s when zero)")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	create := time.Duration(*rdsMinutes * float64(time.Minute) / *scale)
	if *every == 0 {
		*every = create + 2*time.Second
	}
	if err := run(*tenants, *atOnce, int32(*pool), create, *every, *rdsMinutes, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "onboarding:", err)
		os.Exit(1)
	}
}

// timeline is what the harness saw of one tenant, from its own watches.
type timeline struct {
	created, dbSeen, dbAvailable, ready time.Time
	claimed                             bool
}

type watcher struct {
	mu    sync.Mutex
	byNS  map[string]*timeline // by tenant namespace
	ready map[string]bool
}

func (w *watcher) of(ns string) *timeline {
	if w.byNS[ns] == nil {
		w.byNS[ns] = &timeline{}
	}
	return w.byNS[ns]
}

func run(n, atOnce int, poolSize int32, create, every time.Duration, rdsMinutes, scale float64) error {
	fmt.Printf("onboarding: %d tenants a mode, %d at once every %s; RDS plays a %.0f-minute creation in %s (scaled 1:%.0f); %d CPUs, %s\n",
		n, atOnce, every, rdsMinutes, create, scale, runtime.NumCPU(), runtime.Version())
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return err
	}
	if _, err := testenv.StartPlayer(ctx, env.Config, testenv.PlayerOptions{RDSCreateTime: create}); err != nil {
		return err
	}
	stopped, err := inprocess.StartOperator(ctx, env.Config, controllers.Options{MaxConcurrentReconciles: controllers.DefaultMaxConcurrentReconciles}, nil)
	if err != nil {
		return err
	}
	defer func() { cancel(); <-stopped }()
	w := &watcher{byNS: map[string]*timeline{}, ready: map[string]bool{}}
	if err := w.watch(ctx, env); err != nil {
		return err
	}

	type mode struct {
		name, region string
		pool         int32
	}
	var lines []string
	for _, m := range []mode{{"no pool", "eu-west-2", 0}, {fmt.Sprintf("warm pool of %d", poolSize), "eu-west-3", poolSize}} {
		line, err := runMode(ctx, c, w, m.name, m.region, m.pool, n, atOnce, create, every)
		if err != nil {
			return err
		}
		lines = append(lines, line...)
	}
	fmt.Println()
	for _, l := range lines {
		fmt.Println(l)
	}
	return nil
}

// watch records, from the harness's own informers, when each tenant's DBInstance appears and is
// available, and when each tenant turns Ready.
func (w *watcher) watch(ctx context.Context, env *testenv.Env) error {
	informers, err := cache.New(env.Config, cache.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return err
	}
	dbs, err := informers.GetInformer(ctx, &rds.DBInstance{})
	if err != nil {
		return err
	}
	onDB := func(obj any) {
		db, ok := obj.(*rds.DBInstance)
		if !ok || db.Name != b.DBInstanceName {
			return
		}
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		tl := w.of(db.Namespace)
		if tl.dbSeen.IsZero() {
			tl.dbSeen = now
			tl.claimed = db.Annotations[b.AnnotationClaimedFrom] != ""
		}
		if tl.dbAvailable.IsZero() && db.Status.Endpoint != nil {
			tl.dbAvailable = now
		}
	}
	if _, err := dbs.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: onDB, UpdateFunc: func(_, o any) { onDB(o) }}); err != nil {
		return err
	}
	tenants, err := informers.GetInformer(ctx, &saasv1.Tenant{})
	if err != nil {
		return err
	}
	onTenant := func(obj any) {
		tn, ok := obj.(*saasv1.Tenant)
		if !ok || tn.Status.Phase != saasv1.PhaseReady {
			return
		}
		now := time.Now()
		w.mu.Lock()
		defer w.mu.Unlock()
		if tl := w.of(b.TenantNamespace(tn)); tl.ready.IsZero() {
			tl.ready = now
		}
		w.ready[tn.Name] = true
	}
	if _, err := tenants.AddEventHandler(toolscache.ResourceEventHandlerFuncs{AddFunc: onTenant, UpdateFunc: func(_, o any) { onTenant(o) }}); err != nil {
		return err
	}
	go func() { _ = informers.Start(ctx) }()
	if !informers.WaitForCacheSync(ctx) {
		return fmt.Errorf("the harness's caches did not sync")
	}
	return nil
}

func runMode(ctx context.Context, c client.Client, w *watcher, name, region string, pool int32, n, atOnce int, create, every time.Duration) ([]string, error) {
	cell, err := testenv.SampleCell()
	if err != nil {
		return nil, err
	}
	cell.Name, cell.Spec.Region, cell.ResourceVersion = "bench-"+region, region, ""
	if pool > 0 {
		cell.Spec.Database.WarmPool = &saasv1.WarmPool{Size: pool}
	}
	if err := c.Create(ctx, cell); err != nil {
		return nil, err
	}
	poolReady := func() int32 {
		got := &saasv1.RegionCell{}
		if c.Get(ctx, client.ObjectKey{Name: cell.Name}, got) != nil || got.Status.WarmPool == nil {
			return 0
		}
		return got.Status.WarmPool.Ready
	}
	cellReady := func() bool {
		got := &saasv1.RegionCell{}
		return c.Get(ctx, client.ObjectKey{Name: cell.Name}, got) == nil && got.Status.Phase == saasv1.PhaseReady && poolReady() >= pool
	}
	start := time.Now()
	if !waitFor(2*create+time.Minute, cellReady) {
		return nil, fmt.Errorf("%s: the cell (and its pool) not ready", name)
	}
	fmt.Printf("%s: cell ready in %s\n", name, time.Since(start).Round(100*time.Millisecond))

	// Refills: with the pool, how long after each wave the pool is full again.
	var refills []time.Duration
	var names []string
	for wave := 0; wave*atOnce < n; wave++ {
		waveStart := time.Now()
		var wg sync.WaitGroup
		for i := wave * atOnce; i < min(n, (wave+1)*atOnce); i++ {
			tn := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%03d", cell.Name, i)},
				Spec: saasv1.TenantSpec{DisplayName: fmt.Sprintf("Bench %d", i), Region: region, Subdomain: fmt.Sprintf("%s-%03d", region, i),
					AdminEmail: "it@example.com"}}
			names = append(names, tn.Name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				now := time.Now()
				if err := c.Create(ctx, tn); err == nil {
					w.mu.Lock()
					w.of(b.TenantNamespace(tn)).created = now
					w.mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if pool > 0 {
			// The claims empty the pool within a second or two; then it refills.
			time.Sleep(2 * time.Second)
			if waitFor(every, func() bool { return poolReady() >= pool }) {
				refills = append(refills, time.Since(waveStart))
			} else {
				refills = append(refills, -1)
			}
		}
		if rest := every - time.Since(waveStart); rest > 0 && (wave+1)*atOnce < n {
			time.Sleep(rest)
		}
	}
	if !waitFor(10*time.Minute, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		for _, t := range names {
			if !w.ready[t] {
				return false
			}
		}
		return true
	}) {
		return nil, fmt.Errorf("%s: not every tenant Ready", name)
	}
	var total, own []time.Duration
	claimed := 0
	w.mu.Lock()
	for _, t := range names {
		tl := w.byNS["tenant-"+t]
		if tl == nil || tl.created.IsZero() || tl.dbSeen.IsZero() || tl.dbAvailable.IsZero() {
			w.mu.Unlock()
			return nil, fmt.Errorf("%s: %s's timeline is incomplete: %+v", name, t, tl)
		}
		total = append(total, tl.ready.Sub(tl.created))
		own = append(own, tl.dbSeen.Sub(tl.created)+tl.ready.Sub(tl.dbAvailable))
		if tl.claimed {
			claimed++
		}
	}
	w.mu.Unlock()
	out := []string{
		fmt.Sprintf("%-16s to Ready (first page): p50 %6s  p99 %6s  max %6s   operator's own part: p50 %6s  p99 %6s   claimed from the pool: %d of %d",
			name, pct(total, 50), pct(total, 99), pct(total, 100), pct(own, 50), pct(own, 99), claimed, len(names)),
	}
	if pool > 0 {
		s := ""
		for i, r := range refills {
			if r < 0 {
				s += fmt.Sprintf(" wave %d: not within %s;", i+1, every)
			} else {
				s += fmt.Sprintf(" %s", r.Round(100*time.Millisecond))
			}
		}
		out = append(out, fmt.Sprintf("%-16s pool full again after each wave (from its creation; one RDS creation is %s):%s", "", create, s))
	}
	return out, nil
}

// pct is the p-th percentile of ds (nearest rank), rounded for print.
func pct(ds []time.Duration, p int) string {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (p*len(s) + 99) / 100
	i = max(1, min(len(s), i))
	return s[i-1].Round(10 * time.Millisecond).String()
}

func waitFor(within time.Duration, done func() bool) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if done() {
			return true
		}
	}
	return done()
}
