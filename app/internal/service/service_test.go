package service

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tenantops/tenant-operator/app/internal/cache"
	"github.com/tenantops/tenant-operator/app/internal/catalog"
	"github.com/tenantops/tenant-operator/app/internal/mail"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

var (
	mariadb *testsvc.MariaDB
	redisS  *testsvc.Server
)

// The tests run against a real MariaDB and a real Redis on loopback, and SQLite files.
func TestMain(m *testing.M) {
	var err error
	if mariadb, err = testsvc.StartMariaDB(); err != nil {
		fmt.Fprintln(os.Stderr, "MariaDB:", err)
		os.Exit(1)
	}
	if redisS, err = testsvc.StartRedis(); err != nil {
		mariadb.Stop()
		fmt.Fprintln(os.Stderr, "Redis:", err)
		os.Exit(1)
	}
	code := m.Run()
	redisS.Stop()
	mariadb.Stop()
	os.Exit(code)
}

var backends = cache.NewShared(func(addr string) cache.Backend {
	if addr == "" {
		return cache.NewMemory()
	}
	return cache.NewRedis(addr, false)
})

// mysqlTenant is a tenant with its own MariaDB database and user, in the shared Redis.
func mysqlTenant(t testing.TB, id string) *Tenant {
	t.Helper()
	d, err := mariadb.NewDatabase(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	tn, err := Opener(backends)(tenant.Config{ID: id, Hosts: []string{id + ".example"},
		DB:    tenant.DB{Driver: "mysql", Host: d.Host, Port: d.Port, Name: d.Name, User: d.User, Password: d.Password},
		Cache: tenant.Cache{Address: redisS.Addr, KeyPrefix: "t:" + id + ":"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tn.Close() })
	return tn
}

func sqliteTenant(t testing.TB, id string) *Tenant {
	t.Helper()
	tn, err := Opener(backends)(tenant.Config{ID: id, Hosts: []string{id + ".example"},
		DB:    tenant.DB{Driver: "sqlite", Name: filepath.Join(t.TempDir(), id+".db")},
		Cache: tenant.Cache{KeyPrefix: "t:" + id + ":"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tn.Close() })
	return tn
}

func eachDialect(t *testing.T, f func(t *testing.T, newTenant func(id string) *Tenant)) {
	t.Run("mariadb", func(t *testing.T) { f(t, func(id string) *Tenant { return mysqlTenant(t, id) }) })
	t.Run("sqlite", func(t *testing.T) { f(t, func(id string) *Tenant { return sqliteTenant(t, id) }) })
}

func TestMigrationsAreIdempotentAndSafeTwiceAtOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, newTenant func(string) *Tenant) {
		ctx := context.Background()
		tn := newTenant("mig")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		versions := make([]int, 4)
		for i := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				versions[i], errs[i] = tn.Migrate(ctx)
			}()
		}
		wg.Wait()
		for i := range 4 {
			if errs[i] != nil || versions[i] != catalog.LatestVersion() {
				t.Fatalf("run %d: version %d, %v", i, versions[i], errs[i])
			}
		}
		var rows int
		if err := tn.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&rows); err != nil || rows != catalog.LatestVersion() {
			t.Fatalf("schema_migrations has %d rows (%v), want one per version", rows, err)
		}
		if v, err := tn.Migrate(ctx); err != nil || v != catalog.LatestVersion() {
			t.Fatalf("rerun: %d %v", v, err)
		}
		// Version 3 expanded ratings with a nullable column; a version-2 insert still works.
		id, err := tn.Store.AddItem(ctx, "books", "Dune", "sand")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tn.db.ExecContext(ctx, "INSERT INTO ratings (item_id, customer, stars, review, created_at) VALUES (?, 'old-app', 4, '', ?)", id, time.Now().UTC()); err != nil {
			t.Fatalf("the previous version's insert fails after the expansion: %v", err)
		}
	})
}

// seed gives a tenant items in two categories and ratings with a known shape.
func seed(t testing.TB, tn *Tenant) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	if _, err := tn.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, it := range []struct{ cat, name string }{{"books", "Dune"}, {"books", "Emma"}, {"books", "Ulysses"}, {"music", "Kind of Blue"}} {
		id, err := tn.Store.AddItem(ctx, it.cat, it.name, "")
		if err != nil {
			t.Fatal(err)
		}
		ids[it.name] = id
	}
	rate := func(name string, stars ...int) {
		for i, s := range stars {
			if _, err := tn.Store.Rate(ctx, ids[name], fmt.Sprintf("c%d", i), s, "review"); err != nil {
				t.Fatal(err)
			}
		}
	}
	rate("Dune", 5)                            // one lucky 5
	rate("Emma", 4, 5, 4, 5, 4, 5, 4, 5, 4, 5) // ten, mean 4.5
	rate("Ulysses", 2, 3, 2)
	rate("Kind of Blue", 5, 5, 4)
	return ids
}

func TestRecommendMatchesSQLAndServesFromTheCache(t *testing.T) {
	eachDialect(t, func(t *testing.T, newTenant func(string) *Tenant) {
		ctx := context.Background()
		tn := newTenant("reco")
		ids := seed(t, tn)
		res, err := tn.Recommend(ctx, 2, 0, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if res.Ratings != 17 || res.Items != 3 {
			t.Fatalf("result %+v", res)
		}
		// The same Bayesian averages, computed by the database in one GROUP BY.
		rows, err := tn.db.QueryContext(ctx, `SELECT r.item_id, (? * ? + SUM(r.stars)) / (? + COUNT(*)) FROM ratings r GROUP BY r.item_id`,
			res.Weight, res.Prior, res.Weight)
		if err != nil {
			t.Fatal(err)
		}
		want := map[int64]float64{}
		for rows.Next() {
			var id int64
			var s float64
			if err := rows.Scan(&id, &s); err != nil {
				t.Fatal(err)
			}
			want[id] = s
		}
		rows.Close()
		recs, source, err := tn.Recommendations(ctx, "")
		if err != nil || source != "cache" {
			t.Fatalf("after a run the cache serves: %s %v", source, err)
		}
		if len(recs) != 3 || recs[0].ItemID != ids["Emma"] || recs[1].ItemID != ids["Dune"] || recs[2].ItemID != ids["Kind of Blue"] {
			t.Fatalf("ranking %+v", recs)
		}
		for _, r := range recs {
			if math.Abs(r.Score-want[r.ItemID]) > 1e-9 {
				t.Errorf("item %d: score %v, SQL says %v", r.ItemID, r.Score, want[r.ItemID])
			}
		}
		music, _, _ := tn.Recommendations(ctx, "music")
		if len(music) != 1 || music[0].ItemName != "Kind of Blue" {
			t.Errorf("music %+v", music)
		}
	})
}

func TestCacheFallsBackToTheDatabaseAndKeySpacesAreSeparate(t *testing.T) {
	ctx := context.Background()
	a, b := mysqlTenant(t, "alpha"), mysqlTenant(t, "beta")
	seed(t, a)
	seed(t, b)
	if _, err := a.Recommend(ctx, 3, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	// b never ran: its key space is empty even though a's keys have the same names.
	recs, source, err := b.Recommendations(ctx, "")
	if err != nil || source != "database" || len(recs) != 0 {
		t.Fatalf("beta: %v from %s (%v)", recs, source, err)
	}
	// A cold cache (flushed) falls back to the database, then warms.
	if err := cache.NewRedis(redisS.Addr, false).Client.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, source, _ := a.Recommendations(ctx, ""); source != "database" {
		t.Errorf("cold cache answered from %s", source)
	}
	if _, source, _ := a.Recommendations(ctx, ""); source != "cache" {
		t.Errorf("not warmed after a miss: %s", source)
	}
	// Raw keys carry the tenant prefix.
	keys, err := cache.NewRedis(redisS.Addr, false).Client.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if len(k) < 8 || k[:8] != "t:alpha:" {
			t.Errorf("key %q is outside alpha's space", k)
		}
	}
}

type recordingMailer struct {
	mu   sync.Mutex
	sent []string
	fail bool
}

func (r *recordingMailer) Send(_ context.Context, m mail.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return fmt.Errorf("SES unavailable")
	}
	r.sent = append(r.sent, m.To+": "+m.Subject)
	return nil
}

func TestWelcomeAndDigestAreSentOnce(t *testing.T) {
	eachDialect(t, func(t *testing.T, newTenant func(string) *Tenant) {
		ctx := context.Background()
		tn := newTenant("mail")
		seed(t, tn)
		if _, err := tn.Recommend(ctx, 3, 0, time.Now()); err != nil {
			t.Fatal(err)
		}
		tn.Config.MailSender, tn.Config.AdminEmail, tn.Config.DisplayName = "no-reply@website.com", "it@mail.example", "Mail Co"
		m := &recordingMailer{fail: true}
		if sent, err := tn.SendWelcome(ctx, m); sent || err == nil {
			t.Fatalf("a failed send must report and not count: %v %v", sent, err)
		}
		m.fail = false
		var wg sync.WaitGroup
		for range 3 { // three replicas at once
			wg.Add(1)
			go func() { defer wg.Done(); _, _ = tn.SendWelcome(ctx, m) }()
		}
		wg.Wait()
		day := time.Date(2026, 11, 25, 3, 0, 0, 0, time.UTC)
		for range 2 {
			if _, err := tn.SendDigest(ctx, m, day); err != nil {
				t.Fatal(err)
			}
		}
		if fmt.Sprint(m.sent) != "[it@mail.example: Welcome to Mail Co it@mail.example: Mail Co: daily digest 2026-11-25]" {
			t.Errorf("sent %v", m.sent)
		}
	})
}

// countingBackend counts the reads that reach the cache.
type countingBackend struct {
	cache.Backend
	gets atomic.Int64
}

func (c *countingBackend) Get(ctx context.Context, key string) ([]byte, bool, error) {
	c.gets.Add(1)
	return c.Backend.Get(ctx, key)
}

// Each replica keeps the current generation's answers in process and asks the cache only
// whether the generation changed, at most every RecoFreshFor: a generation `app recommend`
// swaps in is served by every replica within that bound, and what a replica keeps is bounded.
func TestANewGenerationReachesEveryReplicaWithinTheBound(t *testing.T) {
	ctx := context.Background()
	defer func(d time.Duration) { RecoFreshFor = d }(RecoFreshFor)
	RecoFreshFor = 300 * time.Millisecond
	a := mysqlTenant(t, "fresh")
	ids := seed(t, a)
	if _, err := a.Recommend(ctx, 3, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Replica b: the same tenant, its own process state, the same Redis.
	counted := &countingBackend{Backend: cache.NewRedis(redisS.Addr, false)}
	b, err := Opener(cache.NewShared(func(string) cache.Backend { return counted }))(a.Config)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	before, source, err := b.RecommendationsJSON(ctx, "")
	if err != nil || source != "cache" {
		t.Fatalf("first read: %s %v", source, err)
	}
	reads := counted.gets.Load()
	for range 100 {
		if raw, _, _ := b.RecommendationsJSON(ctx, ""); !bytes.Equal(raw, before) {
			t.Fatal("the answer changed with no new generation")
		}
	}
	if n := counted.gets.Load() - reads; n > 2 {
		t.Errorf("100 reads within the bound asked the cache %d times", n)
	}

	// A new generation, in which Kind of Blue has 20 more 5-star ratings.
	for i := range 20 {
		if _, err := a.Store.Rate(ctx, ids["Kind of Blue"], fmt.Sprintf("fan%d", i), 5, ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Recommend(ctx, 3, 0, time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	swapped := time.Now()
	for {
		raw, _, err := b.RecommendationsJSON(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, before) {
			if !strings.Contains(string(raw), `"itemName":"Kind of Blue","score":4.86`) || !strings.Contains(string(raw), `"ratings":23`) {
				t.Errorf("not the new generation (Kind of Blue with 23 ratings): %s", raw)
			}
			break
		}
		if time.Since(swapped) > RecoFreshFor+200*time.Millisecond {
			t.Fatalf("replica b still serves the old generation %s after the swap (bound %s)", time.Since(swapped), RecoFreshFor)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("the new generation reached the other replica %s after the swap (bound %s)", time.Since(swapped).Round(time.Millisecond), RecoFreshFor)

	// Categories come from the query string: what a replica keeps stays bounded however many
	// are asked for.
	for i := range 1000 {
		if _, _, err := b.RecommendationsJSON(ctx, fmt.Sprintf("made-up-%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.MemoBytes(); n > recoMemoCategories*64 {
		t.Errorf("replica b keeps %d bytes after 1,000 made-up categories", n)
	}
}

// A page is rendered once while the data is unchanged, again after a change, and what a replica
// keeps stays bounded however many pages the query strings ask for.
func TestPagesAreKeptBoundedAndDroppedOnAChange(t *testing.T) {
	ctx := context.Background()
	tn := sqliteTenant(t, "pages")
	renders := 0
	render := func(body string) func(context.Context) ([]byte, error) {
		return func(context.Context) ([]byte, error) { renders++; return []byte(body), nil }
	}
	for range 10 {
		if got, err := tn.Page(ctx, "home", render("v1")); err != nil || string(got) != "v1" {
			t.Fatalf("page: %q %v", got, err)
		}
	}
	if renders != 1 {
		t.Errorf("10 requests with no change rendered %d times", renders)
	}
	if err := tn.DataChanged(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := tn.Page(ctx, "home", render("v2")); string(got) != "v2" {
		t.Errorf("after a change the page is %q, want it rendered again", got)
	}
	huge := strings.Repeat("y", pageMemoMaxBytes+1)
	before := renders
	for range 3 {
		_, _ = tn.Page(ctx, "huge", render(huge))
	}
	if renders-before != 3 {
		t.Errorf("a page over %d bytes was kept", pageMemoMaxBytes)
	}
	big := strings.Repeat("x", 1024)
	for i := range 1000 {
		if _, err := tn.Page(ctx, fmt.Sprintf("home?category=made-up-%d", i), render(big)); err != nil {
			t.Fatal(err)
		}
	}
	if n := tn.PageMemoBytes(); n > pageMemoEntries*(len(big)+64) {
		t.Errorf("%d bytes kept after 1,000 made-up pages", n)
	}
}
