package controllers

import (
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
