package shared

import (
	"time"

	"golang.org/x/time/rate"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// MaxRetryDelay bounds how long a reconcile that failed waits before it is tried again.
// client-go's default doubles the wait up to 1,000 s: a few failures in a row around an API
// server outage (each event's reconcile failing on a cache still relisting) could leave a cell
// or a tenant untouched for a quarter of an hour once nothing else wakes it.
const MaxRetryDelay = time.Minute

// RetryBackoff is the retry schedule of the operator's controllers: 5 ms doubling per failure of
// an object, up to MaxRetryDelay, and (as client-go's default) at most 10 retries a second
// overall with bursts of 100.
func RetryBackoff() workqueue.TypedRateLimiter[reconcile.Request] {
	return workqueue.NewTypedMaxOfRateLimiter(
		workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](5*time.Millisecond, MaxRetryDelay),
		&workqueue.TypedBucketRateLimiter[reconcile.Request]{Limiter: rate.NewLimiter(rate.Limit(10), 100)},
	)
}
