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
	opsSrv  *httptest.Server
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
	sqliteDir, err := os.MkdirTemp("", "web-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(sqliteDir)
	// acme and globex on MariaDB (RDS in production); initech on SQLite (the embedded default).
	for _, id := range []string{"acme", "globex", "initech"} {
		dbc := tenant.DB{Driver: "sqlite", Name: sqliteDir + "/" + id + ".db"}
		if id != "initech" {
			d, err := db.NewDatabase(ctx, id)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			dbc = tenant.DB{Driver: "mysql", Host: d.Host, Port: d.Port, Name: d.Name, User: d.User, Password: d.Password}
		}
		reg.Upsert(tenant.Config{ID: id, DisplayName: strings.ToUpper(id), Hosts: []string{id + ".website.com", id + ".localhost"},
			DB: dbc, Cache: tenant.Cache{Address: rd.Addr, KeyPrefix: "t:" + id + ":"}})
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
	s := New(reg, slog.New(slog.NewTextHandler(io.Discard, nil)), q)
	srv = httptest.NewServer(s)
	defer srv.Close()
	opsSrv = httptest.NewServer(s.Ops())
	defer opsSrv.Close()
	return m.Run()
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func do(t *testing.T, method, host, path, contentType, body string) (int, string) {
	t.Helper()
	resp, b := send(t, srv, method, host, path, body, map[string]string{"Content-Type": contentType})
	return resp.StatusCode, b
}

// send sends a request to server with the given Host and headers (empty ones left out).
func send(t *testing.T, server *httptest.Server, method, host, path, body string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, server.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
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
		if resp, _ := send(t, opsSrv, "GET", "anything", p, "", nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	_, metrics := send(t, opsSrv, "GET", "anything", "/metrics", "", nil)
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

// The tenant port serves tenant routes only: what the operations endpoints show spans every
// tenant, so a tenant's host must not reach them.
func TestOperationalEndpointsAreNotOnTenantHosts(t *testing.T) {
	for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
		for _, host := range []string{"acme.website.com", "evil.website.com", ""} {
			if code, body := do(t, "GET", host, p, "", ""); code != http.StatusNotFound || strings.Contains(body, "app_http_requests_total") {
				t.Errorf("GET %s with Host %q on the tenant port: %d %.100s", p, host, code, body)
			}
		}
		if resp, _ := send(t, opsSrv, "GET", "", p, "", nil); resp.StatusCode != 200 {
			t.Errorf("GET %s on the ops port: %d", p, resp.StatusCode)
		}
	}
}

// A JSON body is one JSON value, its size limit holds for the whole of it, it comes as
// application/json, and every unsafe request from another origin is refused.
func TestOneJSONValueSameOriginWritesAndUTF8(t *testing.T) {
	id := itemIDs["acme/acme-first"]
	rate := fmt.Sprintf("/api/items/%d/ratings", id)
	form := fmt.Sprintf("/items/%d/ratings", id)
	valid := `{"customer":"x","stars":3}`
	cases := []struct {
		name, path, ctype, body string
		headers                 map[string]string
		code                    int
		says                    string
	}{
		{"a valid rating", rate, "application/json", valid, nil, 201, ""},
		{"application/json with a charset", rate, "application/json; charset=utf-8", valid, nil, 201, ""},
		{"20 KiB of spaces after the value", rate, "application/json", valid + strings.Repeat(" ", 20<<10), nil, 413, "too large"},
		{"a second object", rate, "application/json", valid + `{"admin":true}`, nil, 400, "nothing after it"},
		{"garbage after the value", rate, "application/json", valid + ` garbage`, nil, 400, "nothing after it"},
		{"a stray brace", rate, "application/json", valid + `}`, nil, 400, "nothing after it"},
		{"text/plain", rate, "text/plain", valid, nil, 415, "application/json"},
		{"a form", rate, "application/x-www-form-urlencoded", valid, nil, 415, "application/json"},
		{"multipart", rate, "multipart/form-data; boundary=x", valid, nil, 415, "application/json"},
		{"no content type", rate, "", valid, nil, 415, "application/json"},
		{"cross-site JSON", rate, "application/json", valid, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, ""},
		{"cross-site form", form, "application/x-www-form-urlencoded", "customer=x&stars=3", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, ""},
		{"a form from another origin", form, "application/x-www-form-urlencoded", "customer=x&stars=3", map[string]string{"Origin": "https://evil.example"}, 403, ""},
		{"a same-origin form", form, "application/x-www-form-urlencoded", "customer=x&stars=3", map[string]string{"Sec-Fetch-Site": "same-origin"}, 303, ""},
		{"non-UTF-8 JSON field", rate, "application/json", "{\"customer\":\"\xff\xfe\",\"stars\":3}", nil, 400, "customer must be UTF-8"},
		{"non-UTF-8 form field", form, "application/x-www-form-urlencoded", "customer=ok&stars=3&review=%FF%FE", nil, 400, "review must be UTF-8"},
	}
	for _, c := range cases {
		h := map[string]string{"Content-Type": c.ctype}
		for k, v := range c.headers {
			h[k] = v
		}
		resp, body := send(t, srv, "POST", "acme.website.com", c.path, c.body, h)
		if resp.StatusCode != c.code || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %.150s", c.name, resp.StatusCode, body)
		}
	}
	// Pages may not be framed by another site.
	resp, _ := send(t, srv, "GET", "acme.website.com", "/", "", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP %q lets other sites frame the pages", csp)
	}
}

// Text that is not UTF-8 is refused before either store sees it: MariaDB would fail the insert
// (utf8mb4, strict), SQLite would store the bytes as sent.
func TestNonUTF8IsRefusedOnBothStores(t *testing.T) {
	for _, host := range []string{"acme.website.com", "initech.website.com"} {
		code, body := do(t, "POST", host, "/api/items/1/ratings", "application/json", "{\"customer\":\"\xc3\x28\",\"stars\":3}")
		if code != 400 || !strings.Contains(body, "customer must be UTF-8") {
			t.Errorf("%s: %d %.150s", host, code, body)
		}
	}
}
