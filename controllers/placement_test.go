package controllers

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilptr "k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/placement"
)

// cellCounts waits until the cell counts its tenants by phase as want says.
func cellCounts(t testing.TB, name string, want map[string]int32) *saasv1.RegionCell {
	t.Helper()
	c := &saasv1.RegionCell{}
	eventually(t, "cell "+name+" counts "+fmt.Sprint(want), func() error {
		if err := get(t, c, "", name); err != nil {
			return err
		}
		if fmt.Sprint(c.Status.TenantsByPhase) != fmt.Sprint(want) {
			return fmt.Errorf("counts %v", c.Status.TenantsByPhase)
		}
		return nil
	})
	return c
}

// waitPlaced waits until the tenant is placed in cell.
func waitPlaced(t testing.TB, name, cell string) *saasv1.Tenant {
	t.Helper()
	tn := &saasv1.Tenant{}
	eventually(t, name+" placed in "+cell, func() error {
		if err := get(t, tn, "", name); err != nil {
			return err
		}
		if tn.Status.Cell != cell {
			return fmt.Errorf("in %q: %s", tn.Status.Cell, condition(tn.Status.Conditions, saasv1.ConditionPlaced).Message)
		}
		return nil
	})
	return tn
}

func setSpecCell(t testing.TB, name, cell string) {
	t.Helper()
	tn := &saasv1.Tenant{}
	must(t, get(t, tn, "", name))
	orig := tn.DeepCopy()
	tn.Spec.Cell = cell
	must(t, k8s.Patch(context.Background(), tn, client.MergeFrom(orig)))
}

func TestTenantsArePlacedInTheLeastFullCellOfTheirRegion(t *testing.T) {
	ctx := context.Background()
	capacity := func(n int32) func(*saasv1.RegionCell) {
		return func(c *saasv1.RegionCell) { c.Spec.Capacity.MaxTenants = n }
	}
	create(t, newCell("apse5-a", "ap-southeast-5", capacity(2)), newCell("apse5-b", "ap-southeast-5", capacity(1)))
	// Created one after the other, each placed before the next: a, then b (emptier), then a.
	for i, want := range []string{"apse5-a", "apse5-b", "apse5-a"} {
		name := fmt.Sprintf("syd%d", i)
		create(t, newTenant(name, "ap-southeast-5"))
		got := waitPlaced(t, name, want)
		if p := condition(got.Status.Conditions, saasv1.ConditionPlaced); p.Status != metav1.ConditionTrue || p.Message != "served by cell "+want {
			t.Errorf("%s: Placed %s %s", name, p.Status, p.Message)
		}
	}
	// The region is full: a new tenant waits, and says for what.
	create(t, newTenant("syd3", "ap-southeast-5"))
	got := tenantHas(t, "syd3", saasv1.ConditionReady, metav1.ConditionFalse, placement.ReasonRegionFull)
	if got.Status.Phase != saasv1.PhasePending || got.Status.Cell != "" {
		t.Errorf("a tenant of a full region: phase %s cell %q", got.Status.Phase, got.Status.Cell)
	}
	if err := get(t, &corev1.Namespace{}, "", "tenant-syd3"); !apierrors.IsNotFound(err) {
		t.Errorf("a waiting tenant got a namespace: %v", err)
	}
	a := &saasv1.RegionCell{}
	eventually(t, "cell a counts its tenants", func() error {
		must(t, get(t, a, "", "apse5-a"))
		if a.Status.Capacity != "2/2" || a.Status.Tenants != 2 {
			return fmt.Errorf("capacity %s, tenants %d", a.Status.Capacity, a.Status.Tenants)
		}
		return nil
	})
	// A tenant leaving makes room, and the one waiting is placed there without any other event.
	leaving := &saasv1.Tenant{}
	must(t, get(t, leaving, "", "syd1"))
	must(t, k8s.Delete(ctx, leaving))
	// Until it is gone its place is its own (a dedicated tenant's rule would still be on the
	// load balancer): syd3 waits while RDS has not taken the deletion settings.
	stays(t, "syd3 waits while syd1 is being deleted", time.Second, func() error {
		got := &saasv1.Tenant{}
		must(t, get(t, got, "", "syd3"))
		if got.Status.Cell != "" {
			return fmt.Errorf("placed in %s before syd1 was gone", got.Status.Cell)
		}
		return nil
	})
	playDBAvailable(t, leaving) // ACK takes the deletion settings; the tenant goes
	waitPlaced(t, "syd3", "apse5-b")
}

func TestAPinnedTenantWaitsForItsCell(t *testing.T) {
	create(t, newCell("caw1-a", "ca-west-1"))
	create(t, newTenant("calgary", "ca-west-1", func(tn *saasv1.Tenant) { tn.Spec.Cell = "caw1-b" }))
	got := tenantHas(t, "calgary", saasv1.ConditionReady, metav1.ConditionFalse, placement.ReasonCellMissing)
	if got.Status.Phase != saasv1.PhasePending || got.Status.Cell != "" {
		t.Errorf("a tenant pinned to a missing cell: phase %s cell %q", got.Status.Phase, got.Status.Cell)
	}
	// A pin to another region's cell never resolves: the spec must change.
	create(t, newTenant("astray", "ca-west-1", func(tn *saasv1.Tenant) { tn.Spec.Cell = "apse5-a" }))
	astray := tenantHas(t, "astray", saasv1.ConditionStalled, metav1.ConditionTrue, placement.ReasonCellInOtherRegion)
	if astray.Status.Cell != "" {
		t.Errorf("placed in another region's cell: %q", astray.Status.Cell)
	}
	create(t, newCell("caw1-b", "ca-west-1"))
	waitPlaced(t, "calgary", "caw1-b")
}

// A pooled tenant moves between two cells of its region: some cell serves it at every moment,
// DNS switches once, the old cell lets go after the drain, and RDS is sent nothing.
func TestMovingAPooledTenantBetweenCells(t *testing.T) {
	ctx := context.Background()
	from := servingCell(t, "apse7-a", "ap-southeast-7", func(c *saasv1.RegionCell) { c.Spec.Ingress.SourceCIDRs = []string{"10.1.0.0/16"} })
	to := servingCell(t, "apse7-b", "ap-southeast-7", func(c *saasv1.RegionCell) { c.Spec.Ingress.SourceCIDRs = []string{"10.2.0.0/16"} })
	tenant := newTenant("jakarta", "ap-southeast-7", func(tn *saasv1.Tenant) { tn.Spec.Cell = from.Name })
	create(t, tenant)
	onboard(t, from, tenant)
	db := &rds.DBInstance{}
	must(t, get(t, db, "tenant-jakarta", b.DBInstanceName))
	quota := &corev1.ResourceQuota{}
	must(t, get(t, quota, "tenant-jakarta", "tenant"))

	// Watch Ready, and who serves, for the whole move.
	var mu sync.Mutex
	var notReady, servedByNone []string
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			c, _, err := tenantCondition("jakarta", saasv1.ConditionReady)
			inFrom := get(t, &corev1.Secret{}, b.CellNamespace(from), "tenant-jakarta") == nil
			inTo := get(t, &corev1.Secret{}, b.CellNamespace(to), "tenant-jakarta") == nil
			rs := &route53.RecordSet{}
			rsErr := get(t, rs, "tenant-jakarta", b.RecordSetName)
			mu.Lock()
			if err == nil && c.Status != metav1.ConditionTrue {
				notReady = append(notReady, c.Reason+": "+c.Message)
			}
			if rsErr == nil {
				target := *rs.Spec.AliasTarget.DNSName
				if (target == from.Spec.Ingress.LoadBalancerDNSName && !inFrom) || (target == to.Spec.Ingress.LoadBalancerDNSName && !inTo) {
					servedByNone = append(servedByNone, "DNS at "+target+" whose cell has no configuration")
				}
			}
			mu.Unlock()
		}
	}()

	setSpecCell(t, "jakarta", to.Name)
	moving := tenantHas(t, "jakarta", saasv1.ConditionPlaced, metav1.ConditionFalse, "Moving")
	if moving.Status.Cell != to.Name || moving.Status.Move == nil || moving.Status.Move.From != from.Name {
		t.Fatalf("move not recorded: cell %q move %+v", moving.Status.Cell, moving.Status.Move)
	}
	if c := condition(moving.Status.Conditions, saasv1.ConditionReconciling); c.Status != metav1.ConditionTrue {
		t.Errorf("Reconciling during a move: %s", c.Status)
	}
	// Both cells hold its configuration, each pointing at its own cache.
	for _, c := range []*saasv1.RegionCell{from, to} {
		cfg := &corev1.Secret{}
		eventually(t, "configuration in "+c.Name, func() error { return get(t, cfg, b.CellNamespace(c), "tenant-jakarta") })
		if addr := string(cfg.Data[saasv1.ConfigCacheAddress]); addr != "cache-"+c.Name+".abc123.euw1.cache.amazonaws.com:6379" {
			t.Errorf("configuration in %s points at cache %s", c.Name, addr)
		}
	}
	// After the warm-up DNS switches to the new cell; the old one serves until the drain ends.
	rs := &route53.RecordSet{}
	eventually(t, "DNS switched", func() error {
		must(t, get(t, rs, "tenant-jakarta", b.RecordSetName))
		if got := *rs.Spec.AliasTarget.DNSName; got != to.Spec.Ingress.LoadBalancerDNSName {
			return fmt.Errorf("record aliases %s", got)
		}
		return nil
	})
	must(t, get(t, &corev1.Secret{}, b.CellNamespace(from), "tenant-jakarta"))
	playStatus(t, rs, "tenant-jakarta", b.RecordSetName, func() {
		// Route53, in sync after the switch (stamped on the operator's clock, which tests move).
		now := metav1.NewTime(clock.Now())
		rs.Status.Conditions = []*ackv1alpha1.Condition{{Type: ackv1alpha1.ConditionTypeResourceSynced, Status: corev1.ConditionTrue, LastTransitionTime: &now}}
	})
	done1 := tenantHas(t, "jakarta", saasv1.ConditionPlaced, metav1.ConditionTrue, "Placed")
	close(stop)
	<-done
	if done1.Status.Move != nil || done1.Status.Cell != to.Name {
		t.Errorf("after the move: cell %q move %+v", done1.Status.Cell, done1.Status.Move)
	}
	if err := get(t, &corev1.Secret{}, b.CellNamespace(from), "tenant-jakarta"); !apierrors.IsNotFound(err) {
		t.Errorf("the old cell still holds the configuration: %v", err)
	}
	mu.Lock()
	if len(notReady) > 0 {
		t.Errorf("Ready went False during the move: %v", notReady)
	}
	if len(servedByNone) > 0 {
		t.Errorf("DNS pointed at a cell not serving the tenant: %v", servedByNone[:1])
	}
	mu.Unlock()
	for _, e := range []string{"MoveStarted", "MoveSwitched", "MoveFinished"} {
		eventually(t, "event "+e, func() error {
			if !strings.Contains(eventsText(), e+" ") {
				return fmt.Errorf("no %s event", e)
			}
			return nil
		})
	}
	// The database was not touched, nor any of the tenant's own objects but its network policy.
	after := &rds.DBInstance{}
	must(t, get(t, after, "tenant-jakarta", b.DBInstanceName))
	if after.ResourceVersion != db.ResourceVersion || *after.Spec.DBInstanceIdentifier != "tenant-apse7-a-jakarta" {
		t.Errorf("the DBInstance was written during the move (rv %s -> %s, id %s)", db.ResourceVersion, after.ResourceVersion, *after.Spec.DBInstanceIdentifier)
	}
	q := &corev1.ResourceQuota{}
	must(t, get(t, q, "tenant-jakarta", "tenant"))
	if q.ResourceVersion != quota.ResourceVersion {
		t.Errorf("the tenant's quota was rewritten by the move")
	}
	np := &networkingv1.NetworkPolicy{}
	must(t, get(t, np, "tenant-jakarta", b.NetworkPolicyName))
	if from := np.Spec.Ingress[0].From; len(from) != 1 || from[0].IPBlock.CIDR != "10.2.0.0/16" {
		t.Errorf("after the move the app port takes traffic from %v, want the new cell's load balancer only", from)
	}
	// The cell it left cannot be deleted while the database lives in its network.
	must(t, k8s.Delete(ctx, from))
	held := cellHas(t, from.Name, saasv1.ConditionReady, metav1.ConditionFalse, "DatabasesRemain")
	if c := condition(held.Status.Conditions, saasv1.ConditionReady); !strings.Contains(c.Message, "jakarta") {
		t.Errorf("deletion hold does not name the tenant: %s", c.Message)
	}
	cellCounts(t, to.Name, map[string]int32{saasv1.PhaseReady: 1})
}

// A dedicated tenant keeps a rule on the load balancer of the cell it leaves until the drain
// ends; deleted mid-move, it leaves both cells.
func TestMovingADedicatedTenantAndDeletingItMidMove(t *testing.T) {
	ctx := context.Background()
	from := servingCell(t, "eus2-a", "eu-south-2")
	// The cell it moves to has other defaults: the move must not apply them to what the tenant
	// has of its own.
	to := servingCell(t, "eus2-b", "eu-south-2", func(c *saasv1.RegionCell) {
		c.Spec.Cache.NodeType, c.Spec.Cache.EngineVersion = "cache.r7g.large", "6.2"
		c.Spec.App.Image, c.Spec.App.MinReplicas = "registry.example/tenantops/app", 5
	})
	tenant := newTenant("madrid", "eu-south-2", func(tn *saasv1.Tenant) { tn.Spec.Cell, tn.Spec.Tier = from.Name, saasv1.TierDedicated })
	create(t, tenant)
	onboard(t, from, tenant)
	pooled := newTenant("bilbao", "eu-south-2", func(tn *saasv1.Tenant) { tn.Spec.Cell = from.Name })
	create(t, pooled)
	onboard(t, from, pooled)

	setSpecCell(t, "madrid", to.Name)
	setSpecCell(t, "bilbao", to.Name)
	tenantHas(t, "madrid", saasv1.ConditionPlaced, metav1.ConditionFalse, "Moving")
	group := func(name string) string {
		ing := &networkingv1.Ingress{}
		if err := get(t, ing, "tenant-madrid", name); err != nil {
			return "none"
		}
		return ing.Annotations["alb.ingress.kubernetes.io/group.name"]
	}
	eventually(t, "rules on both load balancers", func() error {
		if got := group(b.AppName) + " " + group(b.DrainingIngressName); got != "cell-eus2-b cell-eus2-a" {
			return fmt.Errorf("app, app-draining groups: %s", got)
		}
		return nil
	})
	// bilbao is deleted mid-move: both cells let it go.
	tenantHas(t, "bilbao", saasv1.ConditionPlaced, metav1.ConditionFalse, "Moving")
	eventually(t, "bilbao in both cells", func() error {
		for _, c := range []*saasv1.RegionCell{from, to} {
			if err := get(t, &corev1.Secret{}, b.CellNamespace(c), "tenant-bilbao"); err != nil {
				return err
			}
		}
		return nil
	})
	must(t, k8s.Delete(ctx, pooled))
	eventually(t, "bilbao gone from both cells", func() error {
		for _, c := range []*saasv1.RegionCell{from, to} {
			if err := get(t, &corev1.Secret{}, b.CellNamespace(c), "tenant-bilbao"); !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s still holds it: %v", c.Name, err)
			}
		}
		return nil
	})

	own := func() string {
		rg, dep := &ecv1.ReplicationGroup{}, &appsv1.Deployment{}
		must(t, get(t, rg, "tenant-madrid", b.CacheName))
		must(t, get(t, dep, "tenant-madrid", b.AppName))
		return fmt.Sprint(*rg.Spec.CacheNodeType, " ", utilptr.Deref(rg.Spec.EngineVersion, ""), " ", dep.Spec.Template.Spec.Containers[0].Image, " ", *dep.Spec.Replicas)
	}
	wantOwn := own()

	rs := &route53.RecordSet{}
	eventually(t, "DNS switched", func() error {
		must(t, get(t, rs, "tenant-madrid", b.RecordSetName))
		if *rs.Spec.AliasTarget.DNSName != to.Spec.Ingress.LoadBalancerDNSName {
			return fmt.Errorf("aliases %s", *rs.Spec.AliasTarget.DNSName)
		}
		return nil
	})
	playStatus(t, rs, "tenant-madrid", b.RecordSetName, func() {
		now := metav1.NewTime(clock.Now())
		rs.Status.Conditions = []*ackv1alpha1.Condition{{Type: ackv1alpha1.ConditionTypeResourceSynced, Status: corev1.ConditionTrue, LastTransitionTime: &now}}
	})
	tenantHas(t, "madrid", saasv1.ConditionPlaced, metav1.ConditionTrue, "Placed")
	if got := own(); got != wantOwn {
		t.Errorf("the move changed the tenant's own cache or app: %s, was %s", got, wantOwn)
	}
	eventually(t, "the old cell's rule gone", func() error {
		if got := group(b.AppName) + " " + group(b.DrainingIngressName); got != "cell-eus2-b none" {
			return fmt.Errorf("app, app-draining groups: %s", got)
		}
		return nil
	})

	// A reconcile that reads the tenant from before the move ended (the cache lags the
	// operator's own status write) does not give the old cell its rule back.
	stale := handDriven(staleMove{Client: operator, move: saasv1.TenantMove{From: from.Name,
		StartedAt: metav1.NewTime(clock.Now().Add(-time.Hour)), SwitchedAt: ptr(metav1.NewTime(clock.Now().Add(-time.Hour))),
		DrainingSince: ptr(metav1.NewTime(clock.Now().Add(-time.Hour)))}}, nil)
	if _, err := stale.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "madrid"}}); err != nil {
		t.Fatal(err)
	}
	if got := group(b.DrainingIngressName); got != "none" {
		t.Errorf("a stale read of a finished move put the old cell's rule back (%s)", got)
	}
}

// staleMove reads Tenants as a cache that has not seen their move end, nor a draining Ingress
// made since.
type staleMove struct {
	client.Client
	move saasv1.TenantMove
}

func (c staleMove) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*networkingv1.Ingress); ok && key.Name == b.DrainingIngressName {
		return apierrors.NewNotFound(networkingv1.Resource("ingresses"), key.Name)
	}
	err := c.Client.Get(ctx, key, obj, opts...)
	if t, ok := obj.(*saasv1.Tenant); ok && err == nil {
		m := c.move
		t.Status.Move = &m
	}
	return err
}

// A move that would change the tenant's URL is refused; the tenant stays served where it is.
func TestAMoveAcrossBaseDomainsIsRefused(t *testing.T) {
	from := servingCell(t, "usgw1-a", "us-gov-west-1")
	servingCell(t, "usgw1-b", "us-gov-west-1", func(c *saasv1.RegionCell) { c.Spec.BaseDomain = "other.example" })
	tenant := newTenant("virginia", "us-gov-west-1", func(tn *saasv1.Tenant) { tn.Spec.Cell = from.Name })
	create(t, tenant)
	onboard(t, from, tenant)
	setSpecCell(t, "virginia", "usgw1-b")
	got := tenantHas(t, "virginia", saasv1.ConditionStalled, metav1.ConditionTrue, placement.ReasonMoveRefused)
	if r := condition(got.Status.Conditions, saasv1.ConditionReady); r.Status != metav1.ConditionTrue || got.Status.Phase != saasv1.PhaseReady || got.Status.Cell != from.Name {
		t.Errorf("a refused move changed the tenant: Ready %s, phase %s, cell %s", r.Status, got.Status.Phase, got.Status.Cell)
	}
	setSpecCell(t, "virginia", from.Name)
	tenantHas(t, "virginia", saasv1.ConditionStalled, metav1.ConditionFalse, "")
	tenantHas(t, "virginia", saasv1.ConditionPlaced, metav1.ConditionTrue, "Placed")
}
