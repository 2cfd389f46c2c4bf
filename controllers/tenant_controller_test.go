package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/placement"
	"github.com/tenantops/tenant-operator/controllers/report"
	"github.com/tenantops/tenant-operator/controllers/shared"
	"github.com/tenantops/tenant-operator/test/testenv"
)

const ackRDSFinalizer = "finalizers.rds.services.k8s.aws/DBInstance"

func newCell(name, region string, mutate ...func(*saasv1.RegionCell)) *saasv1.RegionCell {
	c := &saasv1.RegionCell{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.RegionCellSpec{
			Region: region, BaseDomain: "website.com", HostedZoneID: "Z0123456789ABCDEFGHIJ",
			Ingress: saasv1.CellIngress{LoadBalancerDNSName: "lb-" + name + ".elb.amazonaws.com", LoadBalancerHostedZoneID: "Z32O12XQLNTSW2"},
			Network: saasv1.CellNetwork{
				DBSubnetIDs:        []string{"subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"},
				DBSecurityGroupIDs: []string{"sg-0a1b2c3d4e5f60010"}, CacheSubnetIDs: []string{"subnet-0a1b2c3d4e5f60001"},
				CacheSecurityGroupIDs: []string{"sg-0a1b2c3d4e5f60011"},
			},
			App: saasv1.CellApp{Image: "ghcr.io/tenantops/app", Version: "1.0.0"},
			Spot: saasv1.SpotScheduling{
				NodeSelector:         map[string]string{"karpenter.sh/capacity-type": "spot"},
				OnDemandNodeSelector: map[string]string{"karpenter.sh/capacity-type": "on-demand"},
			},
		},
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

func newTenant(name, region string, mutate ...func(*saasv1.Tenant)) *saasv1.Tenant {
	t := &saasv1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       saasv1.TenantSpec{DisplayName: strings.ToUpper(name), Region: region, Subdomain: name, AdminEmail: "admin@" + name + ".example"},
	}
	for _, m := range mutate {
		m(t)
	}
	return t
}

func create(t testing.TB, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		must(t, k8s.Create(context.Background(), o))
	}
}

// servingCell creates a cell and plays what its shared tier waits on, so its tenants can onboard.
func servingCell(t testing.TB, name, region string, mutate ...func(*saasv1.RegionCell)) *saasv1.RegionCell {
	t.Helper()
	cell := newCell(name, region, mutate...)
	create(t, cell)
	playCellAWS(t, cell)
	return cell
}

// playCellAWS plays ElastiCache for the cell's shared cache and the Deployment controller and
// kubelet for its shared app.
func playCellAWS(t testing.TB, cell *saasv1.RegionCell) {
	t.Helper()
	ns := b.CellNamespace(cell)
	play(t, "shared cache available", func(ctx context.Context) error {
		return testenv.PlayCacheAvailable(ctx, k8s, ns, b.CacheName, "cache-"+cell.Name+".abc123.euw1.cache.amazonaws.com")
	})
	playDeploymentAvailable(t, ns, b.AppName)
}

func playDeploymentAvailable(t testing.TB, ns, name string) {
	t.Helper()
	play(t, "deployment "+ns+"/"+name+" available", func(ctx context.Context) error {
		return testenv.PlayDeploymentAvailable(ctx, k8s, ns, name)
	})
}

func playDBAvailable(t testing.TB, tenant *saasv1.Tenant) {
	t.Helper()
	play(t, "database of "+tenant.Name+" available", func(ctx context.Context) error {
		return testenv.PlayDBAvailable(ctx, k8s, b.TenantNamespace(tenant), b.DBInstanceName, tenant.Name+".abcdefgh.eu-west-1.rds.amazonaws.com")
	})
}

func playJob(t testing.TB, ns, name string, succeed bool) {
	t.Helper()
	play(t, "job "+ns+"/"+name+" finished", func(ctx context.Context) error {
		return testenv.PlayJobFinished(ctx, k8s, ns, name, succeed)
	})
}

func playRecordInSync(t testing.TB, tenant *saasv1.Tenant) {
	t.Helper()
	play(t, "record of "+tenant.Name+" in sync", func(ctx context.Context) error {
		return testenv.PlayRecordInSync(ctx, k8s, b.TenantNamespace(tenant), b.RecordSetName)
	})
}

// onboard plays every outside system a pooled tenant waits on, in onboarding order, checking
// the state machine advances one condition at a time.
func onboard(t testing.TB, cell *saasv1.RegionCell, tenant *saasv1.Tenant) *saasv1.Tenant {
	t.Helper()
	tenantHas(t, tenant.Name, saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	playDBAvailable(t, tenant)
	tenantHas(t, tenant.Name, saasv1.ConditionDatabaseReady, metav1.ConditionTrue, "Available")
	if tenant.Spec.Tier == saasv1.TierDedicated {
		play(t, "dedicated cache available", func(ctx context.Context) error {
			return testenv.PlayCacheAvailable(ctx, k8s, b.TenantNamespace(tenant), b.CacheName, "cache-"+tenant.Name+".cache.amazonaws.com")
		})
	}
	tenantHas(t, tenant.Name, saasv1.ConditionCacheReady, metav1.ConditionTrue, "Available")
	version := b.EffectiveAppVersion(tenant, cell)
	tenantHas(t, tenant.Name, saasv1.ConditionMigrationsComplete, metav1.ConditionFalse, "Migrating")
	// The shared app is given a tenant only once it is migrated: until then no host opens.
	if err := get(t, &corev1.Secret{}, b.CellNamespace(cell), b.ConfigSecretName(tenant)); !apierrors.IsNotFound(err) {
		t.Errorf("%s is in the shared app's configuration before its migrations: %v", tenant.Name, err)
	}
	playJob(t, b.TenantNamespace(tenant), b.MigrationJobName(version), true)
	tenantHas(t, tenant.Name, saasv1.ConditionMigrationsComplete, metav1.ConditionTrue, "Migrated")
	if tenant.Spec.Tier == saasv1.TierDedicated {
		playDeploymentAvailable(t, b.TenantNamespace(tenant), b.AppName)
	}
	tenantHas(t, tenant.Name, saasv1.ConditionAppReady, metav1.ConditionTrue, "Serving")
	playRecordInSync(t, tenant)
	return tenantHas(t, tenant.Name, saasv1.ConditionReady, metav1.ConditionTrue, "Ready")
}

func TestPooledTenantOnboardsAndSteadyStateWritesNothing(t *testing.T) {
	cell := servingCell(t, "euw1", "eu-west-1")
	mark := writes.Mark()
	tenant := newTenant("acme", "eu-west-1")
	create(t, tenant)

	eventually(t, "DBInstance made from the cell's defaults", func() error {
		db := &rds.DBInstance{}
		if err := get(t, db, "tenant-acme", b.DBInstanceName); err != nil {
			return err
		}
		s := db.Spec
		if *s.DBInstanceIdentifier != "tenant-euw1-acme" || !*s.MultiAZ || !*s.StorageEncrypted || *s.PubliclyAccessible ||
			!*s.DeletionProtection || *s.DBSubnetGroupName != "cell-euw1" || s.MasterUserPassword.Name != b.DBPasswordSecretName {
			return fmt.Errorf("unexpected spec %+v", s)
		}
		return nil
	})
	ready := onboard(t, cell, tenant)

	if ready.Status.Phase != saasv1.PhaseReady || ready.Status.URL != "https://acme.website.com" || ready.Status.Cell != "euw1" ||
		ready.Status.Database == nil || ready.Status.Database.Address != "acme.abcdefgh.eu-west-1.rds.amazonaws.com" ||
		ready.Status.AppVersion != "1.0.0" || ready.Status.ObservedGeneration != ready.Generation {
		t.Fatalf("status: %+v", ready.Status)
	}
	u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ready)
	must(t, err)
	if res, err := status.Compute(&unstructured.Unstructured{Object: u}); err != nil || res.Status != status.CurrentStatus {
		t.Fatalf("kstatus: %v %v", res, err)
	}

	// The tenant's configuration is where the shared app and the jobs read it.
	for _, key := range []client.ObjectKey{{Namespace: "cell-euw1", Name: "tenant-acme"}, {Namespace: "tenant-acme", Name: b.TenantConfigName}} {
		s := &corev1.Secret{}
		must(t, get(t, s, key.Namespace, key.Name))
		if string(s.Data[saasv1.ConfigDBHost]) != ready.Status.Database.Address || string(s.Data[saasv1.ConfigCacheKeyPrefix]) != "t:acme:" ||
			!strings.HasPrefix(string(s.Data[saasv1.ConfigCacheAddress]), "cache-euw1.") || s.Labels[saasv1.LabelTenantConfig] != "true" {
			t.Errorf("config %s: %v", key, s.Data)
		}
	}
	ing := &networkingv1.Ingress{}
	must(t, get(t, ing, "cell-euw1", b.AppName))
	if !report.IngressRoutes(ing, "acme.website.com") {
		t.Errorf("cell ingress does not route the tenant: %+v", ing.Spec.Rules)
	}

	// Onboarding wrote each child once.
	perObject := map[string]int{}
	for _, w := range writes.Since(mark) {
		if strings.Contains(w, "acme") && !strings.HasPrefix(w, "patch/status") && !strings.HasPrefix(w, "update Tenant") {
			perObject[w]++
		}
	}
	for w, n := range perObject {
		if n > 1 {
			t.Errorf("onboarding wrote %q %d times", w, n)
		}
	}
	t.Logf("onboarding writes: %d child writes, %v", len(perObject), sortedCopy(keys(perObject)))

	// The password is in its Secret and nowhere else.
	pw := &corev1.Secret{}
	must(t, get(t, pw, "tenant-acme", b.DBPasswordSecretName))
	password := string(pw.Data[b.DBPasswordKey])
	if len(password) < 32 {
		t.Fatalf("password too short: %d", len(password))
	}
	statusJSON := fmt.Sprintf("%+v", ready.Status)
	for where, text := range map[string]string{"status": statusJSON, "events": eventsText(), "logs": logs.String()} {
		if strings.Contains(text, password) {
			t.Errorf("the database password appears in %s", where)
		}
	}

	// An unchanged Tenant's reconcile writes nothing.
	for _, w := range writesOnPoke(t, ready, "tenant", "acme") {
		t.Errorf("steady-state reconcile wrote: %s", w)
	}

	// The password survives every reconcile.
	pw2 := &corev1.Secret{}
	must(t, get(t, pw2, "tenant-acme", b.DBPasswordSecretName))
	if string(pw2.Data[b.DBPasswordKey]) != password {
		t.Error("password regenerated")
	}
}

func keys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestDedicatedTenantGetsItsOwnAppAndCache(t *testing.T) {
	cell := servingCell(t, "euw2", "eu-west-2")
	tenant := newTenant("initech", "eu-west-2", func(tn *saasv1.Tenant) {
		tn.Spec.Tier = saasv1.TierDedicated
		tn.Spec.Cache = &saasv1.TenantCache{NodeType: "cache.r7g.large", Replicas: 2}
		tn.Spec.Scaling = &saasv1.TenantScaling{MinReplicas: ptr(int32(3)), MaxReplicas: ptr(int32(30))}
	})
	create(t, tenant)
	onboard(t, cell, tenant)

	rg := &ecv1.ReplicationGroup{}
	must(t, get(t, rg, "tenant-initech", b.CacheName))
	if *rg.Spec.CacheNodeType != "cache.r7g.large" || *rg.Spec.ReplicasPerNodeGroup != 2 || !*rg.Spec.TransitEncryptionEnabled ||
		!*rg.Spec.AtRestEncryptionEnabled || !*rg.Spec.MultiAZEnabled {
		t.Errorf("dedicated cache: %+v", rg.Spec)
	}
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	must(t, get(t, hpa, "tenant-initech", b.AppName))
	if *hpa.Spec.MinReplicas != 3 || hpa.Spec.MaxReplicas != 30 || hpa.Spec.Behavior.ScaleDown.Tolerance.MilliValue() != 875 ||
		hpa.Spec.Behavior.ScaleUp.Tolerance.MilliValue() != 0 {
		t.Errorf("dedicated HPA as stored by the API server: %+v", hpa.Spec)
	}
	dep := &appsv1.Deployment{}
	must(t, get(t, dep, "tenant-initech", b.AppName))
	if dep.Spec.Template.Spec.Containers[0].Image != "ghcr.io/tenantops/app:1.0.0" {
		t.Errorf("image %s", dep.Spec.Template.Spec.Containers[0].Image)
	}
	// Dedicated tenants are not in the shared app's routes or namespace.
	ing := &networkingv1.Ingress{}
	// The cell's wildcard would match the dedicated host too: the dedicated rule comes first in
	// the load balancer (a lower group order), and the shared app has no configuration for it.
	cellIng := &networkingv1.Ingress{}
	must(t, get(t, cellIng, "cell-euw2", b.AppName))
	must(t, get(t, ing, "tenant-initech", b.AppName))
	order := func(i *networkingv1.Ingress) int {
		n, _ := strconv.Atoi(i.Annotations["alb.ingress.kubernetes.io/group.order"])
		return n
	}
	if !report.IngressRoutes(ing, "initech.website.com") || ing.Annotations["alb.ingress.kubernetes.io/group.name"] != "cell-euw2" ||
		order(ing) >= order(cellIng) {
		t.Errorf("dedicated ingress: %+v %v (the cell's order %d)", ing.Spec.Rules, ing.Annotations, order(cellIng))
	}
	if err := get(t, &corev1.Secret{}, "cell-euw2", "tenant-initech"); !apierrors.IsNotFound(err) {
		t.Errorf("dedicated tenant config in the cell namespace: %v", err)
	}
}

func TestTenantOfAnotherRegionIsUntouched(t *testing.T) {
	mark := writes.Mark()
	tenant := newTenant("faraway", "ap-southeast-2")
	create(t, tenant)
	stays(t, "no writes for a tenant no cell here serves", 2*time.Second, func() error {
		got := &saasv1.Tenant{}
		if err := get(t, got, "", "faraway"); err != nil {
			return err
		}
		if len(got.Finalizers) > 0 || got.Status.Phase != "" || len(got.Status.Conditions) > 0 {
			return fmt.Errorf("tenant was written: %+v %+v", got.Finalizers, got.Status)
		}
		for _, w := range writes.Since(mark) {
			if strings.Contains(w, "faraway") {
				return fmt.Errorf("operator wrote %s", w)
			}
		}
		return nil
	})
	if err := get(t, &corev1.Namespace{}, "", "tenant-faraway"); !apierrors.IsNotFound(err) {
		t.Errorf("namespace made for a foreign tenant: %v", err)
	}
}

func TestACKTerminalErrorStallsTheTenant(t *testing.T) {
	cell := newCell("eun1", "eu-north-1")
	create(t, cell)
	tenant := newTenant("broken", "eu-north-1")
	create(t, tenant)
	tenantHas(t, "broken", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	ackMsg := "InvalidParameterCombination: RDS does not support creating a DB instance with the following combination: DBInstanceClass=db.t4g.medium, Engine=mysql, EngineVersion=8.0.11"
	db := &rds.DBInstance{}
	playStatus(t, db, "tenant-broken", b.DBInstanceName, func() { db.Status.Conditions = testenv.ACKTerminal(ackMsg) })

	got := tenantHas(t, "broken", saasv1.ConditionStalled, metav1.ConditionTrue, "ACKTerminal")
	if !strings.Contains(condition(got.Status.Conditions, saasv1.ConditionStalled).Message, ackMsg) ||
		condition(got.Status.Conditions, saasv1.ConditionReady).Status != metav1.ConditionFalse || got.Status.Phase != saasv1.PhaseFailed {
		t.Fatalf("stalled tenant: %+v", got.Status)
	}
	u, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(got)
	if res, _ := status.Compute(&unstructured.Unstructured{Object: u}); res.Status != status.FailedStatus {
		t.Errorf("kstatus %s, want Failed", res.Status)
	}

	// A recoverable error is waited out, not stalled on.
	playStatus(t, db, "tenant-broken", b.DBInstanceName, func() {
		msg := "Throttling: Rate exceeded"
		db.Status.Conditions = []*ackv1alpha1.Condition{{Type: "ACK.Recoverable", Status: corev1.ConditionTrue, Message: &msg}}
	})
	got = tenantHas(t, "broken", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "ACKRecoverable")
	if condition(got.Status.Conditions, saasv1.ConditionStalled).Status != metav1.ConditionFalse ||
		condition(got.Status.Conditions, saasv1.ConditionReconciling).Status != metav1.ConditionTrue {
		t.Errorf("recoverable: %+v", got.Status.Conditions)
	}

	// A quota reached is retried by ACK too, but only a person can raise it: the tenant stalls
	// with the quota named, nothing is deleted, and it goes on once AWS accepts.
	playStatus(t, db, "tenant-broken", b.DBInstanceName, func() {
		msg := "InstanceQuotaExceeded: DB Instance quota exceeded"
		db.Status.Conditions = []*ackv1alpha1.Condition{{Type: "ACK.Recoverable", Status: corev1.ConditionTrue, Message: &msg}}
	})
	got = tenantHas(t, "broken", saasv1.ConditionStalled, metav1.ConditionTrue, "QuotaExceeded")
	if msg := condition(got.Status.Conditions, saasv1.ConditionStalled).Message; !strings.Contains(msg, "RDS DB instances per region") ||
		!strings.Contains(msg, "Service Quotas") {
		t.Errorf("the quota is not named: %s", msg)
	}
	must(t, get(t, db, "tenant-broken", b.DBInstanceName))
	if !db.DeletionTimestamp.IsZero() {
		t.Error("the database was deleted over a quota")
	}
	playDBAvailable(t, tenant)
	tenantHas(t, "broken", saasv1.ConditionDatabaseReady, metav1.ConditionTrue, "Available")
}

func TestMigrationGatesTheRollout(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "use1", "us-east-1")
	auto := newTenant("alpha", "us-east-1")
	pinned := newTenant("beta", "us-east-1", func(tn *saasv1.Tenant) {
		tn.Spec.App = &saasv1.TenantApp{Version: "1.0.0", UpgradeStrategy: saasv1.UpgradeManual}
	})
	create(t, auto, pinned)
	onboard(t, cell, auto)
	onboard(t, cell, pinned)

	must(t, get(t, cell, "", cell.Name))
	cell.Spec.App.Version = "1.1.0"
	must(t, k8s.Update(ctx, cell))

	// The Auto tenant migrates first; the shared app stays on 1.0.0 meanwhile; the pinned one is not forced.
	tenantHas(t, "alpha", saasv1.ConditionMigrationsComplete, metav1.ConditionFalse, "Migrating")
	cellHas(t, cell.Name, saasv1.ConditionRolloutComplete, metav1.ConditionFalse, "Migrating")
	if err := get(t, &batchv1.Job{}, "tenant-beta", "migrate-1-1-0"); !apierrors.IsNotFound(err) {
		t.Errorf("pinned tenant migrated: %v", err)
	}
	sharedImage := func() string {
		d := &appsv1.Deployment{}
		must(t, get(t, d, "cell-use1", b.AppName))
		return d.Spec.Template.Spec.Containers[0].Image
	}
	if img := sharedImage(); img != "ghcr.io/tenantops/app:1.0.0" {
		t.Fatalf("rolled out before migrating: %s", img)
	}

	// A failed migration holds the rollout and says who failed.
	playJob(t, "tenant-alpha", "migrate-1-1-0", false)
	got := tenantHas(t, "alpha", saasv1.ConditionMigrationsComplete, metav1.ConditionFalse, "MigrationFailed")
	if !strings.Contains(condition(got.Status.Conditions, saasv1.ConditionMigrationsComplete).Message, "1.0.0 keeps serving") ||
		got.Status.LastMigration == nil || got.Status.LastMigration.Succeeded || got.Status.AppVersion != "1.0.0" {
		t.Errorf("failed migration: %+v", got.Status)
	}
	c := cellHas(t, cell.Name, saasv1.ConditionRolloutComplete, metav1.ConditionFalse, "MigrationFailed")
	if msg := condition(c.Status.Conditions, saasv1.ConditionRolloutComplete).Message; !strings.Contains(msg, "alpha") {
		t.Errorf("rollout hold does not name the tenant: %s", msg)
	}
	stays(t, "shared app held at 1.0.0", time.Second, func() error {
		if img := sharedImage(); img != "ghcr.io/tenantops/app:1.0.0" {
			return fmt.Errorf("moved to %s", img)
		}
		return nil
	})

	// Retrying (the Job deleted, as the condition says) and succeeding moves the shared app.
	must(t, k8s.Delete(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-alpha", Name: "migrate-1-1-0"}},
		client.PropagationPolicy(metav1.DeletePropagationBackground)))
	eventually(t, "migration job recreated", func() error {
		j := &batchv1.Job{}
		if err := get(t, j, "tenant-alpha", "migrate-1-1-0"); err != nil {
			return err
		}
		if len(j.Status.Conditions) > 0 {
			return fmt.Errorf("still the failed job")
		}
		return nil
	})
	playJob(t, "tenant-alpha", "migrate-1-1-0", true)
	eventually(t, "shared app on 1.1.0", func() error {
		if img := sharedImage(); img != "ghcr.io/tenantops/app:1.1.0" {
			return fmt.Errorf("image %s", img)
		}
		return nil
	})
	// The new template is written; the rollout is complete only once the Deployment says so.
	cellHas(t, cell.Name, saasv1.ConditionRolloutComplete, metav1.ConditionFalse, "RollingOut")
	playDeploymentAvailable(t, b.CellNamespace(cell), b.AppName)
	cellHas(t, cell.Name, saasv1.ConditionRolloutComplete, metav1.ConditionTrue, "UpToDate")

	// The previous version's migration Job is history once 1.1.0 migrated: it goes, so Jobs of
	// past versions never fill the namespace's Job quota. The pinned tenant keeps its own.
	eventually(t, "the 1.0.0 migration Job of alpha removed", func() error {
		if err := get(t, &batchv1.Job{}, "tenant-alpha", "migrate-1-0-0"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
	must(t, get(t, &batchv1.Job{}, "tenant-alpha", "migrate-1-1-0"))
	must(t, get(t, &batchv1.Job{}, "tenant-beta", "migrate-1-0-0"))
}

func cellHas(t testing.TB, name, typ string, s metav1.ConditionStatus, reason string) *saasv1.RegionCell {
	t.Helper()
	var cell *saasv1.RegionCell
	eventually(t, fmt.Sprintf("cell %s %s=%s %s", name, typ, s, reason), func() error {
		c := &saasv1.RegionCell{}
		if err := get(t, c, "", name); err != nil {
			return err
		}
		cond := condition(c.Status.Conditions, typ)
		if cond.Status != s || (reason != "" && cond.Reason != reason) {
			return fmt.Errorf("%s is %s/%s: %s", typ, cond.Status, cond.Reason, cond.Message)
		}
		cell = c
		return nil
	})
	return cell
}

func TestDeletionFollowsThePolicy(t *testing.T) {
	ctx := context.Background()
	cell := newCell("usw2", "us-west-2")
	create(t, cell)
	cases := []struct {
		policy        string
		annotations   map[string]string
		protection    bool
		snapshotNamed bool
	}{
		{saasv1.DeletionSnapshot, map[string]string{rds.AnnotationSkipFinalSnapshot: "false"}, false, true},
		{saasv1.DeletionRetain, map[string]string{"services.k8s.aws/deletion-policy": "retain"}, true, false},
		{saasv1.DeletionDelete, map[string]string{rds.AnnotationSkipFinalSnapshot: "true", rds.AnnotationDeleteAutomatedBackups: "true"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.policy, func(t *testing.T) {
			name := "del-" + strings.ToLower(c.policy)
			tenant := newTenant(name, "us-west-2", func(tn *saasv1.Tenant) { tn.Spec.Database.DeletionPolicy = c.policy })
			create(t, tenant)
			ns := b.TenantNamespace(tenant)
			db := &rds.DBInstance{}
			// Play ACK taking the resource under management: its finalizer holds the CR until AWS is done.
			eventually(t, "DBInstance", func() error {
				if err := get(t, db, ns, b.DBInstanceName); err != nil {
					return err
				}
				orig := db.DeepCopy()
				db.Finalizers = append(db.Finalizers, ackRDSFinalizer)
				return k8s.Patch(ctx, db, client.MergeFrom(orig))
			})
			playDBAvailable(t, tenant)
			tenantHas(t, name, saasv1.ConditionDatabaseReady, metav1.ConditionTrue, "")

			must(t, k8s.Delete(ctx, tenant))
			eventually(t, "DBInstance prepared and deleted", func() error {
				if err := get(t, db, ns, b.DBInstanceName); err != nil {
					return err
				}
				for k, v := range c.annotations {
					if db.Annotations[k] != v {
						return fmt.Errorf("annotation %s=%q, want %q", k, db.Annotations[k], v)
					}
				}
				if *db.Spec.DeletionProtection != c.protection {
					return fmt.Errorf("deletionProtection %v", *db.Spec.DeletionProtection)
				}
				if snap := db.Annotations[rds.AnnotationFinalSnapshotIdentifier]; c.snapshotNamed != strings.HasPrefix(snap, "tenant-usw2-"+name+"-final-") {
					return fmt.Errorf("final snapshot name %q", snap)
				}
				if db.DeletionTimestamp.IsZero() {
					return fmt.Errorf("not deleted yet")
				}
				return nil
			})
			// The deletion settings are applied, by their own field manager, never patched over the
			// database step's apply (which keeps sharing the field only where both said the same,
			// as Retain's protection does).
			released := false
			for _, mf := range db.ManagedFields {
				owns := mf.FieldsV1 != nil && strings.Contains(mf.FieldsV1.GetRawString(), `"f:deletionProtection"`)
				switch {
				case owns && mf.Operation != metav1.ManagedFieldsOperationApply:
					t.Errorf("deletion protection written by %s (%s), not applied", mf.Manager, mf.Operation)
				case owns && mf.Manager == "tenant-operator-release":
					released = true
				case owns && !c.protection:
					t.Errorf("deletion protection false still owned by %s too", mf.Manager)
				}
			}
			if !released {
				t.Errorf("deletion protection not applied by the release's field manager: %v", db.ManagedFields)
			}
			got := &saasv1.Tenant{}
			must(t, get(t, got, "", name))
			if got.Status.Phase != saasv1.PhaseDeleting || len(got.Finalizers) == 0 {
				t.Fatalf("tenant must wait for RDS: phase %s finalizers %v", got.Status.Phase, got.Finalizers)
			}
			// ACK finishes: the AWS instance is gone (or, for Retain, released), the CR goes.
			orig := db.DeepCopy()
			db.Finalizers = nil
			must(t, k8s.Patch(ctx, db, client.MergeFrom(orig)))
			eventually(t, "tenant gone", func() error {
				if err := get(t, &saasv1.Tenant{}, "", name); !apierrors.IsNotFound(err) {
					return fmt.Errorf("tenant still there: %v", err)
				}
				return nil
			})
		})
	}
}

func TestDriftIsRepaired(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "usw1", "us-west-1")
	tenant := newTenant("drifty", "us-west-1")
	create(t, tenant)
	onboard(t, cell, tenant)

	cj := &batchv1.CronJob{}
	must(t, get(t, cj, "tenant-drifty", b.RecommendCronJobName))
	must(t, k8s.Delete(ctx, cj))
	np := &networkingv1.NetworkPolicy{}
	must(t, get(t, np, "tenant-drifty", b.NetworkPolicyName))
	orig := np.DeepCopy()
	np.Spec.PolicyTypes = []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}
	must(t, k8s.Patch(ctx, np, client.MergeFrom(orig)))

	eventually(t, "CronJob recreated and NetworkPolicy restored", func() error {
		if err := get(t, &batchv1.CronJob{}, "tenant-drifty", b.RecommendCronJobName); err != nil {
			return err
		}
		if err := get(t, np, "tenant-drifty", b.NetworkPolicyName); err != nil {
			return err
		}
		if len(np.Spec.PolicyTypes) != 2 {
			return fmt.Errorf("policy types %v", np.Spec.PolicyTypes)
		}
		return nil
	})
}

func TestSuspendStopsServingAndPausesRecommendations(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "aps1", "ap-south-1")
	tenant := newTenant("sleepy", "ap-south-1")
	create(t, tenant)
	ready := onboard(t, cell, tenant)

	ready.Spec.Suspended = true
	must(t, k8s.Update(ctx, ready))
	eventually(t, "suspended", func() error {
		got := &saasv1.Tenant{}
		if err := get(t, got, "", "sleepy"); err != nil {
			return err
		}
		if got.Status.Phase != saasv1.PhaseSuspended {
			return fmt.Errorf("phase %s", got.Status.Phase)
		}
		// The shared app stops serving it: its configuration there says suspended.
		cfg := &corev1.Secret{}
		if err := get(t, cfg, "cell-aps1", "tenant-sleepy"); err != nil {
			return err
		}
		if string(cfg.Data[saasv1.ConfigSuspended]) != "true" {
			return fmt.Errorf("still served")
		}
		cj := &batchv1.CronJob{}
		if err := get(t, cj, "tenant-sleepy", b.RecommendCronJobName); err != nil {
			return err
		}
		if !*cj.Spec.Suspend {
			return fmt.Errorf("cronjob not suspended")
		}
		return nil
	})
	// Nothing was deleted.
	for _, o := range []struct {
		obj  client.Object
		name string
	}{{&rds.DBInstance{}, b.DBInstanceName}, {&corev1.Secret{}, b.DBPasswordSecretName}, {&route53.RecordSet{}, b.RecordSetName}} {
		if err := get(t, o.obj, "tenant-sleepy", o.name); err != nil {
			t.Errorf("%T deleted on suspend: %v", o.obj, err)
		}
	}
}

func TestFullCellKeepsNewTenantsPending(t *testing.T) {
	cell := newCell("cac1", "ca-central-1", func(c *saasv1.RegionCell) { c.Spec.Capacity.MaxTenants = 1 })
	create(t, cell)
	create(t, newTenant("first", "ca-central-1"))
	tenantHas(t, "first", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	create(t, newTenant("second", "ca-central-1"))
	got := tenantHas(t, "second", saasv1.ConditionReady, metav1.ConditionFalse, placement.ReasonRegionFull)
	if got.Status.Phase != saasv1.PhasePending || !strings.Contains(condition(got.Status.Conditions, saasv1.ConditionReady).Message, "cac1 1/1") {
		t.Errorf("pending tenant: %+v", got.Status)
	}
	if err := get(t, &corev1.Namespace{}, "", "tenant-second"); !apierrors.IsNotFound(err) {
		t.Errorf("a waiting tenant got a namespace: %v", err)
	}
	c := &saasv1.RegionCell{}
	eventually(t, "cell capacity", func() error {
		if err := get(t, c, "", "cac1"); err != nil {
			return err
		}
		if c.Status.Capacity != "1/1" {
			return fmt.Errorf("capacity %q", c.Status.Capacity)
		}
		return nil
	})
}

func TestSubdomainTakenStallsTheNewerTenant(t *testing.T) {
	create(t, newCell("sae1", "sa-east-1"))
	create(t, newTenant("owner", "sa-east-1", func(tn *saasv1.Tenant) { tn.Spec.Subdomain = "shared" }))
	tenantHas(t, "owner", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	create(t, newTenant("latecomer", "sa-east-1", func(tn *saasv1.Tenant) { tn.Spec.Subdomain = "shared" }))
	got := tenantHas(t, "latecomer", saasv1.ConditionStalled, metav1.ConditionTrue, "SubdomainTaken")
	if msg := condition(got.Status.Conditions, saasv1.ConditionStalled).Message; !strings.Contains(msg, `"owner"`) || !strings.Contains(msg, "spec.subdomain") {
		t.Errorf("message does not say what to fix: %s", msg)
	}
}

func TestRecommendationRunFallsBackToOnDemand(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "euc1", "eu-central-1")
	tenant := newTenant("thrifty", "eu-central-1")
	create(t, tenant)
	onboard(t, cell, tenant)

	// Play the CronJob controller starting a run, and the scheduler finding no spot node for it.
	cj := &batchv1.CronJob{}
	must(t, get(t, cj, "tenant-thrifty", b.RecommendCronJobName))
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "recommend-29400000", Namespace: "tenant-thrifty", Labels: cj.Spec.JobTemplate.Labels},
		Spec:       *cj.Spec.JobTemplate.Spec.DeepCopy(),
	}
	create(t, job)
	podLabels := map[string]string{"job-name": job.Name}
	for k, v := range cj.Spec.JobTemplate.Spec.Template.Labels {
		podLabels[k] = v
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-x7k2p", Namespace: "tenant-thrifty", Labels: podLabels},
		Spec:       *cj.Spec.JobTemplate.Spec.Template.Spec.DeepCopy(),
	}
	create(t, pod)
	playStatus(t, pod, pod.Namespace, pod.Name, func() {
		pod.Status.Phase = corev1.PodPending
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
			Reason: corev1.PodReasonUnschedulable, Message: "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."}}
	})
	stays(t, "no fallback before onDemandFallbackAfter", time.Second, func() error {
		if err := get(t, &batchv1.Job{}, "tenant-thrifty", job.Name+"-on-demand"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("fell back early: %v", err)
		}
		return nil
	})
	clock.Advance(6 * time.Minute)
	defer clock.Advance(-6 * time.Minute)
	// Any event makes the operator look again; in production the requeue after the wait does.
	orig := pod.DeepCopy()
	pod.Annotations = map[string]string{"example.com/poke": "1"}
	must(t, k8s.Patch(ctx, pod, client.MergeFrom(orig)))
	eventually(t, "on-demand job replaces the stuck spot job", func() error {
		od := &batchv1.Job{}
		if err := get(t, od, "tenant-thrifty", job.Name+"-on-demand"); err != nil {
			return err
		}
		if od.Spec.Template.Spec.NodeSelector["karpenter.sh/capacity-type"] != "on-demand" {
			return fmt.Errorf("node selector %v", od.Spec.Template.Spec.NodeSelector)
		}
		spot := &batchv1.Job{}
		if err := get(t, spot, "tenant-thrifty", job.Name); err == nil && spot.DeletionTimestamp.IsZero() {
			return fmt.Errorf("spot job not deleted")
		}
		return nil
	})
}

// A schedule that passes the CRD's rules but not the CronJob API's stalls the tenant with the
// API server's message, and fixing it resumes onboarding.
func TestScheduleTheCronJobAPIRefusesStallsUntilFixed(t *testing.T) {
	ctx := context.Background()
	servingCell(t, "euw9", "eu-central-2")
	tenant := newTenant("latenight", "eu-central-2", func(tn *saasv1.Tenant) {
		tn.Spec.Recommendations = saasv1.Recommendations{Schedule: "5-1 3 * * *", TimeZone: "UTC"} // admission checks ranges; the CronJob API also refuses a backwards range
	})
	create(t, tenant)
	playDBAvailable(t, tenant)
	tenantHas(t, "latenight", saasv1.ConditionMigrationsComplete, metav1.ConditionFalse, "Migrating")
	playJob(t, "tenant-latenight", "migrate-1-0-0", true)
	got := tenantHas(t, "latenight", saasv1.ConditionStalled, metav1.ConditionTrue, "InvalidSchedule")
	if msg := condition(got.Status.Conditions, saasv1.ConditionStalled).Message; !strings.Contains(msg, "spec.recommendations") || !strings.Contains(msg, "schedule") {
		t.Errorf("message: %s", msg)
	}
	must(t, get(t, got, "", "latenight"))
	got.Spec.Recommendations.Schedule = "1 3 * * *"
	must(t, k8s.Update(ctx, got))
	playRecordInSync(t, tenant)
	tenantHas(t, "latenight", saasv1.ConditionReady, metav1.ConditionTrue, "Ready")
}

// A failing step is named in the error the reconcile returns (and logged once, by
// controller-runtime, not also by the step).
func TestAFailingStepIsNamed(t *testing.T) {
	ctx := context.Background()
	servingCell(t, "step1", "ap-south-2")
	create(t, newTenant("named", "ap-south-2"))
	tenantHas(t, "named", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	injected := errors.New("injected read failure")
	r := handDriven(blindCache{Client: operator, answer: func(obj client.Object, _ client.ObjectKey) (bool, error) {
		if _, ok := obj.(*rds.DBInstance); ok {
			return true, injected
		}
		return false, nil
	}}, shared.NewPassword)
	_, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKey{Name: "named"}})
	if !errors.Is(err, injected) || !strings.HasPrefix(err.Error(), "step database: ") {
		t.Fatalf("error = %v, want it to name the database step and wrap the cause", err)
	}
}

// A suspended dedicated tenant's app is held at zero replicas; resumed, the Deployment no longer
// carries the zero (the HPA scales it again), and the app is Ready only with available pods.
func TestDedicatedResumeGivesReplicasBackToTheHPA(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "sus1", "ap-east-1")
	tenant := newTenant("sleeper", "ap-east-1", func(tn *saasv1.Tenant) { tn.Spec.Tier = saasv1.TierDedicated })
	create(t, tenant)
	onboard(t, cell, tenant)

	setSuspended := func(v bool) {
		tn := &saasv1.Tenant{}
		must(t, get(t, tn, "", "sleeper"))
		tn.Spec.Suspended = v
		must(t, k8s.Update(ctx, tn))
	}
	dep := &appsv1.Deployment{}
	setSuspended(true)
	eventually(t, "suspended app held at 0", func() error {
		must(t, get(t, dep, "tenant-sleeper", b.AppName))
		if dep.Spec.Replicas == nil || *dep.Spec.Replicas != 0 {
			return fmt.Errorf("replicas %v", dep.Spec.Replicas)
		}
		return nil
	})
	playDeploymentAvailable(t, "tenant-sleeper", b.AppName) // the Deployment controller reports 0 of 0
	tenantHas(t, "sleeper", saasv1.ConditionAppReady, metav1.ConditionFalse, "Suspended")

	setSuspended(false)
	eventually(t, "resumed app no longer held at 0", func() error {
		must(t, get(t, dep, "tenant-sleeper", b.AppName))
		if dep.Spec.Replicas != nil && *dep.Spec.Replicas == 0 {
			return fmt.Errorf("still replicas 0")
		}
		return nil
	})
	got := tenantHas(t, "sleeper", saasv1.ConditionAppReady, metav1.ConditionFalse, "RollingOut")
	if got.Status.Phase == saasv1.PhaseReady {
		t.Errorf("Ready with no available replica")
	}
	playDeploymentAvailable(t, "tenant-sleeper", b.AppName)
	got = tenantHas(t, "sleeper", saasv1.ConditionAppReady, metav1.ConditionTrue, "Serving")
	if msg := condition(got.Status.Conditions, saasv1.ConditionAppReady).Message; strings.Contains(msg, " 0 available") {
		t.Errorf("serving with no replica: %s", msg)
	}
}
