// Package browsertest drives Debian's headless Chromium for the app's and the console's page
// tests (chromedp): a browser per test, and everything a page did wrong (a failed request, a
// 4xx/5xx answer, a console error, an exception, a Content-Security-Policy refusal) collected
// for the test to fail on. Hosts are *.localhost, which Chromium resolves to loopback itself.
package browsertest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Trouble is what pages did wrong, and the URLs they loaded, since the last Take.
type Trouble struct {
	mu       sync.Mutex
	problems []string
	loaded   []string
}

func (b *Trouble) add(format string, a ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, fmt.Sprintf(format, a...))
}

// Take returns and forgets what was collected.
func (b *Trouble) Take() (problems, loaded []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	problems, loaded = b.problems, b.loaded
	b.problems, b.loaded = nil, nil
	return problems, loaded
}

func (b *Trouble) listen(ev any) {
	switch e := ev.(type) {
	case *network.EventLoadingFailed:
		// An EventSource the page closes itself, or a navigation away, cancels its request.
		if e.Canceled {
			return
		}
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

// Browser starts headless Chromium for the test, with or without JavaScript.
func Browser(t *testing.T, scripts bool) (context.Context, *Trouble) {
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
	trouble := &Trouble{}
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
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Screenshot saves the page as bin/artifacts/browser/<name>.png.
func Screenshot(t *testing.T, ctx context.Context, name string) {
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifacts(t), name+".png"), png, 0o600); err != nil {
		t.Fatal(err)
	}
}

// URL is server's address under host (a *.localhost name), at path.
func URL(server *httptest.Server, host, path string) string {
	return "http://" + host + ":" + server.URL[strings.LastIndex(server.URL, ":")+1:] + path
}

// Check loads url, runs extra, and fails on any trouble; it returns the URLs the page loaded.
func Check(t *testing.T, ctx context.Context, trouble *Trouble, url, shot string, extra ...chromedp.Action[chromedp.Void]) []string {
	t.Helper()
	actions := append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body"))}, extra...)
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", url, err)
	}
	time.Sleep(300 * time.Millisecond) // late console messages and CSP reports
	Screenshot(t, ctx, shot)
	problems, loaded := trouble.Take()
	for _, p := range problems {
		t.Errorf("%s: %s", url, p)
	}
	return loaded
}
