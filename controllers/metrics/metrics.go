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
func SetTenantCost(tenant, cell string, usd float64) { costSeries.set(tenant, cell, usd) }

// tenantSeries are gauges with one series per tenant, labelled tenant and cell. They remember
// the cell each tenant's series are under: a tenant that moves is reported under its new cell
// only, and forgetting a tenant without series costs nothing (a partial-match delete scans every
// tenant's series, so it runs only for a tenant that has some).
type tenantSeries struct {
	sync.Mutex
	gauges []*prometheus.GaugeVec
	cellOf map[string]string
}

func newTenantSeries(gauges ...*prometheus.GaugeVec) *tenantSeries {
	return &tenantSeries{gauges: gauges, cellOf: map[string]string{}}
}

// set sets the tenant's gauges, in their order, under cell.
func (s *tenantSeries) set(tenant, cell string, values ...float64) {
	s.Lock()
	defer s.Unlock()
	if was, ok := s.cellOf[tenant]; ok && was != cell {
		s.forgetLocked(tenant)
	}
	s.cellOf[tenant] = cell
	for i, v := range values[:min(len(values), len(s.gauges))] {
		s.gauges[i].WithLabelValues(tenant, cell).Set(v)
	}
}

func (s *tenantSeries) forget(tenant string) {
	s.Lock()
	defer s.Unlock()
	if _, ok := s.cellOf[tenant]; ok {
		s.forgetLocked(tenant)
	}
}

func (s *tenantSeries) forgetLocked(tenant string) {
	delete(s.cellOf, tenant)
	for _, g := range s.gauges {
		g.DeletePartialMatch(prometheus.Labels{"tenant": tenant})
	}
}

var (
	costSeries     = newTenantSeries(tenantMonthlyCost)
	recoverySeries = newTenantSeries(recoveryPointTime, recoveryInterval)
	standbySeries  = newTenantSeries(standbyLag, standbyMaxLag)
)

// ForgetTenant removes the series of a tenant that is gone.
func ForgetTenant(tenant string) {
	costSeries.forget(tenant)
	recoverySeries.forget(tenant)
	standbySeries.forget(tenant)
}

// SetRecoveryPoint reports a tenant's newest copy and how often it should come.
func SetRecoveryPoint(tenant, cell string, at time.Time, interval time.Duration) {
	recoverySeries.set(tenant, cell, float64(at.Unix()), interval.Seconds())
}

// ForgetRecoveryPoint removes a tenant's copy series (it makes no copies, or is gone); every
// reconcile of a tenant without copies calls it, at no cost.
func ForgetRecoveryPoint(tenant string) { recoverySeries.forget(tenant) }

// SetStandbyLag reports a tenant's standby lag and its alarm threshold.
func SetStandbyLag(tenant, cell string, lag, maxLag time.Duration) {
	standbySeries.set(tenant, cell, lag.Seconds(), maxLag.Seconds())
}

// ForgetStandbyLag removes a tenant's standby series (it has none, or is gone).
func ForgetStandbyLag(tenant string) { standbySeries.forget(tenant) }

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
