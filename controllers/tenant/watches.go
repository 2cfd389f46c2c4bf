package tenant

import (
	"context"
	"slices"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/indexes"
	"github.com/tenantops/tenant-operator/controllers/shared"
)

// SetupWithManager watches Tenants, the children they own, and the few cell objects pooled
// tenants depend on. The cell watches wake only the tenants an event concerns: with a thousand
// tenants in a cell, waking all of them on every change of the shared Ingress would make
// onboarding quadratic.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.NewPassword == nil {
		r.NewPassword = shared.NewPassword
	}
	tenantOf := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []ctrl.Request {
		if name := o.GetLabels()[saasv1.LabelTenant]; name != "" {
			return []ctrl.Request{{NamespacedName: types.NamespacedName{Name: name}}}
		}
		return nil
	})
	bld := ctrl.NewControllerManagedBy(mgr).
		For(&saasv1.Tenant{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}, shared.DeletionPredicate()))).
		Owns(&corev1.Namespace{}).
		Owns(&corev1.Secret{}).
		Owns(&corev1.ResourceQuota{}).
		Owns(&corev1.LimitRange{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&rds.DBInstance{}).
		Owns(&route53.RecordSet{}).
		Owns(&ecv1.ReplicationGroup{}).
		Owns(&batchv1.Job{}).
		Owns(&batchv1.CronJob{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.Ingress{}).
		Watches(&corev1.Pod{}, tenantOf).
		// Tenants read the cell's spec, never its status.
		Watches(&saasv1.RegionCell{}, handler.EnqueueRequestsFromMapFunc(r.tenantsOfCell),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		// ... except the batch of a database defaults rollout, which wakes the tenants it names,
		// and what the cell reports that its tenants' children carry (its alerts topic, its CDN).
		Watches(&saasv1.RegionCell{}, defaultsBatchChanges()).
		Watches(&saasv1.RegionCell{}, r.cellEndpointsChanged()).
		// A tenant that leaves a cell (deleted, moved out, no longer dedicated) makes room for
		// those waiting in its region.
		Watches(&saasv1.Tenant{}, r.roomFreed()).
		// The cell's wildcard Ingress is made once; its arrival (or loss) concerns every tenant.
		Watches(&networkingv1.Ingress{}, r.cellChildToTenants(), builder.WithPredicates(predicate.Funcs{
			UpdateFunc: func(event.UpdateEvent) bool { return false }})).
		Watches(&appsv1.Deployment{}, r.cellChildToTenants(), builder.WithPredicates(sharedAppServingChanged())).
		Watches(&ecv1.ReplicationGroup{}, r.cellChildToTenants(), builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles), RateLimiter: shared.RetryBackoff()}).
		Named("tenant")
	if r.Kinds.Alerts {
		bld = bld.Owns(&cloudwatch.MetricAlarm{})
	}
	return bld.Complete(r)
}

// cellEndpointsChanged wakes a cell's tenants when what the cell reports for them changes: its
// alerts topic's ARN (their alarms' actions) or where its files are served (their pages).
func (r *Reconciler) cellEndpointsChanged() handler.EventHandler {
	return handler.Funcs{UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		o, ok1 := e.ObjectOld.(*saasv1.RegionCell)
		n, ok2 := e.ObjectNew.(*saasv1.RegionCell)
		if !ok1 || !ok2 || (o.Status.AlertsTopicARN == n.Status.AlertsTopicARN && o.Status.AssetsURL == n.Status.AssetsURL &&
			slices.Equal(o.Status.AssetsVersions, n.Status.AssetsVersions)) {
			return
		}
		for _, req := range tenantsMatching(ctx, r.Client, indexes.TenantCell, n.Name) {
			q.Add(req)
		}
	}}
}

// tenantsOfCell maps a RegionCell event (created, its spec changed) to the Tenants it serves,
// and to those of its region waiting for a cell: it may have room for them now.
func (r *Reconciler) tenantsOfCell(ctx context.Context, o client.Object) []ctrl.Request {
	cell, ok := o.(*saasv1.RegionCell)
	if !ok {
		return nil
	}
	return append(tenantsMatching(ctx, r.Client, indexes.TenantCell, cell.Name),
		tenantsMatching(ctx, r.Client, indexes.TenantWaiting, cell.Spec.Region)...)
}

// tenantsMatching are the Tenants whose index entry equals value.
func tenantsMatching(ctx context.Context, c client.Client, index, value string) []ctrl.Request {
	var tenants saasv1.TenantList
	if err := c.List(ctx, &tenants, client.MatchingFields{index: value}, client.UnsafeDisableDeepCopy); err != nil {
		return nil
	}
	reqs := make([]ctrl.Request, 0, len(tenants.Items))
	for i := range tenants.Items {
		reqs = append(reqs, ctrl.Request{NamespacedName: types.NamespacedName{Name: tenants.Items[i].Name}})
	}
	return reqs
}

// roomFreed wakes the tenants waiting for a cell in a region where a tenant left a cell.
func (r *Reconciler) roomFreed() handler.EventHandler {
	wake := func(ctx context.Context, region string, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		for _, req := range tenantsMatching(ctx, r.Client, indexes.TenantWaiting, region) {
			q.Add(req)
		}
	}
	return handler.Funcs{
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			o, ok1 := e.ObjectOld.(*saasv1.Tenant)
			n, ok2 := e.ObjectNew.(*saasv1.Tenant)
			if ok1 && ok2 && ((o.Status.Move != nil && n.Status.Move == nil) ||
				(o.DeletionTimestamp.IsZero() && !n.DeletionTimestamp.IsZero()) ||
				(o.Spec.Tier == saasv1.TierDedicated && n.Spec.Tier != saasv1.TierDedicated)) {
				wake(ctx, n.Spec.Region, q)
			}
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if t, ok := e.Object.(*saasv1.Tenant); ok {
				wake(ctx, t.Spec.Region, q)
			}
		},
	}
}

// cellChildToTenants maps a change of a cell's shared app or cache to the tenants it serves.
func (r *Reconciler) cellChildToTenants() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, o client.Object) []ctrl.Request {
		l := o.GetLabels()
		if l[saasv1.LabelTenant] != "" || l[saasv1.LabelCell] == "" {
			return nil
		}
		return tenantsMatching(ctx, r.Client, indexes.TenantCell, l[saasv1.LabelCell])
	})
}

// sharedAppServingChanged passes Deployment events that change what pooled tenants report:
// the version served, or whether any replica is available.
func sharedAppServingChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		oldD, ok1 := e.ObjectOld.(*appsv1.Deployment)
		newD, ok2 := e.ObjectNew.(*appsv1.Deployment)
		if !ok1 || !ok2 {
			return true
		}
		const v = "app.kubernetes.io/version"
		return oldD.Spec.Template.Labels[v] != newD.Spec.Template.Labels[v] ||
			(oldD.Status.AvailableReplicas > 0) != (newD.Status.AvailableReplicas > 0)
	}}
}

// defaultsBatchChanges wakes the tenants a cell newly put in its database defaults rollout.
func defaultsBatchChanges() handler.EventHandler {
	batch := func(o client.Object) []string {
		if c, ok := o.(*saasv1.RegionCell); ok && c.Status.DatabaseRollout != nil {
			return c.Status.DatabaseRollout.InProgress
		}
		return nil
	}
	return handler.Funcs{UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		before := batch(e.ObjectOld)
		for _, name := range batch(e.ObjectNew) {
			if !slices.Contains(before, name) {
				q.Add(reconcile.Request{NamespacedName: types.NamespacedName{Name: name}})
			}
		}
	}}
}
