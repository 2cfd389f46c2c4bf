package tenant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// reconcileRecovery keeps the tenant's copies in its partner region current (docs/operations.md,
// "Disaster recovery"). It runs after the onboarding steps whatever they concluded, and never
// stops them: a copy failing or late is a side condition, never a reason not to serve. AWS is
// asked only when a cycle is due or under way; at rest it costs nothing but the requeue.
func (r *Reconciler) reconcileRecovery(ctx context.Context, run *tenantRun, cells []saasv1.RegionCell) {
	t := run.t
	// The copies follow the data: the cell the database was made in, which a move keeps.
	cell := dbCell(run, cells)
	s, off := recovery.For(cell, t, r.Jurisdictions)
	if off == nil && r.Copier == nil {
		off = &recovery.Off{Reason: "NoRDSAccess", Stalled: true,
			Message: "cell " + cell.Name + " makes copies, but this operator was started without RDS access for them (--disaster-recovery=false)"}
	}
	if off != nil {
		run.verdict.Side(recovery.Part(s, off, nil, false, ""))
		metrics.ForgetRecoveryPoint(t.Name)
		return
	}
	e := t.Status.EffectiveDatabase
	// RDS snapshots an available instance only (not one it is modifying); a tenant with a copy
	// already keeps its condition meanwhile, and turns late if the wait outlasts two intervals.
	dbAvailable := e != nil && e.Identifier != "" && databaseAvailable(run)
	if !dbAvailable && t.Status.RecoveryPoint == nil {
		run.verdict.Side(verdict.Waiting(saasv1.ConditionDisasterRecoveryReady, "WaitingForDatabase", "copies to "+s.Partner+" start once the database is available"))
		return
	}
	now := r.now()
	rp := t.Status.RecoveryPoint
	if rp != nil && rp.Region != s.Partner {
		rp = nil // the cell names another partner now: the old copies are not where a failover looks
	}
	failure := ""
	after := recovery.Poll(s)
	switch due, wait := recovery.Due(s, rp, now); {
	case !due:
		after = wait
	case !dbAvailable:
		// Due, but the database is not available for a snapshot: look again soon.
	default:
		plan, err := r.copyStep(ctx, run, cell, s, rp, now)
		if err != nil {
			failure = err.Error()
			break
		}
		after, failure = plan.After, plan.Failure
		if plan.Record != nil {
			t.Status.RecoveryPoint, rp = plan.Record, plan.Record
			if err := r.establishFence(ctx, run); err != nil {
				failure = err.Error()
			}
		}
	}
	since := now
	if t.Status.ReadySince != nil {
		since = t.Status.ReadySince.Time
	}
	late := recovery.Late(s, rp, since, now)
	part := recovery.Part(s, nil, rp, late, failure)
	if failure != "" {
		metrics.RecoveryCopyFailures.WithLabelValues(cell.Name).Inc()
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "CopyFailed", "Copy", "copy to %s: %s", s.Partner, failure)
	}
	if late && verdict.Condition(t.Status.Conditions, saasv1.ConditionDisasterRecoveryReady).Reason != "CopiesLate" {
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "CopiesLate", "Copy", "%s", part.Message)
		// Billing, CRM and the platform team's receivers hear it once per late episode (keyed by
		// the recovery point that aged): a failover now would lose more than promised.
		key := "none"
		if rp != nil {
			key = fmt.Sprint(rp.SnapshotTime.Unix())
		}
		r.announce(ctx, run, notify.RecoveryEvent(t, run.cell, notify.TypeCopiesLate, key, part.Message, now))
	}
	run.verdict.Side(part)
	if rp != nil {
		metrics.SetRecoveryPoint(t.Name, cell.Name, rp.SnapshotTime.Time, s.Interval)
		if !late {
			// Look again when the copy would become late, should no cycle land before.
			after = min(after, rp.SnapshotTime.Add(2*s.Interval).Sub(now)+1)
		}
	}
	run.requeueIn(max(after, 1))
}

// copyStep reads what AWS holds of the tenant's copy cycles and takes the next step.
func (r *Reconciler) copyStep(ctx context.Context, run *tenantRun, cell *saasv1.RegionCell, s recovery.Settings, rp *saasv1.RecoveryPoint, now time.Time) (recovery.Plan, error) {
	db := run.t.Status.EffectiveDatabase.Identifier
	prefix := recovery.SnapshotPrefix(db)
	var obs recovery.Observed
	var err error
	if obs.Home, err = r.Copier.List(ctx, s.Home, db, prefix); err != nil {
		return recovery.Plan{}, fmt.Errorf("listing the snapshots in %s: %w", s.Home, err)
	}
	if obs.Partner, err = r.Copier.List(ctx, s.Partner, db, prefix); err != nil {
		return recovery.Plan{}, fmt.Errorf("listing the copies in %s: %w", s.Partner, err)
	}
	plan := recovery.Next(s, db, rp, obs, now)
	tags := recovery.Tags(run.t, cell.Name, s)
	var errs []error
	if plan.Create != "" {
		if err := r.Copier.Create(ctx, s.Home, db, plan.Create, tags); err != nil {
			errs = append(errs, fmt.Errorf("snapshot in %s: %w", s.Home, err))
		}
	}
	if plan.Copy != nil {
		if err := r.Copier.Copy(ctx, *plan.Copy, s.Home, s.Partner, s.KMSKeyID, tags); err != nil {
			errs = append(errs, fmt.Errorf("copy to %s: %w", s.Partner, err))
		}
	}
	for _, id := range plan.DeleteHome {
		if err := r.Copier.Delete(ctx, s.Home, id); err != nil {
			errs = append(errs, fmt.Errorf("deleting %s in %s: %w", id, s.Home, err))
		}
	}
	for _, id := range plan.DeletePartner {
		if err := r.Copier.Delete(ctx, s.Partner, id); err != nil {
			errs = append(errs, fmt.Errorf("deleting %s in %s: %w", id, s.Partner, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		plan.Failure = err.Error()
		plan.After = recovery.Poll(s)
	}
	return plan, nil
}

// databaseAvailable says whether this reconcile found the tenant's database available.
func databaseAvailable(run *tenantRun) bool {
	for _, p := range run.verdict.Parts {
		if p.Type == saasv1.ConditionDatabaseReady {
			return p.Status == metav1.ConditionTrue
		}
	}
	return false
}

// dropCopies deletes a deleted tenant's copy-cycle snapshots in both regions when its deletion
// policy deletes its data (Delete); Snapshot and Retain keep them, as they keep the data. It
// never holds the deletion: what it cannot delete it names in an Event, for a person to delete.
func (r *Reconciler) dropCopies(ctx context.Context, t *saasv1.Tenant, cells []saasv1.RegionCell) {
	e := t.Status.EffectiveDatabase
	if r.Copier == nil || e == nil || e.Identifier == "" || t.Spec.Database.DeletionPolicy != saasv1.DeletionDelete {
		return
	}
	cell := placement.FindCell(cells, e.Cell)
	if cell == nil || cell.Spec.DisasterRecovery == nil {
		if t.Status.RecoveryPoint == nil {
			return
		}
	}
	regions := []string{t.Spec.Region}
	if rp := t.Status.RecoveryPoint; rp != nil {
		regions = append(regions, rp.Region)
	}
	if cell != nil && cell.Spec.DisasterRecovery != nil && !slices.Contains(regions, cell.Spec.DisasterRecovery.PartnerRegion) {
		regions = append(regions, cell.Spec.DisasterRecovery.PartnerRegion)
	}
	prefix := recovery.SnapshotPrefix(e.Identifier)
	var left []string
	for _, region := range regions {
		snaps, err := r.Copier.List(ctx, region, e.Identifier, prefix)
		if err != nil {
			left = append(left, fmt.Sprintf("%s* in %s (%v)", prefix, region, err))
			continue
		}
		for _, s := range snaps {
			if err := r.Copier.Delete(ctx, region, s.ID); err != nil {
				left = append(left, fmt.Sprintf("%s in %s (%v)", s.ID, region, err))
			}
		}
	}
	if len(left) > 0 {
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "CopiesLeft", "Delete",
			"deletionPolicy Delete: these copies could not be deleted and are left for a person to delete: %s", strings.Join(left, "; "))
	}
}

// establishFence writes the tenant's first fencing record, naming its home region, once it has a
// copy to fail over to: from then on every takeover replaces a record it read (a
// compare-and-swap), never creates one. Once per tenant.
func (r *Reconciler) establishFence(ctx context.Context, run *tenantRun) error {
	if r.Fences == nil {
		return nil
	}
	c := run.cell
	name := recovery.FenceName(b.Host(run.t, c))
	z := r.zone(c.Spec.HostedZoneID)
	z.mu.Lock()
	known := z.records != nil && z.records[name] != nil
	z.mu.Unlock()
	if known {
		return nil
	}
	f := recovery.Takeover(nil, run.t.Spec.Region, r.now())
	if err := r.Fences.Claim(ctx, c.Spec.HostedZoneID, name, nil, f); err != nil {
		return err
	}
	r.remember(c.Spec.HostedZoneID, name, &f)
	return nil
}

// announce puts a disaster-recovery event in the serving cell's outbox, which delivers it at its
// receivers' pace. It never holds the reconcile: an event that could not be put is logged, and
// the Kubernetes Event recorded beside it stands.
func (r *Reconciler) announce(ctx context.Context, run *tenantRun, ev notify.Event) {
	if run.cell == nil || !notify.HasReceivers(run.cell) {
		return
	}
	if err := notify.PutInOutbox(ctx, r.Client, r.Scheme, run.cell, b.CellNamespace(run.cell), ev, nil); err != nil {
		logf.FromContext(ctx).Error(err, "disaster-recovery event not put in the outbox", "type", ev.Type)
	}
}
