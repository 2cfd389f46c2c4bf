// Package mail sends tenants' mail (welcome, digest): through SES (aws-sdk-go-v2, the tenant's
// sender and configuration set) in AWS, to the log locally.
package mail

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// Message is one mail.
type Message struct {
	From, To, Subject, Text string
	ConfigurationSet        string
}

// Mailer sends mail.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// Log writes mail to the log instead of sending it.
type Log struct{ Logger *slog.Logger }

func (l Log) Send(_ context.Context, m Message) error {
	l.Logger.Info("mail (not sent: no SES configured)", "from", m.From, "to", m.To, "subject", m.Subject)
	return nil
}

// SES sends through Amazon SES.
type SES struct{ Client *sesv2.Client }

func (s SES) Send(ctx context.Context, m Message) error {
	in := &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(m.From),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(m.Text), Charset: aws.String("UTF-8")}},
		}},
	}
	if m.ConfigurationSet != "" {
		in.ConfigurationSetName = aws.String(m.ConfigurationSet)
	}
	_, err := s.Client.SendEmail(ctx, in)
	return err
}

// Welcome is the mail a tenant's administrator gets when the tenant is ready.
func Welcome(from, to, displayName, url string) Message {
	return Message{From: from, To: to, Subject: "Welcome to " + displayName,
		Text: "Your store " + displayName + " is ready at " + url + ".\n"}
}
