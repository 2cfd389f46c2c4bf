package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/tenantops/tenant-operator/app/internal/assets"
)

// The pages in a real browser: Debian's headless Chromium, driven by chromedp. Hosts are
// *.localhost, which Chromium resolves to loopback itself; the app routes them by Host as it
// routes a tenant's domain.

// browserTrouble is what a page did wrong: a request that failed or was answered 4xx/5xx, a
// console error, an exception, anything the Content-Security-Policy refused.
type browserTrouble struct {
	mu       sync.Mutex
	problems []string
	loaded   []string
}

func (b *browserTrouble) add(format string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, a...))
}

func (b *browserTrouble) take() (problems, loaded []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	problems, loaded = b.problems, b.loaded
	b.problems, b.loaded = nil, nil
	return problems, loaded
}

func (b *browserTrouble) listen(ev any) {
	switch e := ev.(type) {
	case *network.EventLoadingFailed:
		b.add("request failed: %s %s", e.ErrorText, e.BlockedReason)
	case *network.EventResponseReceived:
		b.mu.Lock()
		b.loaded = append(b.loaded, e.Response.URL)
		b.mu.Unlock()
		if e.Response.Status >= 400 {
			b.add("HTTP %d for %s", int(e.Response.Status), e.Response.URL)
		}
	case *cdpruntime.EventConsoleAPICalled:
		if e.Type == "error" || e.Type == "warning" {
			var args []string
			for _, a := range e.Args {
				args = append(args, fmt.Sprint(a.Value)+a.Description)
			}
			b.add("console %s: %s", e.Type, strings.Join(args, " "))
		}
	case *cdpruntime.EventExceptionThrown:
		b.add("exception: %s", e.ExceptionDetails.Text)
	case *cdplog.EventEntryAdded:
		// Content-Security-Policy refusals are reported here, as security or error entries.
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Source == cdplog.EntrySourceSecurity {
			b.add("log %s/%s: %s", e.Entry.Source, e.Entry.Level, e.Entry.Text)
		}
	}
}

// browser starts headless Chromium for the test, with or without JavaScript.
func browser(t *testing.T, scripts bool) (context.Context, *browserTrouble) {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed: `make test-deps` installs Debian's package")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1024, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// The browser lives as long as this context; each step below has its own deadline.
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	trouble := &browserTrouble{}
	if err := chromedp.Listen(ctx, trouble.listen); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, cdpruntime.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	if !scripts {
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
	}
	return ctx, trouble
}

// artifacts is where the screenshots go: bin/artifacts/browser of the repository.
func artifacts(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "..", "bin", "artifacts", "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifacts(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pageURL is srv's address for a tenant's host.
func pageURL(server *httptest.Server, host, path string) string {
	return "http://" + host + ":" + server.URL[strings.LastIndex(server.URL, ":")+1:] + path
}

// checkPage loads url and fails on any trouble; it returns the URLs the page loaded.
func checkPage(t *testing.T, ctx context.Context, trouble *browserTrouble, url, shot string, extra ...chromedp.Action[chromedp.Void]) []string {
	t.Helper()
	actions := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))}, extra...)
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	time.Sleep(300 * time.Millisecond) // late console messages and CSP reports
	screenshot(t, ctx, shot)
	problems, loaded := trouble.take()
	for _, p := range problems {
		t.Errorf("%s: %s", url, p)
	}
	return loaded
}

func TestPagesInABrowser(t *testing.T) {
	ctx, trouble := browser(t, true)
	css, js, logoFile := assets.Hashed("style.css"), assets.Hashed("widget.js"), assets.Hashed("logo.svg")

	// The app's own files.
	loaded := checkPage(t, ctx, trouble, pageURL(srv, "acme.localhost", "/"), "home")
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
	loaded = checkPage(t, ctx, trouble, itemPage, "item")
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
	screenshot(t, ctx, "item-rated")
	if problems, _ := trouble.take(); len(problems) > 0 {
		t.Errorf("rating with the widget: %v", problems)
	}
	// It was stored: a reload shows it.
	checkPage(t, ctx, trouble, itemPage, "item-reloaded", chromedp.WaitVisible(chromedp.Search(`//ul[@id="reviews"]/li[contains(., "`+review+`")]`)))
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

	ctx, trouble := browser(t, true)
	item := itemIDs["acme/acme-first"] // the same database as acme's
	for _, p := range []struct{ path, shot string }{{"/", "cdn-home"}, {fmt.Sprintf("/items/%d", item), "cdn-item"}} {
		loaded := checkPage(t, ctx, trouble, pageURL(srv, "cdnshop.localhost", p.path), p.shot)
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
	ctx, trouble := browser(t, false)
	itemPage := pageURL(srv, "acme.localhost", fmt.Sprintf("/items/%d", itemIDs["acme/acme-first"]))
	checkPage(t, ctx, trouble, itemPage, "noscript-item")
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
	screenshot(t, ctx, "noscript-rated")
	if problems, _ := trouble.take(); len(problems) > 0 {
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
