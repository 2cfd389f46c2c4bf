package controllers

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Operator metrics, served on the manager's metrics endpoint next to controller-runtime's own
// (controller_runtime_reconcile_errors_total and friends).
var (
	tenantsByPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_tenants",
		Help: "Tenants served by each cell, by phase.",
	}, []string{"cell", "phase"})
	onboardingSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "tenantops_onboarding_duration_seconds",
		Help:    "Time from a Tenant's creation to its first Ready.",
		Buckets: prometheus.ExponentialBuckets(30, 2, 10),
	})
)

func init() {
	metrics.Registry.MustRegister(tenantsByPhase, onboardingSeconds, tenantMonthlyCost, cellMonthlyCost)
}

// setTenantCost sets the tenant's cost under the cell serving it, and under no other: a moved
// tenant is counted once.
func setTenantCost(tenant, cell string, usd float64) {
	costMetrics.Lock()
	defer costMetrics.Unlock()
	if was, ok := costMetrics.cellOf[tenant]; ok && was != cell {
		tenantMonthlyCost.DeleteLabelValues(tenant, was)
	}
	costMetrics.cellOf[tenant] = cell
	tenantMonthlyCost.WithLabelValues(tenant, cell).Set(usd)
}

// costMetrics remembers the cell each tenant's cost is reported under.
var costMetrics = struct {
	sync.Mutex
	cellOf map[string]string
}{cellOf: map[string]string{}}

// forgetTenantMetrics removes the series of a tenant that is gone.
func forgetTenantMetrics(tenant string) {
	costMetrics.Lock()
	defer costMetrics.Unlock()
	delete(costMetrics.cellOf, tenant)
	tenantMonthlyCost.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
}

// forgetCellMetrics removes the series of a cell that is gone.
func forgetCellMetrics(cell string) {
	cellMonthlyCost.DeletePartialMatch(prometheus.Labels{"cell": cell})
	tenantsByPhase.DeletePartialMatch(prometheus.Labels{"cell": cell})
}
