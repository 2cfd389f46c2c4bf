package regioncell

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
	"github.com/tenantops/tenant-operator/controllers/warmpool"
)

// reconcileWarmPool keeps spec.database.warmPool.size unclaimed databases of the cell's current
// defaults: it releases those of another shape or beyond the size (never a claimed one), and
// makes the missing ones. Tenants claim them (the tenant reconciler); the pool refills here.
func (r *Reconciler) reconcileWarmPool(ctx context.Context, run *cellRun) error {
	c := run.cell
	size := int32(0)
	if c.Spec.Database.WarmPool != nil {
		size = c.Spec.Database.WarmPool.Size
	}
	pool, err := shared.WarmPoolInstances(ctx, r.Client, c)
	if err != nil {
		return err
	}
	if size == 0 && len(pool) == 0 {
		metrics.WarmPoolDatabases.DeletePartialMatch(map[string]string{"cell": c.Name})
		c.Status.WarmPool = nil
		meta.RemoveStatusCondition(&c.Status.Conditions, saasv1.ConditionWarmPoolReady)
		return nil
	}
	shape := b.WarmPoolShape(c)
	hash := b.WarmPoolShapeHash(c, shape)
	plan := warmpool.Refill(size, hash, warmpool.Of(pool))
	if err := r.releasePooled(ctx, c, pool, plan.Release); err != nil {
		return err
	}
	if plan.Create > 0 {
		// The cache may not hold the instances the last reconcile made: count again on the API
		// server before making more, so that a lagging cache never overfills the pool.
		live, err := shared.WarmPoolInstances(ctx, r.APIReader, c)
		if err != nil {
			return err
		}
		plan.Create = warmpool.Refill(size, hash, warmpool.Of(live)).Create
		if err := r.fillPool(ctx, run, plan.Create); err != nil {
			return verdict.RefusedSide(&run.verdict, saasv1.ConditionWarmPoolReady, "InvalidWarmPool", err)
		}
	}
	metrics.WarmPoolDatabases.WithLabelValues(c.Name, "ready").Set(float64(plan.Ready))
	metrics.WarmPoolDatabases.WithLabelValues(c.Name, "creating").Set(float64(plan.Creating + int32(plan.Create)))
	c.Status.WarmPool = &saasv1.WarmPoolStatus{Size: size, Ready: plan.Ready, Creating: plan.Creating + int32(plan.Create), Shape: b.DescribeDatabase(shape)}
	switch {
	case plan.Ready >= size && len(plan.Release) == 0 && plan.Leaving == 0:
		run.verdict.Side(verdict.Ready(saasv1.ConditionWarmPoolReady, "Full", fmt.Sprintf("%d of %d unclaimed databases ready (%s)", plan.Ready, size, b.DescribeDatabase(shape))))
	case plan.Ready < size:
		run.verdict.Side(verdict.Waiting(saasv1.ConditionWarmPoolReady, "Refilling", fmt.Sprintf("%d of %d unclaimed databases ready, %d being made by RDS; until it is full, new tenants that find it empty make their own",
			plan.Ready, size, plan.Creating+int32(plan.Create))))
	default:
		run.verdict.Side(verdict.Waiting(saasv1.ConditionWarmPoolReady, "Releasing", fmt.Sprintf("%d of %d unclaimed databases ready; %d of another shape or beyond the size being deleted",
			plan.Ready, size, len(plan.Release)+int(plan.Leaving))))
	}
	return nil
}

// releasePooled deletes unclaimed pool instances, each with its deletion settings first (no final
// snapshot: it never held a tenant's data) and only as read: a tenant that claimed one meanwhile
// keeps it (the deletion meets a Conflict and is planned again from a fresh read).
func (r *Reconciler) releasePooled(ctx context.Context, c *saasv1.RegionCell, pool []rds.DBInstance, release []warmpool.Instance) error {
	for _, in := range release {
		for i := range pool {
			db := &pool[i]
			if db.Name != in.Name {
				continue
			}
			if _, err := r.applier().EnsureFields(ctx, b.WarmPoolRelease(db), apply.ReleaseManager); err != nil {
				return client.IgnoreNotFound(err)
			}
			// EnsureFields left db as written, or as read when it already had its settings.
			if err := r.applier().DeleteAsRead(ctx, db); err != nil {
				if apierrors.IsConflict(err) {
					logf.FromContext(ctx).Info("warm-pool database changed while being released; planning again", "instance", db.Name)
				}
				return err
			}
			r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, "WarmPoolReleased", "Delete", "warm-pool database %s released (no final snapshot: it never held a tenant's data)", db.Name)
		}
	}
	return nil
}

// fillPool makes n new pool instances, and once the pool's password.
func (r *Reconciler) fillPool(ctx context.Context, run *cellRun, n int) error {
	if n <= 0 {
		return nil
	}
	c := run.cell
	secret := &corev1.Secret{}
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: run.ns, Name: b.WarmPoolPasswordSecretName}, secret)
	if apierrors.IsNotFound(err) {
		pw, err := shared.NewPassword()
		if err != nil {
			return err
		}
		if _, err := r.applier().CreateOnce(ctx, c, b.WarmPoolPasswordSecret(c, pw)); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	for range n {
		// A name is made only after the API server (not the cache) said how many the pool holds.
		suffix, err := shared.RandomString("abcdefghijkmnpqrstuvwxyz23456789", 8)
		if err != nil {
			return err
		}
		db := b.WarmPoolInstance(c, "pool-"+suffix)
		if _, err := r.applier().Ensure(ctx, c, db); err != nil {
			return err
		}
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, "WarmPoolFilling", "Create", "warm-pool database %s requested in %s", *db.Spec.DBInstanceIdentifier, c.Spec.Region)
	}
	return nil
}
