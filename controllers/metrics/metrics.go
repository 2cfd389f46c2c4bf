// Package metrics holds the operator's own metrics, served on the manager's metrics endpoint next
// to controller-runtime's (controller_runtime_reconcile_errors_total and friends).
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	// TenantsByPhase counts the tenants each cell serves, by phase.
	TenantsByPhase = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_tenants",
		Help: "Tenants served by each cell, by phase.",
	}, []string{"cell", "phase"})
	// OnboardingSeconds is the time from a Tenant's creation to its first Ready.
	OnboardingSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "tenantops_onboarding_duration_seconds",
		Help: "Time from a Tenant's creation to its first Ready.",
		// From 1 s (a claim from a warm pool) to 4.5 hours (RDS making a database is 10-20 min).
		Buckets: prometheus.ExponentialBuckets(1, 2, 15),
	})
	// WarmPoolDatabases counts each cell's unclaimed warm-pool databases, ready or being made.
	WarmPoolDatabases = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_warm_pool_databases",
		Help: "Unclaimed warm-pool databases of each cell, by state (ready, creating).",
	}, []string{"cell", "state"})
	// WarmPoolClaims counts new tenants of cells with a warm pool: those that claimed a database
	// from it, and those that made their own (another shape, a restore, the pool empty).
	WarmPoolClaims = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantops_warm_pool_claims_total",
		Help: "New tenants of cells with a warm pool, by outcome: claimed (a pool database) or missed (made their own).",
	}, []string{"cell", "outcome"})
	// RecoveryCopyFailures counts the failed steps of tenants' copies to their partner regions.
	RecoveryCopyFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tenantops_recovery_copy_failures_total",
		Help: "Failed steps (snapshot, copy, prune) of tenants' copies to their partner regions, by the cell that made their databases.",
	}, []string{"cell"})
	recoveryPointTime = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_recovery_point_timestamp_seconds",
		Help: "When RDS took the snapshot of a tenant's newest copy in its partner region (Unix time): time() minus it is the data a failover would lose.",
	}, []string{"tenant", "cell"})
	recoveryInterval = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_recovery_copy_interval_seconds",
		Help: "How often a tenant's copies should reach its partner region; the TenantCopiesLate alert fires past twice it.",
	}, []string{"tenant", "cell"})
	standbyLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_standby_lag_seconds",
		Help: "How far a dedicated tenant's warm standby (a read replica in its partner region) trails its database, as RDS last reported it (ReplicaLag).",
	}, []string{"tenant", "cell"})
	standbyMaxLag = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_standby_max_lag_seconds",
		Help: "The standby lag past which the TenantStandbyLagging alert fires (the cell's spec.disasterRecovery.standbyMaxLag).",
	}, []string{"tenant", "cell"})
	tenantMonthlyCost = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_tenant_monthly_cost_usd",
		Help: "Estimated monthly cost of a tenant in US dollars: its own parts and its share of its cell (docs/cost.md).",
	}, []string{"tenant", "cell"})
	cellMonthlyCost = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "tenantops_cell_monthly_cost_usd",
		Help: "Estimated monthly cost of a cell in US dollars: its own parts, its share of the region's, and its tenants' own parts.",
	}, []string{"cell"})
)

func init() {
	crmetrics.Registry.MustRegister(TenantsByPhase, OnboardingSeconds, tenantMonthlyCost, cellMonthlyCost, WarmPoolDatabases, WarmPoolClaims,
		RecoveryCopyFailures, recoveryPointTime, recoveryInterval, standbyLag, standbyMaxLag)
}

// SetTenantCost sets the tenant's cost under the cell serving it, and under no other: a moved
// tenant is counted once.
func SetTenantCost(tenant, cell string, usd float64) {
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

// ForgetTenant removes the series of a tenant that is gone.
func ForgetTenant(tenant string) {
	costMetrics.Lock()
	defer costMetrics.Unlock()
	delete(costMetrics.cellOf, tenant)
	tenantMonthlyCost.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	ForgetRecoveryPoint(tenant)
	ForgetStandbyLag(tenant)
}

// SetRecoveryPoint reports a tenant's newest copy and how often it should come.
func SetRecoveryPoint(tenant, cell string, at time.Time, interval time.Duration) {
	recoveryMetrics.Lock()
	defer recoveryMetrics.Unlock()
	if was, ok := recoveryMetrics.cellOf[tenant]; ok && was != cell {
		forgetRecoveryPointLocked(tenant)
	}
	recoveryMetrics.cellOf[tenant] = cell
	recoveryPointTime.WithLabelValues(tenant, cell).Set(float64(at.Unix()))
	recoveryInterval.WithLabelValues(tenant, cell).Set(interval.Seconds())
}

// ForgetRecoveryPoint removes a tenant's copy series (it makes no copies, or is gone). Every
// reconcile of a tenant without copies calls it, so it costs nothing unless there are series:
// a partial-match delete scans every tenant's.
func ForgetRecoveryPoint(tenant string) {
	recoveryMetrics.Lock()
	defer recoveryMetrics.Unlock()
	if _, ok := recoveryMetrics.cellOf[tenant]; ok {
		forgetRecoveryPointLocked(tenant)
	}
}

func forgetRecoveryPointLocked(tenant string) {
	delete(recoveryMetrics.cellOf, tenant)
	recoveryPointTime.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	recoveryInterval.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
}

// recoveryMetrics remembers the cell each tenant's recovery point is reported under.
var recoveryMetrics = struct {
	sync.Mutex
	cellOf map[string]string
}{cellOf: map[string]string{}}

// SetStandbyLag reports a tenant's standby lag and its alarm threshold.
func SetStandbyLag(tenant, cell string, lag, maxLag time.Duration) {
	standbyMetrics.Lock()
	defer standbyMetrics.Unlock()
	if was, ok := standbyMetrics.cellOf[tenant]; ok && was != cell {
		forgetStandbyLagLocked(tenant)
	}
	standbyMetrics.cellOf[tenant] = cell
	standbyLag.WithLabelValues(tenant, cell).Set(lag.Seconds())
	standbyMaxLag.WithLabelValues(tenant, cell).Set(maxLag.Seconds())
}

// ForgetStandbyLag removes a tenant's standby series (it has none, or is gone); it costs nothing
// for a tenant without them.
func ForgetStandbyLag(tenant string) {
	standbyMetrics.Lock()
	defer standbyMetrics.Unlock()
	if _, ok := standbyMetrics.cellOf[tenant]; ok {
		forgetStandbyLagLocked(tenant)
	}
}

func forgetStandbyLagLocked(tenant string) {
	delete(standbyMetrics.cellOf, tenant)
	standbyLag.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	standbyMaxLag.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
}

// standbyMetrics remembers the cell each tenant's standby lag is reported under.
var standbyMetrics = struct {
	sync.Mutex
	cellOf map[string]string
}{cellOf: map[string]string{}}

// ForgetCell removes the series of a cell that is gone.
func ForgetCell(cell string) {
	cellMonthlyCost.DeletePartialMatch(prometheus.Labels{"cell": cell})
	TenantsByPhase.DeletePartialMatch(prometheus.Labels{"cell": cell})
	WarmPoolDatabases.DeletePartialMatch(prometheus.Labels{"cell": cell})
	WarmPoolClaims.DeletePartialMatch(prometheus.Labels{"cell": cell})
	RecoveryCopyFailures.DeletePartialMatch(prometheus.Labels{"cell": cell})
}

// SetCellCost sets the cell's monthly cost.
func SetCellCost(cell string, usd float64) { cellMonthlyCost.WithLabelValues(cell).Set(usd) }
