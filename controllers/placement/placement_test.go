package placement

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func newCell(name, region string, mutate ...func(*saasv1.RegionCell)) *saasv1.RegionCell {
	c := &saasv1.RegionCell{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.RegionCellSpec{Region: region, BaseDomain: "website.com", HostedZoneID: "Z0123456789ABCDEFGHIJ"}}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// at is a tenant of eu-west-1 created at minute past 10:00, whose UID is its name.
func at(name string, minute int, mutate ...func(*saasv1.Tenant)) saasv1.Tenant {
	t := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.TenantSpec{DisplayName: name, Region: "eu-west-1", Subdomain: name, AdminEmail: "admin@" + name + ".example"}}
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
				at("b1", 1, placedIn("b")), at("b2", 1, placedIn("b"))}, "", ReasonRegionFull, false},
		{"other regions take no room", cells, at("new", 5),
			[]saasv1.Tenant{at("x", 1, placedIn("other"), func(t *saasv1.Tenant) { t.Spec.Region = "us-east-1" })}, "a", "", false},
		// b1 and b2 still have their load balancer rules until their deletion ends.
		{"a tenant being deleted keeps its place until it is gone", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("b1", 1, placedIn("b"), deleting, dedicated), at("a1", 1, placedIn("a"), dedicated)}, "", ReasonRegionFull, false},
		{"a deleting tenant never placed takes no room", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("b1", 1, deleting, dedicated), at("a1", 1, placedIn("a"), dedicated)}, "b", "", false},
		// w1 holds "dup" first but waits for b, which is full; w2 will lose "dup" to it, so never
		// takes a's last place.
		{"a waiting tenant that will lose its subdomain to an older waiting one takes no room", cells, at("new", 5),
			[]saasv1.Tenant{at("w1", 1, subdomain("dup"), pinnedTo("b")), at("b1", 1, placedIn("b")), at("b2", 1, placedIn("b")),
				at("a1", 1, placedIn("a")), at("a2", 1, placedIn("a")), at("a3", 1, placedIn("a")), at("w2", 2, subdomain("dup"))}, "a", "", false},
		{"a move that will be refused takes no room in its target", twoDomains, at("new", 5, baseDomain("other.example")),
			[]saasv1.Tenant{at("m", 1, placedIn("a"), pinnedTo("o")), at("o1", 1, placedIn("o"))}, "o", "", false},
		{"several base domains and none named: a person chooses", twoDomains, at("new", 5), nil, "", ReasonBaseDomainAmbiguous, true},
		{"the named base domain only, even when fuller", twoDomains, at("new", 5, baseDomain("other.example")),
			[]saasv1.Tenant{at("o1", 1, placedIn("o"))}, "o", "", false},
		{"a base domain no cell serves: it waits", cells, at("new", 5, baseDomain("other.example")), nil, "", ReasonNoCellForBaseDomain, false},
		{"pinned to a cell of another base domain: never", twoDomains, at("new", 5, baseDomain("website.com"), pinnedTo("o")), nil, "", ReasonBaseDomainMismatch, true},
		{"every cell of the named base domain full: it waits", twoDomains, at("new", 5, baseDomain("other.example")),
			[]saasv1.Tenant{at("o1", 1, placedIn("o")), at("o2", 1, placedIn("o"))}, "", ReasonRegionFull, false},
		{"a cell being deleted takes no one", deletingCell, at("new", 5), []saasv1.Tenant{at("x", 1, placedIn("a"))}, "a", "", false},
		{"a dedicated tenant needs a dedicated place", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("x", 1, placedIn("a"), dedicated)}, "b", "", false},
		{"no dedicated place left anywhere", cells, at("new", 5, dedicated),
			[]saasv1.Tenant{at("x", 1, placedIn("a"), dedicated), at("y", 1, placedIn("b"), dedicated)}, "", ReasonRegionFull, false},
		{"pinned: its cell even when fuller", cells, at("new", 5, pinnedTo("b")), []saasv1.Tenant{at("x", 1, placedIn("b"))}, "b", "", false},
		{"pinned to a full cell: it waits", cells, at("new", 5, pinnedTo("b")), []saasv1.Tenant{at("x", 1, placedIn("b")), at("y", 2, placedIn("b"))}, "", ReasonCellFull, false},
		{"pinned to a missing cell: it waits", cells, at("new", 5, pinnedTo("nope")), nil, "", ReasonCellMissing, false},
		{"pinned to a cell being deleted: it waits", deletingCell, at("new", 5, pinnedTo("b")), nil, "", ReasonCellMissing, false},
		{"pinned to another region's cell: never", cells, at("new", 5, pinnedTo("other")), nil, "", ReasonCellInOtherRegion, true},
		{"a move goes where its spec.cell says once there is room", cells, at("m", 1, placedIn("a"), pinnedTo("b")), []saasv1.Tenant{at("y", 2, placedIn("b"))}, "b", "", false},
		{"a move into a full cell waits", cells, at("m", 1, placedIn("a"), pinnedTo("b")), []saasv1.Tenant{at("x", 2, placedIn("b")), at("y", 3, placedIn("b"))}, "", ReasonCellFull, false},
	}
	for _, c := range cases {
		tn := c.tenant
		got := Decide(&tn, c.cells, append(c.others, tn))
		if got.Cell != c.cell || got.Reason != c.reason || got.Stalled != c.stalledToo {
			t.Errorf("%s: got cell %q reason %q stalled %v (%s), want cell %q reason %q stalled %v", c.name, got.Cell, got.Reason, got.Stalled, got.Message, c.cell, c.reason, c.stalledToo)
		}
		if got.Reason == ReasonRegionFull && c.cells[1].Name == "b" && (!strings.Contains(got.Message, "a ") || !strings.Contains(got.Message, "b ")) {
			t.Errorf("%s: the message does not name each cell's occupancy: %s", c.name, got.Message)
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
		if d := Decide(&waiting[i], cells, waiting); d.Cell != "" {
			perCell[d.Cell]++
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
	var ledger Ledger
	// zeta's reconcile does not see alpha yet.
	if d := Decide(&zeta, cells, ledger.Overlay([]saasv1.Tenant{zeta})); d.Cell != "a" {
		t.Fatalf("zeta: %+v", d)
	}
	ledger.Record(zeta.UID, "a")
	// alpha's reconcile sees zeta as the cache had it: not placed, and younger.
	stale := []saasv1.Tenant{zeta, alpha}
	if d := Decide(&alpha, cells, stale); d.Cell != "a" {
		t.Fatalf("without the ledger both would take the place (the bug): %+v", d)
	}
	if d := Decide(&alpha, cells, ledger.Overlay(stale)); d.Cell != "" || d.Reason != ReasonRegionFull {
		t.Errorf("alpha with the ledger: %+v, want it to wait (RegionFull)", d)
	}
	if stale[0].Status.Cell != "" {
		t.Error("overlay modified the cache's object")
	}
	// Once the cache shows zeta placed, the ledger forgets it.
	zeta.Status.Cell = "a"
	ledger.Overlay([]saasv1.Tenant{zeta, alpha})
	if got := ledger.Placed(zeta.UID); got != "" {
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
		if got := SubdomainOwner(&tn, append(c.others, tn)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

func TestCellsServing(t *testing.T) {
	cases := []struct {
		name   string
		tenant saasv1.Tenant
		want   []string
	}{
		{"not placed: none", at("new", 1), nil},
		{"placed: its cell", at("p", 1, placedIn("a")), []string{"a"}},
		{"moving: both", at("m", 1, placedIn("b"), func(t *saasv1.Tenant) { t.Status.Move = &saasv1.TenantMove{From: "a"} }), []string{"b", "a"}},
	}
	for _, c := range cases {
		if got := CellsServing(&c.tenant); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestMoveRefusal(t *testing.T) {
	a := newCell("a", "eu-west-1")
	otherZone := newCell("z", "eu-west-1", func(c *saasv1.RegionCell) { c.Spec.HostedZoneID = "ZOTHER" })
	otherDomain := newCell("d", "eu-west-1", func(c *saasv1.RegionCell) { c.Spec.BaseDomain = "other.example" })
	if why := MoveRefusal(a, newCell("b", "eu-west-1")); why != "" {
		t.Errorf("same domain and zone refused: %s", why)
	}
	for _, to := range []*saasv1.RegionCell{otherZone, otherDomain} {
		if why := MoveRefusal(a, to); !strings.Contains(why, "URL would change") {
			t.Errorf("a to %s: %q, want a refusal saying the URL would change", to.Name, why)
		}
	}
}
