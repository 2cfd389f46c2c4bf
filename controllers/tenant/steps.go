package tenant

import (
	"context"
	"fmt"
	"slices"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/report"
	"github.com/tenantops/tenant-operator/controllers/rollout"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// reconcileNamespace makes the tenant's namespace and its isolation: quota, limits, network.
func (r *Reconciler) reconcileNamespace(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	labels := b.TenantLabels(t, c, "")
	sources := c.Spec.Ingress.SourceCIDRs
	if run.from != nil && r.move(run).CellLeftServes() {
		// A dedicated tenant's app takes traffic from both load balancers while it moves.
		sources = union(sources, run.from.Spec.Ingress.SourceCIDRs)
	}
	return true, shared.EnsureIsolation(ctx, r.applier(), t, shared.WithBinding([]client.Object{
		b.Namespace(run.ns, labels),
		b.ResourceQuota(t, c),
		b.LimitRange(t, c),
		b.AWSAPIsPolicy(run.ns, labels, c.Spec.Network.AWSAPICIDRs),
	}, b.OperatorDataRoleBinding(run.ns, labels, r.Identity)), b.NetworkPolicy(run.ns, labels, sources))
}

// reconcileCache finds the cache the tenant uses: the cell's shared one, or its own.
func (r *Reconciler) reconcileCache(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	var rg *ecv1.ReplicationGroup
	if t.Spec.Tier == saasv1.TierDedicated {
		live := &ecv1.ReplicationGroup{}
		if err := r.Get(ctx, types.NamespacedName{Namespace: run.ns, Name: b.CacheName}, live); err != nil {
			if !apierrors.IsNotFound(err) {
				return false, err
			}
			live = nil
		}
		rg = b.ReplicationGroup(b.DedicatedCache(t, run.ownParts(), live))
		if _, err := r.applier().Ensure(ctx, t, rg); err != nil {
			return false, verdict.Refused(&run.verdict, saasv1.ConditionCacheReady, "InvalidCache", "", err)
		}
	} else {
		var err error
		if rg, err = r.sharedCache(ctx, c); err != nil || rg == nil {
			if rg == nil && err == nil {
				run.verdict.Add(verdict.Waiting(saasv1.ConditionCacheReady, "WaitingForCell", "the cell's shared cache does not exist yet"))
			}
			return false, err
		}
	}
	st := ack.ReadState(rg.Status.Conditions)
	addr, port, ok := b.CacheEndpoint(rg)
	switch {
	case st.Terminal:
		run.verdict.Add(verdict.Stalled(saasv1.ConditionCacheReady, st.Reason, "ElastiCache: "+st.Message))
		return false, nil
	case !st.Synced || !ok:
		run.verdict.Add(verdict.Waiting(saasv1.ConditionCacheReady, st.Reason, "ElastiCache replication group "+rg.Namespace+"/"+rg.Name+": "+st.Message))
		return false, nil
	}
	run.endpoints.CacheAddress, run.endpoints.CachePort = addr, port
	run.endpoints.AssetsBaseURL = rollout.AssetsBaseURL(t, c)
	run.verdict.Add(verdict.Ready(saasv1.ConditionCacheReady, "Available", fmt.Sprintf("cache %s:%d, key prefix %s", addr, port, b.CacheKeyPrefix(t))))
	return true, nil
}

// sharedCache is cell c's shared replication group, or nil when it does not exist yet.
func (r *Reconciler) sharedCache(ctx context.Context, c *saasv1.RegionCell) (*ecv1.ReplicationGroup, error) {
	rg := &ecv1.ReplicationGroup{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: b.CellNamespace(c), Name: b.CacheName}, rg); err != nil {
		return nil, client.IgnoreNotFound(err)
	}
	return rg, nil
}

// reconcileConfig writes the tenant configuration: in the tenant's namespace for its jobs, and
// in the serving app's namespace (the cell's, for pooled tenants) for the app.
func (r *Reconciler) reconcileConfig(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	a := r.applier()
	if _, err := a.Ensure(ctx, t, b.TenantConfig(t, c, run.ns, b.TenantConfigName, run.endpoints, run.password)); err != nil {
		return false, err
	}
	if t.Spec.Tier == saasv1.TierDedicated {
		// A tenant moved to the dedicated tier is no longer the shared apps'.
		for _, cell := range run.cells() {
			if _, err := a.Absent(ctx, &corev1.Secret{}, client.ObjectKey{Namespace: b.CellNamespace(cell), Name: b.ConfigSecretName(t)}); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// reconcileMigrations runs `app migrate` once per effective app version. The version serves
// only after its migration succeeded; a failure keeps the previous version serving.
func (r *Reconciler) reconcileMigrations(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.ownParts()
	version := b.EffectiveAppVersion(t, c)
	if lm := t.Status.LastMigration; lm != nil && lm.Version == version && lm.Succeeded {
		run.verdict.Add(verdict.Ready(saasv1.ConditionMigrationsComplete, "Migrated", "schema migrated to "+version))
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
	switch finished, failed := report.JobFinished(job); {
	case finished && !failed:
		now := shared.StatusTime(r.now())
		t.Status.LastMigration = &saasv1.MigrationStatus{Version: version, Job: job.Name, Succeeded: true, FinishedAt: &now}
		r.Recorder.Eventf(t, nil, corev1.EventTypeNormal, "MigrationSucceeded", "Migrate", "schema migrated to %s", version)
		run.verdict.Add(verdict.Ready(saasv1.ConditionMigrationsComplete, "Migrated", "schema migrated to "+version))
		return true, nil
	case finished && failed:
		if lm := t.Status.LastMigration; lm == nil || lm.Version != version || lm.Succeeded {
			now := shared.StatusTime(r.now())
			t.Status.LastMigration = &saasv1.MigrationStatus{Version: version, Job: job.Name, Succeeded: false, FinishedAt: &now}
			r.Recorder.Eventf(t, nil, corev1.EventTypeWarning, "MigrationFailed", "Migrate", "migration to %s failed (Job %s)", version, job.Name)
		}
		serving := t.Status.AppVersion
		msg := fmt.Sprintf("migration to %s failed (Job %s/%s); ", version, run.ns, job.Name)
		if serving != "" {
			msg += serving + " keeps serving. "
		}
		msg += "Fix the cause, then delete the Job to retry, or set the version back."
		run.verdict.Add(verdict.Stalled(saasv1.ConditionMigrationsComplete, "MigrationFailed", msg))
		// The previous version keeps serving: the later steps still keep it running.
		return serving != "", nil
	default:
		run.verdict.Add(verdict.Waiting(saasv1.ConditionMigrationsComplete, "Migrating", "migrating schema to "+version+" (Job "+job.Name+")"))
		return t.Status.AppVersion != "", nil
	}
}

// removeOldMigrationJobs deletes the migration Jobs of versions other than the one the tenant
// migrated to: they are history, and each would hold a place in the namespace's Job quota.
func (r *Reconciler) removeOldMigrationJobs(ctx context.Context, run *tenantRun, version string) error {
	var jobs batchv1.JobList
	if err := r.List(ctx, &jobs, client.InNamespace(run.ns), client.MatchingLabels{saasv1.LabelComponent: b.ComponentMigration}); err != nil {
		return err
	}
	for i := range jobs.Items {
		j := &jobs.Items[i]
		if j.Name == b.MigrationJobName(version) || !j.DeletionTimestamp.IsZero() {
			continue
		}
		if _, err := r.applier().Absent(ctx, &batchv1.Job{}, client.ObjectKeyFromObject(j)); err != nil {
			return err
		}
	}
	return nil
}

// reconcileApp makes sure an app serves the tenant: its own for dedicated tenants; for pooled
// tenants, the cell's shared app, given the tenant's configuration.
func (r *Reconciler) reconcileApp(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	if t.Spec.Tier == saasv1.TierDedicated {
		return r.reconcileDedicatedApp(ctx, run)
	}
	if run.from != nil && !rollout.MigratedTo(t, b.EffectiveAppVersion(t, c)) {
		// The cell the tenant moves to runs another version: it serves the tenant once the
		// schema is migrated to that version; until then the cell it leaves does.
		run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "WaitingForMigration", fmt.Sprintf(
			"cell %s runs %s: it serves the tenant once the schema is migrated to it; cell %s serves it meanwhile",
			c.Name, b.EffectiveAppVersion(t, c), run.from.Name)))
		return false, r.keepServingFrom(ctx, run)
	}
	// The pooled tenant is served by the cell's app, which serves the hosts of the tenant
	// configurations in its namespace (the cell's Ingress sends it every host of the domain).
	// The configuration goes there only now, after the migrations: this is what opens the host.
	// A suspended tenant's says so, and the app answers 404 for it.
	served := b.TenantConfig(t, c, b.CellNamespace(c), b.ConfigSecretName(t), run.endpoints, run.password)
	if _, err := r.applier().Ensure(ctx, t, served); err != nil {
		return false, err
	}
	if err := r.keepServingFrom(ctx, run); err != nil {
		return false, err
	}
	if t.Spec.Suspended {
		run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "Suspended", "suspended: the cell's app no longer serves "+b.Host(t, c)))
		return true, nil
	}
	dep := &appsv1.Deployment{}
	ing := &networkingv1.Ingress{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: b.CellNamespace(c), Name: b.AppName}, dep); err != nil {
		if apierrors.IsNotFound(err) {
			run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "WaitingForCell", "the cell's shared app does not exist yet"))
			return false, nil
		}
		return false, err
	}
	if dep.Status.AvailableReplicas < 1 {
		run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "AppUnavailable", "the cell's shared app has no available replica"))
		return false, nil
	}
	if err := r.Get(ctx, types.NamespacedName{Namespace: b.CellNamespace(c), Name: b.AppName}, ing); err != nil || !report.IngressRoutes(ing, b.Host(t, c)) {
		run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "WaitingForRoute", "waiting for the cell's Ingress to route "+b.Host(t, c)))
		return false, client.IgnoreNotFound(err)
	}
	t.Status.AppVersion = dep.Spec.Template.Labels["app.kubernetes.io/version"]
	run.verdict.Add(verdict.Ready(saasv1.ConditionAppReady, "Serving", "served by cell "+c.Name+"'s shared app at "+t.Status.AppVersion))
	return true, nil
}

func (r *Reconciler) reconcileDedicatedApp(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	version := rollout.ServingVersion(t)
	tier := b.DedicatedAppTier(t, run.ownParts(), version)
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
		if _, err := r.applier().Absent(ctx, &autoscalingv2.HorizontalPodAutoscaler{}, client.ObjectKey{Namespace: run.ns, Name: b.AppName}); err != nil {
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
	if len(hosts) > 0 {
		// During a move the cell left keeps a rule for the host first, then the rule moves: the
		// load balancer DNS still points at never loses it.
		if err := r.keepServingFrom(ctx, run); err != nil {
			return false, err
		}
		if _, err := r.applier().Ensure(ctx, t, b.DedicatedIngress(t, c, b.AppName, labels)); err != nil {
			return false, err
		}
	} else if _, err := r.applier().Absent(ctx, &networkingv1.Ingress{}, client.ObjectKey{Namespace: run.ns, Name: b.AppName}); err != nil {
		return false, err
	}
	if t.Spec.Suspended {
		run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "Suspended", "suspended: the app is scaled to zero and not routed"))
		return true, nil
	}
	if done, progress := report.RolledOut(dep); !done {
		run.verdict.Add(verdict.Waiting(saasv1.ConditionAppReady, "RollingOut", fmt.Sprintf("app %s: %s", version, progress)))
		return false, nil
	}
	t.Status.AppVersion = version
	run.verdict.Add(verdict.Ready(saasv1.ConditionAppReady, "Serving", fmt.Sprintf("own app at %s, %d available replicas", version, dep.Status.AvailableReplicas)))
	return true, nil
}

// reconcileRecommendations keeps the daily recommendation CronJob and moves runs stuck on spot
// capacity to on-demand nodes.
func (r *Reconciler) reconcileRecommendations(ctx context.Context, run *tenantRun) (bool, error) {
	t, c := run.t, run.cell
	version := rollout.ServingVersion(t)
	if _, err := r.applier().Ensure(ctx, t, b.RecommendCronJob(t, c, version)); err != nil {
		return false, verdict.Refused(&run.verdict, saasv1.ConditionAppReady, "InvalidSchedule",
			"the recommendations CronJob was refused; check spec.recommendations: ", err)
	}
	return true, r.fallBackToOnDemand(ctx, run)
}

// fallBackToOnDemand replaces each recommendation Job whose pod has waited unschedulable for
// longer than the cell's onDemandFallbackAfter by the same Job on on-demand nodes.
func (r *Reconciler) fallBackToOnDemand(ctx context.Context, run *tenantRun) error {
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
		since, stuck := report.UnschedulableSince(p)
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
		if _, err := r.applier().Absent(ctx, &batchv1.Job{}, client.ObjectKeyFromObject(spot)); err != nil {
			return err
		}
		r.Recorder.Eventf(run.t, nil, corev1.EventTypeNormal, "OnDemandFallback", "Schedule",
			"recommendation run %s waited unschedulable on spot for %s; moved to on-demand as %s", spot.Name, after, onDemand.Name)
	}
	return nil
}

// reconcileDNS points <subdomain>.<baseDomain> at the serving cell's load balancer, last, once
// the tenant is served there. During a move it points at the cell being left until the switch
// (reconcileMove decides when).
func (r *Reconciler) reconcileDNS(ctx context.Context, run *tenantRun) (bool, error) {
	t := run.t
	target := r.dnsTarget(run)
	rs := b.RecordSet(t, target)
	if _, err := r.applier().Ensure(ctx, t, rs); err != nil {
		return false, verdict.Refused(&run.verdict, saasv1.ConditionDNSReady, "InvalidRecord", "", err)
	}
	run.record = rs
	st := ack.ReadState(rs.Status.Conditions)
	switch {
	case st.Terminal:
		run.verdict.Add(verdict.Stalled(saasv1.ConditionDNSReady, st.Reason, "Route53: "+st.Message))
		return false, nil
	case !st.Synced && run.from != nil:
		// The switch of a move: the old answer is still the cell left, which still serves.
		run.verdict.Add(verdict.Ready(saasv1.ConditionDNSReady, "Switching", b.Host(t, target)+": Route53 is changing its alias to "+
			target.Spec.Ingress.LoadBalancerDNSName+"; both cells serve meanwhile"))
		return true, nil
	case !st.Synced:
		run.verdict.Add(verdict.Waiting(saasv1.ConditionDNSReady, st.Reason, "Route53 record "+b.Host(t, target)+": "+st.Message))
		return false, nil
	}
	run.verdict.Add(verdict.Ready(saasv1.ConditionDNSReady, "InSync", b.Host(t, target)+" aliases "+target.Spec.Ingress.LoadBalancerDNSName))
	return true, nil
}

func union(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
