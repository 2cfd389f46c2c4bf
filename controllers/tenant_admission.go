package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

// cellFor finds the RegionCell serving the tenant's region, or nil when none does here.
func (r *TenantReconciler) cellFor(ctx context.Context, t *saasv1.Tenant) (*saasv1.RegionCell, error) {
	return cellForRegion(ctx, r.Client, t.Spec.Region)
}

// admit decides whether the cell takes the tenant: a subdomain is the oldest Tenant's, and a
// full cell keeps new Tenants Pending. Order by creation makes the verdict the same in every
// reconcile, whatever the concurrency.
func (r *TenantReconciler) admit(ctx context.Context, run *tenantRun) (bool, error) {
	t, cell := run.t, run.cell
	// An admitted tenant is checked against the tenants of its subdomain only; a tenant not yet
	// admitted, once, against its region, to count what is ahead of it.
	var peers saasv1.TenantList
	selector := client.MatchingFields{indexTenantSubdomain: regionSubdomain(t.Spec.Region, t.Spec.Subdomain)}
	if t.Status.Cell != cell.Name {
		selector = client.MatchingFields{indexTenantRegion: t.Spec.Region}
	}
	// Read-only: skip copying the tenants out of the cache.
	if err := r.List(ctx, &peers, selector, client.UnsafeDisableDeepCopy); err != nil {
		return false, err
	}
	switch d := admission(t, cell, peers.Items); {
	case d.subdomainOwner != "":
		run.verdict.add(stalled(saasv1.ConditionDNSReady, "SubdomainTaken",
			fmt.Sprintf("spec.subdomain %q is already used by Tenant %q in cell %s; choose another subdomain", t.Spec.Subdomain, d.subdomainOwner, cell.Name)))
		return false, nil
	case d.cellFull:
		run.verdict.phase = saasv1.PhasePending
		run.verdict.holdOn("CellFull",
			fmt.Sprintf("cell %s serves its maximum of %d tenants (spec.capacity.maxTenants); the tenant waits for room", cell.Name, cell.Spec.Capacity.MaxTenants))
		return false, nil
	}
	t.Status.Cell = cell.Name
	t.Status.Namespace = run.ns
	t.Status.URL = b.URL(t, cell)
	return true, nil
}

// admissionDecision is why a tenant is not admitted, if it is not.
type admissionDecision struct {
	// subdomainOwner is the Tenant that holds the tenant's subdomain.
	subdomainOwner string
	// cellFull: the cell's admitted tenants and the older ones waiting fill it.
	cellFull bool
}

// admission decides on t among all the cluster's Tenants: another tenant of the region that
// claims the subdomain first keeps it; a tenant the cell has not admitted yet waits while the
// admitted ones and those waiting longer fill the cell.
func admission(t *saasv1.Tenant, cell *saasv1.RegionCell, all []saasv1.Tenant) admissionDecision {
	admitted, waitingAhead := 0, 0
	for i := range all {
		o := &all[i]
		if o.UID == t.UID || o.Spec.Region != t.Spec.Region || !o.DeletionTimestamp.IsZero() {
			continue
		}
		if o.Spec.Subdomain == t.Spec.Subdomain && claimsFirst(o, t, cell) {
			return admissionDecision{subdomainOwner: o.Name}
		}
		if o.Status.Cell == cell.Name {
			admitted++
		} else if olderThan(&o.ObjectMeta, &t.ObjectMeta) {
			waitingAhead++
		}
	}
	return admissionDecision{cellFull: t.Status.Cell != cell.Name && admitted+waitingAhead >= int(cell.Spec.Capacity.MaxTenants)}
}

// claimsFirst says whether tenant a holds a claim (a subdomain, a place in the cell) before b:
// a tenant the cell already admitted keeps it; otherwise the older one wins.
func claimsFirst(a, b *saasv1.Tenant, cell *saasv1.RegionCell) bool {
	if aIn, bIn := a.Status.Cell == cell.Name, b.Status.Cell == cell.Name; aIn != bIn {
		return aIn
	}
	return olderThan(&a.ObjectMeta, &b.ObjectMeta)
}

func olderThan(a, b *metav1.ObjectMeta) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}
