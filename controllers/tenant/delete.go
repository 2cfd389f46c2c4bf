package tenant

import (
	"context"
	"fmt"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// reconcileDelete takes the tenant apart in an order that never loses data: the database first,
// as spec.database.deletionPolicy says (final snapshot by default), then the cache and the DNS
// record, then what the cells serving it held, then the namespace. The finalizer goes only when
// AWS has let go of all of them.
func (r *Reconciler) reconcileDelete(ctx context.Context, t *saasv1.Tenant, cells []saasv1.RegionCell) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(t, Finalizer) {
		return ctrl.Result{}, nil
	}
	r.placements.Forget(t.UID)
	before := t.DeepCopy()
	ns := b.TenantNamespace(t)
	// The cell whose receivers hear of the deletion: the tenant's own, or, when it was never
	// placed (or its cell is gone), none.
	var cell *saasv1.RegionCell
	if c := placement.FindCell(cells, t.Status.Cell); c != nil {
		cell = c.DeepCopy()
	}

	// Its alarms go first: they would only watch a database going away.
	if r.Kinds.Alerts {
		if err := r.applier().Exactly(ctx, t, nil, &cloudwatch.MetricAlarmList{}, ns, map[string]string{
			saasv1.LabelTenant: t.Name, saasv1.LabelComponent: b.ComponentAlerts}); err != nil {
			return ctrl.Result{}, err
		}
	}
	if err := r.returnClaim(ctx, t, cell); err != nil {
		return ctrl.Result{}, err
	}
	// Another region serves the tenant now (a failover): its DNS record is that region's.
	if elsewhere, err := r.servedElsewhere(ctx, t, cell); err != nil {
		return ctrl.Result{}, err
	} else if elsewhere {
		if err := r.releaseRecord(ctx, t); err != nil {
			return ctrl.Result{}, err
		}
		if err := r.standbyRetained(ctx, t); err != nil {
			return ctrl.Result{}, err
		}
	} else if _, err := r.applier().Absent(ctx, &rds.DBInstance{}, client.ObjectKey{Namespace: ns, Name: b.StandbyDBInstanceName}); err != nil {
		// The standby goes first: it replicates a database about to go, and its data is that
		// database's, which the deletion policy keeps or not.
		return ctrl.Result{}, err
	}
	waitingFor, err := r.releaseDatabase(ctx, t)
	for _, child := range []struct {
		obj  client.Object
		name string
		what string
	}{
		{&ecv1.ReplicationGroup{}, b.CacheName, "the tenant's cache"},
		{&route53.RecordSet{}, b.RecordSetName, "the tenant's DNS record"},
	} {
		if err != nil || waitingFor != "" {
			break
		}
		var gone bool
		if gone, err = r.applier().Absent(ctx, child.obj, client.ObjectKey{Namespace: ns, Name: child.name}); !gone {
			waitingFor = "AWS to delete " + child.what
		}
	}
	if err != nil {
		return ctrl.Result{}, err
	}
	if waitingFor != "" {
		if err := r.patchDeleting(ctx, t, before, "waiting for "+waitingFor); err != nil {
			return ctrl.Result{}, err
		}
		return ctrl.Result{RequeueAfter: shared.DeletionPollInterval}, nil
	}

	r.dropCopies(ctx, t, cells)
	// AWS holds nothing of the tenant any more. The announcement goes into the cell's outbox,
	// which outlives the tenant and delivers at the receivers' pace; the deletion does not wait.
	if cell != nil && notify.HasReceivers(cell) {
		if waiting, err := r.announceDeletion(ctx, t, cell); err != nil {
			return ctrl.Result{}, err
		} else if waiting != "" {
			if err := r.patchDeleting(ctx, t, before, "waiting for "+waiting); err != nil {
				return ctrl.Result{}, err
			}
			return ctrl.Result{RequeueAfter: handOverPoll}, nil
		}
	}
	// Deleted mid-move, it leaves both cells.
	for _, name := range placement.CellsServing(t) {
		if err := r.releaseCell(ctx, t, name); err != nil {
			return ctrl.Result{}, err
		}
	}
	if _, err := r.applier().Absent(ctx, &corev1.Namespace{}, client.ObjectKey{Name: ns}); err != nil {
		return ctrl.Result{}, err
	}
	r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "Deleted", "Delete", "tenant %s removed; database %s", t.Name, deletionOutcome(t))
	controllerutil.RemoveFinalizer(t, Finalizer)
	if err := r.Update(ctx, t); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, err
	}
	metrics.ForgetTenant(t.Name)
	return ctrl.Result{}, nil
}

// handOverPoll is how often a deletion looks whether the delivery it stopped has ended: at most
// one attempt (an HTTP timeout per receiver).
const handOverPoll = 250 * time.Millisecond

// announceDeletion puts the Deleted event in the cell's outbox, and with it an event still owed
// to some receivers when the tenant went, with the receivers that took it. A delivery of that
// event under way is stopped first (it returns what it waits for): the receivers that took it
// are known only once it has recorded them.
func (r *Reconciler) announceDeletion(ctx context.Context, t *saasv1.Tenant, cell *saasv1.RegionCell) (string, error) {
	ns := b.CellNamespace(cell)
	if p := t.Status.PendingNotification; p != nil && r.Notifier.HandOver(p.ID) {
		return "the delivery of " + p.Type + " under way to end", nil
	}
	// The cache may not hold the last delivery's record yet.
	fresh := &saasv1.Tenant{}
	if err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(t), fresh); err != nil {
		return "", err
	}
	if p := fresh.Status.PendingNotification; p != nil {
		if r.Notifier.HandOver(p.ID) {
			return "the delivery of " + p.Type + " under way to end", nil
		}
		if err := notify.PutInOutbox(ctx, r.Client, r.Scheme, cell, ns, notify.NewEvent(fresh, cell, p), p.Delivered); err != nil {
			return "", fmt.Errorf("outbox: %w", err)
		}
	}
	if err := notify.PutInOutbox(ctx, r.Client, r.Scheme, cell, ns, notify.DeletedEvent(t, cell), nil); err != nil {
		return "", fmt.Errorf("outbox: %w", err)
	}
	return "", nil
}

// patchDeleting says what the deletion waits for, through the same summary as every other
// status: the lifecycle holds the tenant (phase Deleting, Ready False and Reconciling True with
// what it waits for), and its parts' conditions stay as they were.
func (r *Reconciler) patchDeleting(ctx context.Context, t, before *saasv1.Tenant, msg string) error {
	v := verdict.Verdict{Phase: saasv1.PhaseDeleting}
	v.HoldOn("Deleting", msg)
	t.Status.Phase = verdict.Summarize(&t.Status.Conditions, t.Generation, nil, v)
	return r.applier().PatchStatus(ctx, t, before)
}

// databaseIdentifier is the RDS identifier of the tenant's database, as recorded when it was made.
func databaseIdentifier(t *saasv1.Tenant, db *rds.DBInstance) string {
	if db != nil && db.Spec.DBInstanceIdentifier != nil {
		return *db.Spec.DBInstanceIdentifier
	}
	if e := t.Status.EffectiveDatabase; e != nil && e.Identifier != "" {
		return e.Identifier
	}
	return "(none)"
}

func deletionOutcome(t *saasv1.Tenant) string {
	switch t.Spec.Database.DeletionPolicy {
	case saasv1.DeletionRetain:
		return "retained in AWS as " + databaseIdentifier(t, nil)
	case saasv1.DeletionDelete:
		return "deleted without snapshot (deletionPolicy Delete)"
	default:
		return "deleted after a final snapshot"
	}
}

// releaseDatabase prepares the DBInstance for the tenant's deletion policy, then deletes its
// custom resource and waits for ACK to finish. It returns what it is still waiting for.
//
// Preparing is a separate write that ACK must apply to AWS before the delete: RDS refuses to
// delete an instance with deletion protection, and ACK reads the snapshot annotations at delete
// time. The delete is issued only once ACK reports the prepared spec synced.
func (r *Reconciler) releaseDatabase(ctx context.Context, t *saasv1.Tenant) (string, error) {
	db := &rds.DBInstance{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: b.TenantNamespace(t), Name: b.DBInstanceName}, db); err != nil {
		if apierrors.IsNotFound(err) {
			return "", nil
		}
		return "", err
	}
	id := databaseIdentifier(t, db)
	if !db.DeletionTimestamp.IsZero() {
		return "RDS to delete " + id + " (" + deletionOutcome(t) + ")", nil
	}
	// The final snapshot is named on the first pass; the date in its name must not move.
	snapshot := db.Annotations[rds.AnnotationFinalSnapshotIdentifier]
	if snapshot == "" {
		snapshot = b.FinalSnapshotIdentifier(id, r.now().UTC().Format("20060102"))
	}
	res, err := r.applier().EnsureFields(ctx, b.DBInstanceRelease(t, snapshot), apply.ReleaseManager)
	if err != nil {
		return "", err
	}
	if res != apply.Unchanged {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "DatabaseReleasing", "Delete", "database %s: %s", id, deletionOutcome(t))
		return "ACK to apply the deletion settings to " + id, nil
	}
	if st := ack.ReadState(db.Status.Conditions); !st.Synced && !st.Terminal {
		return "ACK to apply the deletion settings to " + id + ": " + st.Message, nil
	}
	if _, err := r.applier().Absent(ctx, db, client.ObjectKeyFromObject(db)); err != nil {
		return "", err
	}
	return "RDS to delete " + id, nil
}
