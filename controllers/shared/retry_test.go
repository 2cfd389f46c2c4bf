package shared

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// However many times an object's reconcile failed, it is tried again within a minute; the first
// retries stay quick.
func TestRetryBackoffIsBounded(t *testing.T) {
	l := RetryBackoff()
	key := reconcile.Request{NamespacedName: types.NamespacedName{Name: "cell"}}
	first := l.When(key)
	var last time.Duration
	for range 40 {
		last = l.When(key)
	}
	if first > 10*time.Millisecond || last != MaxRetryDelay {
		t.Errorf("first retry after %s, 41st after %s; want at most 10ms and %s", first, last, MaxRetryDelay)
	}
	l.Forget(key)
	if again := l.When(key); again > 10*time.Millisecond {
		t.Errorf("after a success the next failure waits %s", again)
	}
}
