package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tenantops/tenant-operator/app/internal/mail"
)

// sendOnce sends m unless a mail of the same kind went out already, recording it in the
// tenant's database so restarts and replicas do not send it twice.
func (t *Tenant) sendOnce(ctx context.Context, mailer mail.Mailer, kind string, m mail.Message) (bool, error) {
	if m.From == "" || m.To == "" {
		return false, nil // the cell has no sender, or the tenant no administrator
	}
	claimed, err := t.Store.ClaimMail(ctx, kind)
	if err != nil || !claimed {
		return false, err
	}
	if err := mailer.Send(ctx, m); err != nil {
		_ = t.Store.ReleaseMail(context.WithoutCancel(ctx), kind)
		return false, err
	}
	return true, nil
}

// SendWelcome greets the tenant's administrator, once.
func (t *Tenant) SendWelcome(ctx context.Context, mailer mail.Mailer) (bool, error) {
	c := t.Config
	url := ""
	if len(c.Hosts) > 0 {
		url = "https://" + c.Hosts[0]
	}
	m := mail.Welcome(c.MailSender, c.AdminEmail, c.DisplayName, url)
	m.ConfigurationSet = c.MailConfigSet
	return t.sendOnce(ctx, mailer, "welcome", m)
}

// SendDigest tells the administrator the day's top recommendations, once a day.
func (t *Tenant) SendDigest(ctx context.Context, mailer mail.Mailer, day time.Time) (bool, error) {
	_, recs, err := t.Store.Recommendations(ctx, "")
	if err != nil {
		return false, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Today's top items at %s:\n\n", t.Config.DisplayName)
	for _, r := range recs {
		if r.Rank <= 3 {
			fmt.Fprintf(&b, "%s #%d: %s (%.2f from %d ratings)\n", r.Category, r.Rank, r.ItemName, r.Score, r.Ratings)
		}
	}
	c := t.Config
	m := mail.Message{From: c.MailSender, To: c.AdminEmail, Subject: c.DisplayName + ": daily digest " + day.Format("2006-01-02"),
		Text: b.String(), ConfigurationSet: c.MailConfigSet}
	return t.sendOnce(ctx, mailer, "digest-"+day.Format("2006-01-02"), m)
}
