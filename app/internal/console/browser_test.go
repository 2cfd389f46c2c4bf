package console

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/app/internal/browsertest"
)

// The whole signup in headless Chromium: the form with its live availability check, the mail
// SES (moto) took, the link, the click, the progress followed live until the operator (played)
// reports Ready, and the store's own page; no console error or CSP refusal on the way.
func TestSignupInABrowser(t *testing.T) {
	ctx := context.Background()
	cell(t, "euc1-console", "eu-central-1")
	w := newWorld(t, Config{BaseDomain: "website.com"})
	// Chromium reaches the console at console.localhost, the new store at globex.localhost (a
	// stand-in for the tenant's app: what the customer lands on).
	store := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = rw.Write([]byte(`<!doctype html><html lang="en"><head><title>Globex</title><link rel="icon" href="data:,"></head><body><h1 id="store">Welcome to Globex</h1></body></html>`))
	}))
	defer store.Close()
	consoleSrv := httptest.NewServer(w.srv)
	defer consoleSrv.Close()
	base := browsertest.URL(consoleSrv, "console.localhost", "")
	w.srv.cfg.PublicURL = base

	bctx, trouble := browsertest.Browser(t, true)
	browsertest.Check(t, bctx, trouble, base+"/", "console-signup")
	// A reserved word, then a free name: the page says which, as the customer types.
	err := chromedp.Do(bctx,
		chromedp.SendKeys(chromedp.CSS("#subdomain"), "admin"),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="availability"][contains(., "kept for the platform")]`)),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("subdomain").value = ""`),
		chromedp.SendKeys(chromedp.CSS("#subdomain"), "globex"),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="availability"][starts-with(., "globex is free")]`)),
		chromedp.SendKeys(chromedp.CSS("#company"), "Globex Corporation"),
		chromedp.SetValue(chromedp.CSS("#region"), "eu-central-1"),
		chromedp.Click(chromedp.CSS(`input[name=tier][value=dedicated]`)),
		chromedp.SendKeys(chromedp.CSS("#adminEmail"), "hank@globex.example"),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.Search(`//p[@id="result"][contains(., "We sent a link to hank@globex.example")]`)),
	)
	if err != nil {
		t.Fatalf("filling in the signup: %v", err)
	}
	browsertest.Screenshot(t, bctx, "console-sent")
	if problems, _ := trouble.Take(); len(problems) > 0 {
		t.Errorf("the signup page: %v", problems)
	}

	// The customer opens the mail and follows the link, then confirms.
	link := mailedLink(t, "hank@globex.example")
	browsertest.Check(t, bctx, trouble, link, "console-verify", chromedp.WaitVisible(chromedp.CSS("#create")))
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS("#create")),
		chromedp.WaitVisible(chromedp.Search(`//ol[@id="steps"]/li[@data-state="working"]`))); err != nil {
		t.Fatalf("confirming: %v", err)
	}
	browsertest.Screenshot(t, bctx, "console-progress")
	tn := &saasv1.Tenant{}
	if err := admin.Get(ctx, client.ObjectKey{Name: "globex"}, tn); err != nil || tn.Spec.Tier != saasv1.TierDedicated || tn.Spec.Region != "eu-central-1" {
		var all saasv1.TenantList
		_ = admin.List(ctx, &all)
		var names []string
		for _, x := range all.Items {
			names = append(names, x.Name)
		}
		t.Fatalf("the Tenant: %+v (%v); there are %v", tn.Spec, err, names)
	}
	// The operator onboards it; the page follows, then takes the customer to their store.
	playReady(t, "globex", browsertest.URL(store, "globex.localhost", "/"))
	if err := chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS("#store"))); err != nil {
		t.Fatalf("landing on the store: %v", err)
	}
	loc, _ := chromedp.Run(bctx, chromedp.Location())
	if !strings.HasPrefix(loc, "http://globex.localhost:") {
		t.Errorf("landed on %s", loc)
	}
	time.Sleep(300 * time.Millisecond)
	browsertest.Screenshot(t, bctx, "console-landed")
	if problems, _ := trouble.Take(); len(problems) > 0 {
		t.Errorf("from the link to the store: %v", problems)
	}
}
