// Package cache is the tenants' cache: Redis (ElastiCache) in a cluster, memory locally. Each
// tenant sees only its own key space: every key it uses is prefixed with its key prefix by the
// Space it is handed, so no key of one tenant can name another's.
package cache

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Backend stores raw keys.
type Backend interface {
	Get(ctx context.Context, key string) ([]byte, bool, error)
	// SetMany writes all pairs; with Redis in one MULTI/EXEC transaction.
	SetMany(ctx context.Context, kv map[string][]byte, ttl time.Duration) error
	Close() error
}

// Space is one tenant's key space of a backend.
type Space struct {
	prefix  string
	backend Backend
}

// NewSpace is the key space of prefix in backend. The prefix must end in a separator no
// tenant ID contains (the operator uses "t:<tenant>:").
func NewSpace(b Backend, prefix string) (*Space, error) {
	if prefix == "" || !strings.HasSuffix(prefix, ":") {
		return nil, errors.New("a cache key prefix must be non-empty and end with ':'")
	}
	return &Space{prefix: prefix, backend: b}, nil
}

// Get reads a key of this space.
func (s *Space) Get(ctx context.Context, key string) ([]byte, bool, error) {
	return s.backend.Get(ctx, s.prefix+key)
}

// SetMany writes keys of this space at once.
func (s *Space) SetMany(ctx context.Context, kv map[string][]byte, ttl time.Duration) error {
	full := make(map[string][]byte, len(kv))
	for k, v := range kv {
		full[s.prefix+k] = v
	}
	return s.backend.SetMany(ctx, full, ttl)
}

// Redis is a Redis backend.
type Redis struct{ Client *redis.Client }

// NewRedis connects (lazily) to addr; useTLS for ElastiCache with encryption in transit.
func NewRedis(addr string, useTLS bool) *Redis {
	opts := &redis.Options{Addr: addr, DialTimeout: 2 * time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second}
	if useTLS {
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return &Redis{Client: redis.NewClient(opts)}
}

func (r *Redis) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := r.Client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	return v, err == nil, err
}

func (r *Redis) SetMany(ctx context.Context, kv map[string][]byte, ttl time.Duration) error {
	_, err := r.Client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for k, v := range kv {
			p.Set(ctx, k, v, ttl)
		}
		return nil
	})
	return err
}

func (r *Redis) Close() error { return r.Client.Close() }

// Memory is an in-process backend for the embedded default and tests.
type Memory struct {
	mu   sync.Mutex
	data map[string]memEntry
	now  func() time.Time
}

type memEntry struct {
	v       []byte
	expires time.Time
}

// NewMemory is an empty in-memory backend.
func NewMemory() *Memory { return &Memory{data: map[string]memEntry{}, now: time.Now} }

func (m *Memory) Get(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.data[key]
	if !ok || (!e.expires.IsZero() && m.now().After(e.expires)) {
		delete(m.data, key)
		return nil, false, nil
	}
	return append([]byte(nil), e.v...), true, nil
}

func (m *Memory) SetMany(_ context.Context, kv map[string][]byte, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var exp time.Time
	if ttl > 0 {
		exp = m.now().Add(ttl)
	}
	for k, v := range kv {
		m.data[k] = memEntry{v: append([]byte(nil), v...), expires: exp}
	}
	return nil
}

func (m *Memory) Close() error { return nil }

// Shared hands out one backend per address to every tenant that uses it, and closes it when the
// last of them lets go: the tenants of a cell share ElastiCache connections, not key spaces.
type Shared struct {
	mu    sync.Mutex
	open  func(addr string) Backend
	byAdr map[string]*sharedBackend
}

type sharedBackend struct {
	Backend
	refs int
}

// NewShared opens backends with open.
func NewShared(open func(addr string) Backend) *Shared {
	return &Shared{open: open, byAdr: map[string]*sharedBackend{}}
}

// Acquire returns the backend of addr and a release function.
func (s *Shared) Acquire(addr string) (Backend, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.byAdr[addr]
	if b == nil {
		b = &sharedBackend{Backend: s.open(addr)}
		s.byAdr[addr] = b
	}
	b.refs++
	var once sync.Once
	return b.Backend, func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			b.refs--
			if b.refs == 0 {
				_ = b.Close()
				delete(s.byAdr, addr)
			}
		})
	}
}
