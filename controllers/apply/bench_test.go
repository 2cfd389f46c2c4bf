package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/builders"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkIntentAndContains is the applier's per-child cost in a steady-state reconcile:
// convert what the builder wants and what the cache holds, and compare them.
func BenchmarkIntentAndContains(b *testing.B) {
	cell := &saasv1.RegionCell{ObjectMeta: metav1.ObjectMeta{Name: "c"}, Spec: saasv1.RegionCellSpec{
		App:         saasv1.CellApp{Image: "app", Version: "1.0.0", MinReplicas: 2, MaxReplicas: 10},
		Autoscaling: saasv1.AutoscalingPolicy{ScaleOutAtPercent: 80, ScaleInAtPercent: func(v int32) *int32 { return &v }(10)}}}
	dep := builders.AppDeployment(builders.CellAppTier(cell, "1.0.0"))
	have, err := runtime.DefaultUnstructuredConverter.ToUnstructured(dep)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		want, err := intent(dep)
		if err != nil || !Contains(have, want) {
			b.Fatal("differs", err)
		}
		if _, err := runtime.DefaultUnstructuredConverter.ToUnstructured(dep); err != nil {
			b.Fatal(err)
		}
	}
}
