package controllers

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// BenchmarkSteadyStateReconcile is one reconcile of an onboarded, unchanged pooled tenant,
// through the operator's cached client against a real API server. It reports the writes it
// made per reconcile, which must be zero.
func BenchmarkSteadyStateReconcile(b *testing.B) {
	cell := newCell("benchcell", "il-central-1")
	create(b, cell)
	playCellAWS(b, cell)
	tenant := newTenant("steady", "il-central-1")
	create(b, tenant)
	onboard(b, cell, tenant)

	r := &TenantReconciler{Client: operator, APIReader: k8s, Scheme: NewScheme(), Recorder: nopRecorder{}, Now: clock.Now}
	req := ctrl.Request{NamespacedName: client.ObjectKey{Name: "steady"}}
	ctx := context.Background()
	mark := writes.Mark()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Reconcile(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(writes.Since(mark)))/float64(b.N), "writes/op")
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
