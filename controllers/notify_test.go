package controllers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/shared"
)

// receiver is a webhook endpoint on loopback that checks signatures, fails the first few
// deliveries on purpose, and records what it accepted.
type receiver struct {
	key       []byte
	failFirst int
	mu        sync.Mutex
	seen      int
	accepted  map[string][]notify.Event // by receiver path
	bad       []string
	// hold, when set, is called before a request to path is answered (outside the lock, so
	// other paths are answered meanwhile).
	hold func(path string)
}

func newReceiver(key string, failFirst int) (*receiver, *httptest.Server) {
	r := &receiver{key: []byte(key), failFirst: failFirst, accepted: map[string][]notify.Event{}}
	return r, httptest.NewServer(r)
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	hold := r.hold
	r.mu.Unlock()
	if hold != nil {
		hold(req.URL.Path)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if got, want := req.Header.Get(notify.HeaderSignature), notify.Sign(r.key, body); got != want {
		r.bad = append(r.bad, "bad signature "+got)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if req.Header.Get("Content-Type") != notify.ContentType {
		r.bad = append(r.bad, "content type "+req.Header.Get("Content-Type"))
	}
	r.seen++
	if r.seen <= r.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ev notify.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		r.bad = append(r.bad, err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if ev.ID != req.Header.Get(notify.HeaderDelivery) {
		r.bad = append(r.bad, "delivery header differs from the event id")
	}
	r.accepted[req.URL.Path] = append(r.accepted[req.URL.Path], ev)
	w.WriteHeader(http.StatusAccepted)
}

// typesAt lists the event types a path accepted, and fails on duplicates of an ID.
func (r *receiver) typesAt(path string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.bad) > 0 {
		return nil, fmt.Errorf("bad deliveries: %v", r.bad)
	}
	seen := map[string]bool{}
	var types []string
	for _, ev := range r.accepted[path] {
		if seen[ev.ID] {
			return nil, fmt.Errorf("event %s delivered twice to %s", ev.ID, path)
		}
		seen[ev.ID] = true
		types = append(types, ev.Type)
	}
	return types, nil
}

func hmacSecret(t testing.TB, ns, key string) *saasv1.SecretKeyRef {
	t.Helper()
	ctx := context.Background()
	_ = k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	must(t, k8s.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "webhook-hmac"},
		Data: map[string][]byte{"key": []byte(key)}}))
	return &saasv1.SecretKeyRef{Namespace: ns, Name: "webhook-hmac", Key: "key"}
}

func waitTypes(t testing.TB, r *receiver, path string, want ...string) {
	t.Helper()
	eventually(t, "events at "+path, func() error {
		got, err := r.typesAt(path)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestLifecycleEventsAreSignedRetriedAndDeliveredOnce(t *testing.T) {
	ctx := context.Background()
	rcv, srv := newReceiver("s3cret-hmac", 3)
	defer srv.Close()
	cell := servingCell(t, "eus1", "eu-south-1", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{
			Webhooks: []saasv1.Webhook{
				{Name: "crm", Purpose: "CRM", URL: srv.URL + "/crm"},
				{Name: "billing", Purpose: "Billing", URL: srv.URL + "/billing"},
			},
			HMACSecretRef: hmacSecret(t, "notify-test", "s3cret-hmac"),
		}
	})
	tenant := newTenant("loud", "eu-south-1", func(tn *saasv1.Tenant) { tn.Spec.Database.DeletionPolicy = saasv1.DeletionRetain })
	create(t, tenant)
	onboard(t, cell, tenant)

	waitTypes(t, rcv, "/crm", "io.tenantops.tenant.ready")
	waitTypes(t, rcv, "/billing", "io.tenantops.tenant.ready")
	eventually(t, "notification recorded", func() error {
		got := &saasv1.Tenant{}
		must(t, get(t, got, "", "loud"))
		if got.Status.NotifiedPhase != saasv1.PhaseReady || got.Status.PendingNotification != nil {
			return fmt.Errorf("notified %q pending %+v", got.Status.NotifiedPhase, got.Status.PendingNotification)
		}
		return nil
	})
	rcv.mu.Lock()
	ev := rcv.accepted["/crm"][0]
	rcv.mu.Unlock()
	if ev.SpecVersion != "1.0" || ev.Subject != "loud" || ev.Source != "tenantops.io/cells/eus1" || ev.Data.URL != "https://loud.website.com" ||
		ev.Data.Phase != saasv1.PhaseReady || ev.Data.AdminEmail != "admin@loud.example" {
		t.Errorf("event: %+v", ev)
	}

	got := &saasv1.Tenant{}
	must(t, get(t, got, "", "loud"))
	got.Spec.Suspended = true
	must(t, k8s.Update(ctx, got))
	waitTypes(t, rcv, "/crm", "io.tenantops.tenant.ready", "io.tenantops.tenant.suspended")
	waitTypes(t, rcv, "/billing", "io.tenantops.tenant.ready", "io.tenantops.tenant.suspended")

	must(t, k8s.Delete(ctx, got))
	waitTypes(t, rcv, "/crm", "io.tenantops.tenant.ready", "io.tenantops.tenant.suspended", "io.tenantops.tenant.deleted")
	waitTypes(t, rcv, "/billing", "io.tenantops.tenant.ready", "io.tenantops.tenant.suspended", "io.tenantops.tenant.deleted")
	eventually(t, "tenant gone after its deletion was announced", func() error {
		if err := get(t, &saasv1.Tenant{}, "", "loud"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
}

// A tenant deleted while its last event is being delivered (one receiver took it, the other has
// not answered yet) hands the event to the outbox only once that delivery has ended, and with
// what it delivered: the receiver that took it is not sent it again.
func TestDeletionMidDeliveryDoesNotSendTheEventTwice(t *testing.T) {
	ctx := context.Background()
	rcv, srv := newReceiver("k4", 0)
	defer srv.Close()
	cell := servingCell(t, "apne2", "ap-northeast-2", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{
			Webhooks:      []saasv1.Webhook{{Name: "crm", URL: srv.URL + "/crm"}, {Name: "billing", URL: srv.URL + "/billing"}},
			HMACSecretRef: hmacSecret(t, "notify-mid", "k4"),
		}
	})
	tenant := newTenant("midway", "ap-northeast-2", func(tn *saasv1.Tenant) { tn.Spec.Database.DeletionPolicy = saasv1.DeletionRetain })
	create(t, tenant)
	onboard(t, cell, tenant)
	waitTypes(t, rcv, "/billing", "io.tenantops.tenant.ready")

	// Billing holds the suspension's delivery until the tenant's deletion has begun.
	billingHeld, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	rcv.mu.Lock()
	rcv.hold = func(path string) {
		if path == "/billing" {
			once.Do(func() { close(billingHeld); <-release })
		}
	}
	rcv.mu.Unlock()
	got := &saasv1.Tenant{}
	must(t, get(t, got, "", "midway"))
	got.Spec.Suspended = true
	must(t, k8s.Update(ctx, got))
	waitTypes(t, rcv, "/crm", "io.tenantops.tenant.ready", "io.tenantops.tenant.suspended")
	select {
	case <-billingHeld:
	case <-time.After(30 * time.Second):
		t.Fatal("the suspension never reached billing")
	}
	must(t, k8s.Delete(ctx, got))
	eventually(t, "the deletion under way", func() error {
		cur := &saasv1.Tenant{}
		if err := get(t, cur, "", "midway"); apierrors.IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if cur.Status.Phase != saasv1.PhaseDeleting {
			return fmt.Errorf("phase %q", cur.Status.Phase)
		}
		return nil
	})
	time.Sleep(500 * time.Millisecond) // time for a deletion that does not wait to put the event in the outbox
	close(release)

	want := []string{"io.tenantops.tenant.ready", "io.tenantops.tenant.suspended", "io.tenantops.tenant.deleted"}
	waitTypes(t, rcv, "/crm", want...)
	waitTypes(t, rcv, "/billing", want...)
	eventually(t, "tenant gone", func() error {
		if err := get(t, &saasv1.Tenant{}, "", "midway"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	// Whatever the outbox still had to do is done by now: nothing came twice.
	time.Sleep(time.Second)
	for _, path := range []string{"/crm", "/billing"} {
		if _, err := rcv.typesAt(path); err != nil {
			t.Error(err)
		}
	}
}

// An operator that stopped mid-delivery left the event in status, with the receivers that took
// it. The running operator finishes the delivery with the same ID, and only to the others.
func TestPendingNotificationSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	rcv, srv := newReceiver("k", 0)
	defer srv.Close()
	tenant := newTenant("resumed", "eu-west-3")
	create(t, tenant)
	must(t, get(t, tenant, "", "resumed"))
	tenant.Status.Phase = saasv1.PhaseReady
	tenant.Status.PendingNotification = &saasv1.PendingNotification{
		ID: "evt-before-restart", Type: "io.tenantops.tenant.ready", Phase: saasv1.PhaseReady,
		Time: metav1.Now(), Delivered: []string{"crm"}, Attempts: 1, LastError: "billing: HTTP 503",
	}
	must(t, k8s.Status().Update(ctx, tenant))

	create(t, newCell("euw3", "eu-west-3", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{
			Webhooks:      []saasv1.Webhook{{Name: "crm", URL: srv.URL + "/crm"}, {Name: "billing", URL: srv.URL + "/billing"}},
			HMACSecretRef: hmacSecret(t, "notify-restart", "k"),
		}
	}))
	waitTypes(t, rcv, "/billing", "io.tenantops.tenant.ready")
	rcv.mu.Lock()
	id, crm := rcv.accepted["/billing"][0].ID, len(rcv.accepted["/crm"])
	rcv.mu.Unlock()
	if id != "evt-before-restart" || crm != 0 {
		t.Errorf("resumed delivery: id %q, crm deliveries %d (want the same id, and none to crm)", id, crm)
	}
	eventually(t, "delivery recorded", func() error {
		got := &saasv1.Tenant{}
		must(t, get(t, got, "", "resumed"))
		if got.Status.NotifiedPhase != saasv1.PhaseReady || got.Status.PendingNotification != nil {
			return fmt.Errorf("notified %q pending %+v", got.Status.NotifiedPhase, got.Status.PendingNotification)
		}
		return nil
	})
}

// A receiver that is down neither holds a deletion nor costs a status write per retry. The
// Deleted event waits in the cell's outbox and reaches the receiver, once, when it is back.
func TestDeletionDoesNotWaitForReceivers(t *testing.T) {
	ctx := context.Background()
	rcv, srv := newReceiver("k3", 1<<30) // down until told otherwise
	defer srv.Close()
	cell := servingCell(t, "apse3", "ap-southeast-3", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{
			Webhooks:      []saasv1.Webhook{{Name: "crm", URL: srv.URL + "/crm"}},
			HMACSecretRef: hmacSecret(t, "notify-down", "k3"),
		}
	})
	tenant := newTenant("quiet", "ap-southeast-3", func(tn *saasv1.Tenant) { tn.Spec.Database.DeletionPolicy = saasv1.DeletionDelete })
	create(t, tenant)
	onboard(t, cell, tenant)
	// Ready: the Ready event is being retried against the receiver that is down. Until it is
	// given up on (the suite's backoff makes 8 attempts in about a second), the only status
	// write may be that give-up; each failed attempt once cost a write.
	mark := writes.Mark()
	eventually(t, "the Ready event given up on", func() error {
		got := &saasv1.Tenant{}
		must(t, get(t, got, "", "quiet"))
		if got.Status.NotifiedPhase != saasv1.PhaseReady {
			return fmt.Errorf("notified %q", got.Status.NotifiedPhase)
		}
		return nil
	})
	statusWrites := 0
	for _, w := range writes.Since(mark) {
		if w == "patch/status Tenant /quiet" {
			statusWrites++
		}
	}
	if statusWrites > 1 {
		t.Errorf("%d status writes while a receiver was down: failed attempts must not write", statusWrites)
	}

	must(t, get(t, tenant, "", "quiet"))
	must(t, k8s.Delete(ctx, tenant))
	eventually(t, "tenant gone while its receiver is down", func() error {
		if err := get(t, &saasv1.Tenant{}, "", "quiet"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	var entries corev1.ConfigMapList
	must(t, k8s.List(ctx, &entries, client.InNamespace("cell-apse3"), client.MatchingLabels{notify.OutboxLabel: "true"}))
	if len(entries.Items) != 1 {
		t.Fatalf("outbox entries: %d, want the Deleted event", len(entries.Items))
	}

	// The cell goes too while the receiver is still down: it holds until the event is
	// delivered (its namespace keeps the outbox), and says what it owes.
	c := &saasv1.RegionCell{}
	must(t, get(t, c, "", "apse3"))
	must(t, k8s.Delete(ctx, c))
	held := cellHas(t, "apse3", saasv1.ConditionReady, metav1.ConditionFalse, "EventsOwed")
	if msg := condition(held.Status.Conditions, saasv1.ConditionReady).Message; !strings.Contains(msg, "io.tenantops.tenant.deleted of quiet") ||
		!strings.Contains(msg, "kubectl delete configmaps -n cell-apse3") {
		t.Errorf("the held cell does not say what it owes, or how to give up: %s", msg)
	}
	stays(t, "the cell is kept while an event is owed", 2*time.Second, func() error {
		return get(t, &saasv1.RegionCell{}, "", "apse3")
	})

	rcv.mu.Lock()
	rcv.failFirst = -1 // back
	rcv.mu.Unlock()
	waitTypes(t, rcv, "/crm", "io.tenantops.tenant.deleted")
	eventually(t, "the cell goes once the event is delivered", func() error {
		if err := get(t, &saasv1.RegionCell{}, "", "apse3"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	eventually(t, "the delivered entry kept as a tombstone", func() error {
		must(t, k8s.List(ctx, &entries, client.InNamespace("cell-apse3"), client.MatchingLabels{notify.OutboxLabel: "true"}))
		if len(entries.Items) != 1 || entries.Items[0].Annotations[notify.AnnotationDeliveredAt] == "" {
			return fmt.Errorf("entries %d, not yet marked delivered", len(entries.Items))
		}
		return nil
	})
	stays(t, "delivered once", time.Second, func() error {
		_, err := rcv.typesAt("/crm")
		return err
	})
}

// A receiver that never answers holds only its own cell's events: another cell's Deleted event
// is delivered while an attempt at the dead one is still waiting for its answer.
func TestOneDeadReceiverDoesNotHoldOtherCellsEvents(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	var inFlight atomic.Int32
	dead := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The body read, the server notices the sender giving up (its context ends).
		_, _ = io.Copy(io.Discard, req.Body)
		if strings.HasSuffix(req.Header.Get(notify.HeaderDelivery), "-deleted") { // the outbox's
			inFlight.Add(1)
			defer inFlight.Add(-1)
		}
		select {
		case <-release:
		case <-req.Context().Done():
		}
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer dead.Close()
	defer close(release)
	var deadBusyAtDelivery atomic.Int32
	deadBusyAtDelivery.Store(-1)
	alive, aliveSrv := newReceiver("k5", 0)
	defer aliveSrv.Close()
	aliveProbe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.HasSuffix(req.Header.Get(notify.HeaderDelivery), "-deleted") {
			deadBusyAtDelivery.CompareAndSwap(-1, inFlight.Load())
		}
		alive.ServeHTTP(w, req)
	}))
	defer aliveProbe.Close()

	deadCell := servingCell(t, "mec2", "me-central-2", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{Webhooks: []saasv1.Webhook{{Name: "billing", URL: dead.URL + "/billing"}},
			HMACSecretRef: hmacSecret(t, "notify-dead", "k4")}
	})
	aliveCell := servingCell(t, "mes1", "me-south-1", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{Webhooks: []saasv1.Webhook{{Name: "billing", URL: aliveProbe.URL + "/billing"}},
			HMACSecretRef: hmacSecret(t, "notify-alive", "k5")}
	})
	stuck, fine := newTenant("stuck", "me-central-2"), newTenant("fine", "me-south-1")
	create(t, stuck, fine)
	onboard(t, deadCell, stuck)
	onboard(t, aliveCell, fine)
	for _, tn := range []*saasv1.Tenant{stuck, fine} {
		must(t, get(t, tn, "", tn.Name))
		must(t, k8s.Delete(ctx, tn))
		eventually(t, tn.Name+" gone", func() error {
			if err := get(t, &saasv1.Tenant{}, "", tn.Name); !apierrors.IsNotFound(err) {
				return fmt.Errorf("still there: %v", err)
			}
			return nil
		})
		if tn == stuck {
			eventually(t, "an outbox attempt at the dead receiver waiting", func() error {
				if inFlight.Load() == 0 {
					return fmt.Errorf("none")
				}
				return nil
			})
		}
	}
	eventually(t, "the other cell's Deleted event delivered", func() error {
		got, err := alive.typesAt("/billing")
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(got, "io.tenantops.tenant.deleted") {
			return fmt.Errorf("got %v", got)
		}
		return nil
	})
	if n := deadBusyAtDelivery.Load(); n < 1 {
		t.Errorf("the other cell's event was delivered only once no attempt at the dead receiver was waiting (%d waiting): one dead receiver holds every cell's events", n)
	}
}

// A reconcile whose cache has not seen the last writes to the Tenant (the notifier's record of
// an announcement, its own status write) must not announce again what was announced: the event
// it would stage is refused with the rest of its status write. (A suspension was once delivered
// twice with the same event ID: a reconcile one write behind staged it again in the same second.)
func TestAnAnnouncedEventIsNotStagedAgainFromAStaleRead(t *testing.T) {
	ctx := context.Background()
	rcv, srv := newReceiver("k-stale", 0)
	defer srv.Close()
	cell := servingCell(t, "euc3", "eu-central-3", func(c *saasv1.RegionCell) {
		c.Spec.Notifications = &saasv1.Notifications{Webhooks: []saasv1.Webhook{{Name: "crm", URL: srv.URL + "/crm"}},
			HMACSecretRef: hmacSecret(t, "notify-stale", "k-stale")}
	})
	tn := newTenant("echo", "eu-central-3")
	create(t, tn)
	onboard(t, cell, tn)
	waitTypes(t, rcv, "/crm", "io.tenantops.tenant.ready")
	old := &saasv1.Tenant{}
	eventually(t, "the announcement recorded", func() error {
		must(t, get(t, old, "", "echo"))
		if old.Status.NotifiedPhase != saasv1.PhaseReady || old.Status.PendingNotification != nil {
			return fmt.Errorf("notified %q pending %+v", old.Status.NotifiedPhase, old.Status.PendingNotification)
		}
		return nil
	})
	// The cache's copy: from before the notifier recorded the announcement, and one write behind.
	old.Status.NotifiedPhase = ""
	touched := old.DeepCopy()
	touched.Annotations = map[string]string{"test/touched": "yes"}
	must(t, k8s.Patch(ctx, touched, client.MergeFrom(old)))

	lagging := handDriven(blindCache{Client: operator, answer: staleTenant(old)}, shared.NewPassword)
	if _, err := lagging.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "echo"}}); !apierrors.IsConflict(err) {
		t.Errorf("a status staging an event from a stale read: error %v, want a conflict", err)
	}
	stays(t, "the Ready event announced once, nothing staged again", 2*time.Second, func() error {
		now := &saasv1.Tenant{}
		must(t, get(t, now, "", "echo"))
		if p := now.Status.PendingNotification; p != nil || now.Status.NotifiedPhase != saasv1.PhaseReady {
			return fmt.Errorf("notified %q, pending %+v", now.Status.NotifiedPhase, p)
		}
		got, err := rcv.typesAt("/crm")
		if err != nil {
			return err
		}
		if len(got) != 1 {
			return fmt.Errorf("the receiver took %v", got)
		}
		return nil
	})
}
