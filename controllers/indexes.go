package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Cache indexes of Tenants, so that a reconcile reads the few Tenants it is about (those of a
// cell, of a region, or with a subdomain) instead of scanning every Tenant of the cluster.
const (
	indexTenantRegion = "spec.region"
	// indexTenantCell: the cells serving a tenant, its own and, during a move, the one it leaves.
	indexTenantCell      = "status.cell"
	indexTenantSubdomain = "spec.region+subdomain"
	// indexTenantWaiting: the region of a tenant waiting for a cell (not placed, or its move not
	// started), to wake those when room appears.
	indexTenantWaiting = "spec.region+waiting"
	// indexTenantHome: the cell a tenant's database (and a dedicated tenant's cache) was made in,
	// whose network it stays in.
	indexTenantHome = "status.effectiveDatabase.cell"
)

func regionSubdomain(region, subdomain string) string { return region + "/" + subdomain }

// addIndexes registers the indexes with the manager's cache; it must run before the cache starts.
func addIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	for name, values := range map[string]func(*saasv1.Tenant) []string{
		indexTenantRegion: func(t *saasv1.Tenant) []string { return []string{t.Spec.Region} },
		indexTenantCell:   func(t *saasv1.Tenant) []string { return []string{t.Status.Cell, moveFrom(t)} },
		indexTenantSubdomain: func(t *saasv1.Tenant) []string {
			return []string{regionSubdomain(t.Spec.Region, t.Spec.Subdomain)}
		},
		indexTenantWaiting: func(t *saasv1.Tenant) []string {
			if wantsCell(t) {
				return []string{t.Spec.Region}
			}
			return nil
		},
		indexTenantHome: func(t *saasv1.Tenant) []string {
			if e := t.Status.EffectiveDatabase; e != nil {
				return []string{e.Cell}
			}
			return nil
		},
	} {
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
