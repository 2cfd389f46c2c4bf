package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
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

// rolledOut is `kubectl rollout status` for a Deployment: the controller has seen the current
// template, every wanted replica runs it, none of the old ones is left, and all of them are
// available. Otherwise it says how far along the rollout is.
func rolledOut(dep *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	st := dep.Status
	progress := fmt.Sprintf("%d of %d replicas updated, %d available", st.UpdatedReplicas, want, st.AvailableReplicas)
	done := st.ObservedGeneration >= dep.Generation && st.UpdatedReplicas >= want &&
		st.Replicas == st.UpdatedReplicas && st.AvailableReplicas >= st.UpdatedReplicas
	return done, progress
}

func first(s []string, n int) []string {
	if len(s) > n {
		return append(s[:n:n], "…")
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(new)"
	}
	return s
}

// servingVersion is the newest version whose migration succeeded.
func servingVersion(t *saasv1.Tenant) string {
	if lm := t.Status.LastMigration; lm != nil && lm.Succeeded {
		return lm.Version
	}
	return t.Status.AppVersion
}

// ingressRoutes says whether the Ingress routes host: by a rule of its own, or by a wildcard of
// its domain (one label deep, as Ingress and ALB wildcards match).
func ingressRoutes(ing *networkingv1.Ingress, host string) bool {
	for _, rule := range ing.Spec.Rules {
		if rule.Host == host || (strings.HasPrefix(rule.Host, "*.") && strings.Count(host, ".") > 0 &&
			host[strings.Index(host, "."):] == rule.Host[1:]) {
			return true
		}
	}
	return false
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

// ackReport sums up the ACK states of a set of objects: the first terminal one, else the first
// not synced, else all synced.
func ackReport(states map[string]ack.State) (name string, st ack.State) {
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if states[n].Terminal {
			return n, states[n]
		}
	}
	for _, n := range names {
		if !states[n].Synced {
			return n, states[n]
		}
	}
	return "", ack.State{Synced: true}
}
