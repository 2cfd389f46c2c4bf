package regioncell

import (
	"context"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// reconcileDisasterRecovery checks the cell's partner region against the jurisdictions the
// operator was given. The copies themselves are each tenant's (tenant.reconcileRecovery); a
// partner outside the jurisdiction stalls the cell here, so the platform engineer sees it once,
// and stops every tenant's copies there.
func (r *Reconciler) reconcileDisasterRecovery(_ context.Context, run *cellRun) error {
	c := run.cell
	dr := c.Spec.DisasterRecovery
	if dr == nil {
		run.verdict.Side(verdict.Ready(saasv1.ConditionDisasterRecoveryReady, "NotConfigured", "tenant databases are not copied out of the region (spec.disasterRecovery)"))
		return nil
	}
	if err := r.Jurisdictions.CheckPartner(c.Spec.Region, dr.PartnerRegion); err != nil {
		run.verdict.Side(verdict.Stalled(saasv1.ConditionDisasterRecoveryReady, "PartnerOutsideJurisdiction", err.Error()))
		return nil
	}
	run.verdict.Side(verdict.Ready(saasv1.ConditionDisasterRecoveryReady, "PartnerInJurisdiction",
		"tenant databases are copied to "+dr.PartnerRegion+", in the jurisdiction of "+c.Spec.Region+"; each tenant's status.recoveryPoint is its newest copy"))
	return nil
}
