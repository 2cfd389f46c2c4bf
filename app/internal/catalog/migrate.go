package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// A migration moves the schema one version on. Migrations only expand while a version that
// does not know them may still run (new tables, new nullable columns), and contract (drop what
// no running version reads) one release later, so the version serving now keeps working while
// the next one's migration runs.
type migration struct {
	version int
	name    string
	mysql   []string
	sqlite  []string
}

var migrations = []migration{
	{1, "items and ratings",
		[]string{
			`CREATE TABLE IF NOT EXISTS items (
				id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
				category VARCHAR(64) NOT NULL,
				name VARCHAR(200) NOT NULL,
				description TEXT NOT NULL,
				created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
				KEY items_category (category, id)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			`CREATE TABLE IF NOT EXISTS ratings (
				id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
				item_id BIGINT NOT NULL,
				customer VARCHAR(128) NOT NULL,
				stars TINYINT NOT NULL,
				review TEXT NOT NULL,
				created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
				KEY ratings_item (item_id, id),
				CONSTRAINT ratings_item_fk FOREIGN KEY (item_id) REFERENCES items (id) ON DELETE CASCADE,
				CONSTRAINT ratings_stars CHECK (stars BETWEEN 1 AND 5)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
		},
		[]string{
			`CREATE TABLE IF NOT EXISTS items (
				id INTEGER PRIMARY KEY AUTOINCREMENT,
				category TEXT NOT NULL,
				name TEXT NOT NULL,
				description TEXT NOT NULL,
				created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
			`CREATE INDEX IF NOT EXISTS items_category ON items (category, id)`,
			`CREATE TABLE IF NOT EXISTS ratings (
				id INTEGER PRIMARY KEY AUTOINCREMENT,
				item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
				customer TEXT NOT NULL,
				stars INTEGER NOT NULL CHECK (stars BETWEEN 1 AND 5),
				review TEXT NOT NULL,
				created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
			`CREATE INDEX IF NOT EXISTS ratings_item ON ratings (item_id, id)`,
		}},
	{2, "recommendations, swapped in by generation",
		[]string{
			`CREATE TABLE IF NOT EXISTS recommendations (
				generation BIGINT NOT NULL,
				category VARCHAR(64) NOT NULL,
				rank_in_category INT NOT NULL,
				item_id BIGINT NOT NULL,
				score DOUBLE NOT NULL,
				ratings BIGINT NOT NULL,
				PRIMARY KEY (generation, category, rank_in_category)
			) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			`CREATE TABLE IF NOT EXISTS recommendation_current (
				id TINYINT NOT NULL PRIMARY KEY,
				generation BIGINT NOT NULL,
				computed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP
			) ENGINE=InnoDB`,
		},
		[]string{
			`CREATE TABLE IF NOT EXISTS recommendations (
				generation INTEGER NOT NULL,
				category TEXT NOT NULL,
				rank_in_category INTEGER NOT NULL,
				item_id INTEGER NOT NULL,
				score REAL NOT NULL,
				ratings INTEGER NOT NULL,
				PRIMARY KEY (generation, category, rank_in_category))`,
			`CREATE TABLE IF NOT EXISTS recommendation_current (
				id INTEGER NOT NULL PRIMARY KEY,
				generation INTEGER NOT NULL,
				computed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
		}},
	{3, "expand: ratings.helpful (nullable, older versions ignore it)",
		[]string{`ALTER TABLE ratings ADD COLUMN IF NOT EXISTS helpful INT NULL`},
		[]string{`ALTER TABLE ratings ADD COLUMN helpful INTEGER NULL`}},
	{4, "mail_log: each mail (welcome, daily digest) sent once",
		[]string{`CREATE TABLE IF NOT EXISTS mail_log (kind VARCHAR(64) NOT NULL PRIMARY KEY, sent_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB`},
		[]string{`CREATE TABLE IF NOT EXISTS mail_log (kind TEXT NOT NULL PRIMARY KEY, sent_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`}},
}

// LatestVersion is the schema version this build of the app migrates to.
func LatestVersion() int { return migrations[len(migrations)-1].version }

const migrateLockName = "tenantops_migrate"

// Migrate brings the schema to LatestVersion and returns the version it is at. It is safe to
// rerun (applied versions are recorded and skipped, and every statement is idempotent) and
// safe to run twice at once: MySQL runs hold a named lock (GET_LOCK) for the whole run; SQLite
// runs take the database's write lock per migration. A migration is recorded in the same
// transaction as its statements; on MySQL, DDL commits implicitly, which is why each statement
// is idempotent and a rerun completes a migration interrupted half way.
func Migrate(ctx context.Context, db *sql.DB, d Dialect) (int, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	if d == MySQL {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 120)", migrateLockName).Scan(&got); err != nil {
			return 0, err
		}
		if !got.Valid || got.Int64 != 1 {
			return 0, errors.New("another migration holds the lock for over 120 s")
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT RELEASE_LOCK(?)", migrateLockName) //nolint:errcheck
	}
	create := `CREATE TABLE IF NOT EXISTS schema_migrations (version INT NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)`
	if _, err := conn.ExecContext(ctx, create); err != nil {
		return 0, err
	}
	current := 0
	for _, m := range migrations {
		applied, err := isApplied(ctx, conn, m.version)
		if err != nil {
			return current, err
		}
		if applied {
			current = m.version
			continue
		}
		if err := apply(ctx, conn, d, m); err != nil {
			return current, fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
		}
		current = m.version
	}
	return current, nil
}

func isApplied(ctx context.Context, conn *sql.Conn, version int) (bool, error) {
	var n int
	err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations WHERE version = ?", version).Scan(&n)
	return n > 0, err
}

func apply(ctx context.Context, conn *sql.Conn, d Dialect, m migration) error {
	stmts := m.mysql
	begin := "START TRANSACTION"
	if d == SQLite {
		stmts = m.sqlite
		begin = "BEGIN IMMEDIATE" // the write lock: a concurrent run waits here
	}
	if _, err := conn.ExecContext(ctx, begin); err != nil {
		return err
	}
	rollback := func(err error) error {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	// Another run may have applied it while this one waited for the lock.
	if applied, err := isApplied(ctx, conn, m.version); err != nil || applied {
		if err != nil {
			return rollback(err)
		}
		_, err = conn.ExecContext(ctx, "COMMIT")
		return err
	}
	for _, s := range stmts {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			if d == SQLite && isDuplicateColumn(err) {
				continue // ADD COLUMN has no IF NOT EXISTS in SQLite; the column is there
			}
			return rollback(err)
		}
	}
	if _, err := conn.ExecContext(ctx, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		m.version, m.name, time.Now().UTC()); err != nil {
		return rollback(err)
	}
	_, err := conn.ExecContext(ctx, "COMMIT")
	return err
}

func isDuplicateColumn(err error) bool {
	return err != nil && strings.Contains(err.Error(), "duplicate column name")
}

// SchemaVersion reads the version the schema is at.
func SchemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v)
	return int(v.Int64), err
}
