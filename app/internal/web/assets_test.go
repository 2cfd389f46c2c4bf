package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/tenantops/tenant-operator/app/internal/assets"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

var (
	stylesheet = regexp.MustCompile(`<link rel="stylesheet" href="([^"]+)">`)
	script     = regexp.MustCompile(`<script src="([^"]+)" defer>`)
	logo       = regexp.MustCompile(`<img src="([^"]+)"`)
)

func firstMatch(re *regexp.Regexp, body string) string {
	if m := re.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

// The pages load their files from where the tenant's configuration says, and their CSP allows
// exactly that and nothing inline.
func TestPagesLoadTheirFilesFromTheirCDN(t *testing.T) {
	css, js, svg := assets.Hashed("style.css"), assets.Hashed("widget.js"), assets.Hashed("logo.svg")
	acme, _ := reg.Get("acme")
	cdn := tenant.Config{ID: "cdnco", DisplayName: "CDN Co", Hosts: []string{"cdnco.website.com"},
		DB: tenant.DB{Driver: "sqlite", Name: t.TempDir() + "/cdnco.db"}, Cache: tenant.Cache{Address: acme.Config.Cache.Address, KeyPrefix: "t:cdnco:"}, AssetsBaseURL: "https://static.website.com/static",
		LogoURL: "https://cdn.cdnco.example/logo.png"}
	reg.Upsert(cdn)
	defer reg.Remove(cdn.ID)
	res, _ := reg.Get(cdn.ID)
	r, err := res.Resources()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, host, path    string
		style, script, logo string
		cspHas, cspLacks    []string
	}{
		{"the app's own files, no CDN", "acme.website.com", "/", "/static/" + css, "", "/static/" + svg,
			[]string{"style-src 'self'", "img-src 'self'", "script-src 'none'", "default-src 'none'"}, []string{"unsafe-inline", "https://"}},
		{"an item page has its script, and calls the API", "acme.website.com", "/items/1", "/static/" + css, "/static/" + js, "/static/" + svg,
			[]string{"script-src 'self'", "connect-src 'self'", "form-action 'self'"}, []string{"unsafe-inline"}},
		{"the CDN, and the tenant's own logo", "cdnco.website.com", "/", "https://static.website.com/static/" + css, "", "https://cdn.cdnco.example/logo.png",
			[]string{"style-src https://static.website.com;", "img-src https://static.website.com https://cdn.cdnco.example;"}, []string{"style-src 'self'", "img-src 'self'", "unsafe-inline"}},
	}
	for _, c := range cases {
		resp, body := send(t, srv, "GET", c.host, c.path, "", nil)
		csp := resp.Header.Get("Content-Security-Policy")
		got := []string{firstMatch(stylesheet, body), firstMatch(script, body), firstMatch(logo, body)}
		want := []string{c.style, c.script, c.logo}
		if resp.StatusCode != 200 || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: %d, files %v, want %v", c.name, resp.StatusCode, got, want)
		}
		for _, s := range c.cspHas {
			if !strings.Contains(csp, s) {
				t.Errorf("%s: CSP %q lacks %q", c.name, csp, s)
			}
		}
		for _, s := range c.cspLacks {
			if strings.Contains(csp, s) {
				t.Errorf("%s: CSP %q has %q", c.name, csp, s)
			}
		}
		if strings.Contains(body, "<style") || strings.Contains(body, "style=") || strings.Contains(body, "<script>") {
			t.Errorf("%s: the page has inline style or script", c.name)
		}
	}
}

// The app serves its files to its tenants' hosts, cacheable for a year, and nothing to others.
func TestTheAppServesItsOwnFiles(t *testing.T) {
	css := assets.Hashed("style.css")
	resp, body := send(t, srv, "GET", "acme.website.com", "/static/"+css, "", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != assets.CacheControl || !strings.Contains(body, "font-family") {
		t.Errorf("GET %s: %d %q", css, resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
	if resp, _ := send(t, srv, "GET", "nobody.website.com", "/static/"+css, "", nil); resp.StatusCode != 404 {
		t.Errorf("an unknown host got the files: %d", resp.StatusCode)
	}
	// A tenant whose database cannot be reached still gets its files: they open nothing of it.
	down := tenant.Config{ID: "down", DisplayName: "Down", Hosts: []string{"down.website.com"},
		DB: tenant.DB{Driver: "mysql", Host: "127.0.0.1", Port: 1, Name: "x", User: "x"}}
	reg.Upsert(down)
	defer reg.Remove(down.ID)
	if resp, _ := send(t, srv, "GET", "down.website.com", "/", "", nil); resp.StatusCode == 200 {
		t.Fatalf("a tenant whose database is down served its home page")
	}
	if resp, _ := send(t, srv, "GET", "down.website.com", "/static/"+css, "", nil); resp.StatusCode != 200 {
		t.Errorf("a tenant whose database is down did not get its files: %d", resp.StatusCode)
	}
}
