package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
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

// SetupAll registers both controllers with the manager.
func SetupAll(mgr ctrl.Manager, maxConcurrent int) error {
	if err := (&TenantReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(),
		Recorder:                mgr.GetEventRecorder("tenant-operator"),
		MaxConcurrentReconciles: maxConcurrent,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&RegionCellReconciler{
		Client: mgr.GetClient(), Scheme: mgr.GetScheme(),
		Recorder: mgr.GetEventRecorder("tenant-operator"),
	}).SetupWithManager(mgr)
}
