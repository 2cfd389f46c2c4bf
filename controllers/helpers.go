package controllers

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/tenantops/tenant-operator/controllers/apply"
)

// deletionPollInterval is how often a deletion's progress is looked at while AWS works; the
// watches on the children usually come first.
const deletionPollInterval = 15 * time.Second

func metav1Time(t time.Time) metav1.Time { return metav1.NewTime(t.UTC().Truncate(time.Second)) }

// deletionPredicate passes updates that start a deletion, which change no generation.
func deletionPredicate() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() && !e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}

func orNone(s string) string {
	if s == "" {
		return "(new)"
	}
	return s
}

// ensureExactly makes the objects of list's kind in namespace that carry labels be exactly
// desired: each is ensured (owned by owner), and the others, which a spec change left behind
// (an address unsubscribed, an alarm no longer wanted), are removed. desired hold what the
// cluster has on return.
func ensureExactly(ctx context.Context, a apply.Applier, owner client.Object, desired []client.Object, list client.ObjectList,
	namespace string, labels map[string]string) error {
	want := map[string]bool{}
	for _, o := range desired {
		if _, err := a.Ensure(ctx, owner, o); err != nil {
			return err
		}
		want[o.GetName()] = true
	}
	if err := a.Client.List(ctx, list, client.InNamespace(namespace), client.MatchingLabels(labels)); err != nil {
		return err
	}
	items, err := meta.ExtractList(list)
	if err != nil {
		return err
	}
	for _, item := range items {
		o, ok := item.(client.Object)
		if !ok || want[o.GetName()] {
			continue
		}
		fresh, _ := o.DeepCopyObject().(client.Object)
		if _, err := a.Absent(ctx, fresh, client.ObjectKeyFromObject(o)); err != nil {
			return err
		}
	}
	return nil
}
