package controllers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// A cell's warm pool hands out ready databases and refills. Five tenants sign up at once against
// a pool of two: two claim one each (never the same one), become the tenant's with the tenant's
// own password (the pool's stops working), and the pool refills; the others, one of another
// shape, make their own, and say why. Shrunk to nothing, the pool deletes only its unclaimed
// databases, and never a tenant's.
func TestAWarmPoolHandsOutDatabasesAndRefills(t *testing.T) {
	const region, prefix = "ap-southeast-6", "wp"
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	cell := newCell(prefix+"-cell", region, func(c *saasv1.RegionCell) {
		c.Spec.Database.WarmPool = &saasv1.WarmPool{Size: 2}
	})
	create(t, cell)
	cellNS := b.CellNamespace(cell)
	ours := func(ns string) bool { return ns == cellNS || strings.HasPrefix(ns, "tenant-"+prefix) }
	// RDS takes 4 s to make an instance here: long enough to see who waited for one.
	player, err := testenv.StartPlayer(ctx, restConfig, testenv.PlayerOptions{InNamespace: ours, RDSCreateTime: 4 * time.Second})
	must(t, err)
	account := player.RDS()

	poolReady := func(want int32) func() error {
		return func() error {
			c := &saasv1.RegionCell{}
			must(t, get(t, c, "", cell.Name))
			wp := c.Status.WarmPool
			if wp == nil || wp.Ready != want || wp.Size != want {
				return fmt.Errorf("warm pool %+v", wp)
			}
			if cond := condition(c.Status.Conditions, saasv1.ConditionWarmPoolReady); cond.Status != metav1.ConditionTrue {
				return fmt.Errorf("WarmPoolReady %+v", cond)
			}
			return nil
		}
	}
	eventuallyWithin(t, time.Minute, "the pool full", poolReady(2))
	first := poolIdentifiers(t, cellNS)
	if len(first) != 2 {
		t.Fatalf("pool holds %v", first)
	}
	poolSecret := &corev1.Secret{}
	must(t, get(t, poolSecret, cellNS, b.WarmPoolPasswordSecretName))
	poolPassword := string(poolSecret.Data[b.DBPasswordKey])
	for _, id := range first {
		if !account.PasswordWorks(id, poolPassword) {
			t.Fatalf("pool database %s does not take the pool's password", id)
		}
	}
	c := &saasv1.RegionCell{}
	must(t, get(t, c, "", cell.Name))
	if !slices.ContainsFunc(c.Status.Cost.Items, func(it saasv1.CostItem) bool { return strings.Contains(it.Name, "warm pool: 2 unclaimed databases") }) {
		t.Errorf("the cell's cost does not show the pool: %+v", c.Status.Cost.Items)
	}

	names := []string{prefix + "-a", prefix + "-b", prefix + "-c", prefix + "-d", prefix + "-big"}
	for _, n := range names {
		create(t, newTenant(n, region, func(tn *saasv1.Tenant) {
			if strings.HasSuffix(n, "-big") {
				tn.Spec.Database.InstanceClass = "db.r6g.large"
			}
		}))
	}
	// Those that make their own say why while RDS makes it.
	sawWhy := map[string]string{}
	eventuallyWithin(t, 2*time.Minute, "every tenant Ready", func() error {
		ready := 0
		for _, n := range names {
			cond, _, err := tenantCondition(n, saasv1.ConditionDatabaseReady)
			if err != nil {
				return err
			}
			if cond.Reason == "NotFromWarmPool" {
				sawWhy[n] = cond.Message
			}
			if r, _, _ := tenantCondition(n, saasv1.ConditionReady); r.Status == metav1.ConditionTrue {
				ready++
			}
		}
		if ready < len(names) {
			return fmt.Errorf("%d of %d Ready", ready, len(names))
		}
		return nil
	})

	claimedBy := map[string]string{}
	for _, n := range names {
		tn := &saasv1.Tenant{}
		must(t, get(t, tn, "", n))
		eff := tn.Status.EffectiveDatabase
		if eff.ClaimedFrom == "" {
			if eff.Identifier != "tenant-"+cell.Name+"-"+n {
				t.Errorf("%s made its own database under identifier %s", n, eff.Identifier)
			}
			if !strings.Contains(sawWhy[n], "not one of the warm pool's") {
				t.Errorf("%s made its own database without saying why (DatabaseReady messages seen: %q)", n, sawWhy[n])
			}
			continue
		}
		if other, twice := claimedBy[eff.Identifier]; twice {
			t.Errorf("%s and %s both claimed %s", other, n, eff.Identifier)
		}
		claimedBy[eff.Identifier] = n
		if !slices.Contains(first, eff.Identifier) {
			t.Errorf("%s claimed %s, not one of the pool's %v", n, eff.Identifier, first)
		}
		if n == prefix+"-big" {
			t.Errorf("%s, of another shape, claimed a pool database", n)
		}
		if n := account.Deletions(eff.Identifier); n > 0 {
			t.Errorf("%s's database %s was deleted %d times on the way from the pool", tn.Name, eff.Identifier, n)
		}
		secret := &corev1.Secret{}
		must(t, get(t, secret, b.TenantNamespace(tn), b.DBPasswordSecretName))
		if account.PasswordWorks(eff.Identifier, poolPassword) || !account.PasswordWorks(eff.Identifier, string(secret.Data[b.DBPasswordKey])) {
			t.Errorf("%s's database %s: the pool's password still works, or the tenant's does not", n, eff.Identifier)
		}
		db := &rds.DBInstance{}
		must(t, get(t, db, b.TenantNamespace(tn), b.DBInstanceName))
		if db.Annotations[ack.AnnotationAdoptionPolicy] != "adopt-or-create" || *db.Spec.DBInstanceIdentifier != eff.Identifier {
			t.Errorf("%s's DBInstance does not adopt %s: %v", n, eff.Identifier, db.Annotations)
		}
	}
	if len(claimedBy) != 2 {
		t.Errorf("%d databases claimed from a pool of 2: %v", len(claimedBy), claimedBy)
	}
	if !strings.Contains(sawWhy[prefix+"-big"], "is not the warm pool's shape") {
		t.Errorf("the tenant of another shape said: %q", sawWhy[prefix+"-big"])
	}
	// The platform engineer sees the pool's use in the operator's metrics.
	if claimed, missed := testutil.ToFloat64(metrics.WarmPoolClaims.WithLabelValues(cell.Name, "claimed")),
		testutil.ToFloat64(metrics.WarmPoolClaims.WithLabelValues(cell.Name, "missed")); claimed != 2 || missed != 3 {
		t.Errorf("tenantops_warm_pool_claims_total: claimed %v, missed %v; want 2 and 3", claimed, missed)
	}
	eventuallyWithin(t, time.Minute, "the pool refilled", poolReady(2))
	if ready := testutil.ToFloat64(metrics.WarmPoolDatabases.WithLabelValues(cell.Name, "ready")); ready != 2 {
		t.Errorf("tenantops_warm_pool_databases{state=ready} = %v, want 2", ready)
	}
	refilled := poolIdentifiers(t, cellNS)
	for _, id := range refilled {
		if slices.Contains(first, id) {
			t.Errorf("the refilled pool still holds %s", id)
		}
	}
	everyInstanceHasOneOwner(t, ctx, account, ours)

	// Shrunk to nothing: the unclaimed go, without final snapshots; the claimed stay.
	snapshotsBefore := len(account.Snapshots())
	patchCell(t, cell.Name, func(c *saasv1.RegionCell) { c.Spec.Database.WarmPool.Size = 0 })
	eventuallyWithin(t, time.Minute, "the pool emptied", func() error {
		if ids := poolIdentifiers(t, cellNS); len(ids) > 0 {
			return fmt.Errorf("pool holds %v", ids)
		}
		c := &saasv1.RegionCell{}
		must(t, get(t, c, "", cell.Name))
		if c.Status.WarmPool != nil || meta.FindStatusCondition(c.Status.Conditions, saasv1.ConditionWarmPoolReady) != nil {
			return fmt.Errorf("status still shows a pool: %+v", c.Status.WarmPool)
		}
		return nil
	})
	have := account.Instances()
	for _, id := range refilled {
		if _, ok := have[id]; ok {
			t.Errorf("unclaimed pool database %s is still in the account", id)
		}
	}
	for id, n := range claimedBy {
		if _, ok := have[id]; !ok {
			t.Errorf("%s's database %s went with the pool", n, id)
		}
	}
	if n := len(account.Snapshots()) - snapshotsBefore; n != 0 {
		t.Errorf("releasing the pool took %d final snapshots of empty databases", n)
	}
	everyInstanceHasOneOwner(t, ctx, account, ours)
}

// poolIdentifiers are the identifiers of the cell namespace's pool instances not being deleted.
func poolIdentifiers(t testing.TB, ns string) []string {
	var list rds.DBInstanceList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{saasv1.LabelComponent: b.WarmPoolComponent}))
	var ids []string
	for _, db := range list.Items {
		if db.DeletionTimestamp.IsZero() {
			ids = append(ids, *db.Spec.DBInstanceIdentifier)
		}
	}
	sort.Strings(ids)
	return ids
}

// everyInstanceHasOneOwner checks the promise of a claim: every RDS instance of the account is
// managed by exactly one DBInstance of the test's namespaces, a pool's or a tenant's, and every
// such DBInstance has its instance.
func everyInstanceHasOneOwner(t testing.TB, ctx context.Context, account *testenv.Account, ours func(string) bool) {
	t.Helper()
	// The DBInstances and the account are read one after the other: a deletion landing between
	// the two reads (a tenant's own database going while the claim is given back) would show a
	// manager without an instance for a moment. So the promise is checked at rest: the two reads
	// must agree within a few seconds.
	eventuallyWithin(t, 10*time.Second, "every RDS instance managed by exactly one DBInstance", func() error {
		var all rds.DBInstanceList
		must(t, k8s.List(ctx, &all))
		managers := map[string][]string{}
		for _, db := range all.Items {
			if ours(db.Namespace) && db.DeletionTimestamp.IsZero() {
				managers[*db.Spec.DBInstanceIdentifier] = append(managers[*db.Spec.DBInstanceIdentifier], db.Namespace+"/"+db.Name)
			}
		}
		have := account.Instances()
		var problems []string
		for id, in := range have {
			if len(managers[id]) != 1 {
				problems = append(problems, fmt.Sprintf("RDS instance %s (owner %q) is managed by %v", id, in.Owner, managers[id]))
			}
		}
		for id, m := range managers {
			if _, ok := have[id]; !ok {
				problems = append(problems, fmt.Sprintf("%v manage %s, which the account does not hold", m, id))
			}
		}
		if len(problems) > 0 {
			return errors.New(strings.Join(problems, "; "))
		}
		return nil
	})
}

// patchCell changes the cell named name as change says.
func patchCell(t testing.TB, name string, change func(*saasv1.RegionCell)) {
	t.Helper()
	c := &saasv1.RegionCell{}
	must(t, get(t, c, "", name))
	orig := c.DeepCopy()
	change(c)
	must(t, k8s.Patch(context.Background(), c, client.MergeFrom(orig)))
}

// A tenant deleted with a claim it never finished (its claim on a pool database landed, its
// own DBInstance never adopted it) gives the database back to the pool, unharmed.
func TestADeletedTenantGivesAnUnfinishedClaimBack(t *testing.T) {
	const region, prefix = "ap-east-2", "wq"
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	cell := newCell(prefix+"-cell", region, func(c *saasv1.RegionCell) { c.Spec.Database.WarmPool = &saasv1.WarmPool{Size: 1} })
	create(t, cell)
	cellNS := b.CellNamespace(cell)
	ours := func(ns string) bool { return ns == cellNS || strings.HasPrefix(ns, "tenant-"+prefix) }
	player, err := testenv.StartPlayer(ctx, restConfig, testenv.PlayerOptions{InNamespace: ours})
	must(t, err)
	var pooled rds.DBInstance
	eventuallyWithin(t, time.Minute, "the pool full", func() error {
		var list rds.DBInstanceList
		must(t, k8s.List(ctx, &list, client.InNamespace(cellNS), client.MatchingLabels{saasv1.LabelComponent: b.WarmPoolComponent}))
		if len(list.Items) != 1 || list.Items[0].Status.Endpoint == nil {
			return fmt.Errorf("%d pool instances", len(list.Items))
		}
		pooled = list.Items[0]
		return nil
	})
	// A tenant of another shape makes its own database; the test then plays a claim of the
	// pool's database by it that never finished, as a deletion arriving between the claim's
	// first and last stage would leave it.
	tn := newTenant(prefix+"-gone", region, func(tn *saasv1.Tenant) {
		tn.Spec.Cell = cell.Name
		tn.Spec.Database.InstanceClass = "db.r6g.large"
		tn.Spec.Database.DeletionPolicy = saasv1.DeletionDelete
	})
	create(t, tn)
	eventuallyWithin(t, time.Minute, tn.Name+" Ready", func() error {
		if r, _, err := tenantCondition(tn.Name, saasv1.ConditionReady); err != nil || r.Status != metav1.ConditionTrue {
			return fmt.Errorf("Ready %+v %v", r, err)
		}
		return nil
	})
	must(t, get(t, tn, "", tn.Name))
	orig := pooled.DeepCopy()
	pooled.Annotations = map[string]string{b.AnnotationClaimedBy: string(tn.UID), ack.AnnotationDeletionPolicy: "retain"}
	must(t, k8s.Patch(ctx, &pooled, client.MergeFrom(orig)))
	must(t, k8s.Delete(ctx, tn))
	// Given back, the database is the pool's again: unclaimed (or, the pool having refilled
	// meanwhile, released as one too many, without a snapshot); never left claimed, never left
	// in AWS with nobody managing it.
	eventuallyWithin(t, time.Minute, "the claim given back", func() error {
		var list rds.DBInstanceList
		must(t, k8s.List(ctx, &list, client.InNamespace(cellNS), client.MatchingLabels{saasv1.LabelComponent: b.WarmPoolComponent}))
		unclaimed := 0
		for _, db := range list.Items {
			if db.Annotations[b.AnnotationClaimedBy] != "" || db.Annotations[ack.AnnotationDeletionPolicy] != "" {
				return fmt.Errorf("%s still carries %v", db.Name, db.Annotations)
			}
			if db.DeletionTimestamp.IsZero() {
				unclaimed++
			}
		}
		if unclaimed != 1 {
			return fmt.Errorf("%d unclaimed pool databases", unclaimed)
		}
		return nil
	})
	id := *pooled.Spec.DBInstanceIdentifier
	if _, kept := player.RDS().Instances()[id]; !kept && len(player.RDS().Snapshots()) > 0 {
		t.Errorf("the returned database %s went with a final snapshot, as a tenant's would", id)
	}
	everyInstanceHasOneOwner(t, ctx, player.RDS(), ours)
}
