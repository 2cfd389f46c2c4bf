package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Tiers.
const (
	// TierPooled tenants share the cell's app and cache; each still has its own database.
	TierPooled = "pooled"
	// TierDedicated tenants get their own app Deployment, autoscaler and cache as well.
	TierDedicated = "dedicated"
)

// Upgrade strategies.
const (
	UpgradeAuto   = "Auto"
	UpgradeManual = "Manual"
)

// Deletion policies of a tenant's database.
const (
	// DeletionSnapshot deletes the database after RDS takes a final, named snapshot.
	DeletionSnapshot = "Snapshot"
	// DeletionRetain leaves the database running in AWS, no longer managed.
	DeletionRetain = "Retain"
	// DeletionDelete deletes the database and its automated backups. Data is gone.
	DeletionDelete = "Delete"
)

// ReservedSubdomains are the DNS labels the platform keeps for itself; spec.subdomain's
// admission rule lists the same (a test holds the two together), and the signup console refuses
// them before anything is written.
var ReservedSubdomains = []string{"www", "api", "admin", "app", "mail", "status", "static"}

// TenantSpec describes one customer of the SaaS.
//
// +kubebuilder:validation:XValidation:rule="self.tier == 'dedicated' || !has(self.cache)",message="spec.cache is only for tier dedicated: pooled tenants use the cell's shared cache"
// +kubebuilder:validation:XValidation:rule="self.tier == 'dedicated' || !has(self.scaling)",message="spec.scaling is only for tier dedicated: pooled tenants scale with the cell's shared app"
// +kubebuilder:validation:XValidation:rule="has(oldSelf.restoreFrom) == has(self.restoreFrom) && (!has(self.restoreFrom) || self.restoreFrom == oldSelf.restoreFrom)",message="spec.restoreFrom can only be set when the Tenant is created"
// +kubebuilder:validation:XValidation:rule="!has(self.disasterRecovery) || !has(self.disasterRecovery.standby) || !self.disasterRecovery.standby || (self.tier == 'dedicated' && (!has(self.disasterRecovery.copies) || self.disasterRecovery.copies != 'Disabled'))",message="spec.disasterRecovery.standby is for tier dedicated tenants whose copies are not Disabled: the standby lives where the copies go, and the fencing record that keeps the home region from serving after a failover is kept with them"
// +kubebuilder:validation:XValidation:rule="!has(self.restoreFrom) || !has(self.restoreFrom.failoverFrom) || self.restoreFrom.failoverFrom != self.region",message="spec.restoreFrom.failoverFrom must be the region the tenant is taken over from, not spec.region (the region that takes it over)"
type TenantSpec struct {
	// DisplayName is the customer's name as people read it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	DisplayName string `json:"displayName"`

	// Region is the AWS region the tenant's data lives in, such as eu-west-1. Only the
	// RegionCell of that region serves it; operators in other regions leave it alone. Immutable.
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.region is immutable: the tenant's data stays in its region (restore from a snapshot to move it)"
	// +kubebuilder:validation:XValidation:rule="self.matches('^(us|eu|ap|sa|ca|me|af|il|mx)(-gov|-iso|-isob)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[1-9]$')",message="spec.region must be an AWS region name such as eu-west-1"
	Region string `json:"region"`

	// Subdomain is the tenant's DNS label: the tenant is served at <subdomain>.<cell baseDomain>.
	// Unique within a region: two tenants of a region never share one. Immutable.
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.subdomain is immutable: customers and their users depend on it"
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="spec.subdomain must be a DNS label: lower-case letters, digits and '-', not starting or ending with '-'"
	// +kubebuilder:validation:XValidation:rule="!(self in ['www', 'api', 'admin', 'app', 'mail', 'status', 'static'])",message="spec.subdomain is reserved for the platform (www, api, admin, app, mail, status, static)"
	Subdomain string `json:"subdomain"`

	// Tier is pooled (shared app and cache) or dedicated (its own app, autoscaler and cache).
	// +kubebuilder:default=pooled
	// +kubebuilder:validation:Enum=pooled;dedicated
	Tier string `json:"tier,omitempty"`

	// Suspended stops serving the tenant and pauses its scheduled work. Nothing is deleted.
	// +optional
	Suspended bool `json:"suspended,omitempty"`

	// App chooses the app version the tenant runs.
	// +optional
	App *TenantApp `json:"app,omitempty"`

	// Database overrides the cell's database defaults and sets what deletion does.
	// +kubebuilder:default={}
	Database TenantDatabase `json:"database,omitempty"`

	// Cache overrides the cell's cache shape. Dedicated tier only.
	// +optional
	Cache *TenantCache `json:"cache,omitempty"`

	// Scaling overrides the cell's app scaling. Dedicated tier only.
	// +optional
	Scaling *TenantScaling `json:"scaling,omitempty"`

	// Recommendations is the daily Bayesian-rating job of the tenant.
	// +kubebuilder:default={}
	Recommendations Recommendations `json:"recommendations,omitempty"`

	// LogoURL is an https URL of the customer's logo, shown on its pages instead of the default.
	// +optional
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="isURL(self) && self.startsWith('https://') && !self.contains(' ')",message="spec.logoURL must be an https:// URL such as https://cdn.acme.com/logo.svg"
	LogoURL string `json:"logoURL,omitempty"`

	// AdminEmail is the customer's administrator, who gets the welcome mail.
	// +kubebuilder:validation:MaxLength=254
	// +kubebuilder:validation:XValidation:rule="self.matches('^[^@\\\\s]+@([A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?\\\\.)+[A-Za-z]{2,63}$')",message="spec.adminEmail must be an e-mail address such as admin@acme.com"
	AdminEmail string `json:"adminEmail"`

	// Cell pins the tenant to one RegionCell of its region. On a new tenant it says where the
	// tenant is placed (the tenant waits, Pending, while that cell is missing or full); without
	// it the least full cell of the region with room is chosen. Set to another cell on a placed
	// tenant, it moves the tenant there: its configuration, DNS record and cache key space move,
	// its database stays as it is (docs/operations.md, "Moving a tenant between cells").
	// Removing it keeps the tenant where it is.
	// +optional
	// +kubebuilder:validation:MaxLength=58
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="spec.cell must be the name of a RegionCell of the tenant's region, such as eu-west-1-b"
	Cell string `json:"cell,omitempty"`

	// BaseDomain is the domain the tenant is served under: <subdomain>.<baseDomain>. Only cells
	// of this base domain take it. Without it the tenant goes to a cell of the region's one base
	// domain, and waits (BaseDomainAmbiguous) where the region's cells serve several: its
	// permanent URL never depends on which cell had room. Immutable once set.
	// +optional
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.baseDomain is immutable: the tenant's URL depends on it"
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?\\\\.)+[a-z]{2,63}$')",message="spec.baseDomain must be a lower-case DNS name such as website.com"
	BaseDomain string `json:"baseDomain,omitempty"`

	// RestoreFrom creates the tenant's database from an RDS snapshot (disaster recovery, or
	// moving a tenant to another region after copying the snapshot there). Only at creation.
	// +optional
	RestoreFrom *RestoreSource `json:"restoreFrom,omitempty"`

	// DisasterRecovery opts the tenant out of its cell's copies to the partner region, or asks
	// for copies more often than the cell makes them.
	// +optional
	DisasterRecovery *TenantDisasterRecovery `json:"disasterRecovery,omitempty"`
}

// Copies settings of a tenant.
const (
	// CopiesInherit follows the cell: copies when the cell sets spec.disasterRecovery.
	CopiesInherit = "Inherit"
	// CopiesDisabled makes no copies of the tenant's database out of its region.
	CopiesDisabled = "Disabled"
)

// TenantDisasterRecovery is the tenant's say on its copies out of the region.
type TenantDisasterRecovery struct {
	// Copies is Inherit (the cell's copies, when it makes them) or Disabled (none: the tenant's
	// data never leaves its region, and it cannot be failed over).
	// +kubebuilder:default=Inherit
	// +kubebuilder:validation:Enum=Inherit;Disabled
	Copies string `json:"copies,omitempty"`

	// CopyInterval asks for copies more often than the cell's spec.disasterRecovery.copyInterval;
	// a longer one than the cell's is not taken (the cell's promise is the floor).
	// +optional
	// +kubebuilder:validation:MaxLength=16
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+(\\\\.[0-9]+)?(ms|s|m|h))+$') && duration(self) >= duration('10s') && duration(self) <= duration('24h')",message="spec.disasterRecovery.copyInterval must be a duration between 10s and 24h, such as 15m"
	CopyInterval string `json:"copyInterval,omitempty"`

	// Standby keeps a warm standby of a dedicated tenant's database: a cross-region read replica
	// in the cell's partner region (spec.disasterRecovery of the RegionCell), its lag in
	// status.standby. A failover promotes it, losing seconds of writes rather than a copy
	// interval's, and is served once the promotion ends instead of after a restore. It costs a
	// second instance; turning it off deletes the replica (the primary keeps the data).
	// +optional
	Standby bool `json:"standby,omitempty"`
}

// TenantApp pins the tenant's app version.
//
// +kubebuilder:validation:XValidation:rule="self.upgradeStrategy != 'Manual' || has(self.version)",message="spec.app.version is required when spec.app.upgradeStrategy is Manual"
type TenantApp struct {
	// Version the tenant stays on while upgradeStrategy is Manual: its migrations stop at this
	// version, and a dedicated tenant's own app runs it. With Auto (the default) the tenant
	// follows the cell's spec.app.version and this field is ignored. Pooled tenants are always
	// served by the cell's shared app, which keeps older schemas working (expand, then contract).
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^v?[0-9]+\\\\.[0-9]+\\\\.[0-9]+(-[0-9A-Za-z.-]+)?$')",message="spec.app.version must be a semantic version such as 1.4.2"
	Version string `json:"version,omitempty"`

	// UpgradeStrategy Auto follows the cell's app version; Manual keeps spec.app.version.
	// +kubebuilder:default=Auto
	// +kubebuilder:validation:Enum=Auto;Manual
	UpgradeStrategy string `json:"upgradeStrategy,omitempty"`
}

// TenantDatabase overrides the cell's database defaults for one tenant.
type TenantDatabase struct {
	// InstanceClass, such as db.r6g.large.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^db\\\\.[a-z0-9-]+\\\\.[a-z0-9]+$')",message="spec.database.instanceClass must be an RDS instance class such as db.r6g.large"
	InstanceClass string `json:"instanceClass,omitempty"`

	// StorageGiB of allocated storage. RDS storage only grows: a value under what the database
	// has is refused here, or reported in DatabaseReady and never sent.
	// +optional
	// +kubebuilder:validation:Minimum=20
	// +kubebuilder:validation:Maximum=65536
	// +kubebuilder:validation:XValidation:rule="self >= oldSelf",message="spec.database.storageGiB cannot shrink: RDS storage only grows"
	StorageGiB int32 `json:"storageGiB,omitempty"`

	// MultiAZ keeps a synchronous standby in another zone. Defaults to the cell's setting.
	// +optional
	MultiAZ *bool `json:"multiAZ,omitempty"`

	// BackupRetentionDays of automated backups.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=35
	BackupRetentionDays int32 `json:"backupRetentionDays,omitempty"`

	// DeletionPolicy is what happens to the database when the Tenant is deleted: Snapshot
	// (a final snapshot named <tenant>-final-<date>, then delete), Retain (left running in
	// AWS, no longer managed) or Delete (gone, with its automated backups).
	// +kubebuilder:default=Snapshot
	// +kubebuilder:validation:Enum=Snapshot;Retain;Delete
	DeletionPolicy string `json:"deletionPolicy,omitempty"`
}

// TenantCache shapes a dedicated tenant's own cache.
type TenantCache struct {
	// NodeType, such as cache.r7g.large.
	// +optional
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^cache\\\\.[a-z0-9-]+\\\\.[a-z0-9]+$')",message="spec.cache.nodeType must be an ElastiCache node type such as cache.r7g.large"
	NodeType string `json:"nodeType,omitempty"`

	// Replicas per shard.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=5
	Replicas int32 `json:"replicas,omitempty"`
}

// TenantScaling overrides the cell's scaling for a dedicated tenant's own app.
//
// +kubebuilder:validation:XValidation:rule="!has(self.minReplicas) || !has(self.maxReplicas) || self.minReplicas <= self.maxReplicas",message="spec.scaling.minReplicas must not exceed spec.scaling.maxReplicas"
// +kubebuilder:validation:XValidation:rule="!has(self.scaleInAtPercent) || !has(self.scaleOutAtPercent) || self.scaleInAtPercent < self.scaleOutAtPercent",message="spec.scaling.scaleInAtPercent must be lower than scaleOutAtPercent"
type TenantScaling struct {
	// MinReplicas of the tenant's app.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MinReplicas *int32 `json:"minReplicas,omitempty"`

	// MaxReplicas of the tenant's app.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	MaxReplicas *int32 `json:"maxReplicas,omitempty"`

	// ScaleOutAtPercent of average CPU.
	// +optional
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	ScaleOutAtPercent *int32 `json:"scaleOutAtPercent,omitempty"`

	// ScaleInAtPercent of average CPU.
	// +optional
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=99
	ScaleInAtPercent *int32 `json:"scaleInAtPercent,omitempty"`
}

// Recommendations schedules the tenant's daily recommendation run.
type Recommendations struct {
	// Schedule in cron format (minute hour day-of-month month day-of-week), read in TimeZone.
	// Spread tenants over the night so runs do not all start at once.
	// +kubebuilder:default="0 3 * * *"
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:XValidation:rule="self.matches('^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9*/,?-]+|[0-9*/,?A-Za-z-]+)( +[0-9*/,?A-Za-z-]+){4})$')",message="spec.recommendations.schedule must be a cron schedule of five fields such as '30 2 * * *', or @daily; set the zone in spec.recommendations.timeZone, not in the schedule"
	// +kubebuilder:validation:XValidation:rule="self.startsWith('@') || self.split(' ').filter(f, f != '').size() != 5 || self.split(' ').filter(f, f != '')[0].matches('^(([*])|([0-5]?[0-9])(-([0-5]?[0-9]))?)(/[1-9][0-9]?)?(,(([*])|([0-5]?[0-9])(-([0-5]?[0-9]))?)(/[1-9][0-9]?)?)*$')",message="spec.recommendations.schedule: the minute field (field 1) must be 0-59, as *, a value, a range a-b or a list, each with an optional /step"
	// +kubebuilder:validation:XValidation:rule="self.startsWith('@') || self.split(' ').filter(f, f != '').size() != 5 || self.split(' ').filter(f, f != '')[1].matches('^(([*])|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/[1-9][0-9]?)?(,(([*])|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/[1-9][0-9]?)?)*$')",message="spec.recommendations.schedule: the hour field (field 2) must be 0-23, as *, a value, a range a-b or a list, each with an optional /step"
	// +kubebuilder:validation:XValidation:rule="self.startsWith('@') || self.split(' ').filter(f, f != '').size() != 5 || self.split(' ').filter(f, f != '')[2].matches('^(([*]|[?])|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/[1-9][0-9]?)?(,(([*]|[?])|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/[1-9][0-9]?)?)*$')",message="spec.recommendations.schedule: the day-of-month field (field 3) must be 1-31, as *, a value, a range a-b or a list, each with an optional /step"
	// +kubebuilder:validation:XValidation:rule="self.startsWith('@') || self.split(' ').filter(f, f != '').size() != 5 || self.split(' ').filter(f, f != '')[3].matches('^(([*])|((0?[1-9]|1[0-2])|(?i:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))(-((0?[1-9]|1[0-2])|(?i:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)))?)(/[1-9][0-9]?)?(,(([*])|((0?[1-9]|1[0-2])|(?i:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))(-((0?[1-9]|1[0-2])|(?i:JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)))?)(/[1-9][0-9]?)?)*$')",message="spec.recommendations.schedule: the month field (field 4) must be 1-12 or JAN-DEC, as *, a value, a range a-b or a list, each with an optional /step"
	// +kubebuilder:validation:XValidation:rule="self.startsWith('@') || self.split(' ').filter(f, f != '').size() != 5 || self.split(' ').filter(f, f != '')[4].matches('^(([*]|[?])|([0-7]|(?i:SUN|MON|TUE|WED|THU|FRI|SAT))(-([0-7]|(?i:SUN|MON|TUE|WED|THU|FRI|SAT)))?)(/[1-9][0-9]?)?(,(([*]|[?])|([0-7]|(?i:SUN|MON|TUE|WED|THU|FRI|SAT))(-([0-7]|(?i:SUN|MON|TUE|WED|THU|FRI|SAT)))?)(/[1-9][0-9]?)?)*$')",message="spec.recommendations.schedule: the day-of-week field (field 5) must be 0-7 or SUN-SAT, as *, a value, a range a-b or a list, each with an optional /step"
	Schedule string `json:"schedule,omitempty"`

	// TimeZone is the IANA time zone the schedule is read in, such as Europe/Dublin.
	// +kubebuilder:default=UTC
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:XValidation:rule="self.matches('^(UTC|[A-Z][A-Za-z_]+(/[A-Z][A-Za-z0-9_+-]*){1,2}|Etc/(UTC|GMT([+-][0-9]{1,2})?))$')",message="spec.recommendations.timeZone must be an IANA time zone such as Europe/Dublin or UTC"
	TimeZone string `json:"timeZone,omitempty"`

	// Suspend pauses the job without suspending the tenant.
	// +optional
	Suspend bool `json:"suspend,omitempty"`
}

// RestoreSource is where a tenant's database starts from: a named snapshot, or, to take the
// tenant over from its home region (disaster recovery), the newest copy of its database that
// region made here.
//
// +kubebuilder:validation:XValidation:rule="has(self.snapshotIdentifier) != has(self.failoverFrom)",message="spec.restoreFrom: set exactly one of snapshotIdentifier and failoverFrom"
// +kubebuilder:validation:XValidation:rule="!has(self.force) || !self.force || has(self.failoverFrom)",message="spec.restoreFrom.force is only for a failover (spec.restoreFrom.failoverFrom)"
type RestoreSource struct {
	// SnapshotIdentifier of an RDS DB snapshot (or its ARN, for a shared or copied snapshot).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self.matches('^([a-zA-Z][a-zA-Z0-9-]{0,254}|arn:aws(-[a-z]+)*:rds:[a-z0-9-]+:[0-9]{12}:snapshot:[a-zA-Z][a-zA-Z0-9-]{0,254})$')",message="spec.restoreFrom.snapshotIdentifier must be an RDS snapshot identifier or snapshot ARN"
	SnapshotIdentifier string `json:"snapshotIdentifier,omitempty"`

	// FailoverFrom takes the tenant over from its home region, named here: the operator finds
	// the newest copy of the tenant's database that region made in this one (by its tags),
	// restores it, claims the tenant's DNS name for this region (a fencing record the home
	// region's operator reads, so it stands down when it comes back) and serves the tenant here.
	// docs/operations.md, "Disaster recovery", has the runbook.
	// +optional
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^(us|eu|ap|sa|ca|me|af|il|mx)(-gov|-iso|-isob)?-(north|south|east|west|central|northeast|southeast|northwest|southwest)-[1-9]$')",message="spec.restoreFrom.failoverFrom must be an AWS region name such as eu-west-1"
	FailoverFrom string `json:"failoverFrom,omitempty"`

	// Force takes the tenant over even though its home region made a copy recently (within two
	// of its copy intervals), a sign that it still serves. What it risks: the home region's
	// writes since that copy are lost, and until its operator reads the fencing record (at
	// its next copy interval) the home region may keep serving the customers whose DNS answer
	// has not changed yet.
	// +optional
	Force bool `json:"force,omitempty"`
}

// DatabaseEndpoint is where the tenant's database listens. It never holds a password.
type DatabaseEndpoint struct {
	Address string `json:"address,omitempty"`
	Port    int64  `json:"port,omitempty"`
}

// EffectiveDatabase is the shape of a tenant's database as the operator asks RDS for it, and
// where it was made.
type EffectiveDatabase struct {
	// Cell is the cell the database was made in. A tenant that moves to another cell of the
	// region keeps its database where it is: its identifier, subnet group, security groups and
	// tags stay those of this cell.
	// +optional
	Cell string `json:"cell,omitempty"`
	// Identifier is the RDS DB instance identifier.
	// +optional
	Identifier string `json:"identifier,omitempty"`
	// SubnetGroupName is the RDS DB subnet group the database lives in.
	// +optional
	SubnetGroupName string `json:"subnetGroupName,omitempty"`
	// SecurityGroupIDs guard the database.
	// +optional
	// +listType=atomic
	SecurityGroupIDs []string `json:"securityGroupIDs,omitempty"`

	InstanceClass       string `json:"instanceClass"`
	StorageGiB          int32  `json:"storageGiB"`
	MultiAZ             bool   `json:"multiAZ"`
	EngineVersion       string `json:"engineVersion"`
	BackupRetentionDays int32  `json:"backupRetentionDays"`
	// DefaultsRevision is the cell's spec.database.revision whose defaults the database has.
	// +optional
	DefaultsRevision string `json:"defaultsRevision,omitempty"`
	// ClaimedFrom is the cell's warm-pool instance (its DBInstance in the cell's namespace) the
	// database was claimed from, when it was; its master password was changed to the tenant's on
	// claim.
	// +optional
	ClaimedFrom string `json:"claimedFrom,omitempty"`
	// ChangedAt is when the operator last asked RDS to modify the database; it is Ready again
	// once ACK reports it synced after that.
	// +optional
	ChangedAt *metav1.Time `json:"changedAt,omitempty"`
}

// MigrationStatus records the last schema migration.
type MigrationStatus struct {
	// Version migrated to.
	Version string `json:"version"`
	// Job that ran it.
	Job string `json:"job,omitempty"`
	// Succeeded is false when the migration failed; the previous version keeps serving.
	Succeeded bool `json:"succeeded"`
	// FinishedAt is when the Job finished.
	// +optional
	FinishedAt *metav1.Time `json:"finishedAt,omitempty"`
}

// TenantStatus is what the operator observed of the tenant.
type TenantStatus struct {
	// ObservedGeneration is the generation of the spec the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Phase summarises the conditions: Pending, Provisioning, Ready, Suspended, Failed, Deleting.
	// +optional
	Phase string `json:"phase,omitempty"`

	// Conditions: Ready, Reconciling, Stalled and one per part (DatabaseReady, CacheReady,
	// MigrationsComplete, AppReady, DNSReady), and Placed (which cell, and a move's progress).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +patchStrategy=merge
	// +patchMergeKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty" patchStrategy:"merge" patchMergeKey:"type"`

	// URL the tenant is served at.
	// +optional
	URL string `json:"url,omitempty"`

	// Cell is the RegionCell the tenant is placed in: chosen once, when the tenant is first
	// admitted (spec.cell, or the least full cell of the region with room), and changed only by
	// a move (a new spec.cell).
	// +optional
	Cell string `json:"cell,omitempty"`

	// Move is the tenant's move to status.cell from another cell of its region, while it lasts.
	// +optional
	Move *TenantMove `json:"move,omitempty"`

	// Namespace holds the tenant's objects.
	// +optional
	Namespace string `json:"namespace,omitempty"`

	// Database is where the tenant's database listens.
	// +optional
	Database *DatabaseEndpoint `json:"database,omitempty"`

	// EffectiveDatabase is the database the tenant has: the cell's defaults as they were when
	// the database was created, with the tenant's own settings on top. A later change of the
	// cell's defaults does not reach it; a change of the tenant's spec.database, or a rollout of
	// the cell's defaults (spec.database.revision), does.
	// +optional
	EffectiveDatabase *EffectiveDatabase `json:"effectiveDatabase,omitempty"`

	// Cost is what the tenant costs a month: its own parts and its share of its cell.
	// +optional
	Cost *CostEstimate `json:"cost,omitempty"`

	// AppVersion is the version serving the tenant now.
	// +optional
	AppVersion string `json:"appVersion,omitempty"`

	// LastMigration is the last schema migration run.
	// +optional
	LastMigration *MigrationStatus `json:"lastMigration,omitempty"`

	// ReadySince is when the tenant first became Ready (onboarding finished).
	// +optional
	ReadySince *metav1.Time `json:"readySince,omitempty"`

	// NotifiedPhase is the last phase whose lifecycle event was delivered to the cell's
	// webhooks (and SNS topic).
	// +optional
	NotifiedPhase string `json:"notifiedPhase,omitempty"`

	// RecoveryPoint is the newest copy of the tenant's database in its partner region: what a
	// failover restores, and how old the data it holds is.
	// +optional
	RecoveryPoint *RecoveryPoint `json:"recoveryPoint,omitempty"`

	// RestoredFrom is the copy a failover restored the tenant's database from, and the fencing
	// record's epoch that gave this region the tenant.
	// +optional
	RestoredFrom *RestoredFrom `json:"restoredFrom,omitempty"`

	// Standby is the tenant's warm standby in its partner region (spec.disasterRecovery.standby).
	// +optional
	Standby *StandbyStatus `json:"standby,omitempty"`

	// ServedFrom is the region serving the tenant when it is not this one: the tenant failed
	// over there, and this region stood down.
	// +optional
	ServedFrom string `json:"servedFrom,omitempty"`

	// PendingNotification is the lifecycle event being delivered. It is written in the same
	// status update as the transition it announces, so an operator restarted mid-delivery
	// delivers it again, with the same ID, until every receiver took it.
	// +optional
	PendingNotification *PendingNotification `json:"pendingNotification,omitempty"`
}

// RecoveryPoint is a copy of a tenant's database out of its region.
type RecoveryPoint struct {
	// Region holds the copy.
	Region string `json:"region"`
	// SnapshotIdentifier of the copy in Region (the same identifier as its source snapshot).
	SnapshotIdentifier string `json:"snapshotIdentifier"`
	// SnapshotTime is when RDS took the snapshot: the copy holds the data as of then.
	SnapshotTime metav1.Time `json:"snapshotTime"`
}

// StandbyStatus is a warm standby: a read replica of the tenant's database in another region.
type StandbyStatus struct {
	// Region holds the replica (the cell's partner region).
	Region string `json:"region"`
	// DBInstanceIdentifier of the replica in Region.
	DBInstanceIdentifier string `json:"dbInstanceIdentifier"`
	// LagSeconds is how far the replica trailed its source when last recorded (RDS's ReplicaLag
	// metric). It is written when it moves by half or by 30 s, or crosses the alarm threshold;
	// the metric tenantops_standby_lag_seconds follows it every minute.
	// +optional
	LagSeconds *int64 `json:"lagSeconds,omitempty"`
	// LagObservedAt is when the recorded lag was measured.
	// +optional
	LagObservedAt *metav1.Time `json:"lagObservedAt,omitempty"`
}

// RestoredFrom is the copy a failover restored, or the standby it promoted.
type RestoredFrom struct {
	// Region the tenant was taken over from.
	Region string `json:"region"`
	// SnapshotIdentifier of the copy restored, in the tenant's region (none when a standby was
	// promoted).
	// +optional
	SnapshotIdentifier string `json:"snapshotIdentifier,omitempty"`
	// PromotedStandby is the read replica promoted to be the tenant's database, when the home
	// region kept a warm standby here.
	// +optional
	PromotedStandby string `json:"promotedStandby,omitempty"`
	// SnapshotTime is when the copy's source was taken (for a promoted standby, when it was
	// promoted): the data is as of then, less the standby's lag.
	SnapshotTime metav1.Time `json:"snapshotTime"`
	// Epoch of the fencing record this region wrote when it took the tenant over.
	Epoch int64 `json:"epoch"`
}

// TenantMove is a move between two cells of a region. Both cells serve the tenant from
// StartedAt until the drain after the switch ends; DNS points at exactly one of them.
type TenantMove struct {
	// From is the cell the tenant is leaving. It serves the tenant until the drain ends.
	From string `json:"from"`
	// StartedAt is when the new cell was given the tenant's configuration.
	StartedAt metav1.Time `json:"startedAt"`
	// SwitchedAt is when the tenant's DNS record was pointed at the new cell's load balancer.
	// +optional
	SwitchedAt *metav1.Time `json:"switchedAt,omitempty"`
	// DrainingSince is when Route53 reported the switched record in sync; the old cell serves
	// the clients that still resolve the old address for the drain after it.
	// +optional
	DrainingSince *metav1.Time `json:"drainingSince,omitempty"`
}

// PendingNotification is a lifecycle event not yet taken by every receiver.
type PendingNotification struct {
	// ID of the CloudEvent; receivers deduplicate on it.
	ID string `json:"id"`
	// Type of the CloudEvent, such as io.tenantops.tenant.ready.
	Type string `json:"type"`
	// Phase the event announces.
	Phase string `json:"phase"`
	// Time of the transition.
	Time metav1.Time `json:"time"`
	// Delivered lists the webhooks (and "sns") that took the event already.
	// +optional
	// +listType=set
	Delivered []string `json:"delivered,omitempty"`
	// Attempts made so far.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`
	// LastError of the last failed attempt.
	// +optional
	LastError string `json:"lastError,omitempty"`
}

// Tenant is one customer of the SaaS: its DNS name, its database in its region, its cache
// key space, its app, its migrations and its daily recommendations.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=tn,categories=saas
// +kubebuilder:printcolumn:name="Region",type=string,JSONPath=`.spec.region`
// +kubebuilder:printcolumn:name="Tier",type=string,JSONPath=`.spec.tier`
// +kubebuilder:printcolumn:name="Cell",type=string,JSONPath=`.status.cell`
// +kubebuilder:printcolumn:name="DB Class",type=string,JSONPath=`.status.effectiveDatabase.instanceClass`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="USD/mo",type=string,JSONPath=`.status.cost.monthlyUSD`
// +kubebuilder:printcolumn:name="URL",type=string,JSONPath=`.status.url`
// +kubebuilder:printcolumn:name="Recovery point",type=date,JSONPath=`.status.recoveryPoint.snapshotTime`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="self.metadata.name.size() <= 56 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",message="metadata.name must be a DNS label of at most 56 characters: the tenant's namespace is tenant-<name>"
type Tenant struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   TenantSpec   `json:"spec"`
	Status TenantStatus `json:"status,omitempty"`
}

// TenantList is a list of Tenants.
//
// +kubebuilder:object:root=true
type TenantList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Tenant `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Tenant{}, &TenantList{})
}
