package tenant

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestNormalizeHost(t *testing.T) {
	cases := map[string]string{
		"acme.website.com": "acme.website.com", "ACME.Website.com": "acme.website.com", "acme.website.com:443": "acme.website.com",
		"acme.website.com.": "acme.website.com", " acme.localhost ": "acme.localhost",
		"127.0.0.1": "", "127.0.0.1:80": "", "[::1]": "", "[::1]:8080": "", "::1": "", "": "", "a..b": "", "-a.b": "",
		"a_b.com": "", "acme.website.com/evil": "", "acme.website.com\x00": "", strings.Repeat("a", 64) + ".com": "",
	}
	for in, want := range cases {
		if got := NormalizeHost(in); got != want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func secretData(kv map[string]string) map[string][]byte {
	out := map[string][]byte{}
	for k, v := range kv {
		out[k] = []byte(v)
	}
	return out
}

func TestFromData(t *testing.T) {
	good := map[string]string{saasv1.ConfigTenantID: "acme", saasv1.ConfigHosts: "acme.website.com, ACME.example.", saasv1.ConfigDBHost: "db",
		saasv1.ConfigDBName: "app", saasv1.ConfigDBUser: "u", saasv1.ConfigDBPassword: "p w", saasv1.ConfigCacheAddress: "cache:6379"}
	c, err := FromData(secretData(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Driver != "mysql" || c.DB.Port != 3306 || c.DB.Password != "p w" || strings.Join(c.Hosts, ",") != "acme.website.com,acme.example" ||
		c.Cache.KeyPrefix != "t:acme:" {
		t.Errorf("config %+v", c)
	}
	withURLs := map[string]string{saasv1.ConfigAssetsBaseURL: "https://static.website.com/static/", saasv1.ConfigLogoURL: "https://cdn.acme.example/logo.svg"}
	for k, v := range good {
		withURLs[k] = v
	}
	if u, err := FromData(secretData(withURLs)); err != nil || u.AssetsBaseURL != "https://static.website.com/static" || u.LogoURL != "https://cdn.acme.example/logo.svg" {
		t.Errorf("asset and logo URLs: %+v %v", u, err)
	}
	if strings.Contains(c.Redacted(), "p w") {
		t.Error("Redacted shows the password")
	}
	bad := []struct {
		change map[string]string
		says   string
	}{
		{map[string]string{saasv1.ConfigTenantID: ""}, "tenant-id is empty"},
		{map[string]string{saasv1.ConfigHosts: "127.0.0.1"}, "hosts names no host"},
		{map[string]string{saasv1.ConfigDBPort: "99999"}, "is not a port"},
		{map[string]string{saasv1.ConfigDBDriver: "oracle"}, "is not mysql or sqlite"},
		{map[string]string{saasv1.ConfigDBHost: ""}, "mysql needs"},
		// What goes into pages and their Content-Security-Policy: https URLs only.
		{map[string]string{saasv1.ConfigAssetsBaseURL: "http://cdn.example/static"}, "assets-base-url"},
		{map[string]string{saasv1.ConfigAssetsBaseURL: "https://cdn.example/static; script-src *"}, "assets-base-url"},
		{map[string]string{saasv1.ConfigLogoURL: "javascript:alert(1)"}, "logo-url"},
		{map[string]string{saasv1.ConfigLogoURL: "https://user@logo.example/x.png"}, "logo-url"},
	}
	for _, b := range bad {
		kv := map[string]string{}
		for k, v := range good {
			kv[k] = v
		}
		for k, v := range b.change {
			kv[k] = v
		}
		if _, err := FromData(secretData(kv)); err == nil || !strings.Contains(err.Error(), b.says) {
			t.Errorf("%v: %v, want %q", b.change, err, b.says)
		}
	}
}

func TestLoadDirReadsTheMountedSecretShape(t *testing.T) {
	dir := t.TempDir()
	write := func(tenant string, kv map[string]string) {
		d := filepath.Join(dir, tenant)
		// The kubelet's atomic-writer layout: a hidden ..data directory and links to it.
		if err := os.MkdirAll(filepath.Join(d, "..data"), 0o755); err != nil {
			t.Fatal(err)
		}
		for k, v := range kv {
			if err := os.WriteFile(filepath.Join(d, "..data", k), []byte(v), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join("..data", k), filepath.Join(d, k)); err != nil {
				t.Fatal(err)
			}
		}
	}
	write("acme", map[string]string{saasv1.ConfigTenantID: "acme", saasv1.ConfigHosts: "acme.localhost", saasv1.ConfigDBDriver: "sqlite", saasv1.ConfigDBName: "/tmp/acme.db"})
	write("broken", map[string]string{saasv1.ConfigTenantID: "broken"})
	configs, err := LoadDir(dir)
	if len(configs) != 1 || configs[0].ID != "acme" || err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("configs %+v, err %v", configs, err)
	}
}

type fakeResources struct{ closed *atomic.Int32 }

func (f fakeResources) Close() error { f.closed.Add(1); return nil }

func TestRegistryOpensLazilyAndClosesWhatGoes(t *testing.T) {
	var opened, closed atomic.Int32
	reg := NewRegistry(func(c Config) (fakeResources, error) {
		if c.ID == "fails" {
			return fakeResources{}, errors.New("no database")
		}
		opened.Add(1)
		return fakeResources{closed: &closed}, nil
	})
	acme := Config{ID: "acme", Hosts: []string{"acme.website.com"}}
	reg.Upsert(acme)
	reg.Upsert(Config{ID: "squatter", Hosts: []string{"acme.website.com", "squat.website.com"}})
	if opened.Load() != 0 {
		t.Fatal("opened before use")
	}
	got, ok := reg.Lookup("ACME.website.com:443")
	if !ok || got.Config.ID != "acme" {
		t.Fatalf("lookup: %v %v (a host stays with the tenant that had it first)", got, ok)
	}
	if _, err := got.Resources(); err != nil || opened.Load() != 1 {
		t.Fatal(err)
	}
	_, _ = got.Resources()
	if opened.Load() != 1 {
		t.Error("opened twice")
	}
	reg.Upsert(acme) // unchanged: nothing happens
	if closed.Load() != 0 {
		t.Error("closed on an unchanged upsert")
	}
	changed := acme
	changed.DB.Name = "other"
	reg.Upsert(changed)
	if closed.Load() != 1 {
		t.Error("a changed tenant's resources were not closed")
	}
	if _, err := got.Resources(); err == nil {
		t.Error("the replaced tenant still hands out resources")
	}
	reg.Replace([]Config{{ID: "fails", Hosts: []string{"f.example"}}})
	if _, ok := reg.Lookup("acme.website.com"); ok || len(reg.IDs()) != 1 {
		t.Errorf("replace left %v", reg.IDs())
	}
	f, _ := reg.Get("fails")
	if _, err := f.Resources(); err == nil {
		t.Error("an open error is not reported")
	}
}
