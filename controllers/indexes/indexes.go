// Package indexes names the cache's field indexes of Tenants and says what each holds, so that
// a reconcile reads the few Tenants it is about (those of a cell, of a region, or with a
// subdomain) instead of scanning every Tenant of the cluster.
package indexes

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/placement"
)

// The indexes, by the field they are read with.
const (
	TenantRegion = "spec.region"
	// TenantCell: the cells serving a tenant, its own and, during a move, the one it leaves.
	TenantCell      = "status.cell"
	TenantSubdomain = "spec.region+subdomain"
	// TenantWaiting: the region of a tenant waiting for a cell (not placed, or its move not
	// started), to wake those when room appears.
	TenantWaiting = "spec.region+waiting"
	// TenantHome: the cell a tenant's database (and a dedicated tenant's cache) was made in,
	// whose network it stays in.
	TenantHome = "status.effectiveDatabase.cell"
)

// RegionSubdomain is the TenantSubdomain value of a subdomain in a region.
func RegionSubdomain(region, subdomain string) string { return region + "/" + subdomain }

// TenantValues are the values each index holds for a Tenant (empty ones are left out by Add).
var TenantValues = map[string]func(*saasv1.Tenant) []string{
	TenantRegion: func(t *saasv1.Tenant) []string { return []string{t.Spec.Region} },
	TenantCell:   placement.CellsServing,
	TenantSubdomain: func(t *saasv1.Tenant) []string {
		return []string{RegionSubdomain(t.Spec.Region, t.Spec.Subdomain)}
	},
	TenantWaiting: func(t *saasv1.Tenant) []string {
		if placement.WantsCell(t) {
			return []string{t.Spec.Region}
		}
		return nil
	},
	TenantHome: func(t *saasv1.Tenant) []string {
		if e := t.Status.EffectiveDatabase; e != nil {
			return []string{e.Cell}
		}
		return nil
	},
}

// Add registers the indexes with the manager's cache; it must run before the cache starts.
func Add(ctx context.Context, indexer client.FieldIndexer) error {
	for name, values := range TenantValues {
		if err := indexer.IndexField(ctx, &saasv1.Tenant{}, name, func(o client.Object) []string {
			t, ok := o.(*saasv1.Tenant)
			if !ok {
				return nil
			}
			var out []string
			for _, v := range values(t) {
				if v != "" {
					out = append(out, v)
				}
			}
			return out
		}); err != nil {
			return err
		}
	}
	return nil
}
