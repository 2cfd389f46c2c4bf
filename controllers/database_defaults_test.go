package controllers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/rollout"
	"github.com/tenantops/tenant-operator/test/testenv"
)

func dbShape(t testing.TB, tenant string) (string, int64) {
	t.Helper()
	db := &rds.DBInstance{}
	must(t, get(t, db, "tenant-"+tenant, b.DBInstanceName))
	return *db.Spec.DBInstanceClass, *db.Spec.AllocatedStorage
}

// A cell's new defaults reach new databases only; existing ones move when the cell rolls a new
// revision out, one batch at a time, pausing on a failure; storage never shrinks.
func TestCellDatabaseDefaultsReachExistingDatabasesOnlyByARollout(t *testing.T) {
	ctx := context.Background()
	cell := newCell("dbr1", "me-central-1", func(c *saasv1.RegionCell) {
		c.Spec.Database = saasv1.DatabaseDefaults{InstanceClass: "db.t4g.medium", StorageGiB: 20, RolloutBatchSize: 1}
	})
	create(t, cell)
	playCellAWS(t, cell)
	names := []string{"dba", "dbb", "dbc"}
	for _, n := range names {
		tn := newTenant(n, "me-central-1")
		if n == "dbc" {
			tn.Spec.Database.StorageGiB = 100
		}
		create(t, tn)
		onboard(t, cell, tn)
	}
	got := tenantHas(t, "dbc", saasv1.ConditionDatabaseReady, metav1.ConditionTrue, "Available")
	if e := got.Status.EffectiveDatabase; e == nil || e.InstanceClass != "db.t4g.medium" || e.StorageGiB != 100 {
		t.Fatalf("effective database of dbc: %+v", e)
	}

	// New defaults: existing databases are not touched, a new one gets them.
	must(t, get(t, cell, "", "dbr1"))
	cell.Spec.Database.InstanceClass, cell.Spec.Database.StorageGiB = "db.r6g.large", 50
	must(t, k8s.Update(ctx, cell))
	// Once the operator observed the new defaults (its cache holds them), a new tenant gets them.
	eventually(t, "the operator observed the new defaults", func() error {
		c := &saasv1.RegionCell{}
		must(t, get(t, c, "", "dbr1"))
		if c.Status.ObservedGeneration != c.Generation {
			return fmt.Errorf("observed generation %d of %d", c.Status.ObservedGeneration, c.Generation)
		}
		return nil
	})
	newbie := newTenant("dbnew", "me-central-1")
	create(t, newbie)
	eventually(t, "the new tenant's database has the new defaults", func() error {
		db := &rds.DBInstance{}
		if err := get(t, db, "tenant-dbnew", b.DBInstanceName); err != nil {
			return err
		}
		if *db.Spec.DBInstanceClass != "db.r6g.large" || *db.Spec.AllocatedStorage != 50 {
			return fmt.Errorf("%s %d GiB", *db.Spec.DBInstanceClass, *db.Spec.AllocatedStorage)
		}
		return nil
	})
	playDBAvailable(t, newbie)
	stays(t, "existing databases keep their shape", 2*time.Second, func() error {
		for _, n := range names {
			if class, _ := dbShape(t, n); class != "db.t4g.medium" {
				return fmt.Errorf("%s moved to %s", n, class)
			}
		}
		return nil
	})

	// The rollout: one database at a time, the next once the last is ready again.
	must(t, get(t, cell, "", "dbr1"))
	cell.Spec.Database.Revision = "r2"
	must(t, k8s.Update(ctx, cell))
	modified := func() []string {
		var out []string
		for _, n := range names {
			if class, _ := dbShape(t, n); class == "db.r6g.large" {
				out = append(out, n)
			}
		}
		return out
	}
	eventually(t, "the first database of the batch modified", func() error {
		if m := modified(); !slices.Equal(m, []string{"dba"}) {
			return fmt.Errorf("modified %v", m)
		}
		return nil
	})
	tenantHas(t, "dba", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "Modifying")
	c := cellHas(t, "dbr1", saasv1.ConditionDatabaseDefaultsRolledOut, metav1.ConditionFalse, "RollingOut")
	if ro := c.Status.DatabaseRollout; ro == nil || !slices.Equal(ro.InProgress, []string{"dba"}) {
		t.Errorf("rollout status %+v", ro)
	}
	stays(t, "one database at a time", time.Second, func() error {
		if m := modified(); len(m) != 1 {
			return fmt.Errorf("modified %v", m)
		}
		return nil
	})
	playDBAvailable(t, newTenant("dba", "me-central-1")) // ACK reports the modification done
	eventually(t, "the second database modified after the first", func() error {
		if m := modified(); !slices.Equal(m, []string{"dba", "dbb"}) {
			return fmt.Errorf("modified %v", m)
		}
		return nil
	})

	// A failure pauses the rollout and names the tenant.
	play(t, "RDS refuses the modification of dbb", func(ctx context.Context) error {
		db := &rds.DBInstance{}
		return testenv.PlayStatus(ctx, k8s, db, "tenant-dbb", b.DBInstanceName, func() {
			db.Status.Conditions = testenv.ACKTerminal("InvalidParameterCombination: db.r6g.large is not available")
		})
	})
	c = cellHas(t, "dbr1", saasv1.ConditionDatabaseDefaultsRolledOut, metav1.ConditionFalse, "DatabaseFailed")
	if msg := condition(c.Status.Conditions, saasv1.ConditionDatabaseDefaultsRolledOut).Message; !strings.Contains(msg, "dbb") {
		t.Errorf("pause does not name the tenant: %s", msg)
	}
	// A refusal of what the cell asked is the rollout's failure, not the tenant's: it serves,
	// Ready, and nothing tells billing or CRM it failed.
	refused := tenantHas(t, "dbb", saasv1.ConditionDatabaseReady, metav1.ConditionTrue, rollout.ReasonDefaultsRefused)
	if refused.Status.Phase != saasv1.PhaseReady || condition(refused.Status.Conditions, saasv1.ConditionStalled).Status == metav1.ConditionTrue {
		t.Errorf("a refused defaults change made the tenant %s (Stalled %s)", refused.Status.Phase, condition(refused.Status.Conditions, saasv1.ConditionStalled).Status)
	}
	if p := refused.Status.PendingNotification; p != nil && p.Phase == saasv1.PhaseFailed {
		t.Errorf("a tenant.failed event is owed for a refused defaults change: %+v", p)
	}
	stays(t, "paused", 2*time.Second, func() error {
		if class, _ := dbShape(t, "dbc"); class != "db.t4g.medium" {
			return fmt.Errorf("dbc modified during the pause")
		}
		return nil
	})

	// Fixed: the rollout goes on; dbc keeps its 100 GiB (more than the new default of 50).
	playDBAvailable(t, newTenant("dbb", "me-central-1"))
	eventually(t, "dbc modified", func() error {
		if class, storage := dbShape(t, "dbc"); class != "db.r6g.large" || storage != 100 {
			return fmt.Errorf("dbc: %s %d GiB", class, storage)
		}
		return nil
	})
	playDBAvailable(t, newTenant("dbc", "me-central-1"))
	c = cellHas(t, "dbr1", saasv1.ConditionDatabaseDefaultsRolledOut, metav1.ConditionTrue, "UpToDate")
	if ro := c.Status.DatabaseRollout; ro.Updated != 4 || ro.Waiting != 0 {
		t.Errorf("rollout done: %+v", ro)
	}

	// Storage never shrinks: without its override dbc keeps 100 GiB; asking for 30 is reported.
	setStorage := func(n int32) {
		eventually(t, fmt.Sprintf("storage override set to %d", n), func() error {
			tn := &saasv1.Tenant{}
			must(t, get(t, tn, "", "dbc"))
			tn.Spec.Database.StorageGiB = n
			return k8s.Update(ctx, tn)
		})
	}
	setStorage(0)
	setStorage(30)
	got = tenantHas(t, "dbc", saasv1.ConditionDatabaseReady, metav1.ConditionTrue, "Available")
	if msg := condition(got.Status.Conditions, saasv1.ConditionDatabaseReady).Message; !strings.Contains(msg, "spec.database.storageGiB 30 is less than the 100 GiB") {
		t.Errorf("smaller storage not reported: %s", msg)
	}
	if _, storage := dbShape(t, "dbc"); storage != 100 {
		t.Errorf("storage sent to RDS: %d GiB", storage)
	}
}
