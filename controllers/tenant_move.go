package controllers

import (
	"context"
	"fmt"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

// A move between two cells of a region, in the order it happens:
//
//  1. The new cell is given the tenant (its configuration for a pooled tenant, a rule on its
//     load balancer for a dedicated one); the old cell keeps serving. DNS points at the old cell.
//  2. MoveWarmup after the start, once the new cell serves the tenant, the DNS record is pointed
//     at the new cell's load balancer (status.move.switchedAt).
//  3. When Route53 reports the change in sync (status.move.drainingSince), clients that resolved
//     the old answer still reach the old cell: it serves them for MoveDrain more.
//  4. The old cell lets go; the move ends.
//
// So some cell serves the tenant at every moment, and both serve it for MoveWarmup, plus
// Route53's propagation, plus MoveDrain; the database is never touched.
const (
	// DefaultMoveWarmup is the time the new cell's app has to load the tenant's configuration
	// (it watches it; a second is usual) before DNS sends it traffic.
	DefaultMoveWarmup = 10 * time.Second
	// DefaultMoveDrain is how long the old cell keeps serving after the switch: twice the 60 s
	// TTL of an ALB alias answer.
	DefaultMoveDrain = 2 * time.Minute
)

// cells are the cells serving the tenant this reconcile: its cell and, during a move, the one
// it leaves.
func (run *tenantRun) cells() []*saasv1.RegionCell {
	if run.from != nil {
		return []*saasv1.RegionCell{run.cell, run.from}
	}
	return []*saasv1.RegionCell{run.cell}
}

// ownParts is the cell whose defaults shape what the tenant has of its own: for a dedicated
// tenant its home cell, so that a move changes where it is served, never what it runs (its
// app's image, version and replicas, its cache's node type and engine); the serving cell
// otherwise.
func (run *tenantRun) ownParts() *saasv1.RegionCell {
	if run.home != nil && run.t.Spec.Tier == saasv1.TierDedicated {
		return run.home
	}
	return run.cell
}

// dnsTarget is the cell whose load balancer the tenant's record aliases now.
func (r *TenantReconciler) dnsTarget(run *tenantRun) *saasv1.RegionCell {
	m := run.t.Status.Move
	if m == nil || m.SwitchedAt != nil {
		return run.cell
	}
	if run.from != nil {
		if wait := m.StartedAt.Add(r.moveWarmup()).Sub(r.now()); wait > 0 {
			run.requeueIn(wait)
			return run.from
		}
	}
	// Every step before this one passed: the new cell serves the tenant (and a cell left that no
	// longer exists serves nobody). Switch.
	now := metav1Time(r.now())
	m.SwitchedAt = &now
	r.Recorder.Eventf(run.t, nil, corev1.EventTypeNormal, "MoveSwitched", "Move", "DNS of %s now points at cell %s; cell %s serves for %s after Route53 is in sync",
		b.Host(run.t, run.cell), run.cell.Name, m.From, r.moveDrain())
	return run.cell
}

// keepServingFrom keeps the cell a move leaves serving the tenant: a pooled tenant's
// configuration in its app's namespace, a dedicated tenant's rule on its load balancer.
func (r *TenantReconciler) keepServingFrom(ctx context.Context, run *tenantRun) error {
	from, t := run.from, run.t
	if from == nil || run.drainOver(r.now(), r.moveDrain()) {
		// Once the drain is over the cell lets go; a reconcile reading a status from before the
		// move ended (the cache lags its own writes) must not give the tenant back to it.
		return nil
	}
	if t.Spec.Tier == saasv1.TierDedicated {
		_, err := r.applier().Ensure(ctx, t, b.DedicatedIngress(t, from, b.DrainingIngressName, b.TenantLabels(t, run.cell, b.AppName)))
		return err
	}
	rg, err := r.sharedCache(ctx, from)
	if err != nil || rg == nil {
		return err // the cell left has its cache until it is deleted, which the tenant holds
	}
	ep := endpointsIn(run.endpoints, t, from, rg)
	_, err = r.applier().Ensure(ctx, t, b.TenantConfig(t, from, b.CellNamespace(from), b.ConfigSecretName(t), ep, run.password))
	return err
}

// endpointsIn are the tenant's endpoints as another cell's app serves it: the same database,
// that cell's shared cache, and that cell's CDN for the files of the version it runs (not the
// files of the cell the tenant moves to, which may run another version or have no CDN).
func endpointsIn(ep b.Endpoints, t *saasv1.Tenant, cell *saasv1.RegionCell, cache *ecv1.ReplicationGroup) b.Endpoints {
	if addr, port, ok := b.CacheEndpoint(cache); ok {
		ep.CacheAddress, ep.CachePort = addr, port
	}
	ep.AssetsBaseURL = assetsBaseURL(t, cell)
	return ep
}

// reconcileMove ends a move: once Route53 has the switched record in sync and the drain after
// it has passed, the cell left lets the tenant go.
func (r *TenantReconciler) reconcileMove(ctx context.Context, run *tenantRun) (bool, error) {
	t, m := run.t, run.t.Status.Move
	if m == nil || m.SwitchedAt == nil {
		return true, nil
	}
	if m.DrainingSince == nil {
		if run.record == nil || !ack.SyncedSince(run.record.Status.Conditions, m.SwitchedAt.Time) {
			return true, nil // the record's status change wakes the tenant
		}
		now := metav1Time(r.now())
		m.DrainingSince = &now
	}
	if !run.drainOver(r.now(), r.moveDrain()) && run.from != nil {
		run.requeueIn(m.DrainingSince.Add(r.moveDrain()).Sub(r.now()))
		return true, nil
	}
	if err := r.releaseCell(ctx, t, m.From); err != nil {
		return false, err
	}
	r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "MoveFinished", "Move", "moved from cell %s to cell %s", m.From, run.cell.Name)
	t.Status.Move = nil
	run.from = nil
	return true, nil
}

// releaseCell takes the tenant off a cell it no longer belongs to: the configuration its
// shared app served, and the rule a dedicated tenant kept on its load balancer.
func (r *TenantReconciler) releaseCell(ctx context.Context, t *saasv1.Tenant, cell string) error {
	if _, err := r.applier().Absent(ctx, &corev1.Secret{}, client.ObjectKey{Namespace: b.CellNamespaceOf(cell), Name: b.ConfigSecretName(t)}); err != nil {
		return err
	}
	_, err := r.applier().Absent(ctx, &networkingv1.Ingress{}, client.ObjectKey{Namespace: b.TenantNamespace(t), Name: b.DrainingIngressName})
	return err
}

// drainOver says whether a move's drain has ended.
func (run *tenantRun) drainOver(now time.Time, drain time.Duration) bool {
	m := run.t.Status.Move
	return m != nil && m.DrainingSince != nil && !now.Before(m.DrainingSince.Add(drain))
}

// moveProgress says where a move stands, for the Placed condition.
func (run *tenantRun) moveProgress() string {
	m := run.t.Status.Move
	from := m.From
	switch {
	case m.SwitchedAt == nil:
		return fmt.Sprintf("moving from cell %s to cell %s: both serve the tenant; DNS still points at %s and switches once %s serves it and its warm-up has passed",
			from, run.cell.Name, from, run.cell.Name)
	case m.DrainingSince == nil:
		return fmt.Sprintf("moving from cell %s to cell %s: DNS switched at %s; waiting for Route53 to report it in sync", from, run.cell.Name, m.SwitchedAt.UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("moving from cell %s to cell %s: DNS in sync since %s; %s serves clients still resolving the old answer until the drain ends",
			from, run.cell.Name, m.DrainingSince.UTC().Format(time.RFC3339), from)
	}
}

// requeueIn asks for another look within d.
func (run *tenantRun) requeueIn(d time.Duration) {
	if run.requeueAfter == 0 || d < run.requeueAfter {
		run.requeueAfter = d
	}
}

func (r *TenantReconciler) moveWarmup() time.Duration {
	if r.MoveWarmup > 0 {
		return r.MoveWarmup
	}
	return DefaultMoveWarmup
}

func (r *TenantReconciler) moveDrain() time.Duration {
	if r.MoveDrain > 0 {
		return r.MoveDrain
	}
	return DefaultMoveDrain
}
