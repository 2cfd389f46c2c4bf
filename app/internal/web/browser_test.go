package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/tenantops/tenant-operator/app/internal/assets"
	"github.com/tenantops/tenant-operator/app/internal/browsertest"
)

// The pages in a real browser: Debian's headless Chromium, driven by chromedp
// (app/internal/browsertest). Hosts are *.localhost, which Chromium resolves to loopback itself;
// the app routes them by Host as it routes a tenant's domain.

func pageURL(server *httptest.Server, host, path string) string {
	return browsertest.URL(server, host, path)
}

func TestPagesInABrowser(t *testing.T) {
	ctx, trouble := browsertest.Browser(t, true)
	css, js, logoFile := assets.Hashed("style.css"), assets.Hashed("widget.js"), assets.Hashed("logo.svg")

	// The app's own files.
	loaded := browsertest.Check(t, ctx, trouble, pageURL(srv, "acme.localhost", "/"), "home")
	for _, f := range []string{css, logoFile} {
		if !containsSuffix(loaded, "/static/"+f) {
			t.Errorf("home page did not load %s: %v", f, loaded)
		}
	}
	color, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("a")).color`))
	if err != nil || color != "rgb(11, 92, 173)" {
		t.Errorf("the stylesheet is not applied: a link is %q (%v)", color, err)
	}

	// The item page: its widget posts a rating through the JSON API and shows it without a reload.
	itemPage := pageURL(srv, "acme.localhost", fmt.Sprintf("/items/%d", itemIDs["acme/acme-first"]))
	loaded = browsertest.Check(t, ctx, trouble, itemPage, "item")
	if !containsSuffix(loaded, "/static/"+js) {
		t.Errorf("item page did not load its script: %v", loaded)
	}
	review := fmt.Sprintf("clicked four stars at %d", time.Now().UnixNano())
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`),
		chromedp.Click(chromedp.CSS(`button.star-picker[data-stars="4"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=customer]`), "browser"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=review]`), review),
		chromedp.Click(chromedp.CSS(`form.rate button[type=submit]`)),
		chromedp.WaitVisible(chromedp.Search(`//ul[@id="reviews"]/li[contains(., "`+review+`")]`)),
	)
	if err != nil {
		t.Fatalf("rating with the widget: %v", err)
	}
	shown, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#reviews li:first-child`)))
	stillThere, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded === true`))
	if !strings.Contains(shown, "★★★★☆") || !stillThere {
		t.Errorf("after the widget's post: first review %q, page not reloaded %v", shown, stillThere)
	}
	browsertest.Screenshot(t, ctx, "item-rated")
	if problems, _ := trouble.Take(); len(problems) > 0 {
		t.Errorf("rating with the widget: %v", problems)
	}
	// It was stored: a reload shows it.
	browsertest.Check(t, ctx, trouble, itemPage, "item-reloaded", chromedp.WaitVisible(chromedp.Search(`//ul[@id="reviews"]/li[contains(., "`+review+`")]`)))
}

// A tenant whose pages load their files from a CDN on another origin: every file comes from
// there, and the CSP lets exactly that through.
func TestPagesFromACDNInABrowser(t *testing.T) {
	var served atomic.Int32
	cdn := httptest.NewServer(http.StripPrefix("/static", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		assets.Handler().ServeHTTP(w, r)
	})))
	defer cdn.Close()
	acme, _ := reg.Get("acme")
	c := acme.Config
	c.ID, c.DisplayName, c.Hosts = "cdnshop", "CDN Shop", []string{"cdnshop.localhost"}
	c.Cache.KeyPrefix = "t:cdnshop:"
	// The operator writes https URLs; this stand-in CloudFront speaks plain HTTP on loopback.
	c.AssetsBaseURL = pageURL(cdn, "cdn.localhost", "/static")
	reg.Upsert(c)
	defer reg.Remove(c.ID)

	ctx, trouble := browsertest.Browser(t, true)
	item := itemIDs["acme/acme-first"] // the same database as acme's
	for _, p := range []struct{ path, shot string }{{"/", "cdn-home"}, {fmt.Sprintf("/items/%d", item), "cdn-item"}} {
		loaded := browsertest.Check(t, ctx, trouble, pageURL(srv, "cdnshop.localhost", p.path), p.shot)
		for _, u := range loaded {
			if strings.Contains(u, "/static/") && !strings.HasPrefix(u, c.AssetsBaseURL) {
				t.Errorf("%s loaded %s from the app, not the CDN", p.path, u)
			}
		}
	}
	if served.Load() < 3 {
		t.Errorf("the CDN served %d files, want the stylesheet, the logo and the script", served.Load())
	}
}

// With scripts off the form still works: it posts, the app redirects, the review shows.
func TestRatingWithScriptsOff(t *testing.T) {
	ctx, trouble := browsertest.Browser(t, false)
	itemPage := pageURL(srv, "acme.localhost", fmt.Sprintf("/items/%d", itemIDs["acme/acme-first"]))
	browsertest.Check(t, ctx, trouble, itemPage, "noscript-item")
	review := fmt.Sprintf("posted without scripts at %d", time.Now().UnixNano())
	err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name=stars]`), "2"),
		chromedp.SendKeys(chromedp.CSS(`input[name=customer]`), "plain form"),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=review]`), review),
		chromedp.Submit(chromedp.CSS(`form.rate`)),
		chromedp.WaitVisible(chromedp.Search(`//ul[@id="reviews"]/li[contains(., "`+review+`")]`)),
	)
	if err != nil {
		t.Fatalf("posting the form without scripts: %v", err)
	}
	browsertest.Screenshot(t, ctx, "noscript-rated")
	if problems, _ := trouble.Take(); len(problems) > 0 {
		t.Errorf("posting the form without scripts: %v", problems)
	}
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}
