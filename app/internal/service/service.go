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

// Recommendations reads the current recommendations of a category ("" for all) from the cache,
// falling back to the database (and warming the cache) when the cache is cold or unreachable.
// source says which answered.
func (t *Tenant) Recommendations(ctx context.Context, category string) (recs []catalog.Recommendation, source string, err error) {
	if cur, ok, err := t.Cache.Get(ctx, recoCurrentKey); err == nil && ok {
		if gen, err := strconv.ParseInt(string(cur), 10, 64); err == nil {
			if b, ok, err := t.Cache.Get(ctx, recoKey(gen, category)); err == nil && ok {
				if json.Unmarshal(b, &recs) == nil {
					return recs, "cache", nil
				}
			} else if err == nil && !ok {
				// The generation is cached and has nothing for this category.
				if _, ok, _ := t.Cache.Get(ctx, recoKey(gen, "")); ok {
					return []catalog.Recommendation{}, "cache", nil
				}
			}
		}
	}
	_, recs, err = t.Store.Recommendations(ctx, category)
	if err != nil {
		return nil, "", err
	}
	_ = t.warm(ctx) // best effort: the next reader is served from the cache
	if recs == nil {
		recs = []catalog.Recommendation{}
	}
	return recs, "database", nil
}
