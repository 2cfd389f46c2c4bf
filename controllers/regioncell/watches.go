package regioncell

import (
	"context"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
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
	"github.com/tenantops/tenant-operator/controllers/ack/cloudfront"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/rollout"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// SetupWithManager watches RegionCells, their children, and Tenants (hosts and rollouts).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	bld := ctrl.NewControllerManagedBy(mgr).
		For(&saasv1.RegionCell{}, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{},
			predicate.LabelChangedPredicate{}, predicate.AnnotationChangedPredicate{}, shared.DeletionPredicate()))).
		Owns(&corev1.Namespace{}).
		Owns(&corev1.ServiceAccount{}).
		Owns(&rbacv1.Role{}).
		Owns(&rbacv1.RoleBinding{}).
		Owns(&networkingv1.NetworkPolicy{}).
		Owns(&ecv1.ReplicationGroup{}).
		Owns(&ecv1.CacheSubnetGroup{}).
		Owns(&rds.DBSubnetGroup{}).
		// The warm pool's instances: made, reported available, claimed, released.
		Owns(&rds.DBInstance{}).
		Owns(&appsv1.Deployment{}).
		Owns(&corev1.Service{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&policyv1.PodDisruptionBudget{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&batchv1.Job{}).
		Watches(&saasv1.Tenant{}, cellsOfTenant(), builder.WithPredicates(tenantMattersToCell())).
		Named("regioncell")
	if r.Kinds.Alerts {
		bld = bld.Owns(&sns.Topic{}).Owns(&sns.Subscription{}).Owns(&cloudwatch.MetricAlarm{})
	}
	if r.Kinds.Assets {
		bld = bld.Owns(&s3.Bucket{}).Owns(&cloudfront.OriginAccessControl{}).Owns(&cloudfront.Distribution{}).Owns(&route53.RecordSet{})
	}
	return bld.WithOptions(controller.Options{RateLimiter: shared.RetryBackoff()}).Complete(r)
}

// TenantBatchWindow is how long a cell waits after a change of one of its tenants before it looks
// at them all: while a thousand tenants onboard, the cell counts them about once a second
// instead of once per change.
const TenantBatchWindow = time.Second

// cellsOfTenant maps a Tenant event to the cells it concerns, after TenantBatchWindow: those
// serving it before and after the change (during a move, both) and the one its database is in.
func cellsOfTenant() handler.EventHandler {
	cells := func(o client.Object) []string {
		t, ok := o.(*saasv1.Tenant)
		if !ok {
			return nil
		}
		out := placement.CellsServing(t)
		if e := t.Status.EffectiveDatabase; e != nil {
			out = append(out, e.Cell)
		}
		return out
	}
	enqueue := func(q workqueue.TypedRateLimitingInterface[reconcile.Request], objs ...client.Object) {
		for _, o := range objs {
			for _, name := range cells(o) {
				if name != "" {
					// Events within the window fold into one reconcile: the queue holds a key once.
					q.AddAfter(reconcile.Request{NamespacedName: types.NamespacedName{Name: name}}, TenantBatchWindow)
				}
			}
		}
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(q, e.Object)
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(q, e.Object)
		},
	}
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
			o.Status.Cell != n.Status.Cell || o.Status.Phase != n.Status.Phase || (o.Status.Move == nil) != (n.Status.Move == nil) ||
			!equality.Semantic.DeepEqual(o.Status.LastMigration, n.Status.LastMigration) ||
			!equality.Semantic.DeepEqual(o.Status.EffectiveDatabase, n.Status.EffectiveDatabase) ||
			verdict.Condition(o.Status.Conditions, saasv1.ConditionDatabaseReady).Status != verdict.Condition(n.Status.Conditions, saasv1.ConditionDatabaseReady).Status ||
			// A refusal of the cell's defaults, and its end, keep the database serving (True).
			(verdict.Condition(o.Status.Conditions, saasv1.ConditionDatabaseReady).Reason == rollout.ReasonDefaultsRefused) !=
				(verdict.Condition(n.Status.Conditions, saasv1.ConditionDatabaseReady).Reason == rollout.ReasonDefaultsRefused)
	}}
}
