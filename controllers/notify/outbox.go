package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/shared"
)

// The outbox holds lifecycle events that must outlive their Tenant: the Deleted event, and an
// event still pending when the Tenant went. Each is a ConfigMap in the cell's namespace, owned
// by the cell, holding the CloudEvent as it will be sent and the receivers that took it. A
// Tenant's deletion writes its entry and goes on; the Outbox delivers it at the receivers'
// pace, across restarts, and marks it delivered once every receiver the cell names took it.
const (
	// OutboxLabel marks outbox entries.
	OutboxLabel = "saas.tenantops.io/outbox"
	// outboxEvent and outboxDelivered are the entry's data keys.
	outboxEvent     = "event"
	outboxDelivered = "delivered"
	// AnnotationDeliveredAt marks an entry every receiver took. It stays that long as a
	// tombstone, so that a deletion retried after the delivery finds it and does not write the
	// event again.
	AnnotationDeliveredAt = "saas.tenantops.io/delivered-at"
	tombstoneFor          = time.Hour
)

// outboxEntry is the entry holding ev for cell's receivers, in namespace (the cell's).
func outboxEntry(cell *saasv1.RegionCell, namespace string, ev Event, scheme *runtime.Scheme) (*corev1.ConfigMap, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{
			Name: "event-" + ev.ID, Namespace: namespace,
			Labels: map[string]string{
				saasv1.LabelManagedBy: saasv1.LabelManagedByValue, OutboxLabel: "true",
				saasv1.LabelCell: cell.Name, saasv1.LabelComponent: "outbox",
			},
			Annotations: map[string]string{"saas.tenantops.io/event-type": ev.Type, "saas.tenantops.io/tenant-name": ev.Subject},
		},
		Data: map[string]string{outboxEvent: string(body)},
	}
	return cm, controllerutil.SetControllerReference(cell, cm, scheme)
}

// DeletedEvent is the CloudEvent announcing that t is gone. Its ID depends only on the
// Tenant's UID, so writing the entry again after a restart finds the one already there.
func DeletedEvent(t *saasv1.Tenant, cell *saasv1.RegionCell) Event {
	at := t.CreationTimestamp
	if t.DeletionTimestamp != nil {
		at = *t.DeletionTimestamp
	}
	return NewEvent(t, cell, &saasv1.PendingNotification{
		ID: fmt.Sprintf("%s-%s", t.UID, strings.ToLower(PhaseDeleted)), Type: eventTypes[PhaseDeleted], Phase: PhaseDeleted, Time: at,
	})
}

// Disaster-recovery events: not phases, so they go through the cell's outbox.
const (
	// TypeCopiesLate says a tenant's newest copy in its partner region is older than twice its
	// copy interval.
	TypeCopiesLate = "io.tenantops.tenant.copies.late"
	// TypeFailedOver says a region took a tenant over from its home region.
	TypeFailedOver = "io.tenantops.tenant.failedover"
)

// RecoveryEvent is a disaster-recovery event of a tenant; key makes its ID (the same episode,
// put twice, is one event: receivers deduplicate on the ID).
func RecoveryEvent(t *saasv1.Tenant, cell *saasv1.RegionCell, typ, key, msg string, at time.Time) Event {
	ev := NewEvent(t, cell, &saasv1.PendingNotification{
		ID: fmt.Sprintf("%s-%s-%s", t.UID, strings.ReplaceAll(strings.TrimPrefix(typ, "io.tenantops.tenant."), ".", "-"), key), Type: typ,
		Phase: t.Status.Phase, Time: metav1.NewTime(at.UTC().Truncate(time.Second)),
	})
	ev.Data.Message = msg
	return ev
}

// OutboxWorkers is how many outbox entries are delivered at once: an attempt waits up to the
// HTTP timeout for a receiver that does not answer, and one dead receiver must not hold every
// other cell's events behind it.
const OutboxWorkers = 8

// Outbox delivers outbox entries: a reconciler of the ConfigMaps OutboxLabel marks.
type Outbox struct {
	Client client.Client
	Reader client.Reader
	// Notifier sends (its HTTP client, SNS publisher and HMAC key lookup).
	Notifier *Notifier
	Backoff  Backoff

	mu       sync.Mutex
	attempts map[string]int // failed attempts per entry, since this process started
}

// Entries are written only in cells' namespaces, through the binding the operator makes there;
// cluster-wide it reads ConfigMaps.
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch

// SetupWithManager registers the Outbox; only the leader delivers.
func (o *Outbox) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&corev1.ConfigMap{}, builder.WithPredicates(predicate.NewPredicateFuncs(func(obj client.Object) bool {
			return obj.GetLabels()[OutboxLabel] == "true"
		}))).
		Named("outbox").
		WithOptions(controller.Options{MaxConcurrentReconciles: OutboxWorkers, RateLimiter: shared.RetryBackoff()}).
		Complete(o)
}

// Reconcile makes one delivery attempt to every receiver that has not taken the entry. Only
// progress is written (a receiver took it: the delivered list; all took it: the delivered mark);
// a failed attempt writes nothing and comes back after a backoff.
func (o *Outbox) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	// From the API server, not the cache: a cached copy can lag behind the last delivery's
	// progress (or its removal), and would send the event again to a receiver that took it.
	cm := &corev1.ConfigMap{}
	if err := o.Reader.Get(ctx, req.NamespacedName, cm); err != nil {
		o.forget(req.String())
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !cm.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	if at, err := time.Parse(time.RFC3339, cm.Annotations[AnnotationDeliveredAt]); err == nil {
		if wait := time.Until(at.Add(tombstoneFor)); wait > 0 {
			return ctrl.Result{RequeueAfter: wait}, nil
		}
		return ctrl.Result{}, client.IgnoreNotFound(o.Client.Delete(ctx, cm))
	}
	cell := &saasv1.RegionCell{}
	if err := o.Client.Get(ctx, client.ObjectKey{Name: cm.Labels[saasv1.LabelCell]}, cell); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err) // the entry goes with the cell's namespace
	}
	var ev Event
	if err := json.Unmarshal([]byte(cm.Data[outboxEvent]), &ev); err != nil {
		logf.FromContext(ctx).Error(err, "unreadable outbox entry; removing it")
		return ctrl.Result{}, client.IgnoreNotFound(o.Client.Delete(ctx, cm))
	}
	p := &saasv1.PendingNotification{ID: ev.ID, Type: ev.Type, Phase: ev.Data.Phase}
	if d := cm.Data[outboxDelivered]; d != "" {
		p.Delivered = strings.Split(d, ",")
	}
	before := len(p.Delivered)
	var failures []string
	if HasReceivers(cell) {
		failures = o.Notifier.attempt(ctx, ev.Subject, cell, p, []byte(cm.Data[outboxEvent]))
	}
	if len(p.Delivered) > before || len(failures) == 0 {
		patch := client.MergeFrom(cm.DeepCopy())
		cm.Data[outboxDelivered] = strings.Join(p.Delivered, ",")
		if len(failures) == 0 {
			if cm.Annotations == nil {
				cm.Annotations = map[string]string{}
			}
			cm.Annotations[AnnotationDeliveredAt] = time.Now().UTC().Format(time.RFC3339)
		}
		if err := o.Client.Patch(ctx, cm, patch); err != nil {
			return ctrl.Result{}, err
		}
	}
	if len(failures) == 0 {
		o.forget(req.String())
		o.Notifier.Recorder.Eventf(cell, nil, corev1.EventTypeNormal, "Notified", "Notify", "%s of tenant %s delivered to %s",
			ev.Type, ev.Subject, strings.Join(p.Delivered, ", "))
		return ctrl.Result{RequeueAfter: tombstoneFor}, nil
	}
	delay := o.failed(req.String())
	logf.FromContext(ctx).Info("lifecycle event not delivered yet; retrying", "event", ev.ID, "in", delay.String(),
		"error", strings.Join(failures, "; "))
	return ctrl.Result{RequeueAfter: delay}, nil
}

// failed counts a failed attempt and returns how long to wait before the next one.
func (o *Outbox) failed(key string) time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.attempts == nil {
		o.attempts = map[string]int{}
	}
	o.attempts[key]++
	return o.Backoff.orDefault().Delay(o.attempts[key])
}

func (o *Outbox) forget(key string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.attempts, key)
}

// PutInOutbox writes the outbox entry for ev, which the receivers in delivered took already,
// unless it is there already.
func PutInOutbox(ctx context.Context, c client.Client, scheme *runtime.Scheme, cell *saasv1.RegionCell, namespace string, ev Event, delivered []string) error {
	cm, err := outboxEntry(cell, namespace, ev, scheme)
	if err != nil {
		return err
	}
	if len(delivered) > 0 {
		cm.Data[outboxDelivered] = strings.Join(delivered, ",")
	}
	if err := c.Create(ctx, cm); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return nil
}

// Owed lists the entries of namespace not yet taken by every receiver, as "<event type> of
// <tenant>", read from the API server (a cache a step behind the last delivery would hold a
// cell's deletion for an event already delivered, or let it go before one is).
func Owed(ctx context.Context, r client.Reader, namespace string) ([]string, error) {
	var list corev1.ConfigMapList
	if err := r.List(ctx, &list, client.InNamespace(namespace), client.MatchingLabels{OutboxLabel: "true"}); err != nil {
		return nil, err
	}
	var owed []string
	for _, cm := range list.Items {
		if cm.Annotations[AnnotationDeliveredAt] == "" && cm.DeletionTimestamp.IsZero() {
			owed = append(owed, cm.Annotations["saas.tenantops.io/event-type"]+" of "+cm.Annotations["saas.tenantops.io/tenant-name"])
		}
	}
	sort.Strings(owed)
	return owed, nil
}
