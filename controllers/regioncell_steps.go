package controllers

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/notify"
)

func (r *RegionCellReconciler) reconcileNamespace(ctx context.Context, run *cellRun) error {
	c := run.cell
	labels := b.CellLabels(c, "")
	return ensureIsolation(ctx, r.applier(), c, withBinding([]client.Object{
		b.Namespace(run.ns, labels),
		b.AppServiceAccount(run.ns, labels),
		b.ConfigReaderRole(run.ns, labels),
		b.ConfigReaderRoleBinding(run.ns, labels),
		b.AWSAPIsPolicy(run.ns, labels, c.Spec.Network.AWSAPICIDRs),
	}, b.OperatorDataRoleBinding(run.ns, labels, r.Identity)), b.NetworkPolicy(run.ns, labels, c.Spec.Ingress.SourceCIDRs))
}

func (r *RegionCellReconciler) ensureAll(ctx context.Context, c *saasv1.RegionCell, objs []client.Object) error {
	for _, o := range objs {
		if _, err := r.applier().Ensure(ctx, c, o); err != nil {
			return err
		}
	}
	return nil
}

// reconcileNetwork makes the subnet groups tenant databases and caches live in.
func (r *RegionCellReconciler) reconcileNetwork(ctx context.Context, run *cellRun) error {
	c := run.cell
	objs := []client.Object{b.CacheSubnetGroup(c)}
	if len(c.Spec.Network.DBSubnetIDs) > 0 {
		objs = append(objs, b.DBSubnetGroup(c))
	}
	return r.ensureAll(ctx, c, objs)
}

func (r *RegionCellReconciler) reconcileCache(ctx context.Context, run *cellRun) error {
	c := run.cell
	rg := b.ReplicationGroup(b.CellCache(c))
	if _, err := r.applier().Ensure(ctx, c, rg); err != nil {
		return refused(&run.verdict, saasv1.ConditionCacheReady, "InvalidCache", "", err)
	}
	st := ack.ReadState(rg.Status.Conditions)
	addr, port, ok := b.CacheEndpoint(rg)
	switch {
	case st.Terminal:
		run.verdict.add(stalled(saasv1.ConditionCacheReady, st.Reason, "ElastiCache: "+st.Message))
	case !st.Synced || !ok:
		run.verdict.add(waiting(saasv1.ConditionCacheReady, st.Reason, "ElastiCache: "+st.Message))
	default:
		c.Status.CacheEndpoint = fmt.Sprintf("%s:%d", addr, port)
		run.verdict.add(ready(saasv1.ConditionCacheReady, "Available", "shared cache at "+c.Status.CacheEndpoint))
	}
	return nil
}

// rolloutTarget decides the version the shared app runs: the spec's version once every pooled
// tenant that follows the cell (upgradeStrategy Auto) has migrated to it, the current one until
// then. A failed migration holds the rollout and names the tenants.
func rolloutTarget(c *saasv1.RegionCell, tenants []saasv1.Tenant) (string, part) {
	want, serving := c.Spec.App.Version, c.Status.AppVersion
	if serving == "" || serving == want {
		return want, ready(saasv1.ConditionRolloutComplete, "UpToDate", "the shared app runs "+want)
	}
	var failed, pending []string
	for _, t := range tenants {
		if t.Spec.Tier == saasv1.TierDedicated || !t.DeletionTimestamp.IsZero() || b.EffectiveAppVersion(&t, c) != want {
			continue
		}
		lm := t.Status.LastMigration
		switch {
		case lm != nil && lm.Version == want && lm.Succeeded:
		case lm != nil && lm.Version == want:
			failed = append(failed, t.Name)
		default:
			pending = append(pending, t.Name)
		}
	}
	switch {
	case len(failed) > 0:
		return serving, stalled(saasv1.ConditionRolloutComplete, "MigrationFailed",
			fmt.Sprintf("rollout to %s held at %s: migration failed for tenants %s", want, serving, strings.Join(failed, ", ")))
	case len(pending) > 0:
		return serving, waiting(saasv1.ConditionRolloutComplete, "Migrating",
			fmt.Sprintf("rollout to %s waits for the migrations of %d tenants (%s)", want, len(pending), strings.Join(first(pending, 5), ", ")))
	}
	return want, ready(saasv1.ConditionRolloutComplete, "UpToDate", "the shared app runs "+want)
}

func (r *RegionCellReconciler) reconcileApp(ctx context.Context, run *cellRun) error {
	c := run.cell
	version, rollout := rolloutTarget(c, run.tenants)
	if c.Spec.Assets != nil && r.Kinds.Assets && c.Status.AppVersion != "" && version != c.Status.AppVersion && !r.published(ctx, run, version) {
		// The new version's pages load files that must be on the CDN before it serves them.
		rollout = waiting(saasv1.ConditionRolloutComplete, "PublishingAssets", fmt.Sprintf(
			"rollout to %s waits for its files to be published to s3://%s/%s", version, c.Spec.Assets.BucketName, b.AssetsPrefix))
		version = c.Status.AppVersion
	}
	tier := b.CellAppTier(c, version)
	dep := b.AppDeployment(tier)
	objs := []client.Object{b.AppService(tier), b.AppHPA(tier), b.AppPDB(tier)}
	res, err := r.applier().Ensure(ctx, c, dep)
	if err != nil {
		return err
	}
	// Migrations allow the version; the rollout is complete once the Deployment says so.
	if done, progress := rolledOut(dep); version == c.Spec.App.Version && !done {
		rollout = waiting(saasv1.ConditionRolloutComplete, "RollingOut", "rolling out "+version+": "+progress)
	}
	run.verdict.add(rollout)
	if res == apply.Updated && c.Status.AppVersion != version {
		r.Recorder.Eventf(c, nil, corev1.EventTypeNormal, "RollingOut", "Rollout", "shared app %s -> %s", c.Status.AppVersion, version)
	}
	c.Status.AppVersion = version
	if err := r.ensureAll(ctx, c, objs); err != nil {
		return err
	}
	if _, err := r.applier().Ensure(ctx, c, b.CellIngress(c, b.CellLabels(c, b.AppName))); err != nil {
		return err
	}
	c.Status.AvailableReplicas = dep.Status.AvailableReplicas
	if dep.Status.AvailableReplicas < 1 {
		run.verdict.add(waiting(saasv1.ConditionAppReady, "AppUnavailable", "the shared app has no available replica yet"))
	} else {
		run.verdict.add(ready(saasv1.ConditionAppReady, "Serving", fmt.Sprintf("%d replicas of %s available", dep.Status.AvailableReplicas, version)))
	}
	return nil
}

// reconcileDatabaseDefaults rolls spec.database.revision out to the cell's existing databases: a
// batch of at most rolloutBatchSize tenants at a time (named in status, where their reconcilers
// read it), the next batch once the databases of the last one are ready again, and no new
// batch while one has failed.
func (r *RegionCellReconciler) reconcileDatabaseDefaults(_ context.Context, run *cellRun) error {
	c := run.cell
	rollout, part := defaultsRollout(c, run.tenants)
	c.Status.DatabaseRollout = rollout
	run.verdict.add(part)
	return nil
}

// defaultsRollout is the next state of the cell's database defaults rollout.
func defaultsRollout(c *saasv1.RegionCell, tenants []saasv1.Tenant) (*saasv1.DatabaseRollout, part) {
	rev := c.Spec.Database.Revision
	if rev == "" {
		return nil, ready(saasv1.ConditionDatabaseDefaultsRolledOut, "NewDatabasesOnly",
			"the database defaults apply to new databases; set spec.database.revision to roll them out to existing ones")
	}
	ro := &saasv1.DatabaseRollout{Revision: rev}
	var waitingNames []string
	for i := range tenants {
		t := &tenants[i]
		eff := t.Status.EffectiveDatabase
		if eff == nil || !t.DeletionTimestamp.IsZero() {
			continue // no database yet: it is created with the current defaults
		}
		if eff.DefaultsRevision != rev {
			waitingNames = append(waitingNames, t.Name)
			continue
		}
		db := findCondition(t.Status.Conditions, saasv1.ConditionDatabaseReady)
		switch {
		case db.Reason == reasonDefaultsRefused:
			ro.Failed = append(ro.Failed, t.Name)
		case db.Status == metav1.ConditionTrue && db.ObservedGeneration == t.Generation:
			ro.Updated++
		case findCondition(t.Status.Conditions, saasv1.ConditionStalled).Status == metav1.ConditionTrue && db.Status != metav1.ConditionTrue:
			ro.Failed = append(ro.Failed, t.Name)
		default:
			ro.InProgress = append(ro.InProgress, t.Name)
		}
	}
	// Tenants the last reconcile put in the batch stay there until their database moved.
	if prev := c.Status.DatabaseRollout; prev != nil && prev.Revision == rev {
		for _, name := range prev.InProgress {
			if slices.Contains(waitingNames, name) {
				ro.InProgress = append(ro.InProgress, name)
				waitingNames = slices.DeleteFunc(waitingNames, func(n string) bool { return n == name })
			}
		}
	}
	if len(ro.Failed) == 0 {
		for len(ro.InProgress) < int(max(1, c.Spec.Database.RolloutBatchSize)) && len(waitingNames) > 0 {
			ro.InProgress, waitingNames = append(ro.InProgress, waitingNames[0]), waitingNames[1:]
		}
	}
	sort.Strings(ro.InProgress)
	ro.Waiting = int32(len(waitingNames))
	switch {
	case len(ro.Failed) > 0:
		return ro, stalled(saasv1.ConditionDatabaseDefaultsRolledOut, "DatabaseFailed", fmt.Sprintf(
			"rollout of database defaults %s paused: RDS refused or failed the change for tenants %s (see their DatabaseReady; they serve as they were); change spec.database and its revision to go on; %d updated, %d waiting",
			rev, strings.Join(first(ro.Failed, 5), ", "), ro.Updated, ro.Waiting))
	case len(ro.InProgress) > 0 || ro.Waiting > 0:
		return ro, waiting(saasv1.ConditionDatabaseDefaultsRolledOut, "RollingOut", fmt.Sprintf(
			"rolling database defaults %s out: %d updated, modifying %s, %d waiting", rev, ro.Updated, strings.Join(first(ro.InProgress, 5), ", "), ro.Waiting))
	}
	return ro, ready(saasv1.ConditionDatabaseDefaultsRolledOut, "UpToDate", fmt.Sprintf("all %d databases have defaults %s", ro.Updated, rev))
}

// reconcileDelete holds the cell while it serves tenants, then removes the shared tier.
func (r *RegionCellReconciler) reconcileDelete(ctx context.Context, run *cellRun) (ctrl.Result, error) {
	c := run.cell
	run.verdict.phase = saasv1.PhaseDeleting
	if !controllerutil.ContainsFinalizer(c, CellFinalizer) {
		return ctrl.Result{}, nil
	}
	if len(run.tenants) > 0 {
		names := make([]string, 0, len(run.tenants))
		for _, t := range run.tenants {
			names = append(names, t.Name)
		}
		run.verdict.holdOn("TenantsRemain",
			fmt.Sprintf("deletion held: the cell still serves %d tenants (%s); delete them or move them to another cell (spec.cell) first", len(names), strings.Join(first(names, 5), ", ")))
		return ctrl.Result{}, nil
	}
	// Tenants that moved to another cell keep their databases (and dedicated caches) in this
	// cell's subnet groups, which AWS does not delete while they are in use.
	var homed saasv1.TenantList
	if err := r.List(ctx, &homed, client.MatchingFields{indexTenantHome: c.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, err
	}
	if len(homed.Items) > 0 {
		names := make([]string, 0, len(homed.Items))
		for _, t := range homed.Items {
			names = append(names, t.Name)
		}
		sort.Strings(names)
		run.verdict.holdOn("DatabasesRemain", fmt.Sprintf(
			"deletion held: the databases of %d tenants served by other cells live in this cell's network (%s); delete those tenants, or restore them from snapshots in another cell, first",
			len(names), strings.Join(first(names, 5), ", ")))
		return ctrl.Result{}, nil
	}
	// Lifecycle events owed to the cell's receivers (a tenant's Deleted event among them) are
	// kept in its namespace until delivered: the cell holds until they are, or until a person
	// gives up on them.
	owed, err := notify.Owed(ctx, r.APIReader, run.ns)
	if err != nil {
		return ctrl.Result{}, err
	}
	if len(owed) > 0 {
		run.verdict.holdOn("EventsOwed", fmt.Sprintf(
			"deletion held: %d lifecycle events are not yet delivered to the cell's receivers (%s); they are retried until delivered. To give up on them: kubectl delete configmaps -n %s -l %s=true",
			len(owed), strings.Join(first(owed, 5), ", "), run.ns, notify.OutboxLabel))
		return ctrl.Result{RequeueAfter: deletionPollInterval}, nil
	}
	// The cache goes before the subnet groups AWS will not delete while something uses them.
	awsChildren := []struct {
		obj  client.Object
		name string
	}{
		{&ecv1.ReplicationGroup{}, b.CacheName},
		{&rds.DBSubnetGroup{}, b.CellSubnetGroupName},
		{&ecv1.CacheSubnetGroup{}, b.CacheSubnetGroupName},
	}
	for _, child := range awsChildren {
		key := types.NamespacedName{Namespace: run.ns, Name: child.name}
		if gone, err := r.applier().Absent(ctx, child.obj, key); err != nil {
			return ctrl.Result{}, err
		} else if !gone {
			run.verdict.holdOn("Deleting", fmt.Sprintf("waiting for AWS to delete %T %s", child.obj, key))
			return ctrl.Result{RequeueAfter: deletionPollInterval}, nil
		}
	}
	if _, err := r.applier().Absent(ctx, &corev1.Namespace{}, types.NamespacedName{Name: run.ns}); err != nil {
		return ctrl.Result{}, err
	}
	controllerutil.RemoveFinalizer(c, CellFinalizer)
	if err := r.Update(ctx, c); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, err
	}
	forgetCellMetrics(c.Name)
	return ctrl.Result{}, nil
}
