package controllers

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Cache indexes of Tenants, so that a reconcile reads the few Tenants it is about (those of a
// cell, of a region, or with a subdomain) instead of scanning every Tenant of the cluster.
const (
	indexTenantRegion    = "spec.region"
	indexTenantCell      = "status.cell"
	indexTenantSubdomain = "spec.region+subdomain"
)

func regionSubdomain(region, subdomain string) string { return region + "/" + subdomain }

// addIndexes registers the indexes with the manager's cache; it must run before the cache starts.
func addIndexes(ctx context.Context, indexer client.FieldIndexer) error {
	for name, value := range map[string]func(*saasv1.Tenant) string{
		indexTenantRegion:    func(t *saasv1.Tenant) string { return t.Spec.Region },
		indexTenantCell:      func(t *saasv1.Tenant) string { return t.Status.Cell },
		indexTenantSubdomain: func(t *saasv1.Tenant) string { return regionSubdomain(t.Spec.Region, t.Spec.Subdomain) },
	} {
		if err := indexer.IndexField(ctx, &saasv1.Tenant{}, name, func(o client.Object) []string {
			t, ok := o.(*saasv1.Tenant)
			if !ok || value(t) == "" {
				return nil
			}
			return []string{value(t)}
		}); err != nil {
			return err
		}
	}
	return nil
}
