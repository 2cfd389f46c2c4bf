// Package catalog is the app's model: a tenant's items, customers' ratings and reviews, and
// the recommendations computed from them, in the tenant's own database (MySQL on RDS, or a
// SQLite file locally), with the schema migrations that create and evolve it.
package catalog

import (
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "modernc.org/sqlite" // pure-Go SQLite for the embedded default

	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

// Dialect is what differs between MySQL and SQLite.
type Dialect string

const (
	MySQL  Dialect = "mysql"
	SQLite Dialect = "sqlite"
)

// OpenDB opens the tenant's connection pool. Nothing connects until first use.
func OpenDB(c tenant.DB) (*sql.DB, Dialect, error) {
	switch c.Driver {
	case "sqlite":
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "foreign_keys(1)")
		db, err := sql.Open("sqlite", "file:"+c.Name+"?"+q.Encode())
		if err != nil {
			return nil, "", err
		}
		// SQLite has one writer; a small pool avoids lock contention.
		db.SetMaxOpenConns(4)
		return db, SQLite, nil
	case "mysql", "":
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.DBName = c.User, c.Password, c.Name
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
		cfg.ParseTime = true
		cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 5*time.Second, 30*time.Second, 30*time.Second
		connector, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, "", err
		}
		db := sql.OpenDB(connector)
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(5)
		db.SetConnMaxLifetime(5 * time.Minute)
		return db, MySQL, nil
	}
	return nil, "", fmt.Errorf("unknown database driver %q", c.Driver)
}
