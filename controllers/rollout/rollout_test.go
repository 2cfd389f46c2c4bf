package rollout

import (
	"slices"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func newCell(name string) *saasv1.RegionCell {
	return &saasv1.RegionCell{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.RegionCellSpec{Region: "eu-west-1", App: saasv1.CellApp{Image: "ghcr.io/tenantops/app", Version: "1.0.0"}}}
}

func at(name string, minute int, mutate ...func(*saasv1.Tenant)) saasv1.Tenant {
	t := saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: 1,
		CreationTimestamp: metav1.NewTime(time.Date(2026, 11, 30, 10, minute, 0, 0, time.UTC))},
		Spec: saasv1.TenantSpec{Region: "eu-west-1", Subdomain: name}}
	for _, m := range mutate {
		m(&t)
	}
	return t
}

func TestAppTarget(t *testing.T) {
	cell := newCell("c1")
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
		version, p := AppTarget(cell, c.tenants)
		if version != c.version || p.Reason != c.reason {
			t.Errorf("%s: got %s %s, want %s %s (%s)", c.name, version, p.Reason, c.version, c.reason, p.Message)
		}
	}
}

// The defaults rollout, step by step: batches of RolloutBatchSize, a batch kept until its
// databases moved, and no new batch while one has failed.
func TestDefaultsRollout(t *testing.T) {
	cell := newCell("c1")
	cell.Spec.Database.Revision, cell.Spec.Database.RolloutBatchSize = "r2", 1
	onRevision := func(rev string) func(*saasv1.Tenant) {
		return func(t *saasv1.Tenant) { t.Status.EffectiveDatabase = &saasv1.EffectiveDatabase{DefaultsRevision: rev} }
	}
	database := func(status metav1.ConditionStatus, reason string) func(*saasv1.Tenant) {
		return func(t *saasv1.Tenant) {
			t.Status.Conditions = append(t.Status.Conditions, metav1.Condition{Type: saasv1.ConditionDatabaseReady, Status: status, Reason: reason, ObservedGeneration: t.Generation})
		}
	}
	stalledTenant := func(t *saasv1.Tenant) {
		t.Status.Conditions = append(t.Status.Conditions, metav1.Condition{Type: saasv1.ConditionStalled, Status: metav1.ConditionTrue})
	}
	now := metav1.Now()
	deleting := func(t *saasv1.Tenant) { t.DeletionTimestamp = &now }
	cases := []struct {
		name       string
		revision   string
		previous   *saasv1.DatabaseRollout
		tenants    []saasv1.Tenant
		inProgress []string
		failed     []string
		updated    int32
		waiting    int32
		reason     string
	}{
		{"no revision: new databases only", "", nil, []saasv1.Tenant{at("a", 1, onRevision("r1"))}, nil, nil, 0, 0, "NewDatabasesOnly"},
		{"the first batch, one at a time", "r2", nil,
			[]saasv1.Tenant{at("a", 1, onRevision("r1")), at("b", 2, onRevision("r1")), at("c", 3, onRevision("r1"))}, []string{"a"}, nil, 0, 2, "RollingOut"},
		{"a database that moved and is ready counts, the next one goes", "r2", &saasv1.DatabaseRollout{Revision: "r2", InProgress: []string{"a"}},
			[]saasv1.Tenant{at("a", 1, onRevision("r2"), database(metav1.ConditionTrue, "Available")), at("b", 2, onRevision("r1"))}, []string{"b"}, nil, 1, 0, "RollingOut"},
		{"a database modifying stays in the batch", "r2", &saasv1.DatabaseRollout{Revision: "r2", InProgress: []string{"a"}},
			[]saasv1.Tenant{at("a", 1, onRevision("r2"), database(metav1.ConditionFalse, "Modifying")), at("b", 2, onRevision("r1"))}, []string{"a"}, nil, 0, 1, "RollingOut"},
		{"the batch named last time is kept, whatever the order", "r2", &saasv1.DatabaseRollout{Revision: "r2", InProgress: []string{"c"}},
			[]saasv1.Tenant{at("a", 1, onRevision("r1")), at("c", 3, onRevision("r1"))}, []string{"c"}, nil, 0, 1, "RollingOut"},
		{"a batch of another revision is not kept", "r2", &saasv1.DatabaseRollout{Revision: "r1", InProgress: []string{"c"}},
			[]saasv1.Tenant{at("a", 1, onRevision("r1")), at("c", 3, onRevision("r1"))}, []string{"a"}, nil, 0, 1, "RollingOut"},
		{"RDS refused one: paused, no new batch", "r2", &saasv1.DatabaseRollout{Revision: "r2", InProgress: []string{"a"}},
			[]saasv1.Tenant{at("a", 1, onRevision("r2"), database(metav1.ConditionTrue, ReasonDefaultsRefused)), at("b", 2, onRevision("r1"))}, nil, []string{"a"}, 0, 1, "DatabaseFailed"},
		{"a stalled tenant whose database is not ready failed", "r2", nil,
			[]saasv1.Tenant{at("a", 1, onRevision("r2"), database(metav1.ConditionFalse, "ACKTerminal"), stalledTenant), at("b", 2, onRevision("r1"))}, nil, []string{"a"}, 0, 1, "DatabaseFailed"},
		{"tenants without a database, or being deleted, are left out", "r2", nil,
			[]saasv1.Tenant{at("new", 1), at("gone", 2, onRevision("r1"), deleting)}, nil, nil, 0, 0, "UpToDate"},
		{"every database on the revision", "r2", &saasv1.DatabaseRollout{Revision: "r2", InProgress: []string{"b"}},
			[]saasv1.Tenant{at("a", 1, onRevision("r2"), database(metav1.ConditionTrue, "Available")), at("b", 2, onRevision("r2"), database(metav1.ConditionTrue, "Available"))}, nil, nil, 2, 0, "UpToDate"},
	}
	for _, c := range cases {
		cell := cell.DeepCopy()
		cell.Spec.Database.Revision, cell.Status.DatabaseRollout = c.revision, c.previous
		ro, part := DefaultsRollout(cell, c.tenants)
		if part.Reason != c.reason {
			t.Errorf("%s: reason %s (%s), want %s", c.name, part.Reason, part.Message, c.reason)
		}
		if c.revision == "" {
			if ro != nil {
				t.Errorf("%s: a rollout %+v without a revision", c.name, ro)
			}
			continue
		}
		if !slices.Equal(ro.InProgress, c.inProgress) || !slices.Equal(ro.Failed, c.failed) || ro.Updated != c.updated || ro.Waiting != c.waiting {
			t.Errorf("%s: in progress %v failed %v updated %d waiting %d; want %v %v %d %d",
				c.name, ro.InProgress, ro.Failed, ro.Updated, ro.Waiting, c.inProgress, c.failed, c.updated, c.waiting)
		}
	}
}

// Whether a database change is the cell's doing decides whether RDS refusing it fails the tenant.
func TestCellDrivenAndInDefaultsRollout(t *testing.T) {
	cell := newCell("c1")
	cell.Spec.Database.Revision = "r2"
	cell.Status.DatabaseRollout = &saasv1.DatabaseRollout{Revision: "r2", InProgress: []string{"a"}, Failed: []string{"f"}}
	changed := metav1.Now()
	a, f, other := at("a", 1), at("f", 2), at("other", 3)
	onR2 := saasv1.EffectiveDatabase{DefaultsRevision: "r2", ChangedAt: &changed}
	if !CellDriven(&a, cell, onR2) || !CellDriven(&f, cell, onR2) {
		t.Error("a change to the revision the cell rolls out, for a tenant of its batch (or failed), is the cell's")
	}
	if CellDriven(&other, cell, onR2) {
		t.Error("a tenant the cell did not name changed its database itself")
	}
	if CellDriven(&a, cell, saasv1.EffectiveDatabase{DefaultsRevision: "r2"}) {
		t.Error("no change in flight is nobody's change")
	}
	if CellDriven(&a, cell, saasv1.EffectiveDatabase{DefaultsRevision: "r1", ChangedAt: &changed}) {
		t.Error("a change carrying another revision is not the rollout's")
	}
	had := &saasv1.EffectiveDatabase{DefaultsRevision: "r1"}
	if !InDefaultsRollout(&a, cell, had) || InDefaultsRollout(&other, cell, had) || InDefaultsRollout(&a, cell, &saasv1.EffectiveDatabase{DefaultsRevision: "r2"}) {
		t.Error("InDefaultsRollout: only a tenant of the batch in progress whose database carries another revision")
	}
}

func TestVersionsInUse(t *testing.T) {
	cell := newCell("c1")
	cell.Spec.App.Version, cell.Status.AppVersion = "1.1.0", "1.0.0"
	dedicated := func(version, migrated string) func(*saasv1.Tenant) {
		return func(t *saasv1.Tenant) {
			t.Spec.Tier, t.Spec.App = saasv1.TierDedicated, &saasv1.TenantApp{Version: version}
			t.Status.Cell = "c1"
			t.Status.LastMigration = &saasv1.MigrationStatus{Version: migrated, Succeeded: true}
		}
	}
	now := metav1.Now()
	tenants := []saasv1.Tenant{
		at("d", 1, dedicated("0.9.0", "0.8.0")),
		at("elsewhere", 2, dedicated("0.5.0", "0.5.0"), func(t *saasv1.Tenant) { t.Status.Cell = "c2" }),
		at("leaving", 3, dedicated("0.4.0", "0.4.0"), func(t *saasv1.Tenant) { t.DeletionTimestamp = &now }),
		at("pooled", 4, func(t *saasv1.Tenant) { t.Status.Cell = "c1"; t.Spec.App = &saasv1.TenantApp{Version: "0.3.0"} }),
	}
	want := []string{"0.8.0", "0.9.0", "1.0.0", "1.1.0"}
	if got := VersionsInUse(cell, tenants); !slices.Equal(got, want) {
		t.Errorf("versions in use %v, want %v: the shared app's two, and the dedicated tenant's serving and wanted ones", got, want)
	}
	if got := ServingOrWanted(newCell("fresh")); got != "1.0.0" {
		t.Errorf("a cell serving nothing yet: %q, want its spec's version", got)
	}
}
