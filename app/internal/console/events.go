package console

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/tenantops/tenant-operator/controllers/notify"
)

// Signup CloudEvents: CRM and billing hear of a signup before its Tenant exists, as they hear of
// a Tenant's transitions from the operator: the same envelope, signature and delivery header.
const (
	EventRequested = "io.tenantops.signup.requested"
	EventVerified  = "io.tenantops.signup.verified"
	EventAbandoned = "io.tenantops.signup.abandoned"
	// eventSource names the console as the events' source.
	eventSource = "tenantops.io/console"
)

// Emitter signs and posts signup events to webhooks, each retried a few times with backoff in
// the background: a receiver that is down never holds a signup.
type Emitter struct {
	// URLs receive every event; Key signs them (notify.Sign).
	URLs []string
	Key  []byte
	HTTP *http.Client
	Log  *slog.Logger
	// Attempts per receiver (4 when zero), Backoff before the second (1 s when zero, doubling).
	Attempts int
	Backoff  time.Duration

	wg sync.WaitGroup
}

// NewEvent is the CloudEvent of a signup.
func NewEvent(typ string, s Signup, msg string, at time.Time) notify.Event {
	id := make([]byte, 8)
	_, _ = rand.Read(id)
	return notify.Event{
		SpecVersion: "1.0", ID: fmt.Sprintf("signup-%s-%s", s.Subdomain, hex.EncodeToString(id)), Source: eventSource, Type: typ,
		Subject: s.Subdomain, Time: at.UTC(), DataContentType: "application/json",
		Data: notify.EventData{Tenant: s.Subdomain, DisplayName: s.Company, Region: s.Region, Tier: s.Tier, AdminEmail: s.AdminEmail,
			Phase: "Signup", Message: msg},
	}
}

// Emit sends ev to every receiver in the background.
func (e *Emitter) Emit(ev notify.Event) {
	if e == nil || len(e.URLs) == 0 {
		return
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return
	}
	for _, url := range e.URLs {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.deliver(url, ev, body)
		}()
	}
}

// Wait waits for the deliveries under way (tests, and a graceful stop).
func (e *Emitter) Wait() { e.wg.Wait() }

func (e *Emitter) deliver(url string, ev notify.Event, body []byte) {
	attempts, delay := e.Attempts, e.Backoff
	if attempts <= 0 {
		attempts = 4
	}
	if delay <= 0 {
		delay = time.Second
	}
	hc := e.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	var last error
	for i := 0; i < attempts; i++ {
		if i > 0 {
			time.Sleep(delay)
			delay *= 2
		}
		req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			last = err
			break
		}
		req.Header.Set("Content-Type", notify.ContentType)
		req.Header.Set(notify.HeaderDelivery, ev.ID)
		req.Header.Set(notify.HeaderSignature, notify.Sign(e.Key, body))
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode >= 200 && resp.StatusCode < 300 {
				return
			}
			err = fmt.Errorf("HTTP %d", resp.StatusCode)
		}
		last = err
	}
	if e.Log != nil {
		e.Log.Warn("signup event not delivered", "type", ev.Type, "subdomain", ev.Subject, "receiver", url, "error", last)
	}
}
