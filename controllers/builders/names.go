// Package builders turns a Tenant and its RegionCell into the objects that should exist. Every
// function here is pure: desired state from spec, no client, no clock; the reconcilers apply the
// results with controllers/apply.
package builders

import (
	"regexp"
	"strings"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Names of the children the operator makes. Kept here so builders, reconcilers, tests and the
// app agree on them.
const (
	// AnnotationDefaultsRevision on a DBInstance names the cell's database defaults revision it
	// was shaped by, so a tenant whose status was lost is not taken for one left behind.
	AnnotationDefaultsRevision = "saas.tenantops.io/database-defaults-revision"
	DBPasswordSecretName       = "db-master-password"
	DBPasswordKey              = "password"
	DBInstanceName             = "database"
	DBMasterUsername           = "tenantadmin"
	DBName                     = "app"
	DBPort                     = 3306
	RecordSetName              = "dns"
	TenantConfigName           = "tenant-config"
	RecommendCronJobName       = "recommend"
	AppName                    = "app"
	AppPort                    = 8080
	// AppOpsPort serves the app's /healthz, /readyz and /metrics: the kubelet, Prometheus and
	// the load balancer's health checks use it; no Ingress rule routes customers to it.
	AppOpsPort           = 9090
	CacheName            = "cache"
	CachePort            = 6379
	CellSubnetGroupName  = "db-subnets"
	CacheSubnetGroupName = "cache-subnets"
	ServiceAccountName   = "app"
	ConfigReaderRoleName = "tenant-config-reader"
	// ConfigMountPath is where Jobs and the app find tenant configuration files, one directory
	// per tenant, the same shape as the Secret's keys.
	ConfigMountPath = "/etc/tenants"
)

// TenantNamespace is the namespace of a tenant's own objects.
func TenantNamespace(t *saasv1.Tenant) string { return "tenant-" + t.Name }

// CellNamespace is the namespace of a cell's shared objects.
func CellNamespace(c *saasv1.RegionCell) string { return CellNamespaceOf(c.Name) }

// CellNamespaceOf is the namespace of the cell named cell.
func CellNamespaceOf(cell string) string { return "cell-" + cell }

// Host is the tenant's DNS name.
func Host(t *saasv1.Tenant, c *saasv1.RegionCell) string {
	return t.Spec.Subdomain + "." + c.Spec.BaseDomain
}

// WildcardHost is every host of the cell's base domain, as the cell's Ingress and certificate
// name it.
func WildcardHost(c *saasv1.RegionCell) string { return "*." + c.Spec.BaseDomain }

// URL is where the tenant is served.
func URL(t *saasv1.Tenant, c *saasv1.RegionCell) string { return "https://" + Host(t, c) }

// DBInstanceIdentifier is the RDS identifier of a new database of the tenant made in cell c,
// unique per account and region: the cell name keeps two cells in one account apart. It is
// recorded in status.effectiveDatabase and kept when the tenant moves.
func DBInstanceIdentifier(t *saasv1.Tenant, c *saasv1.RegionCell) string {
	return truncate("tenant-"+c.Name+"-"+t.Name, 63)
}

// HomeCell is the cell a tenant's own objects are marked with: the cell its database was made
// in, or, before there is one, the cell serving it. A move to another cell does not relabel (and
// so rewrite, or restart) every object of the tenant.
func HomeCell(t *saasv1.Tenant, c *saasv1.RegionCell) string {
	if e := t.Status.EffectiveDatabase; e != nil && e.Cell != "" {
		return e.Cell
	}
	return c.Name
}

// CacheKeyPrefix is the tenant's key space in a shared cache.
func CacheKeyPrefix(t *saasv1.Tenant) string { return "t:" + t.Name + ":" }

// ConfigSecretName is the name of the tenant configuration Secret in the serving app's namespace.
func ConfigSecretName(t *saasv1.Tenant) string { return "tenant-" + t.Name }

// AppNamespace is where the app serving the tenant runs: the cell's for pooled tenants, the
// tenant's own for dedicated ones.
func AppNamespace(t *saasv1.Tenant, c *saasv1.RegionCell) string {
	if t.Spec.Tier == saasv1.TierDedicated {
		return TenantNamespace(t)
	}
	return CellNamespace(c)
}

var notLabel = regexp.MustCompile(`[^a-z0-9-]+`)

// MigrationJobName names the migration Job of an app version: one Job per version, so a retry
// of the same version reuses the verdict instead of migrating twice.
func MigrationJobName(version string) string {
	return truncate("migrate-"+strings.Trim(notLabel.ReplaceAllString(strings.ToLower(version), "-"), "-"), 63)
}

// FinalSnapshotIdentifier names the snapshot RDS takes when a Snapshot-policy tenant's database
// (identifier dbIdentifier) is deleted. The date is passed in so the function stays pure.
func FinalSnapshotIdentifier(dbIdentifier, yyyymmdd string) string {
	return truncate(dbIdentifier, 63-len("-final-")-len(yyyymmdd)) + "-final-" + yyyymmdd
}

// TenantLabels mark a tenant's own objects, with its home cell (HomeCell).
func TenantLabels(t *saasv1.Tenant, c *saasv1.RegionCell, component string) map[string]string {
	return tenantLabelsIn(t, HomeCell(t, c), component)
}

func tenantLabelsIn(t *saasv1.Tenant, cell, component string) map[string]string {
	l := map[string]string{
		saasv1.LabelManagedBy: saasv1.LabelManagedByValue,
		saasv1.LabelTenant:    t.Name,
		saasv1.LabelCell:      cell,
	}
	if component != "" {
		l[saasv1.LabelComponent] = component
	}
	return l
}

// CellLabels mark a cell's objects.
func CellLabels(c *saasv1.RegionCell, component string) map[string]string {
	l := map[string]string{
		saasv1.LabelManagedBy: saasv1.LabelManagedByValue,
		saasv1.LabelCell:      c.Name,
	}
	if component != "" {
		l[saasv1.LabelComponent] = component
	}
	return l
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.TrimRight(s[:n], "-")
}
