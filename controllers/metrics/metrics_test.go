package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A moved tenant is counted under the cell serving it only, and a tenant or cell that is gone
// leaves no series behind.
func TestCostMetricsFollowTenantsAndCells(t *testing.T) {
	tenantMonthlyCost.Reset()
	SetTenantCost("metered", "cell-a", 100)
	SetTenantCost("other", "cell-a", 50)
	SetTenantCost("metered", "cell-b", 120) // moved
	if n := testutil.CollectAndCount(tenantMonthlyCost); n != 2 {
		t.Errorf("after a move: %d tenant cost series, want 2 (one per tenant)", n)
	}
	if v := testutil.ToFloat64(tenantMonthlyCost.WithLabelValues("metered", "cell-b")); v != 120 {
		t.Errorf("the moved tenant's cost under its new cell: %v", v)
	}
	ForgetTenant("metered")
	if n := testutil.CollectAndCount(tenantMonthlyCost); n != 1 {
		t.Errorf("after the tenant was deleted: %d series, want 1", n)
	}

	cellMonthlyCost.Reset()
	TenantsByPhase.Reset()
	cellMonthlyCost.WithLabelValues("gone").Set(1)
	cellMonthlyCost.WithLabelValues("stays").Set(1)
	TenantsByPhase.WithLabelValues("gone", "Ready").Set(3)
	WarmPoolDatabases.WithLabelValues("gone", "ready").Set(2)
	WarmPoolClaims.WithLabelValues("gone", "claimed").Inc()
	WarmPoolDatabases.WithLabelValues("stays", "ready").Set(1)
	ForgetCell("gone")
	if n := testutil.CollectAndCount(WarmPoolDatabases) + testutil.CollectAndCount(WarmPoolClaims); n != 1 {
		t.Errorf("warm pool series after the cell went: %d, want the other cell's 1", n)
	}
	if n := testutil.CollectAndCount(cellMonthlyCost); n != 1 {
		t.Errorf("cell cost series after the cell went: %d, want 1", n)
	}
	if n := testutil.CollectAndCount(TenantsByPhase); n != 0 {
		t.Errorf("tenants-by-phase series after the cell went: %d, want 0", n)
	}
}

// A tenant's copy and standby series follow its cell, and go with it; forgetting a tenant
// that has none touches nothing.
func TestRecoveryAndStandbySeriesFollowTheTenant(t *testing.T) {
	recoveryPointTime.Reset()
	recoveryInterval.Reset()
	standbyLag.Reset()
	standbyMaxLag.Reset()
	SetRecoveryPoint("copied", "cell-a", time.Unix(1000, 0), time.Hour)
	SetStandbyLag("copied", "cell-a", 3*time.Second, 5*time.Minute)
	SetStandbyLag("other", "cell-a", time.Second, 5*time.Minute)
	SetRecoveryPoint("copied", "cell-b", time.Unix(2000, 0), time.Hour) // its database's cell changed
	if n := testutil.CollectAndCount(recoveryPointTime); n != 1 {
		t.Errorf("recovery point series after a move: %d, want 1", n)
	}
	if v := testutil.ToFloat64(recoveryPointTime.WithLabelValues("copied", "cell-b")); v != 2000 {
		t.Errorf("the recovery point under the new cell: %v", v)
	}
	if v := testutil.ToFloat64(standbyMaxLag.WithLabelValues("copied", "cell-a")); v != 300 {
		t.Errorf("the standby's threshold: %v", v)
	}
	ForgetStandbyLag("nobody")
	ForgetTenant("copied")
	if n := testutil.CollectAndCount(recoveryPointTime) + testutil.CollectAndCount(standbyLag); n != 1 {
		t.Errorf("series after the tenant went: %d, want the other tenant's standby lag only", n)
	}
}
