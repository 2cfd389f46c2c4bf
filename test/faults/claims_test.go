package faults

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

// The operator killed at its k-th write of an onboarding that claims a database from the warm
// pool, for every k up to the number of writes it takes (every third k unless FAULTS_EVERY_K=1):
// a new operator finishes it, and the pool's database is the tenant's, never both the tenant's
// and the pool's, nor neither; every RDS instance is managed by exactly one DBInstance, and none was
// deleted.
func TestKilledAtEachWriteOfAClaim(t *testing.T) {
	const region, cellName = "eu-south-1", "claims"
	cell(t, cellName, region, func(c *saasv1.RegionCell) { c.Spec.Database.WarmPool = &saasv1.WarmPool{Size: 1} })
	ns := "cell-" + cellName

	// poolFull waits for the pool to hold one ready, unclaimed database, and returns it.
	poolFull := func(what string) string {
		t.Helper()
		var id string
		if !waitUntil(90*time.Second, func() bool {
			var list rds.DBInstanceList
			must(t, k8s.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{saasv1.LabelComponent: b.WarmPoolComponent}))
			live := 0
			for _, db := range list.Items {
				if !db.DeletionTimestamp.IsZero() {
					continue
				}
				live++
				if b.IsWarmPoolClaimed(&db) || db.Status.Endpoint == nil {
					return false
				}
				id = *db.Spec.DBInstanceIdentifier
			}
			return live == 1
		}) {
			t.Fatalf("%s: the pool did not fill: %s", what, claimState(t, ns))
		}
		return id
	}
	fill, stopFill := operator(t, nil)
	poolFull("at the start")
	stopFill()
	_ = fill

	tenant(t, "claim-0", region)
	pooled := poolFull("before the baseline")
	start := time.Now()
	clean, stop := operator(t, nil)
	waitReady(t, "claim-0", 90*time.Second)
	cleanTook := time.Since(start)
	poolFull("after the baseline")
	time.Sleep(time.Second) // the last status writes
	stop()
	n := len(clean.Writes())
	claimPromisesKept(t, "claim-0", pooled, true)
	promisesKept(t, "claim-0", clean)
	step := killStep()
	t.Logf("baseline: a clean onboarding that claims from the pool (and its refill) takes %d writes and %s; killing at every %d",
		n, cleanTook.Round(time.Millisecond), step)
	for k := 1; k <= n; k += step {
		name := fmt.Sprintf("claim-%d", k)
		pooled := poolFull(name + ": before")
		tenant(t, name, region)
		start := time.Now()
		killed, stopKilled := operator(t, func(p *Proxy) { p.KillAfter(k) })
		waitUntil(60*time.Second, func() bool { return killed.Dead() || isReady(name, &saasv1.Tenant{}) })
		stopKilled()
		next, stopNext := operator(t, nil)
		waitReady(t, name, 90*time.Second)
		poolFull(name + ": after")
		stopNext()
		claimPromisesKept(t, name, pooled, true)
		promisesKept(t, name, killed, next)
		t.Logf("killed at write %d of a claim: converged in %s", k, time.Since(start).Round(time.Millisecond))
	}
}

// claimPromisesKept checks a claim that went through a kill: the database the pool held before
// is the tenant's (mustClaim: the pool was full, so a kill before the claim is followed by the
// next operator's claim, and one after it by the claim's resumption) or still the pool's; every RDS instance of the
// cell and its tenants is managed by exactly one DBInstance and every such DBInstance has its
// instance; no pool DBInstance is left claimed.
func claimPromisesKept(t *testing.T, name, pooled string, mustClaim bool) {
	t.Helper()
	ctx := context.Background()
	tn := &saasv1.Tenant{}
	must(t, k8s.Get(ctx, client.ObjectKey{Name: name}, tn))
	eff := tn.Status.EffectiveDatabase
	claimed := eff != nil && eff.Identifier == pooled
	if mustClaim && !claimed {
		t.Errorf("%s: a clean onboarding did not claim the pool's %s: %+v", name, pooled, eff)
	}
	if eff == nil || (!claimed && eff.Identifier != "tenant-claims-"+name) || (claimed && eff.ClaimedFrom == "") {
		t.Errorf("%s: its database is %+v, neither the pool's %s nor its own", name, eff, pooled)
	}
	ours := func(id string) bool {
		return strings.HasPrefix(id, "pool-claims-") || strings.HasPrefix(id, "tenant-claims-")
	}
	var all rds.DBInstanceList
	must(t, k8s.List(ctx, &all))
	managers := map[string][]string{}
	for _, db := range all.Items {
		id := *db.Spec.DBInstanceIdentifier
		if !ours(id) || !db.DeletionTimestamp.IsZero() {
			continue
		}
		managers[id] = append(managers[id], db.Namespace+"/"+db.Name)
		if db.Annotations[b.AnnotationClaimedBy] != "" {
			t.Errorf("%s: pool DBInstance %s is left claimed by %s", name, db.Name, db.Annotations[b.AnnotationClaimedBy])
		}
		if db.Namespace == "tenant-"+name && db.Annotations[ack.AnnotationAdoptionPolicy] != "" && !claimed {
			t.Errorf("%s: its own database asks ACK to adopt", name)
		}
	}
	have := player.RDS().Instances()
	if _, ok := have[pooled]; !ok || player.RDS().Deletions(pooled) > 0 {
		t.Errorf("%s: the pool's database %s was deleted (%d times; in the account now: %v)", name, pooled, player.RDS().Deletions(pooled), ok)
	}
	for id, in := range have {
		if ours(id) && len(managers[id]) != 1 {
			t.Errorf("%s: RDS instance %s (owner %q) is managed by %v", name, id, in.Owner, managers[id])
		}
	}
	for id, m := range managers {
		if _, ok := have[id]; !ok {
			t.Errorf("%s: %v manage %s, which the account does not hold", name, m, id)
		}
	}
}

// claimState says what the pool holds, for a failure.
func claimState(t *testing.T, ns string) string {
	var list rds.DBInstanceList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	var out []string
	for _, db := range list.Items {
		out = append(out, fmt.Sprintf("%s (claimed by %q, deleting %v, endpoint %v)", db.Name, db.Annotations[b.AnnotationClaimedBy],
			!db.DeletionTimestamp.IsZero(), db.Status.Endpoint != nil))
	}
	sort.Strings(out)
	return strings.Join(out, "; ")
}
