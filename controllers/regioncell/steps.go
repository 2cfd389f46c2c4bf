package regioncell

import (
	"context"
	"fmt"
	"sort"
	"strings"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/indexes"
	"github.com/tenantops/tenant-operator/controllers/metrics"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/report"
	"github.com/tenantops/tenant-operator/controllers/rollout"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
	"github.com/tenantops/tenant-operator/controllers/warmpool"
)

func (r *Reconciler) reconcileNamespace(ctx context.Context, run *cellRun) error {
	c := run.cell
	labels := b.CellLabels(c, "")
	return shared.EnsureIsolation(ctx, r.applier(), c, shared.WithBinding([]client.Object{
		b.Namespace(run.ns, labels),
		b.AppServiceAccount(run.ns, labels),
		b.ConfigReaderRole(run.ns, labels),
		b.ConfigReaderRoleBinding(run.ns, labels),
		b.AWSAPIsPolicy(run.ns, labels, c.Spec.Network.AWSAPICIDRs),
	}, b.OperatorDataRoleBinding(run.ns, labels, r.Identity)), b.NetworkPolicy(run.ns, labels, c.Spec.Ingress.SourceCIDRs))
}

func (r *Reconciler) ensureAll(ctx context.Context, c *saasv1.RegionCell, objs []client.Object) error {
	for _, o := range objs {
		if _, err := r.applier().Ensure(ctx, c, o); err != nil {
			return err
		}
	}
	return nil
}

// reconcileNetwork makes the subnet groups tenant databases and caches live in.
func (r *Reconciler) reconcileNetwork(ctx context.Context, run *cellRun) error {
	c := run.cell
	objs := []client.Object{b.CacheSubnetGroup(c)}
	if len(c.Spec.Network.DBSubnetIDs) > 0 {
		objs = append(objs, b.DBSubnetGroup(c))
	}
	return r.ensureAll(ctx, c, objs)
}

func (r *Reconciler) reconcileCache(ctx context.Context, run *cellRun) error {
	c := run.cell
	rg := b.ReplicationGroup(b.CellCache(c))
	if _, err := r.applier().Ensure(ctx, c, rg); err != nil {
		return verdict.Refused(&run.verdict, saasv1.ConditionCacheReady, "InvalidCache", "", err)
	}
	st := ack.ReadState(rg.Status.Conditions)
	addr, port, ok := b.CacheEndpoint(rg)
	switch {
	case st.Terminal:
		run.verdict.Add(verdict.Stalled(saasv1.ConditionCacheReady, st.Reason, "ElastiCache: "+st.Message))
	case !st.Synced || !ok:
		run.verdict.Add(verdict.Waiting(saasv1.ConditionCacheReady, st.Reason, "ElastiCache: "+st.Message))
	default:
		c.Status.CacheEndpoint = fmt.Sprintf("%s:%d", addr, port)
		run.verdict.Add(verdict.Ready(saasv1.ConditionCacheReady, "Available", "shared cache at "+c.Status.CacheEndpoint))
	}
	return nil
}

func (r *Reconciler) reconcileApp(ctx context.Context, run *cellRun) error {
	c := run.cell
	version, target := rollout.AppTarget(c, run.tenants)
	if c.Spec.Assets != nil && r.Kinds.Assets && c.Status.AppVersion != "" && version != c.Status.AppVersion && !r.published(ctx, run, version) {
		// The new version's pages load files that must be on the CDN before it serves them.
		target = verdict.Waiting(saasv1.ConditionRolloutComplete, "PublishingAssets", fmt.Sprintf(
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
	if done, progress := report.RolledOut(dep); version == c.Spec.App.Version && !done {
		target = verdict.Waiting(saasv1.ConditionRolloutComplete, "RollingOut", "rolling out "+version+": "+progress)
	}
	run.verdict.Add(target)
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
		run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "AppUnavailable", "the shared app has no available replica yet"))
	} else {
		run.verdict.Add(verdict.Ready(saasv1.ConditionAppReady, "Serving", fmt.Sprintf("%d replicas of %s available", dep.Status.AvailableReplicas, version)))
	}
	return nil
}

// reconcileDatabaseDefaults rolls spec.database.revision out to the cell's existing databases: a
// batch of at most rolloutBatchSize tenants at a time (named in status, where their reconcilers
// read it), the next batch once the databases of the last one are ready again, and no new
// batch while one has failed.
func (r *Reconciler) reconcileDatabaseDefaults(_ context.Context, run *cellRun) error {
	c := run.cell
	next, part := rollout.DefaultsRollout(c, run.tenants)
	c.Status.DatabaseRollout = next
	run.verdict.Add(part)
	return nil
}

// reconcileDelete holds the cell while it serves tenants, then removes the shared tier.
func (r *Reconciler) reconcileDelete(ctx context.Context, run *cellRun) (ctrl.Result, error) {
	c := run.cell
	run.verdict.Phase = saasv1.PhaseDeleting
	if !controllerutil.ContainsFinalizer(c, Finalizer) {
		return ctrl.Result{}, nil
	}
	if len(run.tenants) > 0 {
		names := make([]string, 0, len(run.tenants))
		for _, t := range run.tenants {
			names = append(names, t.Name)
		}
		run.verdict.HoldOn("TenantsRemain",
			fmt.Sprintf("deletion held: the cell still serves %d tenants (%s); delete them or move them to another cell (spec.cell) first", len(names), strings.Join(verdict.Few(names, 5), ", ")))
		return ctrl.Result{}, nil
	}
	// Tenants that moved to another cell keep their databases (and dedicated caches) in this
	// cell's subnet groups, which AWS does not delete while they are in use.
	var homed saasv1.TenantList
	if err := r.List(ctx, &homed, client.MatchingFields{indexes.TenantHome: c.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return ctrl.Result{}, err
	}
	if len(homed.Items) > 0 {
		names := make([]string, 0, len(homed.Items))
		for _, t := range homed.Items {
			names = append(names, t.Name)
		}
		sort.Strings(names)
		run.verdict.HoldOn("DatabasesRemain", fmt.Sprintf(
			"deletion held: the databases of %d tenants served by other cells live in this cell's network (%s); delete those tenants, or restore them from snapshots in another cell, first",
			len(names), strings.Join(verdict.Few(names, 5), ", ")))
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
		run.verdict.HoldOn("EventsOwed", fmt.Sprintf(
			"deletion held: %d lifecycle events are not yet delivered to the cell's receivers (%s); they are retried until delivered. To give up on them: kubectl delete configmaps -n %s -l %s=true",
			len(owed), strings.Join(verdict.Few(owed, 5), ", "), run.ns, notify.OutboxLabel))
		return ctrl.Result{RequeueAfter: shared.DeletionPollInterval}, nil
	}
	// The warm pool's databases live in the cell's subnet group: they go first.
	if pool, err := shared.WarmPoolInstances(ctx, r.Client, c); err != nil {
		return ctrl.Result{}, err
	} else if len(pool) > 0 {
		if err := r.releasePooled(ctx, c, pool, warmpool.Refill(0, "", warmpool.Of(pool)).Release); err != nil {
			return ctrl.Result{}, err
		}
		for i := range pool {
			if b.IsWarmPoolClaimed(&pool[i]) {
				// A claim whose tenant is gone (no tenant remains): ACK leaves the instance where
				// it is (the claim set retain), whoever took it over.
				if err := r.applier().DeleteAsRead(ctx, &pool[i]); err != nil {
					return ctrl.Result{}, err
				}
			}
		}
		run.verdict.HoldOn("Deleting", fmt.Sprintf("waiting for AWS to delete the %d databases of the warm pool", len(pool)))
		return ctrl.Result{RequeueAfter: shared.DeletionPollInterval}, nil
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
			run.verdict.HoldOn("Deleting", fmt.Sprintf("waiting for AWS to delete %T %s", child.obj, key))
			return ctrl.Result{RequeueAfter: shared.DeletionPollInterval}, nil
		}
	}
	if _, err := r.applier().Absent(ctx, &corev1.Namespace{}, types.NamespacedName{Name: run.ns}); err != nil {
		return ctrl.Result{}, err
	}
	controllerutil.RemoveFinalizer(c, Finalizer)
	if err := r.Update(ctx, c); client.IgnoreNotFound(err) != nil {
		return ctrl.Result{}, err
	}
	metrics.ForgetCell(c.Name)
	return ctrl.Result{}, nil
}
