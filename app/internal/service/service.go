// Package service is what the app does for one tenant, whichever command runs it: open the
// tenant's database and cache space, migrate its schema, compute its recommendations, and
// serve them from the cache with the database behind it.
package service

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/tenantops/tenant-operator/app/internal/cache"
	"github.com/tenantops/tenant-operator/app/internal/catalog"
	"github.com/tenantops/tenant-operator/app/internal/recommend"
	"github.com/tenantops/tenant-operator/app/internal/tenant"
)

// Tenant is one tenant's open resources.
type Tenant struct {
	Config  tenant.Config
	Store   *catalog.Store
	Cache   *cache.Space
	db      *sql.DB
	release func()
	memo    recoMemo
	pages   pageMemo
}

// Close closes the tenant's database pool and lets go of its cache backend.
func (t *Tenant) Close() error {
	t.release()
	return t.db.Close()
}

// Opener opens a tenant's resources: its own database pool, and its key space of the cache
// backend for its cache address (shared with the other tenants of that address).
func Opener(backends *cache.Shared) func(tenant.Config) (*Tenant, error) {
	return func(c tenant.Config) (*Tenant, error) {
		db, dialect, err := catalog.OpenDB(c.DB)
		if err != nil {
			return nil, err
		}
		backend, release := backends.Acquire(c.Cache.Address)
		space, err := cache.NewSpace(backend, c.Cache.KeyPrefix)
		if err != nil {
			release()
			db.Close()
			return nil, err
		}
		return &Tenant{Config: c, Store: &catalog.Store{DB: db, Dialect: dialect}, Cache: space, db: db, release: release}, nil
	}
}

// Migrate brings the tenant's schema to this build's version.
func (t *Tenant) Migrate(ctx context.Context) (int, error) {
	return catalog.Migrate(ctx, t.db, t.Store.Dialect)
}

// Cache keys of the recommendations. A generation's keys are written with the pointer to them
// in one transaction, so a reader sees one whole generation or the previous one.
const (
	recoCurrentKey = "reco:current"
	recoTTL        = 72 * time.Hour
)

func recoKey(gen int64, category string) string {
	return "reco:" + strconv.FormatInt(gen, 10) + ":" + category
}

// RecommendResult says what a recommendation run did.
type RecommendResult struct {
	Generation int64
	Ratings    int64
	Items      int
	Prior      float64
	Weight     float64
	Duration   time.Duration
}

// Recommend streams every rating, ranks each category's items by Bayesian average, writes the
// new generation to the database (swapped in one transaction) and warms the cache with it.
func (t *Tenant) Recommend(ctx context.Context, topN int, priorWeight float64, now time.Time) (RecommendResult, error) {
	start := time.Now()
	acc := recommend.NewAccumulator()
	if err := t.Store.StreamRatings(ctx, func(id int64, cat string, stars int) error {
		acc.Add(id, cat, stars)
		return nil
	}); err != nil {
		return RecommendResult{}, fmt.Errorf("streaming ratings: %w", err)
	}
	m, c := acc.Prior(priorWeight)
	top := acc.Top(topN, priorWeight)
	recs := make([]catalog.Recommendation, len(top))
	for i, s := range top {
		recs[i] = catalog.Recommendation{Category: s.Category, Rank: s.Rank, ItemID: s.ItemID, Score: s.Score, Ratings: s.Ratings}
	}
	gen := now.UnixNano()
	if err := t.Store.SaveRecommendations(ctx, gen, recs); err != nil {
		return RecommendResult{}, fmt.Errorf("saving recommendations: %w", err)
	}
	if err := t.warm(ctx); err != nil {
		return RecommendResult{}, fmt.Errorf("warming the cache: %w", err)
	}
	t.memo.forget()
	t.pages.forget()
	return RecommendResult{Generation: gen, Ratings: acc.Ratings(), Items: len(recs), Prior: m, Weight: c, Duration: time.Since(start)}, nil
}

// warm copies the database's current generation into the cache, pointer included, at once.
func (t *Tenant) warm(ctx context.Context) error {
	gen, recs, err := t.Store.Recommendations(ctx, "")
	if err != nil || gen == 0 {
		return err
	}
	byCat := map[string][]catalog.Recommendation{"": recs}
	for _, r := range recs {
		byCat[r.Category] = append(byCat[r.Category], r)
	}
	kv := map[string][]byte{recoCurrentKey: []byte(strconv.FormatInt(gen, 10))}
	for cat, rs := range byCat {
		b, err := json.Marshal(rs)
		if err != nil {
			return err
		}
		kv[recoKey(gen, cat)] = b
	}
	return t.Cache.SetMany(ctx, kv, recoTTL)
}

// RecoFreshFor bounds how stale a replica's in-process copy of the recommendations may be: each
// replica asks the cache for the current generation at least this often, so a generation
// `app recommend` swaps in is served by every replica within RecoFreshFor.
var RecoFreshFor = time.Second

// recoMemoCategories bounds the categories a tenant's in-process copy holds (a category comes
// from the query string: anyone can ask for new ones). Past it, answers are not kept.
const recoMemoCategories = 256

// recoMemo is a tenant's in-process copy of its current recommendation generation: the JSON of
// each category asked for, as the cache holds it.
type recoMemo struct {
	mu      sync.Mutex
	gen     int64
	checked time.Time
	byCat   map[string][]byte
}

// forget drops the in-process copy: this process swapped a new generation in.
func (m *recoMemo) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen, m.byCat, m.checked = 0, nil, time.Time{}
}

// MemoBytes is the size of the tenant's in-process copy of its recommendations.
func (t *Tenant) MemoBytes() int {
	t.memo.mu.Lock()
	defer t.memo.mu.Unlock()
	return sizeOf(t.memo.byCat)
}

// sizeOf is what an in-process copy holds: its keys and values.
func sizeOf(m map[string][]byte) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

// RecommendationsJSON is the JSON array of the current recommendations of a category ("" for
// all): from the in-process copy while the generation it holds is known to be current (checked
// at most RecoFreshFor ago), else from the cache, else from the database (warming the cache).
// source says whether a cache ("cache") or the database answered.
func (t *Tenant) RecommendationsJSON(ctx context.Context, category string) (raw []byte, source string, err error) {
	m := &t.memo
	m.mu.Lock()
	if now := time.Now(); now.Sub(m.checked) >= RecoFreshFor {
		gen, ok := t.cachedGeneration(ctx)
		if gen != m.gen || !ok {
			m.gen, m.byCat = gen, map[string][]byte{}
		}
		if ok { // a cold or unreachable cache is asked again at the next request
			m.checked = now
		}
	}
	gen := m.gen
	raw, ok := m.byCat[category]
	m.mu.Unlock()
	if ok {
		return raw, "cache", nil
	}
	if gen != 0 {
		if raw, ok := t.cachedCategory(ctx, gen, category); ok {
			m.mu.Lock()
			if m.gen == gen && m.byCat != nil && len(m.byCat) < recoMemoCategories {
				m.byCat[category] = raw
			}
			m.mu.Unlock()
			return raw, "cache", nil
		}
	}
	_, recs, err := t.Store.Recommendations(ctx, category)
	if err != nil {
		return nil, "", err
	}
	_ = t.warm(ctx) // best effort: the next reader is served from the cache
	if recs == nil {
		recs = []catalog.Recommendation{}
	}
	raw, err = json.Marshal(recs)
	return raw, "database", err
}

// cachedGeneration reads the current generation's pointer from the cache.
func (t *Tenant) cachedGeneration(ctx context.Context) (int64, bool) {
	cur, ok, err := t.Cache.Get(ctx, recoCurrentKey)
	if err != nil || !ok {
		return 0, false
	}
	gen, err := strconv.ParseInt(string(cur), 10, 64)
	return gen, err == nil
}

// cachedCategory reads a category of generation gen from the cache; a generation that has
// nothing for the category answers an empty list.
func (t *Tenant) cachedCategory(ctx context.Context, gen int64, category string) ([]byte, bool) {
	b, ok, err := t.Cache.Get(ctx, recoKey(gen, category))
	switch {
	case err != nil:
		return nil, false
	case ok:
		return b, json.Valid(b)
	}
	if _, ok, _ := t.Cache.Get(ctx, recoKey(gen, "")); ok {
		return []byte("[]"), true
	}
	return nil, false
}

// Recommendations is RecommendationsJSON, decoded.
func (t *Tenant) Recommendations(ctx context.Context, category string) (recs []catalog.Recommendation, source string, err error) {
	raw, source, err := t.RecommendationsJSON(ctx, category)
	if err != nil {
		return nil, "", err
	}
	if err := json.Unmarshal(raw, &recs); err != nil {
		return nil, "", err
	}
	if recs == nil {
		recs = []catalog.Recommendation{}
	}
	return recs, source, nil
}
