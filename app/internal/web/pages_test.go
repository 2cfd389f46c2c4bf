package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tenantops/tenant-operator/app/internal/cache"
	"github.com/tenantops/tenant-operator/app/internal/queue"
	"github.com/tenantops/tenant-operator/app/internal/service"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

// Pages are served from each replica's rendered copy, but a rating posted on one replica shows on
// the item's page on every replica within service.PageFreshFor, and never on another tenant's
// page (tenants' item IDs collide on purpose).
func TestARatingShowsOnEveryReplicaWithinTheBound(t *testing.T) {
	defer func(d time.Duration) { service.PageFreshFor = d }(service.PageFreshFor)
	service.PageFreshFor = 300 * time.Millisecond

	// Replica b: the same tenants (their databases and cache), its own process state.
	regB := tenant.NewRegistry(service.Opener(cache.NewShared(func(addr string) cache.Backend { return cache.NewRedis(addr, false) })))
	defer regB.Close()
	for _, id := range []string{"acme", "globex"} {
		rt, _ := reg.Get(id)
		regB.Upsert(rt.Config)
	}
	regB.MarkLoaded()
	qb := queue.NewInProcess(t.Context(), 100, func(_ context.Context, _ []byte) error { return nil })
	b := httptest.NewServer(New(regB, slog.New(slog.NewTextHandler(io.Discard, nil)), qb))
	defer b.Close()

	id := itemIDs["acme/acme-first"]
	path := fmt.Sprintf("/items/%d", id)
	page := func(server *httptest.Server, host string) string {
		t.Helper()
		resp, body := send(t, server, "GET", host, path, "", nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("GET %s%s: %d, CSP %q", host, path, resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
		}
		return body
	}
	review := fmt.Sprintf("kept-fresh-%d", time.Now().UnixNano())
	for _, server := range []*httptest.Server{srv, b} {
		for _, host := range []string{"acme.website.com", "globex.website.com"} {
			if strings.Contains(page(server, host), review) {
				t.Fatal("the review is there before it was posted")
			}
		}
	}
	if code, body := do(t, "POST", "acme.website.com", fmt.Sprintf("/api/items/%d/ratings", id), "application/json",
		`{"customer":"fresh","stars":4,"review":"`+review+`"}`); code != 201 {
		t.Fatalf("rating: %d %s", code, body)
	}
	posted := time.Now()
	if !strings.Contains(page(srv, "acme.website.com"), review) {
		t.Error("the replica that took the rating does not show it at once")
	}
	for !strings.Contains(page(b, "acme.website.com"), review) {
		if time.Since(posted) > service.PageFreshFor+200*time.Millisecond {
			t.Fatalf("replica b does not show the rating %s after it was posted (bound %s)", time.Since(posted), service.PageFreshFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the rating showed on the other replica %s after it was posted (bound %s)", time.Since(posted).Round(time.Millisecond), service.PageFreshFor)
	time.Sleep(service.PageFreshFor)
	for _, server := range []*httptest.Server{srv, b} {
		if strings.Contains(page(server, "globex.website.com"), review) {
			t.Error("another tenant's page shows the rating")
		}
	}
}
