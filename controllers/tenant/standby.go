package tenant

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// lagReading is a standby's lag as last read from CloudWatch, kept in memory so that a tenant
// reconciled often costs one read a minute.
type lagReading struct {
	readAt time.Time
	lag    time.Duration
	known  bool
}

// reconcileStandby keeps a dedicated tenant's warm standby (docs/operations.md, "Disaster
// recovery"): a read replica of its database in the partner region, declared with ACK, its lag
// read from CloudWatch once a minute. Like the copies it runs after the steps and never stops
// serving: a standby being made or lagging is a side condition.
func (r *Reconciler) reconcileStandby(ctx context.Context, run *tenantRun, cells []saasv1.RegionCell) {
	t := run.t
	cell := dbCell(run, cells)
	s, off := recovery.StandbyFor(cell, t, r.Jurisdictions)
	if s == nil {
		r.dropStandby(ctx, run)
		if off != nil {
			run.verdict.Side(verdict.Stalled(saasv1.ConditionStandbyReady, off.Reason, off.Message))
		}
		return
	}
	e := t.Status.EffectiveDatabase
	primary := &rds.DBInstance{}
	if err := r.Get(ctx, client.ObjectKey{Namespace: run.ns, Name: b.DBInstanceName}, primary); client.IgnoreNotFound(err) != nil {
		logf.FromContext(ctx).Error(err, "reading the tenant's database for its standby")
		return
	}
	sourceARN := ""
	if m := primary.Status.ACKResourceMetadata; m != nil && m.ARN != nil {
		sourceARN = string(*m.ARN)
	}
	if e == nil || e.Identifier == "" || sourceARN == "" {
		run.verdict.Side(verdict.Waiting(saasv1.ConditionStandbyReady, "WaitingForDatabase", "the standby in "+s.Partner+" is made once the database exists"))
		return
	}
	id := recovery.StandbyIdentifier(e.Identifier)
	want := b.StandbyDBInstance(t, cell, *e, b.Standby{Identifier: id, Region: s.Partner, SourceARN: sourceARN, SourceRegion: s.Home,
		KMSKeyID: s.KMSKeyID, SubnetGroupName: s.SubnetGroupName, SecurityGroupIDs: s.SecurityGroupIDs, Tags: recovery.StandbyTags(t.Name, s.Home)})
	res, err := r.applier().Ensure(ctx, t, want)
	if err != nil {
		if rerr := verdict.RefusedSide(&run.verdict, saasv1.ConditionStandbyReady, "InvalidStandby", err); rerr != nil {
			logf.FromContext(ctx).Error(rerr, "writing the standby")
		}
		return
	}
	if res == apply.Created {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "StandbyCreated", "Create", "read replica %s of %s requested in %s", id, e.Identifier, s.Partner)
	}
	st := ack.ReadState(want.Status.Conditions)
	o := recovery.StandbyObserved{Exists: st.Synced || want.Status.DBInstanceStatus != nil,
		Available: st.Synced && want.Status.DBInstanceStatus != nil && *want.Status.DBInstanceStatus == rds.StatusAvailable}
	if st.Terminal {
		o.Failure = "ACK: " + st.Message
	}
	t.Status.Standby = standbyStatus(t.Status.Standby, s, id)
	if o.Available {
		o.Lag, o.LagKnown = r.standbyLag(ctx, t, s, id)
		run.requeueIn(r.lagPoll())
	}
	if o.LagKnown {
		metrics.SetStandbyLag(t.Name, cell.Name, o.Lag, s.MaxLag)
		if recovery.RecordLag(t.Status.Standby.LagSeconds, o.Lag, s.MaxLag) {
			secs, at := int64(o.Lag/time.Second), shared.StatusTime(r.now())
			t.Status.Standby.LagSeconds, t.Status.Standby.LagObservedAt = &secs, &at
		}
	}
	part := recovery.StandbyPart(s, id, o)
	if part.Reason == "StandbyLagging" && verdict.Condition(t.Status.Conditions, saasv1.ConditionStandbyReady).Reason != "StandbyLagging" {
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "StandbyLagging", "Replicate", "%s", part.Message)
	}
	run.verdict.Side(part)
}

// standbyStatus is status.standby for the replica id of s, keeping the lag recorded for it.
func standbyStatus(had *saasv1.StandbyStatus, s *recovery.StandbySettings, id string) *saasv1.StandbyStatus {
	if had != nil && had.Region == s.Partner && had.DBInstanceIdentifier == id {
		return had
	}
	return &saasv1.StandbyStatus{Region: s.Partner, DBInstanceIdentifier: id}
}

func (r *Reconciler) lagPoll() time.Duration {
	if r.LagPoll > 0 {
		return r.LagPoll
	}
	return recovery.LagPoll
}

// standbyLag is the standby's lag, read from CloudWatch at most once a minute per tenant.
func (r *Reconciler) standbyLag(ctx context.Context, t *saasv1.Tenant, s *recovery.StandbySettings, id string) (time.Duration, bool) {
	if r.Lag == nil {
		return 0, false
	}
	now := r.now()
	if v, ok := r.lags.Load(t.UID); ok {
		if last := v.(lagReading); now.Sub(last.readAt) < r.lagPoll() {
			return last.lag, last.known
		}
	}
	lag, _, known, err := r.Lag.ReplicaLag(ctx, s.Partner, id)
	if err != nil {
		logf.FromContext(ctx).Error(err, "reading the standby's replica lag", "standby", id, "region", s.Partner)
		if v, ok := r.lags.Load(t.UID); ok {
			last := v.(lagReading)
			return last.lag, last.known
		}
		return 0, false
	}
	r.lags.Store(t.UID, lagReading{readAt: now, lag: lag, known: known})
	return lag, known
}

// dropStandby deletes the standby of a tenant that no longer asks for one (ACK deletes the
// replica; the database keeps the data), and forgets what status said of it.
func (r *Reconciler) dropStandby(ctx context.Context, run *tenantRun) {
	t := run.t
	if t.Status.Standby == nil && apimeta.FindStatusCondition(t.Status.Conditions, saasv1.ConditionStandbyReady) == nil {
		return // never had one: nothing to read or delete
	}
	gone, err := r.applier().Absent(ctx, &rds.DBInstance{}, client.ObjectKey{Namespace: run.ns, Name: b.StandbyDBInstanceName})
	if err != nil {
		logf.FromContext(ctx).Error(err, "deleting the standby")
		return
	}
	if !gone {
		run.verdict.Side(verdict.Waiting(saasv1.ConditionStandbyReady, "StandbyDeleting", "the standby is no longer asked for (spec.disasterRecovery.standby) and is being deleted"))
		run.requeueIn(shared.DeletionPollInterval)
		return
	}
	if t.Status.Standby != nil {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "StandbyDeleted", "Delete", "read replica %s in %s deleted", t.Status.Standby.DBInstanceIdentifier, t.Status.Standby.Region)
	}
	t.Status.Standby = nil
	apimeta.RemoveStatusCondition(&t.Status.Conditions, saasv1.ConditionStandbyReady)
	metrics.ForgetStandbyLag(t.Name)
	r.lags.Delete(t.UID)
}

// standbyRetained lets go of the tenant's standby without deleting the replica (ACK is told to
// retain it): at a failover the partner region promoted and adopted it, or may still.
func (r *Reconciler) standbyRetained(ctx context.Context, t *saasv1.Tenant) error {
	return r.letGo(ctx, &rds.DBInstance{}, client.ObjectKey{Namespace: b.TenantNamespace(t), Name: b.StandbyDBInstanceName})
}

// standbyMessage says what a failover promoted.
func standbyMessage(rep *recovery.Replica, from string) string {
	return fmt.Sprintf("promoting %s's standby %s (the data as of its last replicated write)", from, rep.ID)
}
