package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/tenantops/tenant-operator/app/internal/cache"
	"github.com/tenantops/tenant-operator/app/internal/queue"
	"github.com/tenantops/tenant-operator/app/internal/service"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

var (
	srv     *httptest.Server
	reg     *Registry
	events  = make(chan []byte, 1000)
	itemIDs = map[string]int64{} // "tenant/name" -> id
)

// Two tenants, acme and globex, each with its own MariaDB database, sharing one Redis, served
// by one app, as the operator deploys it.
func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	db, err := testsvc.StartMariaDB()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.Stop()
	rd, err := testsvc.StartRedis()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer rd.Stop()
	backends := cache.NewShared(func(addr string) cache.Backend { return cache.NewRedis(addr, false) })
	reg = tenant.NewRegistry(service.Opener(backends))
	ctx := context.Background()
	for _, id := range []string{"acme", "globex"} {
		d, err := db.NewDatabase(ctx, id)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		reg.Upsert(tenant.Config{ID: id, DisplayName: strings.ToUpper(id), Hosts: []string{id + ".website.com", id + ".localhost"},
			DB:    tenant.DB{Driver: "mysql", Host: d.Host, Port: d.Port, Name: d.Name, User: d.User, Password: d.Password},
			Cache: tenant.Cache{Address: rd.Addr, KeyPrefix: "t:" + id + ":"}})
		t, _ := reg.Get(id)
		res, err := t.Resources()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if _, err := res.Migrate(ctx); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		// Both tenants get item 1 and 2, so IDs collide across tenants on purpose.
		for _, name := range []string{id + "-first", id + "-second"} {
			iid, err := res.Store.AddItem(ctx, "books", name, "about "+name)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			itemIDs[id+"/"+name] = iid
		}
	}
	reg.MarkLoaded()
	q := queue.NewInProcess(ctx, 1000, func(_ context.Context, b []byte) error { events <- b; return nil })
	srv = httptest.NewServer(New(reg, slog.New(slog.NewTextHandler(io.Discard, nil)), q))
	defer srv.Close()
	return m.Run()
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, method, host, path, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestHostRouting(t *testing.T) {
	cases := []struct {
		host string
		code int
		has  string
	}{
		{"acme.website.com", 200, "acme-first"},
		{"ACME.Website.COM", 200, "acme-first"},
		{"acme.website.com:8080", 200, "acme-first"},
		{"acme.website.com.", 200, "acme-first"},
		{"globex.localhost", 200, "globex-first"},
		{"evil.website.com", 404, "no tenant"},
		{"acme.website.com.evil.com", 404, "no tenant"},
		{"127.0.0.1", 404, "no tenant"},
		{"[::1]:8080", 404, "no tenant"},
		{"", 404, "no tenant"},
		{"acme..website.com", 404, "no tenant"},
		{"acme.website.com\x00", 404, "no tenant"},
	}
	for _, c := range cases {
		code, body := do(t, "GET", c.host, "/api/items", "", "")
		if code != c.code || !strings.Contains(body, c.has) {
			t.Errorf("Host %q: %d %s", c.host, code, body)
		}
		if c.code == 200 && strings.Contains(body, "globex") == strings.Contains(body, "acme") {
			t.Errorf("Host %q saw another tenant's data: %s", c.host, body)
		}
	}
}

func TestAnotherTenantsItemsAreUnreachable(t *testing.T) {
	// globex's second item has an ID acme does not have (each database counts from 1, and acme
	// has two items); asking acme for a high ID gives 404, never globex's item.
	code, body := do(t, "GET", "acme.website.com", "/api/items/999", "", "")
	if code != 404 {
		t.Errorf("unknown id: %d %s", code, body)
	}
	gid := itemIDs["globex/globex-first"]
	code, body = do(t, "GET", "acme.website.com", fmt.Sprintf("/api/items/%d", gid), "", "")
	if code == 200 && strings.Contains(body, "globex") {
		t.Fatalf("acme read globex's item: %s", body)
	}
	// Rating through acme's host lands in acme's database only.
	id := itemIDs["acme/acme-first"]
	code, body = do(t, "POST", "acme.website.com", fmt.Sprintf("/api/items/%d/ratings", id), "application/json", `{"customer":"ann","stars":5,"review":"great"}`)
	if code != 201 {
		t.Fatalf("rate: %d %s", code, body)
	}
	_, acme := do(t, "GET", "acme.website.com", fmt.Sprintf("/api/items/%d", id), "", "")
	_, globex := do(t, "GET", "globex.website.com", fmt.Sprintf("/api/items/%d", id), "", "")
	if !strings.Contains(acme, `"customer":"ann"`) || strings.Contains(globex, `"customer":"ann"`) {
		t.Errorf("rating leaked or lost:\nacme %s\nglobex %s", acme, globex)
	}
	select {
	case ev := <-events:
		if !strings.Contains(string(ev), `"tenant":"acme"`) {
			t.Errorf("event %s", ev)
		}
	default:
		t.Error("no rating event queued")
	}
}

func TestSQLInjectionInEveryParameterIsInert(t *testing.T) {
	inj := []string{"1 OR 1=1", "1; DROP TABLE items", "' OR '1'='1", "1 UNION SELECT * FROM ratings", "0x31", "-1", "9223372036854775808"}
	for _, v := range inj {
		q := url.QueryEscape(v)
		for _, path := range []string{"/api/items?page=" + q, "/api/items?per_page=" + q, "/api/items?category=" + q,
			"/api/items/" + url.PathEscape(v), "/api/recommendations?category=" + q, "/?category=" + q, "/items/" + url.PathEscape(v)} {
			code, body := do(t, "GET", "acme.website.com", path, "", "")
			if code >= 500 {
				t.Errorf("%s: %d %s", path, code, body)
			}
			if code == 200 && strings.Contains(body, "globex") {
				t.Errorf("%s leaked another tenant: %s", path, body)
			}
		}
		body := fmt.Sprintf(`{"customer":%q,"stars":4,"review":%q}`, v, v)
		if code, resp := do(t, "POST", "acme.website.com", fmt.Sprintf("/api/items/%d/ratings", itemIDs["acme/acme-second"]), "application/json", body); code != 201 {
			t.Errorf("a rating with %q as text: %d %s", v, code, resp)
		}
	}
	// The tables are all still there and hold the injected text as text.
	code, body := do(t, "GET", "acme.website.com", fmt.Sprintf("/api/items/%d", itemIDs["acme/acme-second"]), "", "")
	if code != 200 || !strings.Contains(body, "DROP TABLE items") {
		t.Errorf("after injections: %d %s", code, body)
	}
	if code, _ := do(t, "GET", "globex.website.com", "/api/items", "", ""); code != 200 {
		t.Error("globex broken by acme's input")
	}
}

func TestBadInputGetsAClearError(t *testing.T) {
	id := itemIDs["acme/acme-first"]
	rate := fmt.Sprintf("/api/items/%d/ratings", id)
	cases := []struct {
		method, path, ctype, body string
		code                      int
		says                      string
	}{
		{"GET", "/api/items?page=0", "", "", 400, "page must be"},
		{"GET", "/api/items?per_page=1000", "", "", 400, "per_page must be"},
		{"GET", "/api/items/abc", "", "", 400, "item id must be"},
		{"GET", "/api/items/0", "", "", 400, "item id must be"},
		{"POST", rate, "application/json", `{"customer":"a","stars":6}`, 400, "stars must be"},
		{"POST", rate, "application/json", `{"customer":"","stars":3}`, 400, "customer is required"},
		{"POST", rate, "application/json", `{"customer":"a","stars":3,"admin":true}`, 400, "body must be JSON"},
		{"POST", rate, "application/json", `not json`, 400, "body must be JSON"},
		{"POST", rate, "application/json", `{"customer":"a","stars":3,"review":"` + strings.Repeat("x", 5000) + `"}`, 400, "review is at most"},
		{"POST", rate, "application/json", `{"customer":"a","stars":3,"review":"` + strings.Repeat("x", 20000) + `"}`, 413, "too large"},
		{"POST", "/api/items/999/ratings", "application/json", `{"customer":"a","stars":3}`, 404, "not found"},
		{"POST", fmt.Sprintf("/items/%d/ratings", id), "application/x-www-form-urlencoded", "customer=a&stars=x", 400, "stars must be"},
		{"DELETE", "/api/items/1", "", "", 405, ""},
	}
	for _, c := range cases {
		code, body := do(t, c.method, "acme.website.com", c.path, c.ctype, c.body)
		if code != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s %s: %d %.120s", c.method, c.path, code, body)
		}
		if c.says != "" {
			var e map[string]string
			if json.Unmarshal([]byte(body), &e) != nil || e["error"] == "" {
				t.Errorf("%s %s: not a JSON error: %.120s", c.method, c.path, body)
			}
		}
	}
}

func TestPagesHealthAndMetrics(t *testing.T) {
	code, body := do(t, "GET", "acme.website.com", "/", "", "")
	if code != 200 || !strings.Contains(body, "<h1><a href=\"/\">ACME</a></h1>") || !strings.Contains(body, "acme-first") {
		t.Errorf("home: %d %.300s", code, body)
	}
	id := itemIDs["acme/acme-first"]
	code, _ = do(t, "POST", "acme.website.com", fmt.Sprintf("/items/%d/ratings", id), "application/x-www-form-urlencoded", "customer=%3Cscript%3Ealert(1)%3C%2Fscript%3E&stars=4&review=ok")
	if code != http.StatusSeeOther {
		t.Errorf("form rate: %d", code)
	}
	_, body = do(t, "GET", "acme.website.com", fmt.Sprintf("/items/%d", id), "", "")
	if strings.Contains(body, "<script>alert(1)") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("customer text not escaped: %.500s", body)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, _ := do(t, "GET", "anything", p, "", ""); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	_, metrics := do(t, "GET", "anything", "/metrics", "", "")
	if !strings.Contains(metrics, `app_http_requests_total{code="200",route="/api/items",tenant="acme"}`) ||
		!strings.Contains(metrics, `tenant="unknown"`) || strings.Contains(metrics, `tenant="evil.website.com"`) {
		t.Errorf("metrics: labels must be known tenants or unknown:\n%.2000s", metrics)
	}
}

func TestAPanickingHandlerAnswers500AndTheServerLivesOn(t *testing.T) {
	s := New(reg, slog.New(slog.NewTextHandler(io.Discard, nil)), queue.NewInProcess(context.Background(), 1, func(context.Context, []byte) error { return nil }))
	s.route("GET /boom", func(http.ResponseWriter, request) (int, error) { panic("a bug") })
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/boom", nil)
	req.Host = "acme.website.com"
	s.ServeHTTP(rec, req)
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "internal error") {
		t.Errorf("%d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	req = httptest.NewRequest("GET", "/api/items", nil)
	req.Host = "acme.website.com"
	s.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("after the panic: %d", rec.Code)
	}
}
