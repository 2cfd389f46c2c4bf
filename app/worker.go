package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/tenantops/tenant-operator/app/internal/mail"
	"github.com/tenantops/tenant-operator/app/internal/queue"
)

// worker handles queued work: {"type":"mail", ...} messages are sent through the mailer; other
// events (rating.created) are logged for the analytics pipeline to pick up.
func worker(log *slog.Logger, mailer mail.Mailer) queue.Handler {
	return func(ctx context.Context, body []byte) error {
		var msg struct {
			Type string       `json:"type"`
			Mail mail.Message `json:"mail"`
		}
		if err := json.Unmarshal(body, &msg); err != nil {
			log.Warn("dropping an unreadable message", "error", err)
			return nil
		}
		if msg.Type == "mail" {
			return mailer.Send(ctx, msg.Mail)
		}
		log.Info("event", "type", msg.Type, "body", string(body))
		return nil
	}
}
