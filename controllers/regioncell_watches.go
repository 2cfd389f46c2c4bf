package controllers

import (
	"context"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

// SetupWithManager watches RegionCells, their children, and Tenants (hosts and rollouts).
func (r *RegionCellReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&saasv1.RegionCell{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionPredicate()))).
		Owns(&corev1.Namespace{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&ecv1.ReplicationGroup{}).
		Owns(&ecv1.CacheSubnetGroup{}).
		Owns(&rds.DBSubnetGroup{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.Ingress{}).
		Watches(&saasv1.Tenant{}, handler.EnqueueRequestsFromMapFunc(r.cellOfTenant), builder.WithPredicates(tenantMattersToCell())).
		Named("regioncell").
		Complete(r)
}

func (r *RegionCellReconciler) cellOfTenant(ctx context.Context, o client.Object) []ctrl.Request {
	t, ok := o.(*saasv1.Tenant)
	if !ok {
		return nil
	}
	if t.Status.Cell != "" {
		return []ctrl.Request{{NamespacedName: types.NamespacedName{Name: t.Status.Cell}}}
	}
	cell, err := cellForRegion(ctx, r.Client, t.Spec.Region)
	if err != nil || cell == nil {
		return nil
	}
	return []ctrl.Request{{NamespacedName: types.NamespacedName{Name: cell.Name}}}
}

// tenantMattersToCell passes the Tenant changes a cell acts on: routes (tier, suspension,
// deletion, a first successful migration), rollouts (pins, migrations), and its counts
// (admission, phase). Condition messages and the like do not wake the cell.
func tenantMattersToCell() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		o, ok1 := e.ObjectOld.(*saasv1.Tenant)
		n, ok2 := e.ObjectNew.(*saasv1.Tenant)
		if !ok1 || !ok2 {
			return true
		}
		return o.Generation != n.Generation || o.DeletionTimestamp.IsZero() != n.DeletionTimestamp.IsZero() ||
			o.Status.Cell != n.Status.Cell || o.Status.Phase != n.Status.Phase ||
			!equality.Semantic.DeepEqual(o.Status.LastMigration, n.Status.LastMigration) ||
			!equality.Semantic.DeepEqual(o.Status.EffectiveDatabase, n.Status.EffectiveDatabase) ||
			findCondition(o.Status.Conditions, saasv1.ConditionDatabaseReady).Status != findCondition(n.Status.Conditions, saasv1.ConditionDatabaseReady).Status
	}}
}
