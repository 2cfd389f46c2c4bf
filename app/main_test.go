package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/app/internal/catalog"
	"github.com/tenantops/tenant-operator/app/internal/testsvc"
)

// The batch commands as the operator's Job and CronJob run them: the tenant's configuration
// mounted as files, a real MariaDB and Redis behind it.
func TestMigrateAndRecommendCommands(t *testing.T) {
	db, err := testsvc.StartMariaDB()
	if err != nil {
		t.Fatal(err)
	}
	defer db.Stop()
	rd, err := testsvc.StartRedis()
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Stop()
	ctx := context.Background()
	d, err := db.NewDatabase(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tdir := filepath.Join(dir, "acme")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		saasv1.ConfigTenantID: "acme", saasv1.ConfigHosts: "acme.website.com", saasv1.ConfigDBDriver: "mysql",
		saasv1.ConfigDBHost: d.Host, saasv1.ConfigDBPort: strconv.Itoa(d.Port), saasv1.ConfigDBName: d.Name,
		saasv1.ConfigDBUser: d.User, saasv1.ConfigDBPassword: d.Password,
		saasv1.ConfigCacheAddress: rd.Addr, saasv1.ConfigCacheKeyPrefix: "t:acme:",
	} {
		if err := os.WriteFile(filepath.Join(tdir, k), []byte(v), 0o400); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	args := []string{"--tenant=acme", "--config-dir=" + dir}
	if code := batch(ctx, log, "migrate", args); code != exitOK {
		t.Fatalf("migrate exited %d", code)
	}
	if code := batch(ctx, log, "migrate", args); code != exitOK {
		t.Fatalf("a second migrate exited %d", code)
	}
	conn, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s:%d)/%s?parseTime=true", d.User, d.Password, d.Host, d.Port, d.Name))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if v, err := catalog.SchemaVersion(ctx, conn); err != nil || v != catalog.LatestVersion() {
		t.Fatalf("schema version %d %v", v, err)
	}
	store := &catalog.Store{DB: conn, Dialect: catalog.MySQL}
	id, _ := store.AddItem(ctx, "books", "Dune", "")
	for _, s := range []int{5, 4, 5} {
		if _, err := store.Rate(ctx, id, "c", s, ""); err != nil {
			t.Fatal(err)
		}
	}
	if code := batch(ctx, log, "recommend", append(args, "--top=5")); code != exitOK {
		t.Fatalf("recommend exited %d", code)
	}
	if gen, recs, err := store.Recommendations(ctx, ""); err != nil || gen == 0 || len(recs) != 1 || recs[0].ItemID != id {
		t.Fatalf("recommendations %d %+v %v", gen, recs, err)
	}
	cur, err := redis.NewClient(&redis.Options{Addr: rd.Addr}).Get(ctx, "t:acme:reco:current").Result()
	if err != nil || cur == "" {
		t.Errorf("cache not warmed: %q %v", cur, err)
	}

	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"--config-dir=" + dir}, exitUsage},
		{[]string{"--tenant=nobody", "--config-dir=" + dir}, exitNoTenant},
		{append(args, "--top=0"), exitUsage},
	} {
		cmd := "recommend"
		if got := batch(ctx, log, cmd, c.args); got != c.code {
			t.Errorf("%v: exit %d, want %d", c.args, got, c.code)
		}
	}
}
