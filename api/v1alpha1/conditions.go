package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus
// (sigs.k8s.io/cli-utils/pkg/kstatus), so `kubectl wait --for=condition=Ready`, Argo CD and
// Flux read them without custom health checks. The others each report one part.
const (
	// ConditionReady is True when every part is ready and the object serves traffic.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator is still moving the object towards its spec.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs a person: bad input, a terminal AWS error.
	ConditionStalled = "Stalled"

	// ConditionDatabaseReady reports the tenant's RDS DBInstance and its master password Secret.
	ConditionDatabaseReady = "DatabaseReady"
	// ConditionCacheReady reports the ElastiCache replication group the tenant (or cell) uses.
	ConditionCacheReady = "CacheReady"
	// ConditionMigrationsComplete reports the schema migration Job for the effective app version.
	ConditionMigrationsComplete = "MigrationsComplete"
	// ConditionAppReady reports the Deployment that serves the tenant (the cell's, or its own).
	ConditionAppReady = "AppReady"
	// ConditionDNSReady reports the tenant's Route53 RecordSet.
	ConditionDNSReady = "DNSReady"
	// ConditionPlaced reports which cell of its region serves a tenant, and a move between
	// cells while it lasts. It does not make a served tenant un-Ready.
	ConditionPlaced = "Placed"
	// ConditionAlarmsReady reports the CloudWatch alarms (and, on a cell, the SNS topic) of
	// spec.alerts. Monitoring, not serving: it does not make a served object un-Ready.
	ConditionAlarmsReady = "AlarmsReady"
	// ConditionAssetsReady reports a cell's S3 bucket, CloudFront distribution and the
	// publication of the app's files (spec.assets).
	ConditionAssetsReady = "AssetsReady"
	// ConditionRolloutComplete reports a RegionCell's move to a new app version.
	ConditionRolloutComplete = "RolloutComplete"
	// ConditionDatabaseDefaultsRolledOut reports a RegionCell's rollout of its database
	// defaults (spec.database.revision) to existing tenant databases.
	ConditionDatabaseDefaultsRolledOut = "DatabaseDefaultsRolledOut"
	// ConditionWarmPoolReady reports a RegionCell's warm pool of unclaimed databases
	// (spec.database.warmPool); a side condition, since a pool refilling never stops serving.
	ConditionWarmPoolReady = "WarmPoolReady"
	// ConditionDisasterRecoveryReady reports a tenant's copies to its partner region (and a
	// cell's partner region checked against the jurisdictions); a side condition: copies never
	// decide whether a tenant is served, but a copy late past twice its interval stalls it.
	ConditionDisasterRecoveryReady = "DisasterRecoveryReady"
	// ConditionStandbyReady reports a dedicated tenant's warm standby (a read replica in the
	// partner region); a side condition: a lagging standby is news, not a reason not to serve.
	ConditionStandbyReady = "StandbyReady"
)

// Phases summarise the conditions in one word for `kubectl get`.
const (
	PhasePending      = "Pending"
	PhaseProvisioning = "Provisioning"
	PhaseReady        = "Ready"
	PhaseSuspended    = "Suspended"
	PhaseFailed       = "Failed"
	PhaseDeleting     = "Deleting"
	// PhaseFailedOver is a tenant another region took over (disaster recovery): this region
	// serves nothing of it and deletes nothing of it.
	PhaseFailedOver = "FailedOver"
)

// Labels and annotations the operator puts on what it makes.
const (
	LabelManagedBy      = "app.kubernetes.io/managed-by"
	LabelManagedByValue = "tenant-operator"
	LabelTenant         = "saas.tenantops.io/tenant"
	LabelCell           = "saas.tenantops.io/cell"
	LabelComponent      = "app.kubernetes.io/component"
	// LabelTenantConfig marks the Secrets the app watches to learn its tenants.
	LabelTenantConfig = "saas.tenantops.io/tenant-config"
)

// CostEstimate is what something costs a month, estimated from the list prices of the operator's
// price table (docs/cost.md). Usage (traffic, requests, I/O, backups beyond the free allowance)
// is not estimated.
type CostEstimate struct {
	// MonthlyUSD is the estimate in US dollars a month, such as "110.39".
	MonthlyUSD string `json:"monthlyUSD"`
	// Items are what it is made of.
	// +optional
	// +listType=atomic
	Items []CostItem `json:"items,omitempty"`
	// Missing names what the price table has no price for; it is left out of the estimate.
	// +optional
	// +listType=atomic
	Missing []string `json:"missing,omitempty"`
	// PriceTable is the date of the price table used.
	// +optional
	PriceTable string `json:"priceTable,omitempty"`
}

// CostItem is one part of a cost estimate.
type CostItem struct {
	// Name says what it is, such as "database db.t4g.medium Multi-AZ".
	Name string `json:"name"`
	// MonthlyUSD is its part, in US dollars a month.
	MonthlyUSD string `json:"monthlyUSD"`
}
