package controllers

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/notify"
)

// TenantFinalizer holds a Tenant until its database has been snapshotted, retained or deleted
// as its deletionPolicy says, and its DNS record is gone.
const TenantFinalizer = "saas.tenantops.io/tenant"

// tenantParts are the Tenant's part conditions in onboarding order.
var tenantParts = []string{
	saasv1.ConditionDatabaseReady, saasv1.ConditionCacheReady, saasv1.ConditionMigrationsComplete,
	saasv1.ConditionAppReady, saasv1.ConditionDNSReady,
}

// TenantReconciler makes each Tenant of a region this operator serves into a running customer.
type TenantReconciler struct {
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
}

// +kubebuilder:rbac:groups=saas.tenantops.io,resources=tenants,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=tenants/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=tenants/finalizers,verbs=update
// +kubebuilder:rbac:groups=saas.tenantops.io,resources=regioncells,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces;secrets;serviceaccounts;services;resourcequotas;limitranges,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=pods,verbs=get;list;watch
// +kubebuilder:rbac:groups=apps,resources=deployments,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=networking.k8s.io,resources=networkpolicies;ingresses,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rbac.authorization.k8s.io,resources=roles;rolebindings,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=rds.services.k8s.aws,resources=dbinstances;dbsubnetgroups,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=route53.services.k8s.aws,resources=recordsets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=elasticache.services.k8s.aws,resources=replicationgroups;cachesubnetgroups,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// tenantRun is one reconcile of one Tenant: what it read and what it concluded.
type tenantRun struct {
	t       *saasv1.Tenant
	cell    *saasv1.RegionCell
	ns      string
	verdict verdict
	// requeueAfter asks for another look even without an event (a spot run waiting to fall back).
	requeueAfter time.Duration
	password     string
	endpoints    b.Endpoints
}

// step is one stage of onboarding. done=false stops the stages after it: they depend on it.
type step func(ctx context.Context, r *tenantRun) (done bool, err error)

func (r *TenantReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, retErr error) {
	t := &saasv1.Tenant{}
	if err := r.Get(ctx, req.NamespacedName, t); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	cell, err := r.cellFor(ctx, t)
	if err != nil || cell == nil {
		// No cell of this region here: another region's operator serves it. Touch nothing.
		return ctrl.Result{}, err
	}
	if !t.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, t, cell)
	}
	if controllerutil.AddFinalizer(t, TenantFinalizer) {
		if err := r.Update(ctx, t); err != nil {
			return ctrl.Result{}, err
		}
	}

	before := t.Status.DeepCopy()
	run := &tenantRun{t: t, cell: cell, ns: b.TenantNamespace(t)}
	defer func() {
		if err := r.patchStatus(ctx, t, before, run, retErr); err != nil && retErr == nil {
			retErr = err
		}
	}()

	if admitted, err := r.admit(ctx, run); err != nil || !admitted {
		return ctrl.Result{}, err
	}
	steps := []struct {
		name string
		run  step
	}{
		{"namespace", r.reconcileNamespace},
		{"database", r.reconcileDatabase},
		{"cache", r.reconcileCache},
		{"config", r.reconcileConfig},
		{"migrations", r.reconcileMigrations},
		{"app", r.reconcileApp},
		{"recommendations", r.reconcileRecommendations},
		{"dns", r.reconcileDNS},
	}
	for _, s := range steps {
		done, err := s.run(ctx, run)
		if err != nil {
			// Returned, not logged: controller-runtime logs it once, with the tenant.
			return ctrl.Result{}, fmt.Errorf("step %s: %w", s.name, err)
		}
		if !done {
			break
		}
	}
	return ctrl.Result{RequeueAfter: run.requeueAfter}, nil
}

// patchStatus summarises the run into status and writes it once, only when it changed.
// observedGeneration moves only when the run ended without error.
func (r *TenantReconciler) patchStatus(ctx context.Context, t *saasv1.Tenant, before *saasv1.TenantStatus, run *tenantRun, runErr error) error {
	if run.verdict.phase == "" && t.Spec.Suspended {
		run.verdict.phase = saasv1.PhaseSuspended
	}
	phase := summarize(&t.Status.Conditions, t.Generation, tenantParts, run.verdict)
	t.Status.Phase = phase
	if runErr == nil {
		t.Status.ObservedGeneration = t.Generation
	}
	if phase == saasv1.PhaseReady && t.Status.ReadySince == nil {
		now := metav1Time(r.now())
		t.Status.ReadySince = &now
		onboardingSeconds.Observe(now.Sub(t.CreationTimestamp.Time).Seconds())
	}
	notify.Stage(t, run.cell, phase, r.now())
	if before.Phase != phase {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "Phase"+phase, "Reconcile", "%s -> %s", orNone(before.Phase), phase)
	}
	if err := r.patchIfChanged(ctx, t, before); err != nil {
		return err
	}
	r.Notifier.Enqueue(t, run.cell)
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(new)"
	}
	return s
}

// cellFor finds the RegionCell serving the tenant's region, or nil when none does here.
func (r *TenantReconciler) cellFor(ctx context.Context, t *saasv1.Tenant) (*saasv1.RegionCell, error) {
	return cellForRegion(ctx, r.Client, t.Spec.Region)
}

func cellForRegion(ctx context.Context, c client.Client, region string) (*saasv1.RegionCell, error) {
	var cells saasv1.RegionCellList
	if err := c.List(ctx, &cells, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	var found []saasv1.RegionCell
	for _, cell := range cells.Items {
		if cell.Spec.Region == region {
			found = append(found, cell)
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	// One cell per region is the design; if two exist, the oldest serves, deterministically.
	sort.Slice(found, func(i, j int) bool { return olderThan(&found[i].ObjectMeta, &found[j].ObjectMeta) })
	// The list shares the cache's objects (no deep copy); the caller gets its own.
	return found[0].DeepCopy(), nil
}

// admit decides whether the cell takes the tenant: a subdomain is the oldest Tenant's, and a
// full cell keeps new Tenants Pending. Order by creation makes the verdict the same in every
// reconcile, whatever the concurrency.
func (r *TenantReconciler) admit(ctx context.Context, run *tenantRun) (bool, error) {
	t, cell := run.t, run.cell
	var all saasv1.TenantList
	// Read-only: every reconcile scans the region's tenants, so skip copying them.
	if err := r.List(ctx, &all, client.UnsafeDisableDeepCopy); err != nil {
		return false, err
	}
	admitted, waitingAhead := 0, 0
	for i := range all.Items {
		o := &all.Items[i]
		if o.UID == t.UID || o.Spec.Region != t.Spec.Region || !o.DeletionTimestamp.IsZero() {
			continue
		}
		if o.Spec.Subdomain == t.Spec.Subdomain && claimsFirst(o, t, cell) {
			run.verdict.add(stalled(saasv1.ConditionDNSReady, "SubdomainTaken",
				fmt.Sprintf("spec.subdomain %q is already used by Tenant %q in cell %s; choose another subdomain", t.Spec.Subdomain, o.Name, cell.Name)))
			return false, nil
		}
		if o.Status.Cell == cell.Name {
			admitted++
		} else if olderThan(&o.ObjectMeta, &t.ObjectMeta) {
			waitingAhead++
		}
	}
	if t.Status.Cell != cell.Name && admitted+waitingAhead >= int(cell.Spec.Capacity.MaxTenants) {
		run.verdict.phase = saasv1.PhasePending
		run.verdict.holdOn("CellFull",
			fmt.Sprintf("cell %s serves its maximum of %d tenants (spec.capacity.maxTenants); the tenant waits for room", cell.Name, cell.Spec.Capacity.MaxTenants))
		return false, nil
	}
	t.Status.Cell = cell.Name
	t.Status.Namespace = run.ns
	t.Status.URL = b.URL(t, cell)
	return true, nil
}

// claimsFirst says whether tenant a holds a claim (a subdomain, a place in the cell) before b:
// a tenant the cell already admitted keeps it; otherwise the older one wins.
func claimsFirst(a, b *saasv1.Tenant, cell *saasv1.RegionCell) bool {
	if aIn, bIn := a.Status.Cell == cell.Name, b.Status.Cell == cell.Name; aIn != bIn {
		return aIn
	}
	return olderThan(&a.ObjectMeta, &b.ObjectMeta)
}

func olderThan(a, b *metav1.ObjectMeta) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

func (r *TenantReconciler) applier() apply.Applier {
	return apply.Applier{Client: r.Client, Scheme: r.Scheme, Reader: r.APIReader}
}

// reconcileNamespace makes the tenant's namespace and its isolation: quota, limits, network.
func (r *TenantReconciler) reconcileNamespace(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	a := r.applier()
	objs := []client.Object{
		b.Namespace(run.ns, b.TenantLabels(t, c, "")),
		b.ResourceQuota(t, c),
		b.LimitRange(t, c),
	}
	for _, np := range b.NetworkPolicies(run.ns, b.TenantLabels(t, c, ""), c.Spec.Ingress.SourceCIDRs) {
		objs = append(objs, np)
	}
	for _, o := range objs {
		if _, err := a.Ensure(ctx, t, o); err != nil {
			return false, err
		}
	}
	return true, nil
}

// reconcileDatabase makes the master password (once, never again) and the DBInstance, and waits
// for RDS to report it available with an endpoint.
func (r *TenantReconciler) reconcileDatabase(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	password, err := r.masterPassword(ctx, run)
	if err != nil || password == "" {
		return false, err
	}
	run.password = password

	eff, note, engineVersion, err := r.effectiveDatabase(ctx, run)
	if err != nil {
		return false, err
	}
	db := b.DBInstance(t, c, eff, engineVersion)
	if res, err := r.applier().Ensure(ctx, t, db); err != nil {
		return false, refused(&run.verdict, saasv1.ConditionDatabaseReady, "InvalidDatabase", "", err)
	} else if res == apply.Created {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "DatabaseCreated", "Create",
			"RDS DBInstance %s requested in %s", *db.Spec.DBInstanceIdentifier, c.Spec.Region)
	}
	if had := t.Status.EffectiveDatabase; had != nil && !b.SameDatabase(*had, eff) {
		now := metav1Time(r.now())
		eff.ChangedAt = &now
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "DatabaseModifying", "Modify", "database %s: %s",
			*db.Spec.DBInstanceIdentifier, describeDatabaseChange(*had, eff))
	}
	t.Status.EffectiveDatabase = &eff
	st := ack.ReadState(db.Status.Conditions)
	switch {
	case st.Terminal:
		run.verdict.add(stalled(saasv1.ConditionDatabaseReady, st.Reason, "RDS: "+st.Message))
		return false, nil
	case !st.Synced || db.Status.Endpoint == nil || db.Status.Endpoint.Address == nil:
		run.verdict.add(waiting(saasv1.ConditionDatabaseReady, st.Reason, "RDS instance "+*db.Spec.DBInstanceIdentifier+" "+dbStatus(db)+": "+st.Message))
		return false, nil
	case eff.ChangedAt != nil && !ack.SyncedSince(db.Status.Conditions, eff.ChangedAt.Time):
		// The database keeps serving while RDS modifies it: the later steps go on.
		run.verdict.add(waiting(saasv1.ConditionDatabaseReady, "Modifying", fmt.Sprintf("RDS is modifying %s to %s",
			*db.Spec.DBInstanceIdentifier, describeDatabase(eff))))
		storeEndpoint(run, db)
		return true, nil
	}
	storeEndpoint(run, db)
	msg := "RDS instance " + *db.Spec.DBInstanceIdentifier + " is available (" + describeDatabase(eff) + ")"
	if note != "" {
		msg += "; " + note
	}
	run.verdict.add(ready(saasv1.ConditionDatabaseReady, "Available", msg))
	return true, nil
}

// storeEndpoint keeps where the available database listens, for the configuration and status.
func storeEndpoint(run *tenantRun, db *rds.DBInstance) {
	run.endpoints.DBAddress = *db.Status.Endpoint.Address
	run.endpoints.DBPort = b.DBPort
	if db.Status.Endpoint.Port != nil {
		run.endpoints.DBPort = *db.Status.Endpoint.Port
	}
	run.t.Status.Database = &saasv1.DatabaseEndpoint{Address: run.endpoints.DBAddress, Port: run.endpoints.DBPort}
}

// effectiveDatabase resolves the database the tenant should have (builders.ResolveDatabase)
// from what it has: its status record, or, when that is missing, the live DBInstance read past
// the cache, so that a cache miss never reshapes a running database to today's defaults.
func (r *TenantReconciler) effectiveDatabase(ctx context.Context, run *tenantRun) (eff saasv1.EffectiveDatabase, note, engineVersion string, err error) {
	t, c := run.t, run.cell
	live := &rds.DBInstance{}
	key := types.NamespacedName{Namespace: run.ns, Name: b.DBInstanceName}
	err = r.Get(ctx, key, live)
	if apierrors.IsNotFound(err) && t.Status.EffectiveDatabase == nil {
		err = r.APIReader.Get(ctx, key, live)
	}
	exists := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return eff, "", "", err
	}
	had := t.Status.EffectiveDatabase
	if had == nil && exists {
		had = b.EffectiveDatabaseOf(live)
	}
	if exists && live.Spec.EngineVersion != nil {
		engineVersion = *live.Spec.EngineVersion
	}
	eff, note = b.ResolveDatabase(t, c, had, had != nil && inDefaultsRollout(t, c, had))
	if had != nil {
		eff.ChangedAt = had.ChangedAt
	}
	return eff, note, engineVersion, nil
}

// inDefaultsRollout says whether the cell rolls its current database defaults out to the tenant
// now: its database carries another revision and the cell put it in the batch in progress.
func inDefaultsRollout(t *saasv1.Tenant, c *saasv1.RegionCell, had *saasv1.EffectiveDatabase) bool {
	ro := c.Status.DatabaseRollout
	rev := c.Spec.Database.Revision
	return rev != "" && had.DefaultsRevision != rev && ro != nil && ro.Revision == rev && slices.Contains(ro.InProgress, t.Name)
}

func describeDatabase(d saasv1.EffectiveDatabase) string {
	az := "single-AZ"
	if d.MultiAZ {
		az = "Multi-AZ"
	}
	return fmt.Sprintf("%s, %d GiB, %s, MySQL %s, backups %d days", d.InstanceClass, d.StorageGiB, az, d.EngineVersion, d.BackupRetentionDays)
}

func describeDatabaseChange(from, to saasv1.EffectiveDatabase) string {
	return describeDatabase(from) + " -> " + describeDatabase(to)
}

// masterPassword returns the database's master password, generating it exactly once: the
// Secret is created, never applied over, and when the cache has not seen it yet the API server
// is asked. An existing Secret without the password is reported, never refilled: the database
// may already run with the lost one.
func (r *TenantReconciler) masterPassword(ctx context.Context, run *tenantRun) (string, error) {
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: run.ns, Name: b.DBPasswordSecretName}
	err := r.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		err = r.APIReader.Get(ctx, key, secret)
	}
	switch {
	case apierrors.IsNotFound(err):
		pw, err := r.NewPassword()
		if err != nil {
			return "", err
		}
		secret = b.DBPasswordSecret(run.t, run.cell, pw)
		if _, err := r.applier().CreateOnce(ctx, run.t, secret); err != nil {
			return "", err
		}
	case err != nil:
		return "", err
	}
	pw := string(secret.Data[b.DBPasswordKey])
	if pw == "" {
		run.verdict.add(stalled(saasv1.ConditionDatabaseReady, "PasswordMissing", fmt.Sprintf(
			"Secret %s/%s has no key %q: restore the master password the database was created with (the operator never generates a second one)",
			run.ns, b.DBPasswordSecretName, b.DBPasswordKey)))
	}
	return pw, nil
}

func dbStatus(db *rds.DBInstance) string {
	if db.Status.DBInstanceStatus != nil {
		return "is " + *db.Status.DBInstanceStatus
	}
	return "is being created"
}

// reconcileCache finds the cache the tenant uses: the cell's shared one, or its own.
func (r *TenantReconciler) reconcileCache(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	rg := &ecv1.ReplicationGroup{}
	if t.Spec.Tier == saasv1.TierDedicated {
		rg = b.ReplicationGroup(b.DedicatedCache(t, c))
		if _, err := r.applier().Ensure(ctx, t, rg); err != nil {
			return false, refused(&run.verdict, saasv1.ConditionCacheReady, "InvalidCache", "", err)
		}
	} else if err := r.Get(ctx, types.NamespacedName{Namespace: b.CellNamespace(c), Name: b.CacheName}, rg); err != nil {
		if apierrors.IsNotFound(err) {
			run.verdict.add(waiting(saasv1.ConditionCacheReady, "WaitingForCell", "the cell's shared cache does not exist yet"))
			return false, nil
		}
		return false, err
	}
	st := ack.ReadState(rg.Status.Conditions)
	addr, port, ok := b.CacheEndpoint(rg)
	switch {
	case st.Terminal:
		run.verdict.add(stalled(saasv1.ConditionCacheReady, st.Reason, "ElastiCache: "+st.Message))
		return false, nil
	case !st.Synced || !ok:
		run.verdict.add(waiting(saasv1.ConditionCacheReady, st.Reason, "ElastiCache replication group "+rg.Namespace+"/"+rg.Name+": "+st.Message))
		return false, nil
	}
	run.endpoints.CacheAddress, run.endpoints.CachePort = addr, port
	run.verdict.add(ready(saasv1.ConditionCacheReady, "Available", fmt.Sprintf("cache %s:%d, key prefix %s", addr, port, b.CacheKeyPrefix(t))))
	return true, nil
}

// reconcileConfig writes the tenant configuration: in the tenant's namespace for its jobs, and
// in the serving app's namespace (the cell's, for pooled tenants) for the app.
func (r *TenantReconciler) reconcileConfig(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	a := r.applier()
	if _, err := a.Ensure(ctx, t, b.TenantConfig(t, c, run.ns, b.TenantConfigName, run.endpoints, run.password)); err != nil {
		return false, err
	}
	if t.Spec.Tier != saasv1.TierDedicated {
		if _, err := a.Ensure(ctx, t, b.TenantConfig(t, c, b.CellNamespace(c), b.ConfigSecretName(t), run.endpoints, run.password)); err != nil {
			return false, err
		}
	} else if err := r.deleteIfExists(ctx, &corev1.Secret{}, b.CellNamespace(c), b.ConfigSecretName(t)); err != nil {
		return false, err
	}
	return true, nil
}

// reconcileMigrations runs `app migrate` once per effective app version. The version serves
// only after its migration succeeded; a failure keeps the previous version serving.
func (r *TenantReconciler) reconcileMigrations(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	version := b.EffectiveAppVersion(t, c)
	if lm := t.Status.LastMigration; lm != nil && lm.Version == version && lm.Succeeded {
		run.verdict.add(ready(saasv1.ConditionMigrationsComplete, "Migrated", "schema migrated to "+version))
		return true, r.removeOldMigrationJobs(ctx, run, version)
	}
	job := b.MigrationJob(t, c, version)
	res, err := r.applier().Ensure(ctx, t, job)
	if err != nil {
		return false, err
	}
	if res == apply.Created {
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "MigrationStarted", "Migrate", "migrating schema to %s (Job %s)", version, job.Name)
	}
	switch finished, failed := jobFinished(job); {
	case finished && !failed:
		now := metav1Time(r.now())
		t.Status.LastMigration = &saasv1.MigrationStatus{Version: version, Job: job.Name, Succeeded: true, FinishedAt: &now}
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "MigrationSucceeded", "Migrate", "schema migrated to %s", version)
		run.verdict.add(ready(saasv1.ConditionMigrationsComplete, "Migrated", "schema migrated to "+version))
		return true, nil
	case finished && failed:
		if lm := t.Status.LastMigration; lm == nil || lm.Version != version || lm.Succeeded {
			now := metav1Time(r.now())
			t.Status.LastMigration = &saasv1.MigrationStatus{Version: version, Job: job.Name, Succeeded: false, FinishedAt: &now}
			r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "MigrationFailed", "Migrate", "migration to %s failed (Job %s)", version, job.Name)
		}
		serving := t.Status.AppVersion
		msg := fmt.Sprintf("migration to %s failed (Job %s/%s); ", version, run.ns, job.Name)
		if serving != "" {
			msg += serving + " keeps serving. "
		}
		msg += "Fix the cause, then delete the Job to retry, or set the version back."
		run.verdict.add(stalled(saasv1.ConditionMigrationsComplete, "MigrationFailed", msg))
		// The previous version keeps serving: the later steps still keep it running.
		return serving != "", nil
	default:
		run.verdict.add(waiting(saasv1.ConditionMigrationsComplete, "Migrating", "migrating schema to "+version+" (Job "+job.Name+")"))
		return t.Status.AppVersion != "", nil
	}
}

// removeOldMigrationJobs deletes the migration Jobs of versions other than the one the tenant
// migrated to: they are history, and each would hold a place in the namespace's Job quota.
func (r *TenantReconciler) removeOldMigrationJobs(ctx context.Context, run *tenantRun, version string) error {
	var jobs batchv1.JobList
	if err := r.List(ctx, &jobs, client.InNamespace(run.ns), client.MatchingLabels{saasv1.LabelComponent: b.ComponentMigration}); err != nil {
		return err
	}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		if j.Name == b.MigrationJobName(version) || !j.DeletionTimestamp.IsZero() {
			continue
		}
		if err := r.Delete(ctx, j, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return err
		}
	}
	return nil
}

func jobFinished(j *batchv1.Job) (finished, failed bool) {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, false
		case batchv1.JobFailed:
			return true, true
		}
	}
	return false, false
}

// servingVersion is the newest version whose migration succeeded.
func servingVersion(t *saasv1.Tenant) string {
	if lm := t.Status.LastMigration; lm != nil && lm.Succeeded {
		return lm.Version
	}
	return t.Status.AppVersion
}

// reconcileApp makes sure an app serves the tenant: its own for dedicated tenants; for pooled
// tenants, the cell's shared app with the tenant's host in its Ingress.
func (r *TenantReconciler) reconcileApp(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	if t.Spec.Tier == saasv1.TierDedicated {
		return r.reconcileDedicatedApp(ctx, run)
	}
	// The pooled tenant is served by the cell: its app and its Ingress.
	if t.Spec.Suspended {
		run.verdict.add(waiting(saasv1.ConditionAppReady, "Suspended", "suspended: the cell's Ingress no longer routes "+b.Host(t, c)))
		return true, nil
	}
	dep := &appsv1.Deployment{}
	ing := &networkingv1.Ingress{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: b.CellNamespace(c), Name: b.AppName}, dep); err != nil {
		if apierrors.IsNotFound(err) {
			run.verdict.add(waiting(saasv1.ConditionAppReady, "WaitingForCell", "the cell's shared app does not exist yet"))
			return false, nil
		}
		return false, err
	}
	if dep.Status.AvailableReplicas < 1 {
		run.verdict.add(waiting(saasv1.ConditionAppReady, "AppUnavailable", "the cell's shared app has no available replica"))
		return false, nil
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: b.CellNamespace(c), Name: b.AppName}, ing); err != nil || !ingressRoutes(ing, b.Host(t, c)) {
		run.verdict.add(waiting(saasv1.ConditionAppReady, "WaitingForRoute", "waiting for the cell's Ingress to route "+b.Host(t, c)))
		return false, client.IgnoreNotFound(err)
	}
	t.Status.AppVersion = dep.Spec.Template.Labels["app.kubernetes.io/version"]
	run.verdict.add(ready(saasv1.ConditionAppReady, "Serving", "served by the cell's shared app at "+t.Status.AppVersion))
	return true, nil
}

func ingressRoutes(ing *networkingv1.Ingress, host string) bool {
	for _, rule := range ing.Spec.Rules {
		if rule.Host == host {
			return true
		}
	}
	return false
}

func (r *TenantReconciler) reconcileDedicatedApp(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	version := servingVersion(t)
	tier := b.DedicatedAppTier(t, c, version)
	labels := b.TenantLabels(t, c, b.AppName)
	var hosts []string
	if !t.Spec.Suspended {
		hosts = []string{b.Host(t, c)}
	}
	objs := []client.Object{
		b.AppServiceAccount(run.ns, labels),
		b.ConfigReaderRole(run.ns, labels),
		b.ConfigReaderRoleBinding(run.ns, labels),
		b.AppService(tier),
		b.AppPDB(tier),
	}
	dep := b.AppDeployment(tier)
	objs = append(objs, dep)
	if t.Spec.Suspended {
		// The autoscaler would scale a suspended app back up; it comes back on resume.
		if err := r.deleteIfExists(ctx, &autoscalingv2.HorizontalPodAutoscaler{}, run.ns, b.AppName); err != nil {
			return false, err
		}
	} else {
		objs = append(objs, b.AppHPA(tier))
	}
	for _, o := range objs {
		if _, err := r.applier().Ensure(ctx, t, o); err != nil {
			return false, err
		}
	}
	if err := ensureIngress(ctx, r.applier(), t, c, run.ns, labels, hosts); err != nil {
		return false, err
	}
	if t.Spec.Suspended {
		run.verdict.add(waiting(saasv1.ConditionAppReady, "Suspended", "suspended: the app is scaled to zero and not routed"))
		return true, nil
	}
	if done, progress := rolledOut(dep); !done {
		run.verdict.add(waiting(saasv1.ConditionAppReady, "RollingOut", fmt.Sprintf("app %s: %s", version, progress)))
		return false, nil
	}
	t.Status.AppVersion = version
	run.verdict.add(ready(saasv1.ConditionAppReady, "Serving", fmt.Sprintf("own app at %s, %d available replicas", version, dep.Status.AvailableReplicas)))
	return true, nil
}

// reconcileRecommendations keeps the daily recommendation CronJob and moves runs stuck on spot
// capacity to on-demand nodes.
func (r *TenantReconciler) reconcileRecommendations(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	version := servingVersion(t)
	if _, err := r.applier().Ensure(ctx, t, b.RecommendCronJob(t, c, version)); err != nil {
		return false, refused(&run.verdict, saasv1.ConditionAppReady, "InvalidSchedule",
			"the recommendations CronJob was refused; check spec.recommendations: ", err)
	}
	return true, r.fallBackToOnDemand(ctx, run)
}

// fallBackToOnDemand replaces each recommendation Job whose pod has waited unschedulable for
// longer than the cell's onDemandFallbackAfter by the same Job on on-demand nodes.
func (r *TenantReconciler) fallBackToOnDemand(ctx context.Context, run *tenantRun) error {
	after := 5 * time.Minute
	if d := run.cell.Spec.Spot.OnDemandFallbackAfter; d != nil {
		after = d.Duration
	}
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(run.ns), client.MatchingLabels{saasv1.LabelComponent: b.ComponentRecommend}); err != nil {
		return err
	}
	now := r.now()
	for i := range pods.Items {
		p := &pods.Items[i]
		since, stuck := unschedulableSince(p)
		jobName := p.Labels["job-name"]
		if !stuck || jobName == "" {
			continue
		}
		if wait := since.Add(after).Sub(now); wait > 0 {
			if run.requeueAfter == 0 || wait < run.requeueAfter {
				run.requeueAfter = wait
			}
			continue
		}
		spot := &batchv1.Job{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: run.ns, Name: jobName}, spot); err != nil {
			if apierrors.IsNotFound(err) {
				continue
			}
			return err
		}
		if spot.Annotations[b.AnnotationFallbackOf] != "" || !spot.DeletionTimestamp.IsZero() {
			continue // already on on-demand capacity, or on its way out
		}
		onDemand := b.OnDemandJob(spot, run.cell)
		if _, err := r.applier().Ensure(ctx, run.t, onDemand); err != nil {
			return err
		}
		if err := r.Delete(ctx, spot, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return err
		}
		r.Recorder.Eventf(run.t, nil, corev1.EventTypeNormal, "OnDemandFallback", "Schedule",
			"recommendation run %s waited unschedulable on spot for %s; moved to on-demand as %s", spot.Name, after, onDemand.Name)
	}
	return nil
}

// unschedulableSince says since when the scheduler has found no node for the pod.
func unschedulableSince(p *corev1.Pod) (time.Time, bool) {
	if p.Status.Phase != corev1.PodPending || p.Spec.NodeName != "" {
		return time.Time{}, false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return p.CreationTimestamp.Time, true
		}
	}
	return time.Time{}, false
}

// reconcileDNS points <subdomain>.<baseDomain> at the cell's load balancer, last, once the
// tenant is served there.
func (r *TenantReconciler) reconcileDNS(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	rs := b.RecordSet(t, c)
	if _, err := r.applier().Ensure(ctx, t, rs); err != nil {
		return false, refused(&run.verdict, saasv1.ConditionDNSReady, "InvalidRecord", "", err)
	}
	st := ack.ReadState(rs.Status.Conditions)
	switch {
	case st.Terminal:
		run.verdict.add(stalled(saasv1.ConditionDNSReady, st.Reason, "Route53: "+st.Message))
		return false, nil
	case !st.Synced:
		run.verdict.add(waiting(saasv1.ConditionDNSReady, st.Reason, "Route53 record "+b.Host(t, c)+": "+st.Message))
		return false, nil
	}
	run.verdict.add(ready(saasv1.ConditionDNSReady, "InSync", b.Host(t, c)+" aliases "+c.Spec.Ingress.LoadBalancerDNSName))
	return true, nil
}

func (r *TenantReconciler) deleteIfExists(ctx context.Context, obj client.Object, ns, name string) error {
	if err := r.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if !obj.GetDeletionTimestamp().IsZero() {
		return nil
	}
	return client.IgnoreNotFound(r.Delete(ctx, obj))
}

func (r *TenantReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// NewPassword makes a 32-character RDS master password from letters and digits (RDS refuses
// '/', '"', '@' and spaces; an alphabet without punctuation is safe in every client and URL).
func NewPassword() (string, error) {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
	out := make([]byte, 32)
	for i := range out {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", err
		}
		out[i] = alphabet[n.Int64()]
	}
	return string(out), nil
}
