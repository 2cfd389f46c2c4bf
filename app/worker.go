package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/tenantops/tenant-operator/app/internal/mail"
	"github.com/tenantops/tenant-operator/app/internal/queue"
	"github.com/tenantops/tenant-operator/app/internal/web"
)

// job is a unit of queued work.
type job struct {
	Type   string `json:"type"`
	Tenant string `json:"tenant"`
}

// worker handles queued work: "welcome" sends a tenant's welcome mail (once, recorded in its
// database); other events (rating.created) are logged for the analytics pipeline to pick up.
func worker(log *slog.Logger, mailer mail.Mailer, tenants *web.Registry) queue.Handler {
	return func(ctx context.Context, body []byte) error {
		var j job
		if err := json.Unmarshal(body, &j); err != nil {
			log.Warn("dropping an unreadable message", "error", err)
			return nil
		}
		if j.Type != "welcome" {
			log.Info("event", "type", j.Type, "tenant", j.Tenant, "body", string(body))
			return nil
		}
		t, ok := tenants.Get(j.Tenant)
		if !ok {
			return nil // the tenant went away
		}
		res, err := t.Resources()
		if err != nil {
			return err
		}
		sent, err := res.SendWelcome(ctx, mailer)
		if err != nil {
			log.Error("welcome mail", "tenant", j.Tenant, "error", err)
			return err
		}
		if sent {
			log.Info("welcome mail sent", "tenant", j.Tenant)
		}
		return nil
	}
}

func welcomeJob(tenant string) []byte {
	b, _ := json.Marshal(job{Type: "welcome", Tenant: tenant})
	return b
}
