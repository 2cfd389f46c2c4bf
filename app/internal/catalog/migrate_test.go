package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

// Replicas of a new tenant's app (and its migration Job) open the same new SQLite file at once.
// Each connection used to switch the file to WAL as it opened; connections racing to do so were
// refused with SQLITE_BUSY ("database is locked") despite busy_timeout. Many new files, four
// migrations at once on each.
func TestSQLiteMigrationsAtOnceOnNewFiles(t *testing.T) {
	ctx := context.Background()
	for f := range 40 {
		db, d, err := OpenDB(tenant.DB{Driver: "sqlite", Name: filepath.Join(t.TempDir(), fmt.Sprintf("t%d.db", f))})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				v, err := Migrate(ctx, db, d)
				if err == nil && v != LatestVersion() {
					err = fmt.Errorf("at version %d, want %d", v, LatestVersion())
				}
				errs[i] = err
			})
		}
		wg.Wait()
		var mode string
		if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("file %d: journal mode %q (%v), want wal", f, mode, err)
		}
		_ = db.Close()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("file %d, run %d: %v", f, i, err)
			}
		}
	}
}
