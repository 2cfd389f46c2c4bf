package mail

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// The test plays SES's role (the v2 REST API's SendEmail) and checks what the app asks it.
func TestSESSendsTheTenantsMail(t *testing.T) {
	var got map[string]any
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &got)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"MessageId":"m-1"}`))
	}))
	defer srv.Close()
	client := sesv2.NewFromConfig(aws.Config{Region: "eu-west-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", "")},
		func(o *sesv2.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	m := Welcome("no-reply@website.com", "it@acme.example", "Acme", "https://acme.website.com")
	m.ConfigurationSet = "tenant-mail"
	if err := (SES{Client: client}).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	content := got["Content"].(map[string]any)["Simple"].(map[string]any)
	if path != "/v2/email/outbound-emails" || got["FromEmailAddress"] != "no-reply@website.com" ||
		got["ConfigurationSetName"] != "tenant-mail" ||
		got["Destination"].(map[string]any)["ToAddresses"].([]any)[0] != "it@acme.example" ||
		content["Subject"].(map[string]any)["Data"] != "Welcome to Acme" {
		t.Errorf("SES got %s %v", path, got)
	}
}
