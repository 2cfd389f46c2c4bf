package controllers

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/apply"
)

// An annotation (or any field) a builder stops setting is removed from the live object.
func TestApplierRemovesWhatTheBuilderNoLongerSets(t *testing.T) {
	ctx := context.Background()
	a := apply.Applier{Client: operator, Scheme: operator.Scheme(), Reader: k8s}
	build := func(extra map[string]string) *corev1.ConfigMap {
		return &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: "dropped", Namespace: "default", Annotations: extra,
				Labels: map[string]string{saasv1.LabelManagedBy: saasv1.LabelManagedByValue}},
			Data: map[string]string{"kept": "yes"},
		}
	}
	if _, err := a.Ensure(ctx, nil, build(map[string]string{"example.com/old": "1"})); err != nil {
		t.Fatal(err)
	}
	cm := &corev1.ConfigMap{}
	eventually(t, "the cache sees the first apply", func() error {
		if err := operator.Get(ctx, client.ObjectKey{Namespace: "default", Name: "dropped"}, cm); err != nil {
			return err
		}
		if cm.Annotations["example.com/old"] != "1" {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	res, err := a.Ensure(ctx, nil, build(nil))
	if err != nil || res != apply.Updated {
		t.Fatalf("dropping an annotation: %v %v, want an update", res, err)
	}
	must(t, get(t, cm, "default", "dropped"))
	if _, ok := cm.Annotations["example.com/old"]; ok || cm.Data["kept"] != "yes" {
		t.Errorf("after the builder dropped it: annotations %v data %v", cm.Annotations, cm.Data)
	}
	// The same intent again is no write.
	eventually(t, "the cache sees the second apply", func() error {
		if err := operator.Get(ctx, client.ObjectKey{Namespace: "default", Name: "dropped"}, cm); err != nil {
			return err
		}
		if _, ok := cm.Annotations["example.com/old"]; ok {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if res, err := a.Ensure(ctx, nil, build(nil)); err != nil || res != apply.Unchanged {
		t.Errorf("the same intent again: %v %v, want unchanged", res, err)
	}
}
