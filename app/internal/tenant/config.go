// Package tenant knows the app's tenants: their configuration (from the Secrets the operator
// writes, or a directory of files of the same shape), and which tenant a Host header names.
package tenant

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Config is one tenant's configuration.
type Config struct {
	ID            string
	DisplayName   string
	Hosts         []string
	DB            DB
	Cache         Cache
	MailSender    string
	MailConfigSet string
	AdminEmail    string
	Suspended     bool
	// AssetsBaseURL is where the tenant's pages load their static files (the cell's CDN, such as
	// https://static.website.com/static); empty, the app serves them itself under /static.
	AssetsBaseURL string
	// LogoURL is the tenant's own logo; empty, the default one.
	LogoURL string
}

// DB is where the tenant's database is.
type DB struct {
	Driver   string // mysql or sqlite
	Host     string
	Port     int
	Name     string // for sqlite: the database file
	User     string
	Password string
}

// Cache is the tenant's key space in a cache.
type Cache struct {
	Address   string // host:port of Redis; empty for the in-memory cache
	KeyPrefix string
}

// Redacted is the configuration safe to log: no password.
func (c Config) Redacted() string {
	return fmt.Sprintf("tenant %s hosts=%v db=%s://%s@%s:%d/%s cache=%s prefix=%s", c.ID, c.Hosts, c.DB.Driver, c.DB.User,
		c.DB.Host, c.DB.Port, c.DB.Name, c.Cache.Address, c.Cache.KeyPrefix)
}

// Equal says whether two configurations would give the same connections and routes.
func (c Config) Equal(o Config) bool {
	return c.ID == o.ID && c.DisplayName == o.DisplayName && strings.Join(c.Hosts, ",") == strings.Join(o.Hosts, ",") &&
		c.DB == o.DB && c.Cache == o.Cache && c.MailSender == o.MailSender && c.MailConfigSet == o.MailConfigSet &&
		c.AdminEmail == o.AdminEmail && c.Suspended == o.Suspended && c.AssetsBaseURL == o.AssetsBaseURL && c.LogoURL == o.LogoURL
}

// FromData reads a configuration from a Secret's data (or a directory's files).
func FromData(data map[string][]byte) (Config, error) {
	get := func(k string) string { return strings.TrimSpace(string(data[k])) }
	c := Config{
		ID: get(saasv1.ConfigTenantID), DisplayName: get(saasv1.ConfigDisplayName),
		DB: DB{Driver: get(saasv1.ConfigDBDriver), Host: get(saasv1.ConfigDBHost), Name: get(saasv1.ConfigDBName),
			User: get(saasv1.ConfigDBUser), Password: string(data[saasv1.ConfigDBPassword])},
		Cache:      Cache{Address: get(saasv1.ConfigCacheAddress), KeyPrefix: get(saasv1.ConfigCacheKeyPrefix)},
		MailSender: get(saasv1.ConfigMailSender), MailConfigSet: get(saasv1.ConfigMailConfigSet),
		AdminEmail: get(saasv1.ConfigAdminEmail),
	}
	if c.DB.Driver == "" {
		c.DB.Driver = "mysql"
	}
	var errs []error
	if c.ID == "" {
		errs = append(errs, errors.New(saasv1.ConfigTenantID+" is empty"))
	}
	for _, h := range strings.Split(get(saasv1.ConfigHosts), ",") {
		if h = NormalizeHost(h); h != "" {
			c.Hosts = append(c.Hosts, h)
		}
	}
	if len(c.Hosts) == 0 {
		errs = append(errs, errors.New(saasv1.ConfigHosts+" names no host"))
	}
	if p := get(saasv1.ConfigDBPort); p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port <= 0 || port > 65535 {
			errs = append(errs, fmt.Errorf("%s %q is not a port", saasv1.ConfigDBPort, p))
		}
		c.DB.Port = port
	}
	switch c.DB.Driver {
	case "mysql":
		if c.DB.Host == "" || c.DB.Name == "" || c.DB.User == "" {
			errs = append(errs, errors.New("mysql needs db-host, db-name and db-user"))
		}
		if c.DB.Port == 0 {
			c.DB.Port = 3306
		}
	case "sqlite":
		if c.DB.Name == "" {
			errs = append(errs, errors.New("sqlite needs db-name, the database file"))
		}
	default:
		errs = append(errs, fmt.Errorf("db-driver %q is not mysql or sqlite", c.DB.Driver))
	}
	if c.Cache.KeyPrefix == "" {
		c.Cache.KeyPrefix = "t:" + c.ID + ":"
	}
	c.Suspended = get(saasv1.ConfigSuspended) == "true"
	for _, u := range []struct {
		key string
		dst *string
	}{{saasv1.ConfigAssetsBaseURL, &c.AssetsBaseURL}, {saasv1.ConfigLogoURL, &c.LogoURL}} {
		v := get(u.key)
		if v == "" {
			continue
		}
		// Both go into pages and their Content-Security-Policy: absolute https URLs only.
		if p, err := url.Parse(v); err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil || strings.ContainsAny(v, " '\";") {
			errs = append(errs, fmt.Errorf("%s %q is not an https URL", u.key, v))
			continue
		}
		*u.dst = strings.TrimSuffix(v, "/")
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("tenant configuration %q: %w", c.ID, errors.Join(errs...))
	}
	return c, nil
}

// LoadDir reads every tenant of dir: one subdirectory per tenant holding one file per key, the
// shape of a configuration Secret mounted as a volume. Files of Kubernetes' volume machinery
// (..data and friends) are skipped.
func LoadDir(dir string) ([]Config, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Config
	var errs []error
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		c, err := LoadOne(filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, errors.Join(errs...)
}

// LoadOne reads one tenant's directory.
func LoadOne(dir string) (Config, error) {
	files, err := os.ReadDir(dir)
	if err != nil {
		return Config{}, err
	}
	data := map[string][]byte{}
	for _, f := range files {
		if strings.HasPrefix(f.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, f.Name()))
		if err != nil {
			return Config{}, err
		}
		data[f.Name()] = b
	}
	return FromData(data)
}

// NormalizeHost turns a Host header into the name tenants are looked up by: lower case, no
// port, no trailing dot. IP literals and anything that is not a DNS name give "".
func NormalizeHost(h string) string {
	h = strings.TrimSpace(h)
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.ToLower(h), ".")
	if h == "" || len(h) > 253 || net.ParseIP(strings.Trim(h, "[]")) != nil {
		return ""
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return ""
		}
		for _, r := range label {
			if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
				return ""
			}
		}
	}
	return h
}
