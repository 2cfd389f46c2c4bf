package tenant

import (
	"context"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/rollout"
	"github.com/tenantops/tenant-operator/controllers/shared"
)

// How long a move's stages last by default (placement.MoveClock says what each stage is).
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

// move is where the tenant's move stands this reconcile (placement.NoMove when it is not moving).
func (r *Reconciler) move(run *tenantRun) placement.MoveState {
	m := run.t.Status.Move
	dnsInSync := m != nil && m.SwitchedAt != nil && run.record != nil && ack.SyncedSince(run.record.Status.Conditions, m.SwitchedAt.Time)
	return r.moveClock().At(m, r.now(), run.from == nil, dnsInSync)
}

// dnsTarget is the cell whose load balancer the tenant's record aliases now. The DNS step runs
// once every step before it passed, that is once the new cell serves the tenant: a switch that
// is due is recorded there, first.
func (r *Reconciler) dnsTarget(run *tenantRun) *saasv1.RegionCell {
	st := r.move(run)
	if st.Stage == placement.MoveSwitchDue {
		now := shared.StatusTime(r.now())
		run.t.Status.Move.SwitchedAt = &now
		r.Recorder.Eventf(run.t, nil, corev1.EventTypeNormal, "MoveSwitched", "Move", "DNS of %s now points at cell %s; cell %s serves for %s after Route53 is in sync",
			b.Host(run.t, run.cell), run.cell.Name, run.t.Status.Move.From, r.moveClock().Drain)
	}
	if st.DNSOnCellLeft() {
		run.requeueIn(st.Next)
		return run.from
	}
	return run.cell
}

// keepServingFrom keeps the cell a move leaves serving the tenant: a pooled tenant's
// configuration in its app's namespace, a dedicated tenant's rule on its load balancer.
func (r *Reconciler) keepServingFrom(ctx context.Context, run *tenantRun) error {
	from, t := run.from, run.t
	if from == nil || !r.move(run).CellLeftServes() {
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
	ep.AssetsBaseURL = rollout.AssetsBaseURL(t, cell)
	return ep
}

// reconcileMove ends a move: once Route53 has the switched record in sync and the drain after
// it has passed, the cell left lets the tenant go.
func (r *Reconciler) reconcileMove(ctx context.Context, run *tenantRun) (bool, error) {
	t, st := run.t, r.move(run)
	if st.Stage == placement.MoveDrainDue {
		now := shared.StatusTime(r.now())
		t.Status.Move.DrainingSince = &now
		st = r.move(run)
	}
	switch st.Stage {
	case placement.MoveDraining:
		run.requeueIn(st.Next)
	case placement.MoveOver:
		if err := r.releaseCell(ctx, t, t.Status.Move.From); err != nil {
			return false, err
		}
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "MoveFinished", "Move", "moved from cell %s to cell %s", t.Status.Move.From, run.cell.Name)
		t.Status.Move = nil
		run.from = nil
	}
	// Otherwise the record's status change, or the warm-up's requeue, wakes the tenant.
	return true, nil
}

// releaseCell takes the tenant off a cell it no longer belongs to: the configuration its
// shared app served, and the rule a dedicated tenant kept on its load balancer.
func (r *Reconciler) releaseCell(ctx context.Context, t *saasv1.Tenant, cell string) error {
	if _, err := r.applier().Absent(ctx, &corev1.Secret{}, client.ObjectKey{Namespace: b.CellNamespaceOf(cell), Name: b.ConfigSecretName(t)}); err != nil {
		return err
	}
	_, err := r.applier().Absent(ctx, &networkingv1.Ingress{}, client.ObjectKey{Namespace: b.TenantNamespace(t), Name: b.DrainingIngressName})
	return err
}

// requeueIn asks for another look within d.
func (run *tenantRun) requeueIn(d time.Duration) {
	if run.requeueAfter == 0 || d < run.requeueAfter {
		run.requeueAfter = d
	}
}

// moveClock is the operator's move durations, the defaults where it sets none.
func (r *Reconciler) moveClock() placement.MoveClock {
	c := placement.MoveClock{Warmup: r.MoveWarmup, Drain: r.MoveDrain}
	if c.Warmup <= 0 {
		c.Warmup = DefaultMoveWarmup
	}
	if c.Drain <= 0 {
		c.Drain = DefaultMoveDrain
	}
	return c
}
