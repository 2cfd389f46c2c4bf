package tenant

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/indexes"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// place decides which cell serves the tenant this reconcile (run.cell) and, during a move,
// which one it is leaving (run.from). A tenant is placed once: in its spec.cell, or else in the
// least full cell of its region with room; a later spec.cell naming another cell starts a move.
// A subdomain belongs to one tenant in the region. It returns false when the tenant is not
// served by any cell yet; then nothing else of it is made.
func (r *Reconciler) place(ctx context.Context, run *tenantRun, cells []saasv1.RegionCell) (bool, error) {
	t := run.t
	if t.Status.Cell == "" {
		if cell := r.placements.Placed(t.UID); placement.FindCell(cells, cell) != nil {
			// Placed by an earlier reconcile whose status write did not land (or is not cached
			// yet): the same place, which the placements since were told is taken.
			t.Status.Cell = cell
		}
	}
	current := placement.FindCell(cells, t.Status.Cell)
	if current != nil && !placement.WantsCell(t) {
		// Placed: only the tenants of its subdomain can dispute anything.
		var peers saasv1.TenantList
		if err := r.List(ctx, &peers, client.MatchingFields{indexes.TenantSubdomain: indexes.RegionSubdomain(t.Spec.Region, t.Spec.Subdomain)},
			client.UnsafeDisableDeepCopy); err != nil {
			return false, err
		}
		if owner := placement.SubdomainOwner(t, peers.Items); owner != "" {
			r.subdomainTaken(run, owner)
			return false, nil
		}
		run.cell = current.DeepCopy()
		if m := t.Status.Move; m != nil {
			if from := placement.FindCell(cells, m.From); from != nil {
				run.from = from.DeepCopy()
			}
		}
		if d := t.Spec.BaseDomain; d != "" && d != current.Spec.BaseDomain {
			// Set after the tenant was placed: its URL stays; the spec must say so.
			run.verdict.Side(verdict.Stalled(saasv1.ConditionPlaced, placement.ReasonBaseDomainMismatch, fmt.Sprintf(
				"served by cell %s at %s; spec.baseDomain says %s, but a tenant's URL never changes: remove spec.baseDomain or recreate the tenant",
				current.Name, b.Host(t, current), d)))
		}
		r.settle(run, cells)
		return true, nil
	}

	// One placement at a time, each seeing the ones before it even where the cache has not yet
	// (a placement is written with the tenant's status, at the end of its reconcile): two
	// tenants created in the same second never both take a cell's last place.
	r.placements.Lock()
	defer r.placements.Unlock()
	var region saasv1.TenantList
	if err := r.List(ctx, &region, client.MatchingFields{indexes.TenantRegion: t.Spec.Region}, client.UnsafeDisableDeepCopy); err != nil {
		return false, err
	}
	region.Items = r.placements.Overlay(region.Items)
	if owner := placement.SubdomainOwner(t, region.Items); owner != "" {
		r.subdomainTaken(run, owner)
		return false, nil
	}
	_, all, err := shared.RegionCells(ctx, r.Client, t.Spec.Region)
	if err != nil {
		return false, err
	}
	if current == nil && t.Status.Cell != "" && (t.Spec.Cell == "" || t.Spec.Cell == t.Status.Cell) {
		// Its cell was removed from under it (a cell holds its deletion while it has tenants):
		// placing it elsewhere unasked would move its users; a person chooses.
		r.waitForCell(run, placement.Decision{Reason: placement.ReasonCellMissing, Stalled: true, Message: fmt.Sprintf(
			"the tenant's cell %s no longer exists; set spec.cell to a cell of region %s to serve it there", t.Status.Cell, t.Spec.Region)})
		return false, nil
	}
	d := placement.Decide(t, all, region.Items)
	if current == nil {
		if d.Cell == "" {
			r.waitForCell(run, d)
			return false, nil
		}
		// A new tenant (or one whose cell vanished without letting it go) is placed.
		run.cell = placement.FindCell(cells, d.Cell).DeepCopy()
		t.Status.Cell = d.Cell
		r.placements.Record(t.UID, d.Cell)
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "Placed", "Place", "placed in cell %s", d.Cell)
		r.settle(run, cells)
		return true, nil
	}

	// Placed, and spec.cell names another cell: a move, when that cell can take the tenant.
	run.cell = current.DeepCopy()
	target := placement.FindCell(all, t.Spec.Cell)
	if target != nil && target.Spec.Region == t.Spec.Region {
		if why := placement.MoveRefusal(current, target); why != "" {
			run.verdict.Side(verdict.Stalled(saasv1.ConditionPlaced, placement.ReasonMoveRefused, fmt.Sprintf(
				"move to cell %s refused: %s; the tenant stays in %s. Set spec.cell back to %s", target.Name, why, current.Name, current.Name)))
			r.settle(run, cells)
			return true, nil
		}
	}
	if d.Cell == "" {
		p := verdict.Waiting(saasv1.ConditionPlaced, d.Reason, fmt.Sprintf("served by cell %s; the move to %s waits: %s", current.Name, t.Spec.Cell, d.Message))
		p.Stalled = d.Stalled
		run.verdict.Side(p)
		r.settle(run, cells)
		return true, nil
	}
	run.from, run.cell = run.cell, placement.FindCell(cells, d.Cell).DeepCopy()
	t.Status.Cell = d.Cell
	t.Status.Move = &saasv1.TenantMove{From: run.from.Name, StartedAt: shared.StatusTime(r.now())}
	r.placements.Record(t.UID, d.Cell)
	r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "MoveStarted", "Move", "moving from cell %s to cell %s", run.from.Name, run.cell.Name)
	r.settle(run, cells)
	return true, nil
}

// settle records what placement decided that status shows, and finds the tenant's home cell.
func (r *Reconciler) settle(run *tenantRun, cells []saasv1.RegionCell) {
	run.t.Status.Namespace = run.ns
	run.t.Status.URL = b.URL(run.t, run.cell)
	if home := placement.FindCell(cells, b.HomeCell(run.t, run.cell)); home != nil && home.Name != run.cell.Name {
		run.home = home.DeepCopy()
	}
}

func (r *Reconciler) subdomainTaken(run *tenantRun, owner string) {
	run.verdict.Add(verdict.Stalled(saasv1.ConditionDNSReady, "SubdomainTaken",
		fmt.Sprintf("spec.subdomain %q is already used by Tenant %q in region %s; choose another subdomain", run.t.Spec.Subdomain, owner, run.t.Spec.Region)))
}

// waitForCell keeps a tenant no cell can take yet Pending, or Stalled when only a new spec helps.
func (r *Reconciler) waitForCell(run *tenantRun, d placement.Decision) {
	p := verdict.Waiting(saasv1.ConditionPlaced, d.Reason, d.Message)
	p.Stalled = d.Stalled
	run.verdict.Phase = saasv1.PhasePending
	if d.Stalled {
		run.verdict.Phase = saasv1.PhaseFailed
	}
	run.verdict.HoldOn(d.Reason, d.Message)
	run.verdict.Side(p)
}

// placedPart is the Placed condition of a placed tenant: where it is, and how far a move is.
func placedPart(run *tenantRun) verdict.Part {
	if run.from == nil {
		return verdict.Ready(saasv1.ConditionPlaced, "Placed", "served by cell "+run.cell.Name)
	}
	return verdict.Waiting(saasv1.ConditionPlaced, "Moving", placement.DescribeMove(run.t.Status.Move, run.cell.Name))
}
