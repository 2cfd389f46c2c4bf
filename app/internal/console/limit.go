package console

import (
	"sync"
	"time"
)

// Limiter allows at most Max events per key in any window of Per (a sliding log, one per key):
// signups per client address and per e-mail domain. Keys idle for a window are forgotten, so
// memory follows the recent callers, not every caller ever.
type Limiter struct {
	Max int
	Per time.Duration
	Now func() time.Time

	mu    sync.Mutex
	seen  map[string][]time.Time
	swept time.Time
}

// Allow records an event of key and says whether it is within the limit. A refused event is
// not recorded: a client that keeps trying is let in again as its old events age out.
func (l *Limiter) Allow(key string) bool {
	now := time.Now()
	if l.Now != nil {
		now = l.Now()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]time.Time{}
	}
	if now.Sub(l.swept) > l.Per {
		for k, ts := range l.seen {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= l.Per {
				delete(l.seen, k)
			}
		}
		l.swept = now
	}
	recent := l.seen[key][:0]
	for _, t := range l.seen[key] {
		if now.Sub(t) < l.Per {
			recent = append(recent, t)
		}
	}
	if len(recent) >= l.Max {
		l.seen[key] = recent
		return false
	}
	l.seen[key] = append(recent, now)
	return true
}

// Keys is how many keys the limiter remembers.
func (l *Limiter) Keys() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.seen)
}
