package controllers

import (
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/notify"
)

// CacheOptions limit the informer cache to what the operator manages: every child carries the
// managed-by label, so the operator never caches the cluster's other Secrets, Pods or
// Deployments. Tenants and RegionCells are cached whole.
func CacheOptions() cache.Options {
	managed := labels.SelectorFromSet(labels.Set{saasv1.LabelManagedBy: saasv1.LabelManagedByValue})
	return cache.Options{
		DefaultLabelSelector: managed,
		ByObject: map[client.Object]cache.ByObject{
			&saasv1.Tenant{}:     {Label: labels.Everything()},
			&saasv1.RegionCell{}: {Label: labels.Everything()},
			// Pods carry the labels of the Job template that made them.
			&corev1.Pod{}: {Label: managed},
		},
	}
}

// Options tune the controllers.
type Options struct {
	MaxConcurrentReconciles int
	// SNS publishes lifecycle events to cells' SNS topics; nil leaves SNS topics undelivered
	// (their tenants' pending notification says so).
	SNS notify.SNSPublisher
	// NotificationBackoff overrides notify.DefaultBackoff.
	NotificationBackoff notify.Backoff
	// Now is the controllers' clock; tests move it.
	Now func() time.Time
	// MoveWarmup and MoveDrain time moves of tenants between cells (DefaultMoveWarmup,
	// DefaultMoveDrain when zero).
	MoveWarmup, MoveDrain time.Duration
}

// SetupAll registers both controllers and the lifecycle notifier with the manager.
func SetupAll(mgr ctrl.Manager, opts Options) error {
	if err := addIndexes(context.Background(), mgr.GetFieldIndexer()); err != nil {
		return err
	}
	notifier := &notify.Notifier{
		Client: mgr.GetClient(), Reader: mgr.GetAPIReader(),
		HTTP:     &http.Client{Timeout: 15 * time.Second},
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
	if err := (&TenantReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("tenant-operator"),
		Notifier:                notifier,
		Now:                     opts.Now,
		MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
		MoveWarmup:              opts.MoveWarmup,
		MoveDrain:               opts.MoveDrain,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&RegionCellReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("tenant-operator"),
	}).SetupWithManager(mgr)
}
