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
	// ConditionRolloutComplete reports a RegionCell's move to a new app version.
	ConditionRolloutComplete = "RolloutComplete"
	// ConditionDatabaseDefaultsRolledOut reports a RegionCell's rollout of its database
	// defaults (spec.database.revision) to existing tenant databases.
	ConditionDatabaseDefaultsRolledOut = "DatabaseDefaultsRolledOut"
)

// Phases summarise the conditions in one word for `kubectl get`.
const (
	PhasePending      = "Pending"
	PhaseProvisioning = "Provisioning"
	PhaseReady        = "Ready"
	PhaseSuspended    = "Suspended"
	PhaseFailed       = "Failed"
	PhaseDeleting     = "Deleting"
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
