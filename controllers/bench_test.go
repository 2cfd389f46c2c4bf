package controllers

import (
	"context"
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/tenant"
)

// BenchmarkSteadyStateReconcile is one reconcile of an onboarded, unchanged pooled tenant,
// through the operator's cached client against a real API server, with other tenants in the
// cluster (other=0, then 1000 more of another region with no cell here, which the operator
// leaves alone): the cost must not grow with them. It reports the writes it made per reconcile,
// which must be zero.
func BenchmarkSteadyStateReconcile(b *testing.B) {
	cell := newCell("benchcell", "il-central-1")
	create(b, cell)
	playCellAWS(b, cell)
	steady := newTenant("steady", "il-central-1")
	create(b, steady)
	onboard(b, cell, steady)

	r := &tenant.Reconciler{Client: operator, APIReader: k8s, Scheme: NewScheme(), Recorder: nopRecorder{}, Now: clock.Now}
	req := ctrl.Request{NamespacedName: client.ObjectKey{Name: "steady"}}
	ctx := context.Background()
	fast := rest.CopyConfig(restConfig)
	fast.QPS, fast.Burst = 1000, 2000
	creator, err := client.New(fast, client.Options{Scheme: NewScheme()})
	must(b, err)
	others := 0
	for _, n := range []int{0, 1000} {
		for ; others < n; others++ {
			must(b, creator.Create(ctx, newTenant(fmt.Sprintf("other-%d", others), "ap-southeast-4")))
		}
		eventually(b, "the cache holds the other tenants", func() error {
			var l saasv1.TenantList
			if err := operator.List(ctx, &l); err != nil || len(l.Items) < n {
				return fmt.Errorf("%d tenants in the cache, want at least %d (%v)", len(l.Items), n, err)
			}
			return nil
		})
		b.Run(fmt.Sprintf("other=%d", n), func(b *testing.B) {
			mark := writes.Mark()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := r.Reconcile(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(writes.Since(mark)))/float64(b.N), "writes/op")
		})
	}
	got := &saasv1.Tenant{}
	must(b, get(b, got, "", "steady"))
	if got.Status.Phase != saasv1.PhaseReady {
		b.Fatalf("phase %s", got.Status.Phase)
	}
}

// nopRecorder drops events, for reconcilers a test or benchmark drives by hand.
type nopRecorder struct{}

func (nopRecorder) Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any) {
}

func (nopRecorder) AnnotatedEventf(regarding, related runtime.Object, annotations map[string]string, eventtype, reason, action, note string, args ...any) {
}
