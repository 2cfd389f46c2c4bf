package tenant

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/report"
	"github.com/tenantops/tenant-operator/controllers/rollout"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// reconcileDatabase makes the master password (once, never again) and the DBInstance, and waits
// for RDS to report it available with an endpoint.
func (r *Reconciler) reconcileDatabase(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	password, err := r.masterPassword(ctx, run)
	if err != nil || password == "" {
		return false, err
	}
	run.password = password

	if rf := t.Spec.RestoreFrom; rf != nil && rf.FailoverFrom != "" && t.Status.RestoredFrom == nil {
		return false, r.takeOver(ctx, run)
	}
	if pending, err := r.claimFromPool(ctx, run); err != nil || pending {
		return false, err
	}
	eff, note, engineVersion, err := r.effectiveDatabase(ctx, run)
	if err != nil {
		return false, err
	}
	db := b.DBInstance(t, c, eff, engineVersion)
	if res, err := r.applier().Ensure(ctx, t, db); err != nil {
		return false, verdict.Refused(&run.verdict, saasv1.ConditionDatabaseReady, "InvalidDatabase", "", err)
	} else if res == apply.Created && eff.ClaimedFrom != "" {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "DatabaseAdopted", "Create",
			"RDS DBInstance %s, claimed from the warm pool, adopted with the tenant's own password", *db.Spec.DBInstanceIdentifier)
	} else if res == apply.Created {
		msg := ""
		if why := notFromPool(t, c, eff); why != "" {
			metrics.WarmPoolClaims.WithLabelValues(c.Name, "missed").Inc()
			msg = "; not from the warm pool: " + why
		}
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "DatabaseCreated", "Create",
			"RDS DBInstance %s requested in %s%s", *db.Spec.DBInstanceIdentifier, c.Spec.Region, msg)
	}
	if had := t.Status.EffectiveDatabase; had != nil && !b.SameDatabase(*had, eff) {
		now := shared.StatusTime(r.now())
		eff.ChangedAt = &now
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "DatabaseModifying", "Modify", "database %s: %s",
			*db.Spec.DBInstanceIdentifier, describeDatabaseChange(*had, eff))
	}
	t.Status.EffectiveDatabase = &eff
	st := ack.ReadState(db.Status.Conditions)
	switch {
	case st.Terminal && db.Status.Endpoint != nil && db.Status.Endpoint.Address != nil && rollout.CellDriven(t, c, eff):
		// RDS refused what the cell's defaults rollout asked of a database that serves: a
		// failure of the rollout, which pauses naming the tenant, not of the tenant. It keeps
		// serving as it was; billing and CRM hear nothing.
		storeEndpoint(run, db)
		run.verdict.Add(verdict.Ready(saasv1.ConditionDatabaseReady, rollout.ReasonDefaultsRefused, fmt.Sprintf(
			"RDS refused the cell's database defaults %s for %s: %s; the database serves as it was, and the cell's rollout is paused until its defaults change",
			eff.DefaultsRevision, *db.Spec.DBInstanceIdentifier, st.Message)))
		return true, nil
	case st.Terminal:
		run.verdict.Add(verdict.Stalled(saasv1.ConditionDatabaseReady, st.Reason, "RDS: "+st.Message))
		return false, nil
	case !st.Synced || db.Status.Endpoint == nil || db.Status.Endpoint.Address == nil:
		reason, msg := st.Reason, "RDS instance "+*db.Spec.DBInstanceIdentifier+" "+report.DBStatus(db)+": "+st.Message
		if why := notFromPool(t, c, eff); why != "" && t.Status.ReadySince == nil {
			reason, msg = "NotFromWarmPool", msg+" (its own database, not one of the warm pool's: "+why+")"
		}
		run.verdict.Add(verdict.Waiting(saasv1.ConditionDatabaseReady, reason, msg))
		return false, nil
	case eff.ChangedAt != nil && !ack.SyncedSince(db.Status.Conditions, eff.ChangedAt.Time):
		// The database keeps serving while RDS modifies it: the later steps go on.
		run.verdict.Add(verdict.Waiting(saasv1.ConditionDatabaseReady, "Modifying", fmt.Sprintf("RDS is modifying %s to %s",
			*db.Spec.DBInstanceIdentifier, b.DescribeDatabase(eff))))
		storeEndpoint(run, db)
		return true, nil
	}
	storeEndpoint(run, db)
	msg := "RDS instance " + *db.Spec.DBInstanceIdentifier + " is available (" + b.DescribeDatabase(eff) + ")"
	if note != "" {
		msg += "; " + note
	}
	run.verdict.Add(verdict.Ready(saasv1.ConditionDatabaseReady, "Available", msg))
	return true, nil
}

// storeEndpoint keeps where the available database listens, for the configuration and status.
func storeEndpoint(run *tenantRun, db *rds.DBInstance) {
	run.endpoints.DBAddress = *db.Status.Endpoint.Address
	run.endpoints.DBPort = b.DBPort
	if db.Status.Endpoint.Port != nil {
		run.endpoints.DBPort = *db.Status.Endpoint.Port
	}
	run.t.Status.Database = &saasv1.DatabaseEndpoint{Address: run.endpoints.DBAddress, Port: run.endpoints.DBPort}
}

// effectiveDatabase resolves the database the tenant should have (builders.ResolveDatabase)
// from what it has: its status record, or, when that is missing, the live DBInstance read past
// the cache, so that a cache miss never reshapes a running database to today's defaults.
func (r *Reconciler) effectiveDatabase(ctx context.Context, run *tenantRun) (eff saasv1.EffectiveDatabase, note, engineVersion string, err error) {
	t, c := run.t, run.cell
	live := &rds.DBInstance{}
	key := types.NamespacedName{Namespace: run.ns, Name: b.DBInstanceName}
	err = r.Get(ctx, key, live)
	if apierrors.IsNotFound(err) && t.Status.EffectiveDatabase == nil {
		err = r.APIReader.Get(ctx, key, live)
	}
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return eff, "", "", err
	}
	had := t.Status.EffectiveDatabase
	if had == nil && exists {
		had = b.EffectiveDatabaseOf(live)
	}
	if exists && live.Spec.EngineVersion != nil {
		engineVersion = *live.Spec.EngineVersion
	}
	eff, note = b.ResolveDatabase(t, c, had, had != nil && rollout.InDefaultsRollout(t, c, had))
	if had != nil {
		eff.ChangedAt = had.ChangedAt
	}
	return eff, note, engineVersion, nil
}

func describeDatabaseChange(from, to saasv1.EffectiveDatabase) string {
	return b.DescribeDatabase(from) + " -> " + b.DescribeDatabase(to)
}

// masterPassword returns the database's master password, generating it exactly once: the
// Secret is created, never applied over, and when the cache has not seen it yet the API server
// is asked. An existing Secret without the password is reported, never refilled: the database
// may already run with the lost one.
func (r *Reconciler) masterPassword(ctx context.Context, run *tenantRun) (string, error) {
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: run.ns, Name: b.DBPasswordSecretName}
	err := r.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, secret)
	}
	switch {
	case apierrors.IsNotFound(err):
		pw, err := r.NewPassword()
		if err != nil {
			return "", err
		}
		secret = b.DBPasswordSecret(run.t, run.cell, pw)
		if _, err := r.applier().CreateOnce(ctx, run.t, secret); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	pw := string(secret.Data[b.DBPasswordKey])
	if pw == "" {
		run.verdict.Add(verdict.Stalled(saasv1.ConditionDatabaseReady, "PasswordMissing", fmt.Sprintf(
			"Secret %s/%s has no key %q: restore the master password the database was created with (the operator never generates a second one)",
			run.ns, b.DBPasswordSecretName, b.DBPasswordKey)))
	}
	return pw, nil
}
