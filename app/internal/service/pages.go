package service

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// PageFreshFor bounds how stale a page a replica keeps may be: each replica asks the cache at
// most this often whether the tenant's data changed (a new recommendation generation, or a
// write such as a rating, on any replica), and renders again once it has.
var PageFreshFor = time.Second

// catalogChangedKey holds when the tenant's catalog (items, ratings) last changed, as any
// replica wrote it: the part of a page's freshness that is not the recommendations.
const (
	catalogChangedKey = "catalog:changed"
	catalogChangedTTL = 30 * 24 * time.Hour
)

// PageMaxAge is how long a replica keeps a page however its data looks: should a write not
// reach the cache (it was down), the other replicas still show it within this.
var PageMaxAge = 30 * time.Second

// pageMemoEntries and pageMemoMaxBytes bound what a tenant's in-process copy of its pages holds
// (the category and page come from the query string: anyone can ask for new ones).
const (
	pageMemoEntries  = 64
	pageMemoMaxBytes = 64 << 10
)

// pageMemo is a tenant's rendered pages, with the state of its data they were rendered from.
type pageMemo struct {
	mu      sync.Mutex
	checked time.Time
	since   time.Time // when the pages kept were started
	stamp   string    // the recommendation generation and the catalog's last change; "" unknown
	pages   map[string][]byte
}

// Page is the page named key as render makes it: from the in-process copy while the tenant's
// data is known not to have changed since it was rendered (asked of the cache at most
// PageFreshFor ago), else rendered now and kept. Where the cache cannot say (down, cold), every
// request renders: a page is never served older than the bound.
func (t *Tenant) Page(ctx context.Context, key string, render func(context.Context) ([]byte, error)) ([]byte, error) {
	m := &t.pages
	m.mu.Lock()
	if now := time.Now(); now.Sub(m.checked) >= PageFreshFor {
		stamp, ok := t.dataStamp(ctx)
		if !ok || stamp != m.stamp || now.Sub(m.since) >= PageMaxAge {
			m.stamp, m.pages, m.since = stamp, map[string][]byte{}, now
		}
		if ok {
			m.checked = now
		} else {
			m.stamp, m.checked = "", time.Time{}
		}
	}
	stamp := m.stamp
	page, ok := m.pages[key]
	m.mu.Unlock()
	if ok {
		return page, nil
	}
	page, err := render(ctx)
	if err != nil || stamp == "" || len(page) > pageMemoMaxBytes {
		return page, err
	}
	m.mu.Lock()
	if m.stamp == stamp && m.pages != nil && len(m.pages) < pageMemoEntries {
		m.pages[key] = page
	}
	m.mu.Unlock()
	return page, nil
}

// forget drops the in-process pages: this process changed the data they show.
func (m *pageMemo) forget() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stamp, m.pages, m.checked = "", nil, time.Time{}
}

// DataChanged tells every replica that the tenant's catalog changed (after the write landed):
// pages rendered before it are rendered again within PageFreshFor, at once on this replica.
func (t *Tenant) DataChanged(ctx context.Context) error {
	t.pages.forget()
	return t.Cache.SetMany(ctx, map[string][]byte{catalogChangedKey: []byte(strconv.FormatInt(time.Now().UnixNano(), 10))}, catalogChangedTTL)
}

// dataStamp is what a page's freshness depends on, as the cache holds it: the current
// recommendation generation and the catalog's last change. ok is false when the cache cannot
// answer.
func (t *Tenant) dataStamp(ctx context.Context) (string, bool) {
	gen, _, err := t.Cache.Get(ctx, recoCurrentKey)
	if err != nil {
		return "", false
	}
	changed, _, err := t.Cache.Get(ctx, catalogChangedKey)
	if err != nil {
		return "", false
	}
	return "g" + string(gen) + "/c" + string(changed), true
}

// PageMemoBytes is the size of the tenant's in-process copy of its pages.
func (t *Tenant) PageMemoBytes() int {
	t.pages.mu.Lock()
	defer t.pages.mu.Unlock()
	return sizeOf(t.pages.pages)
}
