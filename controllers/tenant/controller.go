package tenant

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/cost"
	"github.com/tenantops/tenant-operator/controllers/estimate"
	"github.com/tenantops/tenant-operator/controllers/kinds"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// Finalizer holds a Tenant until its database has been snapshotted, retained or deleted
// as its deletionPolicy says, and its DNS record is gone.
const Finalizer = "saas.tenantops.io/tenant"

// tenantParts are the Tenant's part conditions in onboarding order.
var tenantParts = []string{
	saasv1.ConditionDatabaseReady, saasv1.ConditionCacheReady, saasv1.ConditionMigrationsComplete,
	saasv1.ConditionAppReady, saasv1.ConditionDNSReady,
}

// Reconciler makes each Tenant of a region this operator serves into a running customer.
type Reconciler struct {
	client.Client
	// APIReader reads past the cache, where a lagging cache could make the operator repeat
	// something irreversible.
	APIReader client.Reader
	Scheme    *runtime.Scheme
	Recorder  recorder.EventRecorder
	// Now and NewPassword are injectable so tests are deterministic.
	Now         func() time.Time
	NewPassword func() (string, error)
	// Notifier delivers lifecycle events to the cell's webhooks and SNS topic.
	Notifier *notify.Notifier
	// MaxConcurrentReconciles bounds parallel Tenant reconciles.
	MaxConcurrentReconciles int
	// MoveWarmup and MoveDrain time a move between cells (DefaultMoveWarmup, DefaultMoveDrain).
	MoveWarmup, MoveDrain time.Duration
	// Kinds are the optional ACK kinds the cluster has.
	Kinds kinds.Optional
	// Prices is the price table of the cost estimates.
	Prices *cost.Source
	// Identity is the operator's own, bound in each namespace it makes to write Secrets there.
	Identity b.OperatorIdentity
	// Copier takes and copies snapshots for disaster recovery; nil: copies are not made, and
	// tenants of cells that ask for them say so.
	Copier recovery.Copier
	// Jurisdictions are the regions tenants' data may be copied between.
	Jurisdictions recovery.Jurisdictions
	// Fences reads and claims the fencing records that say which region serves a tenant that
	// can fail over; nil reads none.
	Fences recovery.Fences
	// Standbys finds and promotes a home region's standby at a failover; Lag reads a standby's
	// replica lag. nil: failovers restore copies only, and standbys report no lag.
	Standbys recovery.Standbys
	Lag      recovery.LagReader
	// LagPoll is how often a standby's lag is read (recovery.LagPoll when zero).
	LagPoll time.Duration

	placements placement.Ledger
	// lags holds each tenant's standby lag as last read (lagReading), by UID.
	lags sync.Map
	// fences holds each hosted zone's fencing records as last read (*zoneFences), by zone ID.
	fences sync.Map
}

// +kubebuilder:rbac:groups=saas.tenantops.io,resources=tenants,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=tenants/finalizers,verbs=update
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=regioncells,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces;serviceaccounts;services;resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// Secrets are written only in the operator's namespaces, through the binding it makes there
// (builders.OperatorDataRoleBinding); cluster-wide it reads them.
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rds.services.k8s.aws,resources=dbinstances,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=route53.services.k8s.aws,resources=recordsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=elasticache.services.k8s.aws,resources=replicationgroups,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=cloudwatch.services.k8s.aws,resources=metricalarms,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// tenantRun is one reconcile of one Tenant: what it read and what it concluded.
type tenantRun struct {
	t *saasv1.Tenant
	// cell serves the tenant (during a move, the cell it moves to); nil until it is placed.
	cell *saasv1.RegionCell
	// from is the cell a move is leaving, while the move lasts.
	from *saasv1.RegionCell
	// home is the cell a dedicated tenant's own parts (app, cache, their versions and shapes)
	// were made from: its home cell, which a move does not change (nil: the serving cell).
	home    *saasv1.RegionCell
	ns      string
	verdict verdict.Verdict
	// requeueAfter asks for another look even without an event (a spot run waiting to fall back).
	requeueAfter time.Duration
	password     string
	endpoints    b.Endpoints
	// record is the tenant's RecordSet as the cluster holds it, once the DNS step wrote it.
	record *route53.RecordSet
}

// step is one stage of onboarding. done=false stops the stages after it: they depend on it.
type step func(ctx context.Context, r *tenantRun) (done bool, err error)

// namedStep is a step and the name its errors carry.
type namedStep struct {
	name string
	run  step
}

// steps are the stages of onboarding, in order: what a reconcile runs.
func (r *Reconciler) steps() []namedStep {
	return []namedStep{
		{"namespace", r.reconcileNamespace},
		{"database", r.reconcileDatabase},
		{"alarms", r.reconcileAlarms},
		{"cache", r.reconcileCache},
		{"config", r.reconcileConfig},
		{"migrations", r.reconcileMigrations},
		{"app", r.reconcileApp},
		{"recommendations", r.reconcileRecommendations},
		{"dns", r.reconcileDNS},
		{"move", r.reconcileMove},
	}
}

func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	t := &saasv1.Tenant{}
	if err := r.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cells, _, err := shared.RegionCells(ctx, r.Client, t.Spec.Region)
	if err != nil || len(cells) == 0 {
		// No cell of this region here: another region's operator serves it. Touch nothing.
		return ctrl.Result{}, err
	}
	if !t.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, t, cells)
	}
	if controllerutil.AddFinalizer(t, Finalizer) {
		if err := r.Update(ctx, t); err != nil {
			return ctrl.Result{}, err
		}
	}

	before := t.DeepCopy()
	run := &tenantRun{t: t, ns: b.TenantNamespace(t)}
	defer func() {
		if err := r.patchStatus(ctx, t, before, run, retErr); err != nil && retErr == nil {
			retErr = err
		}
	}()

	if placed, err := r.place(ctx, run, cells); err != nil || !placed {
		return ctrl.Result{}, err
	}
	// Another region took the tenant over (disaster recovery): this one stands down. A fencing
	// record that cannot be read is no reason to stop serving: the last one read stands.
	f, err := r.fenced(ctx, run, cells)
	if err != nil {
		logf.FromContext(ctx).Error(err, "fencing record not read; the last one read stands")
	}
	if held, serves := recovery.HeldEpoch(t); serves && recovery.StandsDown(f, run.cell.Spec.Region, held) {
		_, err := r.standDown(ctx, run, f)
		return ctrl.Result{RequeueAfter: run.requeueAfter}, err
	}
	for _, s := range r.steps() {
		done, err := s.run(ctx, run)
		if err != nil {
			// Returned, not logged: controller-runtime logs it once, with the tenant.
			return ctrl.Result{}, fmt.Errorf("step %s: %w", s.name, err)
		}
		if !done {
			break
		}
	}
	// Copies out of the region run whatever the steps concluded: they need only the database.
	r.reconcileRecovery(ctx, run, cells)
	r.reconcileStandby(ctx, run, cells)
	return ctrl.Result{RequeueAfter: run.requeueAfter}, nil
}

// patchStatus summarises the run into status and writes it once, only when it changed.
// observedGeneration moves only when the run ended without error.
func (r *Reconciler) patchStatus(ctx context.Context, t, before *saasv1.Tenant, run *tenantRun, runErr error) error {
	if run.verdict.Phase == "" && t.Spec.Suspended {
		run.verdict.Phase = saasv1.PhaseSuspended
	}
	if run.cell != nil && !run.verdict.HasSide(saasv1.ConditionPlaced) {
		run.verdict.Side(placedPart(run))
	}
	if run.cell != nil {
		if est, usd, ok := estimate.Tenant(t, run.cell, r.Prices, r.now()); ok {
			t.Status.Cost = &est
			metrics.SetTenantCost(t.Name, run.cell.Name, usd)
		}
	}
	phase := verdict.Summarize(&t.Status.Conditions, t.Generation, tenantParts, run.verdict)
	t.Status.Phase = phase
	if runErr == nil {
		t.Status.ObservedGeneration = t.Generation
	}
	if phase == saasv1.PhaseReady && t.Status.ReadySince == nil {
		now := shared.StatusTime(r.now())
		t.Status.ReadySince = &now
		metrics.OnboardingSeconds.Observe(now.Sub(t.CreationTimestamp.Time).Seconds())
	}
	staged := false
	if run.cell != nil {
		// Lifecycle events go to the receivers of the tenant's cell; a tenant no cell took yet
		// has none, and nothing to announce.
		staged = notify.Stage(t, run.cell, phase, r.now())
	}
	if before.Status.Phase != phase && before.Status.Phase != "" {
		// A new tenant's first phase is no news: its creation, and where it was placed, are.
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "Phase"+phase, "Reconcile", "%s -> %s", before.Status.Phase, phase)
	}
	write := r.applier().PatchStatus
	if staged {
		// Staged from what this reconcile read: a cache that has not seen the notifier record
		// the announcement (or this reconcile's own last status write) would announce it again.
		// The write lands only on the Tenant as read; a Conflict retries on a fresh read.
		write = r.applier().PatchStatusAsRead
	}
	if err := write(ctx, t, before); err != nil {
		return err
	}
	if run.cell != nil {
		r.Notifier.Enqueue(t, run.cell)
	}
	return nil
}

func (r *Reconciler) applier() apply.Applier {
	return apply.Applier{Client: r.Client, Scheme: r.Scheme, Reader: r.APIReader}
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}
