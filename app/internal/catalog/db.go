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
	"strings"
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

// OpenDB opens the tenant's connection pool. A MySQL pool connects on first use; a SQLite
// file is opened at once, to put it in WAL mode.
func OpenDB(c tenant.DB) (*sql.DB, Dialect, error) {
	switch c.Driver {
	case "sqlite":
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "foreign_keys(1)")
		db, err := sql.Open("sqlite", "file:"+c.Name+"?"+q.Encode())
		if err != nil {
			return nil, "", err
		}
		// SQLite has one writer; a small pool avoids lock contention.
		db.SetMaxOpenConns(4)
		// WAL is a property of the file, switched once here. As a pragma of every connection,
		// connections opening at once on a new file raced to switch it and one was refused with
		// SQLITE_BUSY, busy_timeout or not; another process may still race this one, so a
		// refusal is retried for as long as busy_timeout would wait.
		if err := useWAL(db); err != nil {
			_ = db.Close()
			return nil, "", fmt.Errorf("sqlite %s: journal mode WAL: %w", c.Name, err)
		}
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

func useWAL(db *sql.DB) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := db.Exec("PRAGMA journal_mode=WAL")
		if err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
