// Command recovery measures disaster recovery on two local control planes (kube-apiserver +
// etcd each: a home region and its partner), each with the operator in process at its shipped
// defaults and the event-driven stand-ins playing ACK, the Job controller and the kubelet, and
// one moto_server playing the AWS both regions share (RDS snapshots and copies, KMS, Route53).
//
// RPO: -tenants tenants of a home cell copy to the partner every -interval (the default 1 h
// scaled down); the age of each tenant's newest copy (status.recoveryPoint) is sampled every
// -sample for -duration, against the interval. Writes: the operator's API writes per tenant per
// interval once every tenant has a copy (at rest), and its RDS calls.
//
// RTO: then one tenant is failed over (forced: the home is declared lost at once) in the
// partner's control plane with RDS's restore played at -restore-minutes scaled by -scale;
// reported: from the failover Tenant applied to Ready, and the operator's own part of it (the
// time not spent in the played restore). Then a dedicated tenant with a warm standby (a read
// replica the home's ACK stand-in made in moto) is failed over: its standby promoted, the
// promotion played at -promote-minutes scaled the same way, and adopted.
//
//	go run ./hack/recovery -tenants 20 -interval 10s -duration 2m
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsfence"
	"github.com/tenantops/tenant-operator/controllers/recovery/awsrds"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

const home, partner = "eu-west-1", "eu-central-1"

func main() {
	tenants := flag.Int("tenants", 20, "tenants copying to the partner region")
	interval := flag.Duration("interval", 10*time.Second, "copy interval (the default 1 h, scaled down)")
	duration := flag.Duration("duration", 2*time.Minute, "how long the recovery points are sampled")
	sample := flag.Duration("sample", time.Second, "how often")
	restoreMinutes := flag.Float64("restore-minutes", 15, "RDS's restore of a Multi-AZ instance from a snapshot being played, in real minutes")
	scale := flag.Float64("scale", 60, "how much faster than real the restore and the promotion are played")
	promoteMinutes := flag.Float64("promote-minutes", 5, "RDS's promotion of a cross-region read replica being played, in real minutes")
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	promote = time.Duration(*promoteMinutes * float64(time.Minute) / *scale)
	promoteMinutesFlag = *promoteMinutes
	if err := run(*tenants, *interval, *duration, *sample, time.Duration(*restoreMinutes*float64(time.Minute) / *scale), *restoreMinutes, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "recovery:", err)
		os.Exit(1)
	}
}

var moto *testsvc.Moto

// promote is how long the played promotion of a standby takes (-promote-minutes, scaled).
var (
	promote            time.Duration
	promoteMinutesFlag float64
)

// slowPromotion plays RDS's promotion of a read replica: the call returns once the played
// promotion time has passed (in AWS it returns at once and the instance is modifying meanwhile;
// either way the tenant is served only after it).
type slowPromotion struct{ recovery.Standbys }

func (s slowPromotion) Promote(ctx context.Context, region, id string) error {
	time.Sleep(promote)
	return s.Standbys.Promote(ctx, region, id)
}

// countingCopier counts the operator's RDS calls.
type countingCopier struct {
	recovery.Copier
	calls atomic.Int64
}

func (c *countingCopier) List(ctx context.Context, region, db, prefix string) ([]recovery.Snapshot, error) {
	c.calls.Add(1)
	return c.Copier.List(ctx, region, db, prefix)
}
func (c *countingCopier) Create(ctx context.Context, region, db, id string, tags map[string]string) error {
	c.calls.Add(1)
	return c.Copier.Create(ctx, region, db, id, tags)
}
func (c *countingCopier) Copy(ctx context.Context, s recovery.Snapshot, from, to, key string, tags map[string]string) error {
	c.calls.Add(1)
	return c.Copier.Copy(ctx, s, from, to, key, tags)
}
func (c *countingCopier) Delete(ctx context.Context, region, id string) error {
	c.calls.Add(1)
	return c.Copier.Delete(ctx, region, id)
}

// region is one region's control plane with its stand-ins and operator.
type region struct {
	name   string
	env    *testenv.Env
	c      client.Client
	writes *testenv.WriteLog
	copier *countingCopier
	stop   func()
}

func startRegion(ctx context.Context, name string, restore time.Duration) (*region, error) {
	env, err := testenv.Start()
	if err != nil {
		return nil, err
	}
	c, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return nil, err
	}
	if _, err := testenv.StartPlayer(ctx, env.Config, testenv.PlayerOptions{RDSCreateTime: restore, RDSCreated: testenv.MakeInMoto(moto, name), Region: name}); err != nil {
		return nil, err
	}
	jur, err := recovery.ParseJurisdictions("eu=" + home + "," + partner)
	if err != nil {
		return nil, err
	}
	r := &region{name: name, env: env, c: c, writes: &testenv.WriteLog{},
		copier: &countingCopier{Copier: &awsrds.Client{Config: moto.Config(), EndpointURL: moto.URL}}}
	octx, cancel := context.WithCancel(ctx)
	skip := true
	stopped, err := inprocess.StartOperator(octx, env.Config, controllers.Options{
		MaxConcurrentReconciles: controllers.DefaultMaxConcurrentReconciles, Jurisdictions: jur, Copier: r.copier,
		Fences:   &awsfence.Client{Config: moto.Config(), EndpointURL: moto.URL},
		Standbys: slowPromotion{&awsrds.Client{Config: moto.Config(), EndpointURL: moto.URL}},
	}, func(o *ctrl.Options) {
		o.Controller.SkipNameValidation = &skip
		o.NewClient = func(cfg *rest.Config, opts client.Options) (client.Client, error) {
			cl, err := client.NewWithWatch(cfg, opts)
			if err != nil {
				return nil, err
			}
			return interceptor.NewClient(cl, r.writes.Funcs()), nil
		}
	})
	if err != nil {
		cancel()
		return nil, err
	}
	r.stop = func() { cancel(); <-stopped; _ = env.Stop() }
	return r, nil
}

func run(n int, interval, duration, sample, restore time.Duration, restoreMinutes, scale float64) error {
	fmt.Printf("recovery: %d tenants copying every %s (1 h scaled 1:%.0f), sampled every %s for %s; a restore plays %.0f minutes in %s (1:%.0f); %d CPUs, %s\n",
		n, interval, float64(time.Hour)/float64(interval), sample, duration, restoreMinutes, restore, scale, runtime.NumCPU(), runtime.Version())
	var err error
	if moto, err = testsvc.StartMoto(); err != nil {
		return err
	}
	defer moto.Stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	zoneID, err := moto.HostedZone(ctx, "website.com")
	if err != nil {
		return err
	}
	key, err := moto.KMSKey(ctx, partner)
	if err != nil {
		return err
	}
	east, err := startRegion(ctx, home, 0)
	if err != nil {
		return err
	}
	defer east.stop()
	cell, err := testenv.SampleCell()
	if err != nil {
		return err
	}
	cell.Name, cell.Spec.Region, cell.Spec.HostedZoneID, cell.ResourceVersion = "bench-home", home, zoneID, ""
	cell.Spec.Database.WarmPool = nil
	cell.Spec.Capacity.MaxTenants = int32(n + 10)
	cell.Spec.DisasterRecovery = &saasv1.CellDisasterRecovery{PartnerRegion: partner, KMSKeyID: key, CopyInterval: interval.String(), RetainCopies: 3}
	if err := east.c.Create(ctx, cell); err != nil {
		return err
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("dr-%03d", i)
		if err := east.c.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: names[i]}, Spec: saasv1.TenantSpec{
			DisplayName: names[i], Region: home, Subdomain: names[i], AdminEmail: "it@example.com"}}); err != nil {
			return err
		}
	}
	// One dedicated tenant with a warm standby, for the second failover (not one of the n).
	const standbyTenant = "sb-standby"
	if err := east.c.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: standbyTenant}, Spec: saasv1.TenantSpec{
		DisplayName: standbyTenant, Region: home, Subdomain: standbyTenant, AdminEmail: "it@example.com", Tier: saasv1.TierDedicated,
		DisasterRecovery: &saasv1.TenantDisasterRecovery{Standby: true}}}); err != nil {
		return err
	}
	start := time.Now()
	points := func() map[string]*saasv1.RecoveryPoint {
		var list saasv1.TenantList
		out := map[string]*saasv1.RecoveryPoint{}
		if east.c.List(ctx, &list) == nil {
			for i := range list.Items {
				if strings.HasPrefix(list.Items[i].Name, "dr-") {
					out[list.Items[i].Name] = list.Items[i].Status.RecoveryPoint
				}
			}
		}
		return out
	}
	if !waitFor(5*time.Minute, func() bool {
		for _, rp := range points() {
			if rp == nil {
				return false
			}
		}
		return len(points()) == n
	}) {
		return fmt.Errorf("not every tenant got a first copy within 5 minutes")
	}
	fmt.Printf("every tenant Ready with a first copy in %s\n", time.Since(start).Round(100*time.Millisecond))

	// At rest: sample the recovery points' ages; count the operator's writes and RDS calls.
	mark, calls0, t0 := east.writes.Mark(), east.copier.calls.Load(), time.Now()
	var ages []time.Duration
	for time.Since(t0) < duration {
		now := time.Now()
		for _, rp := range points() {
			if rp != nil {
				ages = append(ages, now.Sub(rp.SnapshotTime.Time))
			}
		}
		time.Sleep(sample)
	}
	elapsed := time.Since(t0)
	cycles := float64(elapsed) / float64(interval)
	byVerb := map[string]int{}
	perTenant := 0
	for _, w := range east.writes.Since(mark) {
		verb, _, _ := strings.Cut(w, " ")
		byVerb[verb]++
		if strings.Contains(w, "Tenant /dr-") {
			perTenant++
		}
	}
	late := 0
	for _, a := range ages {
		if a > 2*interval {
			late++
		}
	}
	fmt.Printf("RPO: age of the newest copy over %d samples: p50 %s  p99 %s  max %s  (interval %s; past twice it: %d samples)\n",
		len(ages), pct(ages, 50), pct(ages, 99), pct(ages, 100), interval, late)
	fmt.Printf("writes at rest: %.2f per tenant per interval (%d Tenant status writes over %.1f intervals; all writes by verb: %v); RDS calls %.2f per tenant per interval\n",
		float64(perTenant)/float64(n)/cycles, perTenant, cycles, byVerb, float64(east.copier.calls.Load()-calls0)/float64(n)/cycles)

	// RTO: the home declared lost; one tenant taken over in the partner region.
	west, err := startRegion(ctx, partner, restore)
	if err != nil {
		return err
	}
	defer west.stop()
	pcell, err := testenv.SampleCell()
	if err != nil {
		return err
	}
	pcell.Name, pcell.Spec.Region, pcell.Spec.HostedZoneID, pcell.ResourceVersion = "bench-partner", partner, zoneID, ""
	pcell.Spec.Database.WarmPool = nil
	if err := west.c.Create(ctx, pcell); err != nil {
		return err
	}
	if !waitFor(time.Minute, func() bool {
		got := &saasv1.RegionCell{}
		return west.c.Get(ctx, client.ObjectKey{Name: pcell.Name}, got) == nil && got.Status.Phase == saasv1.PhaseReady
	}) {
		return fmt.Errorf("the partner's cell not Ready")
	}
	east.stop()
	east.stop = func() {}
	lost := names[0]
	applied := time.Now()
	if err := west.c.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: lost}, Spec: saasv1.TenantSpec{
		DisplayName: lost, Region: partner, Subdomain: lost, AdminEmail: "it@example.com",
		RestoreFrom: &saasv1.RestoreSource{FailoverFrom: home, Force: true}}}); err != nil {
		return err
	}
	var rf *saasv1.RestoredFrom
	if !waitFor(restore+2*time.Minute, func() bool {
		tn := &saasv1.Tenant{}
		if west.c.Get(ctx, client.ObjectKey{Name: lost}, tn) != nil || tn.Status.Phase != saasv1.PhaseReady {
			return false
		}
		rf = tn.Status.RestoredFrom
		return true
	}) {
		return fmt.Errorf("the failover of %s not Ready", lost)
	}
	total := time.Since(applied)
	fmt.Printf("RTO: %s taken over in %s: Ready %s after the failover Tenant was applied, of which %s the played restore (%.0f minutes at 1:%.0f) and %s the operator's own; data as of %s before the failover\n",
		lost, partner, total.Round(10*time.Millisecond), restore, restoreMinutes, scale, (total - restore).Round(10*time.Millisecond),
		applied.Sub(rf.SnapshotTime.Time).Round(time.Second))

	// RTO with a warm standby: promoted and adopted instead of a copy restored.
	applied = time.Now()
	if err := west.c.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: standbyTenant}, Spec: saasv1.TenantSpec{
		DisplayName: standbyTenant, Region: partner, Subdomain: standbyTenant, AdminEmail: "it@example.com", Tier: saasv1.TierDedicated,
		RestoreFrom: &saasv1.RestoreSource{FailoverFrom: home, Force: true}}}); err != nil {
		return err
	}
	rf = nil
	if !waitFor(restore+promote+2*time.Minute, func() bool {
		tn := &saasv1.Tenant{}
		if west.c.Get(ctx, client.ObjectKey{Name: standbyTenant}, tn) != nil || tn.Status.Phase != saasv1.PhaseReady {
			return false
		}
		rf = tn.Status.RestoredFrom
		return true
	}) {
		return fmt.Errorf("the failover of %s not Ready", standbyTenant)
	}
	total = time.Since(applied)
	if rf == nil || rf.PromotedStandby == "" {
		return fmt.Errorf("%s was not taken over by promoting its standby: %+v", standbyTenant, rf)
	}
	fmt.Printf("RTO with a standby: %s taken over in %s by promoting %s: Ready %s after the failover Tenant was applied, of which %s the played promotion (%.0f minutes at 1:%.0f) and %s the operator's own; data as of the replica's last write\n",
		standbyTenant, partner, rf.PromotedStandby, total.Round(10*time.Millisecond), promote, promoteMinutesFlag, scale, (total - promote).Round(10*time.Millisecond))
	return nil
}

// pct is the p-th percentile of ds (nearest rank), rounded for print.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := (p*len(s) + 99) / 100
	i = max(1, min(len(s), i))
	return s[i-1].Round(100 * time.Millisecond).String()
}

func waitFor(within time.Duration, done func() bool) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if done() {
			return true
		}
	}
	return done()
}
