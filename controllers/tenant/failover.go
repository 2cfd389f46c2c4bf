package tenant

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// zoneFences are a hosted zone's fencing records as last read, kept in memory: read again once
// per copy interval, and at the first reconcile after the operator starts (which is when a
// region that was lost comes back), one listing for all the zone's tenants.
type zoneFences struct {
	mu      sync.Mutex
	records map[string]*recovery.Fence
	readAt  time.Time
}

// zone is the fence cache of zoneID.
func (r *Reconciler) zone(zoneID string) *zoneFences {
	v, _ := r.fences.LoadOrStore(zoneID, &zoneFences{})
	return v.(*zoneFences)
}

// remember records a fence this operator wrote, so its next reads agree with it.
func (r *Reconciler) remember(zoneID, name string, f *recovery.Fence) {
	z := r.zone(zoneID)
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.records == nil {
		z.records = map[string]*recovery.Fence{}
	}
	z.records[name] = f
}

// fenced reads the tenant's fencing record when it can fail over (its copies are on, or it is a
// failover itself, or it stood down before): nil when there is none, or the tenant cannot.
func (r *Reconciler) fenced(ctx context.Context, run *tenantRun, cells []saasv1.RegionCell) (*recovery.Fence, error) {
	t, c := run.t, run.cell
	if r.Fences == nil {
		return nil, nil
	}
	interval := recovery.DefaultInterval
	s, off := recovery.For(dbCell(run, cells), t, r.Jurisdictions)
	failover := t.Spec.RestoreFrom != nil && t.Spec.RestoreFrom.FailoverFrom != ""
	switch {
	case off == nil:
		interval = s.Interval
	case !failover && t.Status.ServedFrom == "":
		return nil, nil
	}
	now := r.now()
	z := r.zone(c.Spec.HostedZoneID)
	z.mu.Lock()
	defer z.mu.Unlock()
	if z.records == nil || now.Sub(z.readAt) >= interval {
		all, err := r.Fences.ReadZone(ctx, c.Spec.HostedZoneID)
		if err != nil {
			return z.records[recovery.FenceName(b.Host(t, c))], fmt.Errorf("reading the fencing records of zone %s: %w", c.Spec.HostedZoneID, err)
		}
		z.records, z.readAt = all, now
	}
	return z.records[recovery.FenceName(b.Host(t, c))], nil
}

// standDown is a region's answer to a fencing record that gives its tenant to another region:
// it serves nothing of the tenant (as a suspension does), lets go of the tenant's DNS record
// without deleting it (the other region's now), pauses its copies, and deletes nothing of its
// data. The tenant says where it is served; failing it back is a failover in the other
// direction (docs/operations.md, "Disaster recovery").
func (r *Reconciler) standDown(ctx context.Context, run *tenantRun, f *recovery.Fence) (bool, error) {
	t := run.t
	if t.Status.ServedFrom != f.Region {
		r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "StoodDown", "Failover",
			"%s serves the tenant since %s (fencing epoch %d): this region stands down, deleting nothing", f.Region, f.At.Format(time.RFC3339), f.Epoch)
	}
	t.Status.ServedFrom = f.Region
	// The steps below build what a suspended tenant has: the app answers 404 for it, its own
	// app is scaled to zero, its scheduled work pauses. Only this run's copy of the spec says
	// so; the spec is never written from here.
	t.Spec.Suspended = true
	run.verdict.Phase = saasv1.PhaseFailedOver
	for _, s := range r.steps() {
		if notStandingDown[s.name] {
			continue
		}
		// Every step runs, whatever the one before concluded: each only takes service away.
		if _, err := s.run(ctx, run); err != nil {
			return false, fmt.Errorf("standing down, step %s: %w", s.name, err)
		}
	}
	if err := r.releaseRecord(ctx, t); err != nil {
		return false, err
	}
	// The standby is the serving region's database now (or its to promote): never deleted here.
	if err := r.standbyRetained(ctx, t); err != nil {
		return false, err
	}
	run.verdict.Side(verdict.Stalled(saasv1.ConditionDisasterRecoveryReady, "FailedOver", fmt.Sprintf(
		"%s serves this tenant since %s (fencing record %s, epoch %d): this region stands down and deletes nothing; delete this Tenant here (its deletion policy applies to this region's copy of the data) or fail it back from here (docs/operations.md)",
		f.Region, f.At.Format(time.RFC3339), recovery.FenceName(b.Host(t, run.cell)), f.Epoch)))
	return true, nil
}

// notStandingDown are the onboarding steps a region standing down skips: its alarms would page
// for a database nobody uses, migrations would write to data the other region now owns, and the
// DNS record and moves are the serving region's.
var notStandingDown = map[string]bool{"alarms": true, "migrations": true, "dns": true, "move": true}

// releaseRecord lets go of the tenant's RecordSet without deleting the Route53 record: the
// other region's now.
func (r *Reconciler) releaseRecord(ctx context.Context, t *saasv1.Tenant) error {
	return r.letGo(ctx, &route53.RecordSet{}, client.ObjectKey{Namespace: b.TenantNamespace(t), Name: b.RecordSetName})
}

// letGo deletes the custom resource key of obj's kind without deleting what it stands for in
// AWS: ACK is told to retain it, then the custom resource goes, so this region's ACK never
// writes it again.
func (r *Reconciler) letGo(ctx context.Context, obj client.Object, key client.ObjectKey) error {
	if err := r.Get(ctx, key, obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if obj.GetAnnotations()[ack.AnnotationDeletionPolicy] != "retain" {
		orig, ok := obj.DeepCopyObject().(client.Object)
		if !ok {
			return fmt.Errorf("%T is not a client.Object", obj)
		}
		ann := obj.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[ack.AnnotationDeletionPolicy] = "retain"
		obj.SetAnnotations(ann)
		if err := r.Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
			return client.IgnoreNotFound(err)
		}
	}
	if obj.GetDeletionTimestamp().IsZero() {
		rv := obj.GetResourceVersion()
		return client.IgnoreNotFound(r.Delete(ctx, obj, client.Preconditions{ResourceVersion: &rv}))
	}
	return nil
}

// takeOver is the first step of a failover's database: find the newest copy of the tenant its
// home region made here, claim the tenant in the fencing record, and record both in status. The
// database is made from the copy only once status holds it (reconcileDatabase): a lagging cache
// can make this run again, never make a database from nothing.
func (r *Reconciler) takeOver(ctx context.Context, run *tenantRun) error {
	t, c := run.t, run.cell
	rf := t.Spec.RestoreFrom
	if r.Copier == nil || r.Fences == nil {
		run.verdict.Add(verdict.Stalled(saasv1.ConditionDatabaseReady, "NoRDSAccess",
			"spec.restoreFrom.failoverFrom: this operator was started without RDS and Route53 access for failovers (--disaster-recovery=false)"))
		return nil
	}
	copies, err := r.Copier.FindTagged(ctx, c.Spec.Region, recovery.CopyTags(t.Name, rf.FailoverFrom))
	if err != nil {
		return fmt.Errorf("finding the copies of %s from %s in %s: %w", t.Name, rf.FailoverFrom, c.Spec.Region, err)
	}
	newest := recovery.Newest(copies)
	var homeInterval time.Duration
	if newest != nil {
		homeInterval, _ = time.ParseDuration(newest.Tags[recovery.TagCopyInterval])
	}
	// A standby the home region kept here loses seconds, not a copy interval: it is promoted
	// rather than a copy restored, once RDS reports it available (or at once when it was
	// promoted before: an operator restarted between the promotion and its record).
	var standby *recovery.Replica
	if r.Standbys != nil {
		if standby, err = r.Standbys.FindStandby(ctx, c.Spec.Region, recovery.StandbyTags(t.Name, rf.FailoverFrom)); err != nil {
			return fmt.Errorf("finding the standby of %s from %s in %s: %w", t.Name, rf.FailoverFrom, c.Spec.Region, err)
		}
		if standby != nil && !standby.Available() && standby.Source != "" {
			if newest == nil {
				run.verdict.Add(verdict.Waiting(saasv1.ConditionDatabaseReady, "StandbyNotAvailable", fmt.Sprintf(
					"spec.restoreFrom.failoverFrom: %s's standby %s here is %s, and there is no copy to restore: waiting for it to be available", rf.FailoverFrom, standby.ID, standby.Status)))
				run.requeueIn(30 * time.Second)
				return nil
			}
			standby = nil // being made, or broken: the newest copy is what there is
		}
	}
	now := r.now()
	if reason, msg := recovery.FailoverRefusal(rf, c.Spec.Region, newest, standby, homeInterval, now); reason != "" {
		run.verdict.Add(verdict.Stalled(saasv1.ConditionDatabaseReady, reason, msg))
		// Copies arrive by themselves: look again in a minute; a home region that stopped
		// copying is taken over as soon as its newest copy is two intervals old.
		wait := time.Minute
		if newest != nil && homeInterval > 0 {
			wait = min(wait, max(newest.Created.Add(2*homeInterval).Sub(now), time.Second))
		}
		run.requeueIn(wait)
		return nil
	}
	name := recovery.FenceName(b.Host(t, c))
	prev, err := r.Fences.Read(ctx, c.Spec.HostedZoneID, name)
	if err != nil {
		return fmt.Errorf("reading the fencing record %s: %w", name, err)
	}
	claim := prev
	if prev == nil || prev.Region != c.Spec.Region {
		// Not ours yet (ours already: this region claimed it before a restart).
		next := recovery.Takeover(prev, c.Spec.Region, now)
		if err := r.Fences.Claim(ctx, c.Spec.HostedZoneID, name, prev, next); err != nil {
			return err
		}
		claim = &next
	}
	what := ""
	if standby != nil {
		// Promoted only once the fence is this region's: from then on the home region stands
		// down when it comes back, whatever became of its database. Promoting twice is once.
		if err := r.Standbys.Promote(ctx, c.Spec.Region, standby.ID); err != nil {
			return fmt.Errorf("promoting the standby %s in %s: %w", standby.ID, c.Spec.Region, err)
		}
		what = standbyMessage(standby, rf.FailoverFrom)
	} else {
		what = fmt.Sprintf("restoring copy %s, the data as of %s", newest.ID, newest.Created.UTC().Format(time.RFC3339))
	}
	msg := fmt.Sprintf("%s is served from %s now, taken over from %s (fencing record %s, epoch %d); %s",
		t.Name, c.Spec.Region, rf.FailoverFrom, name, claim.Epoch, what)
	if claim == prev {
		msg += " (claimed before a restart)"
	}
	r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "TookOver", "Failover", "%s", msg)
	r.announce(ctx, run, notify.RecoveryEvent(t, c, notify.TypeFailedOver, fmt.Sprint(claim.Epoch), msg, now))
	r.remember(c.Spec.HostedZoneID, name, claim)
	if standby != nil {
		t.Status.RestoredFrom = &saasv1.RestoredFrom{Region: rf.FailoverFrom, PromotedStandby: standby.ID,
			SnapshotTime: shared.StatusTime(now), Epoch: claim.Epoch}
	} else {
		t.Status.RestoredFrom = &saasv1.RestoredFrom{Region: rf.FailoverFrom, SnapshotIdentifier: newest.ID,
			SnapshotTime: shared.StatusTime(newest.Created), Epoch: claim.Epoch}
	}
	// Status changes do not wake the tenant's reconciler: it looks again once the cache holds
	// what was recorded (and, should it not yet, finds the same copy or standby and the fence
	// its own).
	run.requeueIn(time.Second)
	run.verdict.Add(verdict.Waiting(saasv1.ConditionDatabaseReady, "Restoring", "taking over from "+rf.FailoverFrom+": "+what))
	return nil
}

// dbCell is the cell the tenant's database was made in (copies and fences follow the data),
// or the serving cell before there is one.
func dbCell(run *tenantRun, cells []saasv1.RegionCell) *saasv1.RegionCell {
	if e := run.t.Status.EffectiveDatabase; e != nil {
		if c := placement.FindCell(cells, e.Cell); c != nil {
			return c
		}
	}
	return run.cell
}

// servedElsewhere says whether a tenant being deleted is served by another region now: then its
// DNS record is that region's, and must be let go of, never deleted. The fencing record is read
// afresh: a home cluster that comes back with the tenant's deletion already in Git must not
// delete the record the partner serves it under.
func (r *Reconciler) servedElsewhere(ctx context.Context, t *saasv1.Tenant, cell *saasv1.RegionCell) (bool, error) {
	if t.Status.ServedFrom != "" {
		return true, nil
	}
	held, serves := recovery.HeldEpoch(t)
	if r.Fences == nil || cell == nil || !serves {
		return false, nil
	}
	if _, off := recovery.For(cell, t, r.Jurisdictions); off != nil && t.Status.RestoredFrom == nil {
		return false, nil
	}
	f, err := r.Fences.Read(ctx, cell.Spec.HostedZoneID, recovery.FenceName(b.Host(t, cell)))
	if err != nil {
		return false, fmt.Errorf("reading the fencing record before deleting the DNS record: %w", err)
	}
	return recovery.StandsDown(f, cell.Spec.Region, held), nil
}
