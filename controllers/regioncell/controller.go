package regioncell

import (
	"context"
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/cost"
	"github.com/tenantops/tenant-operator/controllers/estimate"
	"github.com/tenantops/tenant-operator/controllers/indexes"
	"github.com/tenantops/tenant-operator/controllers/kinds"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// Finalizer holds a RegionCell while it still serves Tenants.
const Finalizer = "saas.tenantops.io/regioncell"

var cellParts = []string{saasv1.ConditionCacheReady, saasv1.ConditionRolloutComplete, saasv1.ConditionAppReady,
	saasv1.ConditionDatabaseDefaultsRolledOut}

// Reconciler keeps one cell's shared tier: the shared app and its autoscaling,
// the shared cache, the routes of pooled tenants and the rollouts of new app versions.
type Reconciler struct {
	client.Client
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  recorder.EventRecorder
	// Kinds are the optional ACK kinds the cluster has.
	Kinds kinds.Optional
	// Prices is the price table of the cost estimates.
	Prices *cost.Source
	// Now is the clock; tests move it.
	Now func() time.Time
	// Identity is the operator's own, bound in each namespace it makes to write Secrets and
	// ConfigMaps there.
	Identity b.OperatorIdentity
	// Jurisdictions are the regions tenants' data may be copied between.
	Jurisdictions recovery.Jurisdictions
}

// +kubebuilder:rbac:groups=saas.tenantops.io,resources=regioncells,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=regioncells/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=regioncells/finalizers,verbs=update
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=tenants,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces;serviceaccounts;services,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rds.services.k8s.aws,resources=dbsubnetgroups;dbinstances,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=elasticache.services.k8s.aws,resources=replicationgroups;cachesubnetgroups,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=route53.services.k8s.aws,resources=recordsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=sns.services.k8s.aws,resources=topics;subscriptions,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cloudwatch.services.k8s.aws,resources=metricalarms,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=s3.services.k8s.aws,resources=buckets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cloudfront.services.k8s.aws,resources=distributions;originaccesscontrols,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// cellRun is one reconcile of one RegionCell.
type cellRun struct {
	cell    *saasv1.RegionCell
	ns      string
	tenants []saasv1.Tenant // the cell's tenants, those moving out included
	verdict verdict.Verdict
	// cellsInRegion counts the cells of the cell's region (they share its EKS control plane).
	cellsInRegion int
	// publishJobs are the cell's publishing Jobs, once read (nil: not yet).
	publishJobs []batchv1.Job
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	cell := &saasv1.RegionCell{}
	if err := r.Get(ctx, req.NamespacedName, cell); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	run := &cellRun{cell: cell, ns: b.CellNamespace(cell)}
	if err := r.listTenants(ctx, run); err != nil {
		return ctrl.Result{}, err
	}
	inRegion, _, err := shared.RegionCells(ctx, r.Client, cell.Spec.Region)
	if err != nil {
		return ctrl.Result{}, err
	}
	run.cellsInRegion = len(inRegion)
	before := cell.DeepCopy()
	defer func() {
		if err := r.patchStatus(ctx, cell, before, run, retErr); err != nil && retErr == nil {
			retErr = err
		}
	}()
	if !cell.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, run)
	}
	if controllerutil.AddFinalizer(cell, Finalizer) {
		if err := r.Update(ctx, cell); err != nil {
			return ctrl.Result{}, err
		}
	}
	steps := []struct {
		name string
		run  func(context.Context, *cellRun) error
	}{
		{"namespace", r.reconcileNamespace},
		{"network", r.reconcileNetwork},
		{"cache", r.reconcileCache},
		// What serves first; what monitors and speeds up the pages after.
		{"app", r.reconcileApp},
		{"alerts", r.reconcileAlerts},
		{"assets", r.reconcileAssets},
		{"database defaults", r.reconcileDatabaseDefaults},
		{"warm pool", r.reconcileWarmPool},
		{"disaster recovery", r.reconcileDisasterRecovery},
	}
	for _, s := range steps {
		if err := s.run(ctx, run); err != nil {
			return ctrl.Result{}, fmt.Errorf("step %s: %w", s.name, err)
		}
	}
	return ctrl.Result{}, nil
}

func (r *Reconciler) applier() apply.Applier {
	return apply.Applier{Client: r.Client, Scheme: r.Scheme, Reader: r.APIReader}
}

func (r *Reconciler) listTenants(ctx context.Context, run *cellRun) error {
	var all saasv1.TenantList
	// The cell only reads its tenants: skip copying them out of the cache.
	if err := r.List(ctx, &all, client.MatchingFields{indexes.TenantCell: run.cell.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return err
	}
	for _, t := range all.Items {
		if t.Spec.Region == run.cell.Spec.Region {
			run.tenants = append(run.tenants, t)
		}
	}
	sort.Slice(run.tenants, func(i, j int) bool { return run.tenants[i].Name < run.tenants[j].Name })
	return nil
}

func (r *Reconciler) patchStatus(ctx context.Context, cell, before *saasv1.RegionCell, run *cellRun, runErr error) error {
	st := &cell.Status
	st.Namespace = run.ns
	st.Tenants = int32(len(run.tenants))
	st.Capacity = fmt.Sprintf("%d/%d", len(run.tenants), cell.Spec.Capacity.MaxTenants)
	st.TenantsByPhase = map[string]int32{}
	st.DedicatedTenants = 0
	for _, t := range run.tenants {
		if t.Spec.Tier == saasv1.TierDedicated {
			st.DedicatedTenants++
		}
		phase := t.Status.Phase
		if phase == "" {
			phase = saasv1.PhasePending
		}
		st.TenantsByPhase[phase]++
	}
	metrics.TenantsByPhase.DeletePartialMatch(map[string]string{"cell": cell.Name})
	for phase, n := range st.TenantsByPhase {
		metrics.TenantsByPhase.WithLabelValues(cell.Name, phase).Set(float64(n))
	}
	cellCost, usd := estimate.Cell(cell, run.tenants, run.cellsInRegion, r.Prices, r.now())
	cell.Status.Cost = &cellCost
	metrics.SetCellCost(cell.Name, usd)
	st.Phase = verdict.Summarize(&st.Conditions, cell.Generation, cellParts, run.verdict)
	if runErr == nil {
		st.ObservedGeneration = cell.Generation
	}
	if before.Status.Phase != st.Phase {
		r.Recorder.Eventf(cell, nil, corev1.EventTypeNormal, "Phase"+st.Phase, "Reconcile", "%s -> %s", orNone(before.Status.Phase), st.Phase)
	}
	return r.applier().PatchStatus(ctx, cell, before)
}
func orNone(s string) string {
	if s == "" {
		return "(new)"
	}
	return s
}
