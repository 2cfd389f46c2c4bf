package controllers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

// Unit tests of the pure decisions the reconcilers take; the envtest suites show them at work.

func at(name string, minute int, mutate ...func(*saasv1.Tenant)) saasv1.Tenant {
	t := newTenant(name, "eu-west-1")
	t.UID = types.UID(name)
	t.CreationTimestamp = metav1.NewTime(time.Date(2026, 11, 30, 10, minute, 0, 0, time.UTC))
	for _, m := range mutate {
		m(t)
	}
	return *t
}

func placedIn(cell string) func(*saasv1.Tenant) {
	return func(t *saasv1.Tenant) { t.Status.Cell = cell }
}

func pinnedTo(cell string) func(*saasv1.Tenant) {
	return func(t *saasv1.Tenant) { t.Spec.Cell = cell }
}

func TestPlacement(t *testing.T) {
	withMax := func(n, dedicated int32) func(*saasv1.RegionCell) {
		return func(c *saasv1.RegionCell) {
			c.Spec.Capacity.MaxTenants, c.Spec.Capacity.MaxDedicatedTenants = n, dedicated
		}
	}
	cells := []saasv1.RegionCell{
		*newCell("a", "eu-west-1", withMax(4, 1)),
		*newCell("b", "eu-west-1", withMax(2, 1)),
		*newCell("other", "us-east-1", withMax(10, 1)),
	}
	deletingCell := append([]saasv1.RegionCell(nil), cells...)
	now := metav1.Now()
	deletingCell[1].DeletionTimestamp = &now
	subdomain := func(s string) func(*saasv1.Tenant) { return func(t *saasv1.Tenant) { t.Spec.Subdomain = s } }
	baseDomain := func(d string) func(*saasv1.Tenant) { return func(t *saasv1.Tenant) { t.Spec.BaseDomain = d } }
	twoDomains := []saasv1.RegionCell{*newCell("a", "eu-west-1", withMax(4, 1)),
		*newCell("o", "eu-west-1", withMax(2, 1), func(c *saasv1.RegionCell) { c.Spec.BaseDomain = "other.example" })}
	deleting := func(t *saasv1.Tenant) { t.DeletionTimestamp = &now }
	dedicated := func(t *saasv1.Tenant) { t.Spec.Tier = saasv1.TierDedicated }
	movingFrom := func(cell string) func(*saasv1.Tenant) {
		return func(t *saasv1.Tenant) { t.Status.Move = &saasv1.TenantMove{From: cell} }
	}
	cases := []struct {
		name       string
		cells      []saasv1.RegionCell
		tenant     saasv1.Tenant
		others     []saasv1.Tenant
		cell       string
		reason     string
		stalledToo bool
	}{
		{"an empty region: the first cell by name", cells, at("new", 5), nil, "a", "", false},
		{"the least full by share of capacity", cells, at("new", 5), []saasv1.Tenant{at("x", 1, placedIn("a")), at("y", 2, placedIn("b"))}, "a", "", false},
		{"a tie in share goes to the emptier cell", cells, at("new", 5), []saasv1.Tenant{at("x", 1, placedIn("a")), at("y", 2, placedIn("a")), at("z", 3, placedIn("b"))}, "b", "", false},
		{"a full cell is passed over", cells, at("new", 5), []saasv1.Tenant{at("x", 1, placedIn("b")), at("y", 2, placedIn("b"))}, "a", "", false},
		{"a tenant moving out still takes room where it is", cells, at("new", 5),
			[]saasv1.Tenant{at("x", 1, placedIn("a"), movingFrom("b")), at("y", 2, placedIn("b")), at("z", 3, placedIn("a"))}, "a", "", false},
		// a holds 3 of 4, b 1 of 2: the older waiting w takes b's last place, so new goes to a.
		{"older waiting tenants are placed first, by the same rule", cells, at("new", 5),
			[]saasv1.Tenant{at("x", 1, placedIn("a")), at("y", 1, placedIn("a")), at("z", 1, placedIn("a")), at("q", 1, placedIn("b")), at("w", 3)}, "a", "", false},
		{"younger waiting tenants do not count", cells, at("new", 5),
			[]saasv1.Tenant{at("x", 1, placedIn("a")), at("y", 1, placedIn("a")), at("z", 1, placedIn("a")), at("q", 1, placedIn("b")), at("w", 7)}, "b", "", false},
		{"a waiting tenant whose subdomain is held takes no room", cells, at("new", 5),
			[]saasv1.Tenant{at("x", 1, placedIn("a"), subdomain("dup")), at("z", 1, placedIn("a")), at("y", 2, placedIn("b")), at("w", 3, subdomain("dup"))}, "b", "", false},
		{"every cell full: the region is", cells, at("new", 5),
			[]saasv1.Tenant{at("a1", 1, placedIn("a")), at("a2", 1, placedIn("a")), at("a3", 1, placedIn("a")), at("a4", 1, placedIn("a")),
				at("b1", 1, placedIn("b")), at("b2", 1, placedIn("b"))}, "", reasonRegionFull, false},
		{"other regions take no room", cells, at("new", 5),
			[]saasv1.Tenant{at("x", 1, placedIn("other"), func(t *saasv1.Tenant) { t.Spec.Region = "us-east-1" })}, "a", "", false},
		// b1 and b2 still have their load balancer rules until their deletion ends.
		{"a tenant being deleted keeps its place until it is gone", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("b1", 1, placedIn("b"), deleting, dedicated), at("a1", 1, placedIn("a"), dedicated)}, "", reasonRegionFull, false},
		{"a deleting tenant never placed takes no room", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("b1", 1, deleting, dedicated), at("a1", 1, placedIn("a"), dedicated)}, "b", "", false},
		// w1 holds "dup" first but waits for b, which is full; w2 will lose "dup" to it, so never
		// takes a's last place.
		{"a waiting tenant that will lose its subdomain to an older waiting one takes no room", cells, at("new", 5),
			[]saasv1.Tenant{at("w1", 1, subdomain("dup"), pinnedTo("b")), at("b1", 1, placedIn("b")), at("b2", 1, placedIn("b")),
				at("a1", 1, placedIn("a")), at("a2", 1, placedIn("a")), at("a3", 1, placedIn("a")), at("w2", 2, subdomain("dup"))}, "a", "", false},
		{"a move that will be refused takes no room in its target", twoDomains, at("new", 5, baseDomain("other.example")),
			[]saasv1.Tenant{at("m", 1, placedIn("a"), pinnedTo("o")), at("o1", 1, placedIn("o"))}, "o", "", false},
		{"several base domains and none named: a person chooses", twoDomains, at("new", 5), nil, "", reasonBaseDomainAmbiguous, true},
		{"the named base domain only, even when fuller", twoDomains, at("new", 5, baseDomain("other.example")),
			[]saasv1.Tenant{at("o1", 1, placedIn("o"))}, "o", "", false},
		{"a base domain no cell serves: it waits", cells, at("new", 5, baseDomain("other.example")), nil, "", reasonNoCellForBaseDomain, false},
		{"pinned to a cell of another base domain: never", twoDomains, at("new", 5, baseDomain("website.com"), pinnedTo("o")), nil, "", reasonBaseDomainMismatch, true},
		{"every cell of the named base domain full: it waits", twoDomains, at("new", 5, baseDomain("other.example")),
			[]saasv1.Tenant{at("o1", 1, placedIn("o")), at("o2", 1, placedIn("o"))}, "", reasonRegionFull, false},
		{"a cell being deleted takes no one", deletingCell, at("new", 5), []saasv1.Tenant{at("x", 1, placedIn("a"))}, "a", "", false},
		{"a dedicated tenant needs a dedicated place", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("x", 1, placedIn("a"), dedicated)}, "b", "", false},
		{"no dedicated place left anywhere", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("x", 1, placedIn("a"), dedicated), at("y", 1, placedIn("b"), dedicated)}, "", reasonRegionFull, false},
		{"pinned: its cell even when fuller", cells, at("new", 5, pinnedTo("b")), []saasv1.Tenant{at("x", 1, placedIn("b"))}, "b", "", false},
		{"pinned to a full cell: it waits", cells, at("new", 5, pinnedTo("b")), []saasv1.Tenant{at("x", 1, placedIn("b")), at("y", 2, placedIn("b"))}, "", reasonCellFull, false},
		{"pinned to a missing cell: it waits", cells, at("new", 5, pinnedTo("nope")), nil, "", reasonCellMissing, false},
		{"pinned to a cell being deleted: it waits", deletingCell, at("new", 5, pinnedTo("b")), nil, "", reasonCellMissing, false},
		{"pinned to another region's cell: never", cells, at("new", 5, pinnedTo("other")), nil, "", reasonCellInOtherRegion, true},
		{"a move goes where its spec.cell says once there is room", cells, at("m", 1, placedIn("a"), pinnedTo("b")), []saasv1.Tenant{at("y", 2, placedIn("b"))}, "b", "", false},
		{"a move into a full cell waits", cells, at("m", 1, placedIn("a"), pinnedTo("b")), []saasv1.Tenant{at("x", 2, placedIn("b")), at("y", 3, placedIn("b"))}, "", reasonCellFull, false},
	}
	for _, c := range cases {
		tn := c.tenant
		got := decidePlacement(&tn, c.cells, append(c.others, tn))
		if got.cell != c.cell || got.reason != c.reason || got.stalled != c.stalledToo {
			t.Errorf("%s: got cell %q reason %q stalled %v (%s), want cell %q reason %q stalled %v", c.name, got.cell, got.reason, got.stalled, got.message, c.cell, c.reason, c.stalledToo)
		}
		if got.reason == reasonRegionFull && c.cells[1].Name == "b" && (!strings.Contains(got.message, "a ") || !strings.Contains(got.message, "b ")) {
			t.Errorf("%s: the message does not name each cell's occupancy: %s", c.name, got.message)
		}
	}
}

// Reconciles of several waiting tenants, each deciding only for itself, fill a region exactly.
func TestPlacementAgreesAcrossTenants(t *testing.T) {
	cells := []saasv1.RegionCell{*newCell("a", "eu-west-1", func(c *saasv1.RegionCell) { c.Spec.Capacity.MaxTenants = 3 }),
		*newCell("b", "eu-west-1", func(c *saasv1.RegionCell) { c.Spec.Capacity.MaxTenants = 2 })}
	var waiting []saasv1.Tenant
	for i := range 7 {
		waiting = append(waiting, at(fmt.Sprintf("t%d", i), i))
	}
	perCell := map[string]int{}
	for i := range waiting {
		if d := decidePlacement(&waiting[i], cells, waiting); d.cell != "" {
			perCell[d.cell]++
		}
	}
	if perCell["a"] != 3 || perCell["b"] != 2 {
		t.Errorf("7 tenants deciding at once over cells of 3 and 2 places: %v, want a:3 b:2", perCell)
	}
}

// Two tenants created in the same second, each reconciled before the cache shows the other
// placed: the ledger of placements not yet cached keeps the second out of the cell's last place.
func TestPlacementsNotYetCachedCount(t *testing.T) {
	cells := []saasv1.RegionCell{*newCell("a", "eu-west-1", func(c *saasv1.RegionCell) { c.Spec.Capacity.MaxTenants = 1 })}
	// "zeta" is created first but sorts after "alpha": by (second, name) alpha counts as older.
	zeta, alpha := at("zeta", 1), at("alpha", 1)
	var ledger placementLedger
	// zeta's reconcile does not see alpha yet.
	if d := decidePlacement(&zeta, cells, ledger.overlay([]saasv1.Tenant{zeta})); d.cell != "a" {
		t.Fatalf("zeta: %+v", d)
	}
	ledger.record(zeta.UID, "a")
	// alpha's reconcile sees zeta as the cache had it: not placed, and younger.
	stale := []saasv1.Tenant{zeta, alpha}
	if d := decidePlacement(&alpha, cells, stale); d.cell != "a" {
		t.Fatalf("without the ledger both would take the place (the bug): %+v", d)
	}
	if d := decidePlacement(&alpha, cells, ledger.overlay(stale)); d.cell != "" || d.reason != reasonRegionFull {
		t.Errorf("alpha with the ledger: %+v, want it to wait (RegionFull)", d)
	}
	if stale[0].Status.Cell != "" {
		t.Error("overlay modified the cache's object")
	}
	// Once the cache shows zeta placed, the ledger forgets it.
	zeta.Status.Cell = "a"
	ledger.overlay([]saasv1.Tenant{zeta, alpha})
	if got := ledger.placed(zeta.UID); got != "" {
		t.Errorf("ledger still holds zeta after the cache showed it: %q", got)
	}
}

func TestSubdomainOwner(t *testing.T) {
	subdomain := func(s string) func(*saasv1.Tenant) { return func(t *saasv1.Tenant) { t.Spec.Subdomain = s } }
	cases := []struct {
		name   string
		tenant saasv1.Tenant
		others []saasv1.Tenant
		want   string
	}{
		{"an older tenant holds the subdomain", at("new", 5, subdomain("acme")), []saasv1.Tenant{at("a", 1, subdomain("acme"))}, "a"},
		{"a placed tenant holds it whatever its age", at("old", 1, subdomain("acme")), []saasv1.Tenant{at("b", 5, subdomain("acme"), placedIn("c1"))}, "b"},
		{"in any cell of the region", at("new", 5, subdomain("acme")), []saasv1.Tenant{at("b", 1, subdomain("acme"), placedIn("c2"))}, "b"},
		{"the tenant itself is no rival", at("new", 5, subdomain("acme")), []saasv1.Tenant{at("new", 5, subdomain("acme"))}, ""},
		{"another region's tenant is no rival", at("new", 5, subdomain("acme")),
			[]saasv1.Tenant{at("us", 1, subdomain("acme"), func(t *saasv1.Tenant) { t.Spec.Region = "us-east-1" })}, ""},
	}
	for _, c := range cases {
		tn := c.tenant
		if got := subdomainOwner(&tn, append(c.others, tn)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	parts := []string{saasv1.ConditionDatabaseReady, saasv1.ConditionAppReady}
	cases := []struct {
		name                     string
		verdict                  verdict
		phase                    string
		ready, reconciling, stll metav1.ConditionStatus
		readyReason              string
	}{
		{"every part ready", verdict{parts: []part{ready(parts[0], "Available", ""), ready(parts[1], "Serving", "")}},
			saasv1.PhaseReady, "True", "False", "False", "Ready"},
		{"a part waiting", verdict{parts: []part{ready(parts[0], "Available", ""), waiting(parts[1], "RollingOut", "1 of 2")}},
			saasv1.PhaseProvisioning, "False", "True", "False", "RollingOut"},
		{"a part stalled wins over one waiting", verdict{parts: []part{stalled(parts[0], "ACKTerminal", "no"), waiting(parts[1], "RollingOut", "")}},
			saasv1.PhaseFailed, "False", "False", "True", "ACKTerminal"},
		{"a part not reported yet", verdict{parts: []part{ready(parts[0], "Available", "")}},
			saasv1.PhaseProvisioning, "False", "True", "False", ""},
		{"a move in progress keeps a served tenant Ready", verdict{parts: []part{ready(parts[0], "Available", ""), ready(parts[1], "Serving", "")},
			sides: []part{waiting(saasv1.ConditionPlaced, "Moving", "moving")}}, saasv1.PhaseReady, "True", "True", "False", "Ready"},
		{"a refused move stalls without making it un-Ready", verdict{parts: []part{ready(parts[0], "Available", ""), ready(parts[1], "Serving", "")},
			sides: []part{stalled(saasv1.ConditionPlaced, reasonMoveRefused, "no")}}, saasv1.PhaseReady, "True", "False", "True", "Ready"},
	}
	for _, c := range cases {
		var conds []metav1.Condition
		phase := summarize(&conds, 3, parts, c.verdict)
		r, rec, st := findCondition(conds, saasv1.ConditionReady), findCondition(conds, saasv1.ConditionReconciling), findCondition(conds, saasv1.ConditionStalled)
		got := fmt.Sprint(phase, " ", r.Status, rec.Status, st.Status, " ", r.ObservedGeneration)
		want := fmt.Sprint(c.phase, " ", c.ready, c.reconciling, c.stll, " ", 3)
		if got != want || (c.readyReason != "" && r.Reason != c.readyReason) {
			t.Errorf("%s: got %s (Ready reason %s), want %s (%s)", c.name, got, r.Reason, want, c.readyReason)
		}
	}
}

func TestReadACKState(t *testing.T) {
	cond := func(typ ackv1alpha1.ConditionType, s corev1.ConditionStatus, msg string) *ackv1alpha1.Condition {
		return &ackv1alpha1.Condition{Type: typ, Status: s, Message: &msg}
	}
	synced := cond(ackv1alpha1.ConditionTypeResourceSynced, corev1.ConditionTrue, "")
	notSynced := cond(ackv1alpha1.ConditionTypeResourceSynced, corev1.ConditionFalse, "creating")
	terminal := cond(ackv1alpha1.ConditionTypeTerminal, corev1.ConditionTrue, "InvalidParameter")
	recoverable := cond(ackv1alpha1.ConditionTypeRecoverable, corev1.ConditionTrue, "Throttling")
	cases := []struct {
		name  string
		conds []*ackv1alpha1.Condition
		want  string
	}{
		{"nothing reported", nil, "false false WaitingForACK"},
		{"synced", []*ackv1alpha1.Condition{synced}, "true false ACKSynced"},
		{"not synced", []*ackv1alpha1.Condition{notSynced}, "false false ACKNotSynced creating"},
		{"terminal wins over synced", []*ackv1alpha1.Condition{synced, terminal}, "false true ACKTerminal InvalidParameter"},
		{"recoverable wins over synced", []*ackv1alpha1.Condition{synced, recoverable}, "false false ACKRecoverable Throttling"},
		{"terminal wins over recoverable", []*ackv1alpha1.Condition{recoverable, terminal}, "false true ACKTerminal InvalidParameter"},
		{"a quota refusal, retried by ACK, needs a person and names the quota", []*ackv1alpha1.Condition{notSynced,
			cond(ackv1alpha1.ConditionTypeRecoverable, corev1.ConditionTrue, "InstanceQuotaExceeded: DB instance quota exceeded")},
			"false true QuotaExceeded AWS refused for the quota RDS DB instances per region (default 40); raise it (Service Quotas: Amazon RDS, DB instances)"},
		{"ElastiCache nodes", []*ackv1alpha1.Condition{cond(ackv1alpha1.ConditionTypeTerminal, corev1.ConditionTrue, "NodeQuotaForCustomerExceeded: ...")},
			"false true QuotaExceeded AWS refused for the quota ElastiCache nodes per region"},
	}
	for _, c := range cases {
		st := ack.ReadState(c.conds)
		got := strings.TrimSpace(fmt.Sprint(st.Synced, " ", st.Terminal, " ", st.Reason, " ", st.Message))
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	now := time.Now()
	stamped := func(at time.Time) []*ackv1alpha1.Condition {
		c := *synced
		c.LastTransitionTime = &metav1.Time{Time: at}
		return []*ackv1alpha1.Condition{&c}
	}
	if ack.SyncedSince(stamped(now.Add(-time.Minute)), now) || !ack.SyncedSince(stamped(now.Add(time.Second)), now) {
		t.Error("SyncedSince: a synced condition stamped before the change must not count, one stamped after must")
	}
}

func TestRolloutTarget(t *testing.T) {
	cell := newCell("c1", "eu-west-1")
	cell.Spec.App.Version = "1.1.0"
	cell.Status.AppVersion = "1.0.0"
	migrated := func(v string, ok bool) func(*saasv1.Tenant) {
		return func(t *saasv1.Tenant) { t.Status.LastMigration = &saasv1.MigrationStatus{Version: v, Succeeded: ok} }
	}
	pinned := func(t *saasv1.Tenant) {
		t.Spec.App = &saasv1.TenantApp{Version: "1.0.0", UpgradeStrategy: saasv1.UpgradeManual}
	}
	dedicated := func(t *saasv1.Tenant) { t.Spec.Tier = saasv1.TierDedicated }
	cases := []struct {
		name            string
		tenants         []saasv1.Tenant
		version, reason string
	}{
		{"every Auto tenant migrated", []saasv1.Tenant{at("a", 1, migrated("1.1.0", true)), at("p", 2, pinned, migrated("1.0.0", true))}, "1.1.0", "UpToDate"},
		{"one still migrating", []saasv1.Tenant{at("a", 1, migrated("1.1.0", true)), at("b", 2, migrated("1.0.0", true))}, "1.0.0", "Migrating"},
		{"one failed", []saasv1.Tenant{at("a", 1, migrated("1.1.0", false))}, "1.0.0", "MigrationFailed"},
		{"dedicated tenants do not hold the shared app", []saasv1.Tenant{at("d", 1, dedicated, migrated("1.0.0", true))}, "1.1.0", "UpToDate"},
	}
	for _, c := range cases {
		version, p := rolloutTarget(cell, c.tenants)
		if version != c.version || p.Reason != c.reason {
			t.Errorf("%s: got %s %s, want %s %s (%s)", c.name, version, p.Reason, c.version, c.reason, p.Message)
		}
	}
}

func TestIngressRoutes(t *testing.T) {
	ing := &networkingv1.Ingress{Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{Host: "*.website.com"}, {Host: "own.example.org"}}}}
	for host, want := range map[string]bool{
		"acme.website.com": true, "own.example.org": true, "a.b.website.com": false, "website.com": false,
		"acme.website.com.evil.org": false, "acmewebsite.com": false, "other.example.org": false,
	} {
		if got := ingressRoutes(ing, host); got != want {
			t.Errorf("%s: got %v, want %v", host, got, want)
		}
	}
}

// Every kind's client takes from one budget (client-go gives each REST client its own bucket
// unless the configuration carries one, and controller-runtime makes a client per kind).
func TestOneRateLimitForEveryKind(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	ShareRateLimit(cfg, 300, 600)
	scheme := NewScheme()
	codecs := serializer.NewCodecFactory(scheme)
	httpClient, err := rest.HTTPClientFor(cfg)
	must(t, err)
	var limiters []flowcontrol.RateLimiter
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "Secret"}, {Group: "apps", Version: "v1", Kind: "Deployment"},
		{Group: "rds.services.k8s.aws", Version: "v1alpha1", Kind: "DBInstance"},
	} {
		rc, err := apiutil.RESTClientForGVK(gvk, false, false, cfg, codecs, httpClient)
		must(t, err)
		limiters = append(limiters, rc.GetRateLimiter())
	}
	if limiters[0] == nil || limiters[0] != limiters[1] || limiters[1] != limiters[2] {
		t.Errorf("each kind has its own rate limiter: %p %p %p", limiters[0], limiters[1], limiters[2])
	}
	if got := limiters[0].QPS(); got != 300 {
		t.Errorf("QPS %v, want 300", got)
	}
}

// A verdict summarized again over the conditions it produced changes nothing, transition times
// included: a condition flipped and flipped back in one pass would be written on every reconcile.
func TestSummarizeTwiceChangesNothing(t *testing.T) {
	parts := []string{saasv1.ConditionDatabaseReady}
	verdicts := map[string]verdict{
		"ready, a side condition waiting": {parts: []part{ready(parts[0], "Available", "")}, sides: []part{waiting(saasv1.ConditionAlarmsReady, "WaitingForACK", "x")}},
		"ready, a side condition stalled": {parts: []part{ready(parts[0], "Available", "")}, sides: []part{stalled(saasv1.ConditionPlaced, reasonMoveRefused, "x")}},
		"waiting, a side condition ready": {parts: []part{waiting(parts[0], "Creating", "")}, sides: []part{ready(saasv1.ConditionPlaced, "Placed", "x")}},
	}
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	for name, v := range verdicts {
		var conds []metav1.Condition
		summarize(&conds, 1, parts, v)
		for i := range conds {
			conds[i].LastTransitionTime = old
		}
		summarize(&conds, 1, parts, v)
		for _, c := range conds {
			if !c.LastTransitionTime.Equal(&old) {
				t.Errorf("%s: %s changed its transition time on a second pass over the same verdict", name, c.Type)
			}
		}
	}
}

// While a move waits, the cell being left serves the tenant with its own cache and its own CDN's
// files, those of the version it runs (it once handed out the destination's).
func TestTheCellLeftServesItsOwnFiles(t *testing.T) {
	tenant := newTenant("leaving", "eu-west-1")
	from := newCell("old", "eu-west-1", func(c *saasv1.RegionCell) {
		c.Status.AppVersion, c.Status.AssetsURL, c.Status.AssetsVersions = "1.0.0", "https://static-old.website.com/static", []string{"1.0.0"}
	})
	to := newCell("new", "eu-west-1", func(c *saasv1.RegionCell) {
		c.Status.AppVersion, c.Status.AssetsURL, c.Status.AssetsVersions = "2.0.0", "https://static-new.website.com/static", []string{"2.0.0"}
	})
	dest := b.Endpoints{DBAddress: "db", DBPort: 3306, CacheAddress: "cache-new", CachePort: 6379, AssetsBaseURL: assetsBaseURL(tenant, to)}
	cache := &ecv1.ReplicationGroup{}
	cache.Status.NodeGroups = []*ecv1.NodeGroup{{PrimaryEndpoint: &ecv1.Endpoint{Address: ptr("cache-old"), Port: ptr(int64(6379))}}}
	got := endpointsIn(dest, tenant, from, cache)
	if got.AssetsBaseURL != "https://static-old.website.com/static" || got.CacheAddress != "cache-old" || got.DBAddress != "db" {
		t.Errorf("the cell left hands out %+v", got)
	}
	// A cell left without a CDN serves the app's own files.
	from.Status.AssetsURL, from.Status.AssetsVersions = "", nil
	if got := endpointsIn(dest, tenant, from, cache); got.AssetsBaseURL != "" {
		t.Errorf("the cell left, without a CDN, hands out %q", got.AssetsBaseURL)
	}
}
