package tenant

import (
	"io"
	"sort"
	"sync"
	"sync/atomic"
)

// Registry maps hosts to tenants, and holds each tenant's resources (its database pool, its
// cache key space), opened on first use and closed when the tenant goes or its configuration
// changes. It is safe for concurrent use.
type Registry[R io.Closer] struct {
	// OnAdd, when set, is called (outside the registry's lock) whenever a tenant is added, not
	// when one is replaced; what it starts must be idempotent (the welcome mail is recorded in
	// the tenant's database).
	OnAdd  func(Config)
	open   func(Config) (R, error)
	mu     sync.RWMutex
	byHost map[string]*Tenant[R]
	byID   map[string]*Tenant[R]
	loaded atomic.Bool
}

// Tenant is one tenant of the registry.
type Tenant[R io.Closer] struct {
	Config Config
	open   func(Config) (R, error)
	mu     sync.Mutex
	res    R
	opened bool
	closed bool
}

// NewRegistry makes a registry that opens resources with open.
func NewRegistry[R io.Closer](open func(Config) (R, error)) *Registry[R] {
	return &Registry[R]{open: open, byHost: map[string]*Tenant[R]{}, byID: map[string]*Tenant[R]{}}
}

// Loaded says whether the registry has received its first full set of tenants.
func (r *Registry[R]) Loaded() bool { return r.loaded.Load() }

// MarkLoaded records that the first full set of tenants is in.
func (r *Registry[R]) MarkLoaded() { r.loaded.Store(true) }

// Lookup finds the tenant a Host header names.
func (r *Registry[R]) Lookup(host string) (*Tenant[R], bool) {
	h := NormalizeHost(host)
	if h == "" {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.byHost[h]
	return t, ok
}

// Get finds a tenant by ID.
func (r *Registry[R]) Get(id string) (*Tenant[R], bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.byID[id]
	return t, ok
}

// IDs lists the tenants' IDs, sorted.
func (r *Registry[R]) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ids := make([]string, 0, len(r.byID))
	for id := range r.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// Upsert adds a tenant or replaces its configuration; a changed tenant's resources are closed
// and reopened on next use. A host another tenant already serves stays with that tenant.
func (r *Registry[R]) Upsert(c Config) {
	r.mu.Lock()
	old, had := r.byID[c.ID]
	if had && old.Config.Equal(c) {
		r.mu.Unlock()
		return
	}
	if had {
		r.removeLocked(c.ID)
	}
	t := &Tenant[R]{Config: c, open: r.open}
	r.byID[c.ID] = t
	for _, h := range c.Hosts {
		if other, taken := r.byHost[h]; !taken || other.Config.ID == c.ID {
			r.byHost[h] = t
		}
	}
	r.mu.Unlock()
	if had {
		old.close()
	} else if r.OnAdd != nil {
		r.OnAdd(c)
	}
}

// Remove drops a tenant and closes its resources.
func (r *Registry[R]) Remove(id string) {
	r.mu.Lock()
	t := r.removeLocked(id)
	r.mu.Unlock()
	if t != nil {
		t.close()
	}
}

func (r *Registry[R]) removeLocked(id string) *Tenant[R] {
	t, ok := r.byID[id]
	if !ok {
		return nil
	}
	delete(r.byID, id)
	for h, ht := range r.byHost {
		if ht == t {
			delete(r.byHost, h)
		}
	}
	return t
}

// Replace makes the registry hold exactly configs.
func (r *Registry[R]) Replace(configs []Config) {
	keep := map[string]bool{}
	for _, c := range configs {
		keep[c.ID] = true
		r.Upsert(c)
	}
	for _, id := range r.IDs() {
		if !keep[id] {
			r.Remove(id)
		}
	}
}

// Close closes every tenant's resources.
func (r *Registry[R]) Close() {
	for _, id := range r.IDs() {
		r.Remove(id)
	}
}

// Resources opens the tenant's resources on first use.
func (t *Tenant[R]) Resources() (R, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.opened {
		return t.res, nil
	}
	var zero R
	if t.closed {
		return zero, errGone
	}
	res, err := t.open(t.Config)
	if err != nil {
		return zero, err
	}
	t.res, t.opened = res, true
	return res, nil
}

func (t *Tenant[R]) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	if t.opened {
		_ = t.res.Close()
		t.opened = false
	}
}

type goneError struct{}

func (goneError) Error() string { return "the tenant was removed" }

var errGone = goneError{}
