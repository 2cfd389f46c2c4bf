package console

import (
	"fmt"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	l := &Limiter{Max: 3, Per: time.Hour, Now: func() time.Time { return now }}
	for i := 0; i < 3; i++ {
		if !l.Allow("10.0.0.1") {
			t.Fatalf("event %d refused", i+1)
		}
	}
	if l.Allow("10.0.0.1") {
		t.Error("a fourth event within the hour allowed")
	}
	if !l.Allow("10.0.0.2") {
		t.Error("another key refused")
	}
	now = now.Add(59 * time.Minute)
	if l.Allow("10.0.0.1") {
		t.Error("allowed before the first events aged out")
	}
	now = now.Add(2 * time.Minute)
	if !l.Allow("10.0.0.1") {
		t.Error("refused after the first events aged out")
	}
	// Keys idle for a window are forgotten: memory follows recent callers.
	for i := 0; i < 1000; i++ {
		l.Allow(fmt.Sprintf("spray-%d", i))
	}
	now = now.Add(2 * time.Hour)
	l.Allow("late")
	if n := l.Keys(); n != 1 {
		t.Errorf("%d keys remembered after every other went idle", n)
	}
}
