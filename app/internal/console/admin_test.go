package console

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/app/internal/browsertest"
)

// adminWorld is the platform team's view served at admin.localhost, signing in at p, as the
// chart's console-admin ServiceAccount.
func adminWorld(t *testing.T, p *oidcProvider, emails []string, group string) (*httptest.Server, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	public := browsertest.URL(srv, "admin.localhost", "")
	kube := asChartComponent(t, map[string]any{"enabled": true, "admin": map[string]any{"enabled": true, "emails": []any{"ops@website.com"},
		"oidc": map[string]any{"issuerURL": p.issuer}}}, "console-admin")
	a, err := NewAdmin(context.Background(), AdminConfig{PublicURL: public, Issuer: p.issuer, ClientID: p.clientID, ClientSecret: p.secret,
		Emails: emails, Group: group}, kube, Tokens{Key: []byte("an admin session key, long")}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a
	return srv, public
}

// A person the view does not name is refused after signing in; a forged state or a POST
// without a session gets nothing.
func TestAdminSignInIsChecked(t *testing.T) {
	p := newOIDCProvider(t, "")
	p.Email, p.Groups = "intruder@website.com", []string{"sales"}
	srv, _ := adminWorld(t, p, []string{"ops@website.com"}, "platform")
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	// Followed by hand: the Go client cannot resolve admin.localhost, so the view is reached
	// at its loopback address.
	noFollow := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(srv.URL + "/admin/")
	if err != nil || resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/admin/login" {
		t.Fatalf("unsigned: %v %v", resp.StatusCode, err)
	}
	resp, _ = noFollow.Get(srv.URL + "/admin/login")
	authorize := resp.Header.Get("Location")
	if !strings.HasPrefix(authorize, p.issuer+"/authorize?") || !strings.Contains(authorize, "code_challenge=") || !strings.Contains(authorize, "nonce=") {
		t.Fatalf("login redirect %s", authorize)
	}
	// The provider approves; its redirect goes to the public (admin.localhost) URL: rewritten to
	// loopback for this client.
	approve := strings.Replace(authorize, "/authorize?", "/approve?", 1)
	resp, _ = noFollow.Get(approve)
	back := strings.Replace(resp.Header.Get("Location"), "admin.localhost", "127.0.0.1", 1)
	// A callback whose state is not this browser's: refused.
	u, _ := url.Parse(back)
	q := u.Query()
	q.Set("state", "forged")
	u.RawQuery = q.Encode()
	if r, _ := c.Get(u.String()); r.StatusCode != http.StatusBadRequest {
		t.Errorf("a forged state: %d", r.StatusCode)
	}
	if code, body := fetch(t, c, back); code != http.StatusForbidden || !strings.Contains(body, "intruder@website.com may not use") {
		t.Errorf("a person not named: %d %s", code, body)
	}
	if r, _ := noFollow.PostForm(srv.URL+"/admin/tenants/x/suspend", url.Values{"csrf": {"x"}}); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("an action without a session: %d", r.StatusCode)
	}
}

// The view in a browser: signed in through OIDC (as a member of the platform group), the cells
// with their occupancy and cost charts, a tenant's detail, and a suspension clicked and seen in
// the Tenant's spec; no console error or CSP refusal.
func TestAdminViewInABrowser(t *testing.T) {
	ctx := context.Background()
	p := newOIDCProvider(t, "")
	p.Email, p.Groups = "dinesh@website.com", []string{"platform"}
	cell(t, "sae1-admin", "sa-east-1")
	cell(t, "sae1-admin-b", "sa-east-1")
	rc := &saasv1.RegionCell{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "sae1-admin"}, rc); err != nil {
		t.Fatal(err)
	}
	rc.Status.Tenants, rc.Status.Phase = 1, saasv1.PhaseReady
	rc.Status.Cost = &saasv1.CellCost{CostEstimate: saasv1.CostEstimate{MonthlyUSD: "1234.50"}, PerTenantUSD: "1234.50"}
	if err := admin.Status().Update(ctx, rc); err != nil { // the operator's part
		t.Fatal(err)
	}
	tn := Signup{Company: "Pied Piper", Subdomain: "piedpiper", Region: "sa-east-1", Tier: "pooled", AdminEmail: "richard@piedpiper.example"}.Tenant()
	if err := admin.Create(ctx, tn); err != nil {
		t.Fatal(err)
	}
	playReady(t, "piedpiper", "https://piedpiper.website.com")
	if err := admin.Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "piedpiper.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Tenant", Name: "piedpiper", APIVersion: saasv1.GroupVersion.String()},
		Reason:         "DatabaseCreated", Message: "RDS DBInstance tenant-sae1-admin-piedpiper requested", Type: "Normal",
		LastTimestamp: metav1.NewTime(time.Now())}); err != nil { // the operator's part
		t.Fatal(err)
	}
	_, public := adminWorld(t, p, []string{"ops@website.com"}, "platform")

	bctx, trouble := browsertest.Browser(t, true)
	if err := chromedp.Do(bctx, chromedp.Navigate(public+"/admin/"), chromedp.WaitVisible(chromedp.CSS("#approve")),
		chromedp.Click(chromedp.CSS("#approve")), chromedp.WaitVisible(chromedp.CSS("#cells"))); err != nil {
		t.Fatalf("signing in: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	browsertest.Screenshot(t, bctx, "admin-overview")
	if problems, _ := trouble.Take(); len(problems) > 0 {
		t.Errorf("signing in and the overview: %v", problems)
	}
	text, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
	for _, want := range []string{"dinesh@website.com", "sae1-admin", "$1234.50", "piedpiper", "Ready"} {
		if !strings.Contains(text, want) {
			t.Errorf("the overview does not say %q:\n%s", want, text)
		}
	}
	bars, _ := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect").length`))
	if bars < 4 {
		t.Errorf("%d bars in the occupancy and cost charts, want a bar per cell in each", bars)
	}

	browsertest.Check(t, bctx, trouble, public+"/admin/tenants/piedpiper", "admin-tenant", chromedp.WaitVisible(chromedp.CSS("#suspend")))
	detail, _ := chromedp.Run(bctx, chromedp.Text(chromedp.CSS("main")))
	if !strings.Contains(detail, "DatabaseCreated") || !strings.Contains(detail, "DNSReady") {
		t.Errorf("the detail lacks its events or conditions:\n%s", detail)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#suspend")), chromedp.WaitVisible(chromedp.CSS("#resume"))); err != nil {
		t.Fatalf("suspending: %v", err)
	}
	got := &saasv1.Tenant{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "piedpiper"}, got); err != nil || !got.Spec.Suspended {
		t.Errorf("after Suspend: spec.suspended %v (%v)", got.Spec.Suspended, err)
	}
	// A move writes spec.cell, as a platform engineer would.
	if err := chromedp.Do(bctx, chromedp.SetValue(chromedp.CSS("#move-to"), "sae1-admin-b"), chromedp.Click(chromedp.CSS("#move")),
		chromedp.WaitVisible(chromedp.CSS("#resume"))); err != nil {
		t.Fatalf("moving: %v", err)
	}
	// The page before the click has the same buttons: wait for the write, not for the page.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		err := admin.Get(ctx, client.ObjectKey{Name: "piedpiper"}, got)
		if err == nil && got.Spec.Cell == "sae1-admin-b" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after Move: spec.cell %q (%v)", got.Spec.Cell, err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	browsertest.Screenshot(t, bctx, "admin-suspended")
	if problems, _ := trouble.Take(); len(problems) > 0 {
		t.Errorf("the actions: %v", problems)
	}
}
