package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// ceilingOfConfigMaps is the rate at which writers server-side-apply small ConfigMaps with no
// client-side limit: the most this API server writes of the smallest objects.
func ceilingOfConfigMaps(ctx context.Context, c client.Client, writers, total int) (float64, error) {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "ceiling"}}); err != nil {
		return 0, err
	}
	payload := strings.Repeat("x", 1024)
	start := time.Now()
	err := parallel(total, writers, func(i int) error {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("ConfigMap")
		u.SetNamespace("ceiling")
		u.SetName(fmt.Sprintf("cm-%d", i))
		u.SetLabels(map[string]string{"app.kubernetes.io/managed-by": "ceiling"})
		_ = unstructured.SetNestedField(u.Object, payload, "data", "payload")
		return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("ceiling"), client.ForceOwnership)
	})
	return float64(total) / time.Since(start).Seconds(), err
}

// ceilingOfTenantObjects is the rate at which writers server-side-apply the objects a pooled
// tenant of the sample cell is made of (11, and its 4 alarms when the cell alerts), built by the
// operator's own builders for made-up tenants: the most this API server writes of what
// onboarding writes. It returns tenants per second and the objects per tenant.
func ceilingOfTenantObjects(ctx context.Context, c client.Client, writers, tenants int) (float64, int, error) {
	cell, err := testenv.SampleCell()
	if err != nil {
		return 0, 0, err
	}
	cell.Name = "ceiling"
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: b.CellNamespace(cell)}}); err != nil {
		return 0, 0, err
	}
	var perTenant atomic.Int64
	scheme := c.Scheme()
	ep := b.Endpoints{DBAddress: "db.example", DBPort: 3306, CacheAddress: "cache.example", CachePort: 6379}
	start := time.Now()
	err = parallel(tenants, writers, func(i int) error {
		t := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("ceiling-%05d", i)}, Spec: saasv1.TenantSpec{
			DisplayName: "ceiling", Region: cell.Spec.Region, Subdomain: fmt.Sprintf("ceiling-%05d", i), Tier: saasv1.TierPooled,
			Recommendations: saasv1.Recommendations{Schedule: "0 3 * * *", TimeZone: "UTC"}}}
		ns := b.TenantNamespace(t)
		labels := b.TenantLabels(t, cell, "")
		eff, _ := b.ResolveDatabase(t, cell, nil, false)
		version := cell.Spec.App.Version
		// In onboarding order: the namespace first, everything else in it.
		objs := []client.Object{
			b.Namespace(ns, labels), b.ResourceQuota(t, cell), b.LimitRange(t, cell), b.NetworkPolicy(ns, labels, nil),
			b.DBPasswordSecret(t, cell, "password-of-the-ceiling-run-0123"), b.DBInstance(t, cell, eff, ""),
			b.TenantConfig(t, cell, ns, b.TenantConfigName, ep, "pw"), b.MigrationJob(t, cell, version),
			b.TenantConfig(t, cell, b.CellNamespace(cell), b.ConfigSecretName(t), ep, "pw"),
			b.RecommendCronJob(t, cell, version), b.RecordSet(t, cell),
		}
		if cell.Spec.Alerts != nil {
			for _, a := range b.TenantAlarms(t, cell, eff, "arn:aws:sns:eu-west-1:123456789012:ceiling") {
				objs = append(objs, a)
			}
		}
		perTenant.Store(int64(len(objs)))
		for _, o := range objs {
			if err := applyObject(ctx, c, scheme, o); err != nil {
				return err
			}
		}
		return nil
	})
	return float64(tenants) / time.Since(start).Seconds(), int(perTenant.Load()), err
}

// applyObject server-side-applies obj as the operator's applier does, without reading first.
func applyObject(ctx context.Context, c client.Client, scheme *runtime.Scheme, obj client.Object) error {
	gvk, err := apiutil.GVKForObject(obj, scheme)
	if err != nil {
		return err
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return err
	}
	delete(m, "status")
	u := &unstructured.Unstructured{Object: m}
	u.SetGroupVersionKind(gvk)
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("ceiling"), client.ForceOwnership)
}

// parallel calls do for 1..n from the given number of workers, and returns the first error;
// a worker stops at its first error.
func parallel(n, workers int, do func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := do(int(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
