package metrics

import (
	"testing"

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
