package tenant

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
	"github.com/tenantops/tenant-operator/controllers/warmpool"
)

// claimRetry is how soon a claim's next stage runs: each stage is woken by nothing else.
const claimRetry = 100 * time.Millisecond

// A new tenant takes a database from its cell's warm pool in three stages, each of which a
// restart may interrupt and the next reconcile finishes:
//
//  1. the pool instance is marked claimed by the tenant's UID, and ACK told to leave the AWS
//     instance in place when the pool's resource goes (one write, landing only on the instance
//     as read: of two tenants, one claims it, the other meets a Conflict and picks again);
//  2. the tenant's status records the claim (status.effectiveDatabase.claimedFrom), written
//     with the rest of its status;
//  3. from that record, the pool's resource is deleted and the tenant's DBInstance adopts the
//     instance by its identifier, with the tenant's own password and tags.
//
// Until stage 2 lands the pool's resource says whose the instance is; from then on the tenant's
// status does. The instance is always the pool's or the tenant's, never both or neither.

// claimFromPool runs the stage of the claim the tenant is at. pending says the claim goes on
// at the next reconcile and the database step stops here.
func (r *Reconciler) claimFromPool(ctx context.Context, run *tenantRun) (pending bool, err error) {
	t, c := run.t, run.cell
	if rec := t.Status.EffectiveDatabase; rec != nil {
		if rec.ClaimedFrom == "" {
			return false, nil
		}
		lost, err := r.finishClaim(ctx, run, rec)
		if lost != "" {
			run.verdict.Add(verdict.Stalled(saasv1.ConditionDatabaseReady, "WarmPoolClaimLost", lost))
			return true, nil
		}
		return false, err
	}
	// A cell without a pool costs its tenants nothing more than this cached list.
	pool, err := shared.WarmPoolInstances(ctx, r.Client, c)
	if err != nil || len(pool) == 0 {
		return false, err
	}
	if exists, err := r.hasDatabase(ctx, run); err != nil || exists {
		return false, err
	}
	// The claim is decided on the tenant as the API server holds it: a cache that has not seen
	// this tenant's record of an earlier claim would otherwise claim a second instance.
	live := &saasv1.Tenant{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(t), live); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if live.ResourceVersion != t.ResourceVersion {
		run.verdict.Add(verdict.Waiting(saasv1.ConditionDatabaseReady, "ClaimingWarmDatabase", "waiting for the cache to catch up before claiming a warm-pool database"))
		run.requeueIn(claimRetry)
		return true, nil
	}
	want, _ := b.ResolveDatabase(t, c, nil, false)
	if t.Spec.RestoreFrom != nil {
		return false, nil
	}
	picked, mine, ok := warmpool.Pick(warmpool.Of(pool), string(t.UID), b.WarmPoolShapeHash(c, want))
	if !ok {
		return false, nil
	}
	var db *rds.DBInstance
	for i := range pool {
		if pool[i].Name == picked.Name {
			db = &pool[i]
		}
	}
	if !mine {
		if err := r.applier().AnnotateAsRead(ctx, db, b.WarmPoolClaim(db, string(t.UID)).Annotations); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				// Another tenant claimed it first, or the cell released it: pick again.
				run.verdict.Add(verdict.Waiting(saasv1.ConditionDatabaseReady, "ClaimingWarmDatabase", "warm-pool database "+db.Name+" was taken meanwhile; picking another"))
				run.requeueIn(claimRetry)
				return true, nil
			}
			return false, err
		}
		metrics.WarmPoolClaims.WithLabelValues(c.Name, "claimed").Inc()
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "WarmDatabaseClaimed", "Claim", "database %s claimed from the warm pool of cell %s",
			deref(db.Spec.DBInstanceIdentifier), c.Name)
	}
	rec := b.EffectiveDatabaseOf(db)
	rec.Cell, rec.DefaultsRevision, rec.ClaimedFrom = c.Name, want.DefaultsRevision, db.Name
	t.Status.EffectiveDatabase = rec
	run.verdict.Add(verdict.Waiting(saasv1.ConditionDatabaseReady, "ClaimingWarmDatabase", fmt.Sprintf(
		"claimed warm-pool database %s of cell %s; it becomes the tenant's once the claim is recorded", rec.Identifier, c.Name)))
	run.requeueIn(claimRetry)
	return true, nil
}

// finishClaim is stage 3: the pool's resource goes (ACK leaves the instance, as the claim told
// it), then the database step applies the tenant's DBInstance, which adopts it.
// lost, when not empty, says the pool's resource no longer carries the claim (someone took its
// annotations off): it is left alone, since deleting it would have ACK delete the instance.
func (r *Reconciler) finishClaim(ctx context.Context, run *tenantRun, rec *saasv1.EffectiveDatabase) (lost string, err error) {
	pooled := &rds.DBInstance{}
	key := types.NamespacedName{Namespace: b.CellNamespaceOf(rec.Cell), Name: rec.ClaimedFrom}
	if err := r.Get(ctx, key, pooled); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	if pooled.Annotations[b.AnnotationClaimedBy] != string(run.t.UID) || pooled.Annotations[ack.AnnotationDeletionPolicy] != "retain" {
		return fmt.Sprintf("warm-pool DBInstance %s no longer carries this tenant's claim (annotations %s=%s and %s=retain); "+
			"put them back to finish the claim, or delete this Tenant", key, b.AnnotationClaimedBy, run.t.UID, ack.AnnotationDeletionPolicy), nil
	}
	if pooled.DeletionTimestamp.IsZero() {
		return "", r.applier().DeleteAsRead(ctx, pooled)
	}
	return "", nil
}

// hasDatabase says whether the tenant's DBInstance exists, asking the API server when the cache
// does not know it.
func (r *Reconciler) hasDatabase(ctx context.Context, run *tenantRun) (bool, error) {
	key := types.NamespacedName{Namespace: run.ns, Name: b.DBInstanceName}
	err := r.Get(ctx, key, &rds.DBInstance{})
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, &rds.DBInstance{})
	}
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	return err == nil, err
}

// notFromPool says why a tenant's own database was made although its cell keeps a warm pool,
// for the condition while RDS makes it ("" when the cell has no pool).
func notFromPool(t *saasv1.Tenant, c *saasv1.RegionCell, eff saasv1.EffectiveDatabase) string {
	if c.Spec.Database.WarmPool == nil || c.Spec.Database.WarmPool.Size == 0 || eff.ClaimedFrom != "" {
		return ""
	}
	switch {
	case t.Spec.RestoreFrom != nil:
		return "a restore from a snapshot makes its own database"
	case b.WarmPoolShapeHash(c, eff) != b.WarmPoolShapeHash(c, b.WarmPoolShape(c)):
		return "its database (" + b.DescribeDatabase(eff) + ") is not the warm pool's shape (" + b.DescribeDatabase(b.WarmPoolShape(c)) + ")"
	default:
		return "the warm pool had no database ready when it was made"
	}
}

// returnClaim settles a claim of a tenant being deleted: a pool instance it claimed but never
// adopted goes back to the pool (its claim and retain taken off), and one it adopted loses its
// pool resource, as the claim's last stage would have done.
func (r *Reconciler) returnClaim(ctx context.Context, t *saasv1.Tenant, cell *saasv1.RegionCell) error {
	if cell == nil {
		return nil
	}
	pool, err := shared.WarmPoolInstances(ctx, r.Client, cell)
	if err != nil {
		return err
	}
	for i := range pool {
		db := &pool[i]
		if db.Annotations[b.AnnotationClaimedBy] != string(t.UID) || !db.DeletionTimestamp.IsZero() {
			continue
		}
		own := &rds.DBInstance{}
		err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: b.TenantNamespace(t), Name: b.DBInstanceName}, own)
		if client.IgnoreNotFound(err) != nil {
			return err
		}
		if err == nil && deref(own.Spec.DBInstanceIdentifier) == deref(db.Spec.DBInstanceIdentifier) {
			// The tenant's DBInstance took the instance over: the pool's resource only goes.
			return r.applier().DeleteAsRead(ctx, db)
		}
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "WarmDatabaseReturned", "Delete", "database %s returned to the warm pool of cell %s unused",
			deref(db.Spec.DBInstanceIdentifier), cell.Name)
		return r.applier().AnnotateAsRead(ctx, db, nil, b.AnnotationClaimedBy, ack.AnnotationDeletionPolicy)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
