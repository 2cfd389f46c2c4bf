// Package notify delivers tenant lifecycle events (the design's signup workflow to the control
// panel, CRM and billing) as signed CloudEvents to a cell's webhooks and, optionally, its SNS
// topic.
//
// Delivery never blocks reconciliation: the reconciler records the event in the Tenant's status
// in the same write as the transition (status.pendingNotification), then hands it to the
// Notifier, which retries with backoff in the background and clears it when every receiver took
// it. An operator restarted mid-delivery finds the event in status and delivers it again with
// the same ID, so receivers see each transition once (they deduplicate on the CloudEvent id).
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Headers of a webhook delivery.
const (
	HeaderSignature = "X-Tenantops-Signature"
	HeaderDelivery  = "X-Tenantops-Delivery"
	ContentType     = "application/cloudevents+json"
	// SNSReceiver is how the SNS topic is named in status.pendingNotification.delivered.
	SNSReceiver = "sns"
)

// eventTypes are the phases announced, and their CloudEvent types.
var eventTypes = map[string]string{
	saasv1.PhaseReady:     "io.tenantops.tenant.ready",
	saasv1.PhaseSuspended: "io.tenantops.tenant.suspended",
	saasv1.PhaseFailed:    "io.tenantops.tenant.failed",
	// A region that stood down for a tenant another region took over says so when it can.
	saasv1.PhaseFailedOver: "io.tenantops.tenant.failedover",
	PhaseDeleted:           "io.tenantops.tenant.deleted",
}

// PhaseDeleted is announced when a tenant's deletion is complete; it is never a status phase.
const PhaseDeleted = "Deleted"

// AlertsReceiver is how the cell's alerts topic (spec.alerts.lifecycleEvents) is named in
// status.pendingNotification.delivered.
const AlertsReceiver = "sns-alerts"

// HasReceivers says whether a cell sends lifecycle events anywhere.
func HasReceivers(cell *saasv1.RegionCell) bool {
	n := cell.Spec.Notifications
	return (n != nil && (len(n.Webhooks) > 0 || n.SNSTopicARN != "")) || len(snsTopics(cell)) > 0
}

// snsTopics are the SNS topics that take a cell's lifecycle events, by receiver name: the one
// spec.notifications names, and the cell's alerts topic when spec.alerts.lifecycleEvents says so
// (once SNS made it).
func snsTopics(cell *saasv1.RegionCell) map[string]string {
	out := map[string]string{}
	if n := cell.Spec.Notifications; n != nil && n.SNSTopicARN != "" {
		out[SNSReceiver] = n.SNSTopicARN
	}
	if a := cell.Spec.Alerts; a != nil && a.LifecycleEvents && cell.Status.AlertsTopicARN != "" {
		out[AlertsReceiver] = cell.Status.AlertsTopicARN
	}
	return out
}

// Stage records in the tenant's status the event announcing phase, if phase is announced, the
// cell has receivers, and it was not announced already. It returns whether it staged one.
func Stage(t *saasv1.Tenant, cell *saasv1.RegionCell, phase string, now time.Time) bool {
	typ, announced := eventTypes[phase]
	if !announced || !HasReceivers(cell) || t.Status.NotifiedPhase == phase {
		return false
	}
	if p := t.Status.PendingNotification; p != nil && p.Phase == phase {
		return false
	}
	at := metav1.NewTime(now.UTC().Truncate(time.Second))
	t.Status.PendingNotification = &saasv1.PendingNotification{
		ID:    fmt.Sprintf("%s-%s-%d", t.UID, strings.ToLower(phase), at.Unix()),
		Type:  typ,
		Phase: phase,
		Time:  at,
	}
	return true
}

// Event is a CloudEvents 1.0 event in structured JSON mode.
type Event struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            EventData `json:"data"`
}

// EventData says which tenant changed and how.
type EventData struct {
	Tenant      string `json:"tenant"`
	DisplayName string `json:"displayName"`
	Region      string `json:"region"`
	Cell        string `json:"cell"`
	Tier        string `json:"tier"`
	URL         string `json:"url,omitempty"`
	Phase       string `json:"phase"`
	AdminEmail  string `json:"adminEmail"`
	Message     string `json:"message,omitempty"`
}

// NewEvent builds the CloudEvent of a pending notification.
func NewEvent(t *saasv1.Tenant, cell *saasv1.RegionCell, p *saasv1.PendingNotification) Event {
	msg := ""
	for _, c := range t.Status.Conditions {
		if c.Type == saasv1.ConditionReady && c.Status != metav1.ConditionTrue {
			msg = c.Message
		}
	}
	if rf := t.Status.RestoredFrom; rf != nil && p.Phase == saasv1.PhaseReady {
		// The takeover's Ready: billing and CRM learn where the tenant is served now, and how
		// old its data is.
		msg = fmt.Sprintf("failed over from %s: served in %s from copy %s, the data as of %s (fencing epoch %d)",
			rf.Region, t.Spec.Region, rf.SnapshotIdentifier, rf.SnapshotTime.UTC().Format(time.RFC3339), rf.Epoch)
	}
	return Event{
		SpecVersion: "1.0", ID: p.ID, Source: "tenantops.io/cells/" + cell.Name, Type: p.Type,
		Subject: t.Name, Time: p.Time.Time, DataContentType: "application/json",
		Data: EventData{
			Tenant: t.Name, DisplayName: t.Spec.DisplayName, Region: t.Spec.Region, Cell: cell.Name,
			Tier: t.Spec.Tier, URL: t.Status.URL, Phase: p.Phase, AdminEmail: t.Spec.AdminEmail, Message: msg,
		},
	}
}

// Sign is the value of HeaderSignature for body: sha256=<hex HMAC-SHA256 with key>.
func Sign(key, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SNSPublisher publishes a message to an SNS topic.
type SNSPublisher interface {
	Publish(ctx context.Context, topicARN, subject, message string, attributes map[string]string) error
}

// Backoff is how deliveries are retried.
type Backoff struct {
	Initial, Max time.Duration
	// Attempts before the event is given up on (with a Warning event), so that a receiver gone
	// for good does not hold a tenant's deletion forever.
	Attempts int
}

// DefaultBackoff retries for about 40 minutes.
var DefaultBackoff = Backoff{Initial: 2 * time.Second, Max: 5 * time.Minute, Attempts: 14}

// Notifier delivers pending notifications in the background.
type Notifier struct {
	// Client writes the delivery progress into Tenant status.
	Client client.Client
	// Reader reads what the cache does not hold: the HMAC Secret, fresh Tenants.
	Reader   client.Reader
	HTTP     *http.Client
	SNS      SNSPublisher
	Recorder recorder.EventRecorder
	Backoff  Backoff

	mu       sync.Mutex
	inFlight map[string]*delivery // by event ID
	ctx      context.Context
	wg       sync.WaitGroup
}

// delivery is one event's delivery under way; closing stop ends it after its current attempt.
type delivery struct {
	stop    chan struct{}
	stopped bool
}

// Start runs until ctx ends; deliveries started before then finish their current attempt.
func (n *Notifier) Start(ctx context.Context) error {
	n.mu.Lock()
	n.ctx = ctx
	if n.inFlight == nil {
		n.inFlight = map[string]*delivery{}
	}
	n.mu.Unlock()
	<-ctx.Done()
	n.wg.Wait()
	return nil
}

// NeedLeaderElection: only the leader delivers.
func (n *Notifier) NeedLeaderElection() bool { return true }

// Enqueue starts delivering the tenant's pending notification unless it is already under way.
// It never blocks.
func (n *Notifier) Enqueue(t *saasv1.Tenant, cell *saasv1.RegionCell) {
	p := t.Status.PendingNotification
	if n == nil || p == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ctx == nil || n.ctx.Err() != nil || n.inFlight[p.ID] != nil {
		return
	}
	if n.inFlight == nil {
		n.inFlight = map[string]*delivery{}
	}
	d := &delivery{stop: make(chan struct{})}
	n.inFlight[p.ID] = d
	n.wg.Add(1)
	go func(ctx context.Context) {
		defer n.wg.Done()
		defer func() {
			n.mu.Lock()
			delete(n.inFlight, p.ID)
			n.mu.Unlock()
		}()
		n.deliver(ctx, t.DeepCopy(), cell.DeepCopy(), d.stop)
	}(n.ctx)
}

// HandOver ends the delivery of event id under way in this process after its current attempt,
// and says whether one is still under way. A deleting tenant's event moves to the cell's outbox
// with the receivers that took it; moved while a delivery is between a receiver's answer and its
// record in status, it would be sent again to that receiver. So the deletion comes back until
// HandOver says none is under way, then reads what was delivered from the API server. (No new
// delivery starts for a deleting tenant: deliver refuses one.)
func (n *Notifier) HandOver(id string) bool {
	if n == nil {
		return false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	d := n.inFlight[id]
	if d == nil {
		return false
	}
	if !d.stopped {
		d.stopped = true
		close(d.stop)
	}
	return true
}

func (n *Notifier) backoff() Backoff { return n.Backoff.orDefault() }

func (b Backoff) orDefault() Backoff {
	if b.Initial <= 0 {
		return DefaultBackoff
	}
	return b
}

// Delay is how long to wait after the failed attempt number attempt (1 for the first): Initial,
// doubling each time, at most Max.
func (b Backoff) Delay(attempt int) time.Duration {
	d := b.Initial
	for i := 1; i < attempt && d < b.Max; i++ {
		d *= 2
	}
	return min(d, b.Max)
}

// deliver sends the event to every receiver that has not taken it, retrying with backoff, and
// records progress in status. The recorded Delivered list survives restarts, so a receiver
// that took the event is not sent it again.
// It ends early when stop is closed (HandOver), after recording what it delivered.
func (n *Notifier) deliver(ctx context.Context, t *saasv1.Tenant, cell *saasv1.RegionCell, stop <-chan struct{}) {
	log := logf.FromContext(ctx).WithValues("tenant", t.Name, "event", t.Status.PendingNotification.ID)
	// The caller's copy may come from a cache that has not seen an earlier delivery of the same
	// event finish: start from the API server's view of what is still owed.
	fresh := &saasv1.Tenant{}
	if err := n.Reader.Get(ctx, client.ObjectKeyFromObject(t), fresh); err != nil {
		return
	}
	if fp := fresh.Status.PendingNotification; fp == nil || fp.ID != t.Status.PendingNotification.ID {
		return
	}
	if !fresh.DeletionTimestamp.IsZero() {
		return // the deletion hands the event to the cell's outbox
	}
	t = fresh
	p := t.Status.PendingNotification.DeepCopy()
	body, err := json.Marshal(NewEvent(t, cell, p))
	if err != nil {
		log.Error(err, "encoding the lifecycle event")
		return
	}
	b := n.backoff()
	for tries := 1; int(p.Attempts) < b.Attempts; tries++ {
		took := len(p.Delivered)
		failures := n.attempt(ctx, t.Name, cell, p, body)
		p.Attempts++
		p.LastError = strings.Join(failures, "; ")
		done := len(failures) == 0
		if !done && int(p.Attempts) >= b.Attempts {
			n.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "NotificationFailed", "Notify",
				"gave up delivering %s after %d attempts: %s", p.Type, p.Attempts, p.LastError)
			done = true
		}
		// Only progress is written: a receiver took the event, or delivery ended. A failed
		// attempt costs no write (attempts since a restart start again from zero).
		if done || len(p.Delivered) > took {
			if err := n.record(ctx, t, p, done); err != nil {
				// The tenant moved on (a newer event, or it is gone): this delivery is obsolete.
				log.V(1).Info("stopping delivery", "reason", err.Error())
				return
			}
		}
		if done {
			if len(failures) == 0 {
				n.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "Notified", "Notify", "%s delivered to %s", p.Type, strings.Join(p.Delivered, ", "))
			}
			return
		}
		delay := b.Delay(tries)
		log.Info("lifecycle event not delivered yet; retrying", "attempt", p.Attempts, "in", delay.String(), "error", p.LastError)
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-time.After(delay):
		}
	}
}

// attempt sends the event to each receiver that has not taken it and returns what failed.
func (n *Notifier) attempt(ctx context.Context, tenant string, cell *saasv1.RegionCell, p *saasv1.PendingNotification, body []byte) []string {
	cfg := cell.Spec.Notifications
	if cfg == nil {
		cfg = &saasv1.Notifications{}
	}
	var failures []string
	if len(cfg.Webhooks) > 0 {
		key, err := n.hmacKey(ctx, cfg.HMACSecretRef)
		if err != nil {
			return []string{err.Error()}
		}
		for _, w := range cfg.Webhooks {
			if slices.Contains(p.Delivered, w.Name) {
				continue
			}
			if err := n.post(ctx, w.URL, p.ID, key, body); err != nil {
				failures = append(failures, w.Name+": "+err.Error())
				continue
			}
			p.Delivered = append(p.Delivered, w.Name)
		}
	}
	topics := snsTopics(cell)
	for _, receiver := range slices.Sorted(maps.Keys(topics)) {
		if slices.Contains(p.Delivered, receiver) {
			continue
		}
		switch n.SNS {
		case nil:
			failures = append(failures, receiver+": no SNS client configured")
		default:
			attrs := map[string]string{"type": p.Type, "tenant": tenant}
			if err := n.SNS.Publish(ctx, topics[receiver], p.Type, string(body), attrs); err != nil {
				failures = append(failures, receiver+": "+err.Error())
			} else {
				p.Delivered = append(p.Delivered, receiver)
			}
		}
	}
	sort.Strings(p.Delivered)
	return failures
}

func (n *Notifier) hmacKey(ctx context.Context, ref *saasv1.SecretKeyRef) ([]byte, error) {
	if ref == nil {
		return nil, errors.New("spec.notifications.hmacSecretRef is not set")
	}
	s := &corev1.Secret{}
	if err := n.Reader.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, s); err != nil {
		return nil, fmt.Errorf("HMAC secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	key := s.Data[ref.Key]
	if len(key) == 0 {
		return nil, fmt.Errorf("HMAC secret %s/%s has no key %q", ref.Namespace, ref.Name, ref.Key)
	}
	return key, nil
}

func (n *Notifier) post(ctx context.Context, url, id string, key, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ContentType)
	req.Header.Set(HeaderDelivery, id)
	req.Header.Set(HeaderSignature, Sign(key, body))
	hc := n.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	return nil
}

// recordBackoff bounds the tries of a record that keeps meeting concurrent writes (about 5 s in
// all): past it the delivery stops, and the tenant's next reconcile starts it again.
var recordBackoff = wait.Backoff{Steps: 10, Duration: 10 * time.Millisecond, Factor: 2, Jitter: 0.1, Cap: 2 * time.Second}

// record writes the delivery's progress into the tenant's status, only if the tenant still
// waits for this very event (optimistic lock: a concurrent transition wins, and the write is
// tried again on a fresh read, a bounded number of times). done moves NotifiedPhase and
// clears the pending event.
func (n *Notifier) record(ctx context.Context, t *saasv1.Tenant, p *saasv1.PendingNotification, done bool) error {
	return retry.RetryOnConflict(recordBackoff, func() error {
		fresh := &saasv1.Tenant{}
		if err := n.Reader.Get(ctx, client.ObjectKeyFromObject(t), fresh); err != nil {
			return err
		}
		cur := fresh.Status.PendingNotification
		if cur == nil || cur.ID != p.ID {
			return errors.New("the tenant no longer waits for this event")
		}
		orig := fresh.DeepCopy()
		if done {
			fresh.Status.NotifiedPhase = p.Phase
			fresh.Status.PendingNotification = nil
		} else {
			fresh.Status.PendingNotification = p.DeepCopy()
		}
		return n.Client.Status().Patch(ctx, fresh, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{}))
	})
}
