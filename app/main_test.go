package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/redis/go-redis/v9"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/app/internal/assets"
	"github.com/tenantops/tenant-operator/app/internal/catalog"
	"github.com/tenantops/tenant-operator/app/internal/mail"
	"github.com/tenantops/tenant-operator/app/internal/queue"
	"github.com/tenantops/tenant-operator/app/internal/service"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
	"github.com/tenantops/tenant-operator/test/testsvc"
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

type recordingMailer struct{ sent chan mail.Message }

func (r recordingMailer) Send(_ context.Context, m mail.Message) error { r.sent <- m; return nil }

// A tenant that appears in the registry gets its welcome mail through the queue, once.
func TestNewTenantsAreWelcomedOnce(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := tenant.NewRegistry(service.Opener(backends(false)))
	defer reg.Close()
	m := recordingMailer{sent: make(chan mail.Message, 4)}
	q := queue.NewInProcess(ctx, 10, worker(log, m, reg))
	reg.OnAdd = func(c tenant.Config) { _ = q.Send(ctx, welcomeJob(c.ID)) }
	c := tenant.Config{ID: "hello", DisplayName: "Hello", Hosts: []string{"hello.website.com"}, AdminEmail: "boss@hello.example",
		MailSender: "no-reply@website.com", DB: tenant.DB{Driver: "sqlite", Name: filepath.Join(t.TempDir(), "hello.db")},
		Cache: tenant.Cache{KeyPrefix: "t:hello:"}}
	tn, err := service.Opener(backends(false))(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tn.Close()
	reg.Upsert(c)
	reg.Remove("hello")
	reg.Upsert(c) // seen again (a restart, another replica): the database remembers
	q.Close()
	close(m.sent)
	var got []string
	for msg := range m.sent {
		got = append(got, msg.To+" "+msg.Subject)
	}
	if fmt.Sprint(got) != "[boss@hello.example Welcome to Hello]" {
		t.Errorf("welcome mails: %v", got)
	}
}

// publish-assets as the operator's Job runs it, against a real S3-protocol server: every file
// lands; without a bucket it is a usage error.
func TestPublishAssetsCommand(t *testing.T) {
	backend := s3mem.New()
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	defer srv.Close()
	if err := backend.CreateBucket("cell-assets"); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	args := []string{"--bucket=cell-assets", "--prefix=static", "--region=eu-west-1", "--endpoint-url=" + srv.URL, "--expected-bucket-owner=123456789012"}
	if code := publishAssets(context.Background(), log, args); code != exitOK {
		t.Fatalf("publish-assets exited %d", code)
	}
	list, err := backend.ListBucket("cell-assets", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, o.Key)
	}
	var want []string
	for _, f := range assets.All() {
		want = append(want, "static/"+f.Hashed)
	}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("bucket holds %v, want %v", keys, want)
	}
	if code := publishAssets(context.Background(), log, []string{"--prefix=static", "--expected-bucket-owner=123456789012"}); code != exitUsage {
		t.Errorf("without --bucket: exit %d, want %d", code, exitUsage)
	}
	if code := publishAssets(context.Background(), log, []string{"--bucket=cell-assets"}); code != exitUsage {
		t.Errorf("without --expected-bucket-owner: exit %d, want %d", code, exitUsage)
	}
}
