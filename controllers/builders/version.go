package builders

import (
	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// EffectiveAppVersion is the app version the tenant should be migrated to and served at.
func EffectiveAppVersion(t *saasv1.Tenant, c *saasv1.RegionCell) string {
	if t.Spec.App != nil && t.Spec.App.Version != "" &&
		(t.Spec.App.UpgradeStrategy == saasv1.UpgradeManual || t.Spec.Tier == saasv1.TierDedicated) {
		return t.Spec.App.Version
	}
	return c.Spec.App.Version
}

// Image is the app image at a version.
func Image(c *saasv1.RegionCell, version string) string { return c.Spec.App.Image + ":" + version }
