package controllers

import (
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/cost"
	"github.com/tenantops/tenant-operator/controllers/indexes"
	"github.com/tenantops/tenant-operator/controllers/kinds"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/regioncell"
	"github.com/tenantops/tenant-operator/controllers/tenant"
)

// CacheOptions limit the informer cache to what the operator manages: every child carries the
// managed-by label, so the operator never caches the cluster's other Secrets, Pods or
// Deployments. Tenants and RegionCells are cached whole.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{saasv1.LabelManagedBy: saasv1.LabelManagedByValue})
	return cache.Options{
		DefaultLabelSelector: managed,
		// Nothing the operator decides reads managedFields (the applier compares its intent's hash),
		// and they are about a third of a cached object: a region of 2,000 tenants keeps some 30,000.
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&saasv1.Tenant{}:     {Label: labels.Everything()},
			&saasv1.RegionCell{}: {Label: labels.Everything()},
			// Pods carry the labels of the Job template that made them.
			&corev1.Pod{}: {Label: managed},
		},
	}
}

// Client-side limits the operator ships with (docs/operations.md, "API server budget"). The API
// server protects itself with priority and fairness (APF): it queues a busy client's requests at
// its priority level and answers 429 with Retry-After, which client-go honours. The client's own
// budget is a backstop against a hot loop, not the brake: set above what onboarding at full speed
// uses (about 230 writes/s and the reads around them on a small control plane, make scale) and
// well under what an API server serves.
const (
	DefaultQPS                     = 300
	DefaultBurst                   = 600
	DefaultMaxConcurrentReconciles = 8
)

// ShareRateLimit gives every client made from cfg one token bucket of qps and burst. Without it
// client-go makes a bucket per REST client, and controller-runtime makes a REST client per kind:
// a limit of 50 was then 50 for each of the dozen kinds the operator writes.
func ShareRateLimit(cfg *rest.Config, qps float32, burst int) {
	cfg.QPS, cfg.Burst = qps, burst
	cfg.RateLimiter = nil
	if qps > 0 {
		cfg.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(qps, burst)
	}
}

// Options tune the controllers.
type Options struct {
	MaxConcurrentReconciles int
	// SNS publishes lifecycle events to cells' SNS topics; nil leaves SNS topics undelivered
	// (their tenants' pending notification says so).
	SNS notify.SNSPublisher
	// WebhookTransport carries lifecycle events to cells' webhooks; nil is Go's default. (The
	// fault tests cut it when they kill an operator: a killed process sends nothing more.)
	WebhookTransport http.RoundTripper
	// NotificationBackoff overrides notify.DefaultBackoff.
	NotificationBackoff notify.Backoff
	// Now is the controllers' clock; tests move it.
	Now func() time.Time
	// MoveWarmup and MoveDrain time moves of tenants between cells (tenant.DefaultMoveWarmup,
	// tenant.DefaultMoveDrain when zero).
	MoveWarmup, MoveDrain time.Duration
	// PriceTable is the file of the cost estimates' price table; the built-in one when empty.
	PriceTable string
	// Identity is the operator's ServiceAccount and the ClusterRole it binds itself to in each
	// namespace it makes (Secrets and ConfigMaps are written there only); empty when it runs
	// as another user, which then needs those rights itself.
	Identity b.OperatorIdentity
	// OptionalKindsCheck is how often the API server is asked whether optional ACK kinds the
	// operator started without were installed since; never when zero (main's flag defaults to
	// kinds.DefaultCheck).
	OptionalKindsCheck time.Duration
	// Copier takes and copies tenants' snapshots to partner regions (awsrds.Client); nil makes
	// no copies, and tenants of cells that ask for them say so.
	Copier recovery.Copier
	// Jurisdictions are the regions tenants' data may be copied between (--jurisdictions).
	Jurisdictions recovery.Jurisdictions
	// Fences reads and claims the fencing records of tenants that can fail over (awsfence.Client).
	Fences recovery.Fences
	// Standbys finds and promotes a home region's standby at a failover (awsrds.Client); Lag
	// reads standbys' replica lag (awscw.Client). nil: failovers restore copies only, and
	// standbys report no lag.
	Standbys recovery.Standbys
	Lag      recovery.LagReader
	// StandbyLagPoll is how often a standby's lag is read (recovery.LagPoll when zero; tests
	// shorten it).
	StandbyLagPoll time.Duration
}

// SetupAll registers both controllers and the lifecycle notifier with the manager.
func SetupAll(mgr ctrl.Manager, opts Options) error {
	if err := indexes.Add(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	notifier := &notify.Notifier{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(),
		HTTP:     &http.Client{Timeout: 15 * time.Second, Transport: opts.WebhookTransport},
		SNS:      opts.SNS,
		Recorder: mgr.GetEventRecorder("tenant-operator"),
		Backoff:  opts.NotificationBackoff,
	}
	if err := mgr.Add(notifier); err != nil {
		return err
	}
	if err := (&notify.Outbox{Client: mgr.GetClient(), Reader: mgr.GetAPIReader(), Notifier: notifier, Backoff: opts.NotificationBackoff}).SetupWithManager(mgr); err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(mgr.GetConfig())
	if err != nil {
		return err
	}
	optional, err := kinds.Discover(dc)
	if err != nil {
		return err
	}
	if opts.OptionalKindsCheck > 0 {
		if err := mgr.Add(&kinds.Watch{Discovery: dc, Started: optional, Interval: opts.OptionalKindsCheck}); err != nil {
			return err
		}
	}
	prices := &cost.Source{Path: opts.PriceTable}
	if err := (&tenant.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("tenant-operator"),
		Notifier:                notifier,
		Now:                     opts.Now,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		MoveWarmup:              opts.MoveWarmup,
		MoveDrain:               opts.MoveDrain,
		Kinds:                   optional,
		Prices:                  prices,
		Identity:                opts.Identity,
		Copier:                  opts.Copier,
		Jurisdictions:           opts.Jurisdictions,
		Fences:                  opts.Fences,
		Standbys:                opts.Standbys,
		Lag:                     opts.Lag,
		LagPoll:                 opts.StandbyLagPoll,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&regioncell.Reconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("tenant-operator"),
		Kinds:    optional, Prices: prices, Now: opts.Now, Identity: opts.Identity, Jurisdictions: opts.Jurisdictions,
	}).SetupWithManager(mgr)
}
