package notify

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	goaws "github.com/Admiral-Piett/goaws/app"
	"github.com/Admiral-Piett/goaws/app/servertest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// TestPublishReachesAnSNSSubscriber publishes through a real SNS-compatible server (goaws, on
// loopback) to an HTTP subscriber, the way a topic fans events out to the control panel.
func TestPublishReachesAnSNSSubscriber(t *testing.T) {
	srv, err := servertest.New("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// What goaws' configuration file would set; its ARNs are built from them.
	goaws.CurrentEnvironment.Region = "eu-west-1"
	goaws.CurrentEnvironment.AccountID = "123456789012"
	defer func() { _ = srv.Quit() }()

	got := make(chan map[string]any, 4)
	sub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]any
		body, _ := io.ReadAll(r.Body)
		if json.Unmarshal(body, &msg) == nil && msg["Type"] == "Notification" {
			got <- msg
		}
	}))
	defer sub.Close()

	cfg := aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	ctx := context.Background()
	admin := sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(srv.URL()) })
	topic, err := admin.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("tenants")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Subscribe(ctx, &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(sub.URL)}); err != nil {
		t.Fatal(err)
	}

	p := &AWSSNS{Config: cfg, EndpointURL: srv.URL()}
	if err := p.Publish(ctx, *topic.TopicArn, "io.tenantops.tenant.ready", `{"id":"evt-1"}`, map[string]string{"tenant": "acme"}); err != nil {
		t.Fatal(err)
	}
	select {
	case msg := <-got:
		if msg["Message"] != `{"id":"evt-1"}` || msg["Subject"] != "io.tenantops.tenant.ready" || msg["TopicArn"] != *topic.TopicArn {
			t.Errorf("notification %v", msg)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the subscriber got nothing")
	}
}

func TestRegionOf(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sns:eu-west-1:123456789012:tenants":    "eu-west-1",
		"arn:aws-cn:sns:cn-north-1:123456789012:t.fifo": "cn-north-1",
		"not-an-arn":                        "",
		"arn:aws:sns::123456789012:tenants": "",
	} {
		got, err := regionOf(arn)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("regionOf(%q) = %q, %v", arn, got, err)
		}
	}
}
