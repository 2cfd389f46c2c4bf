//go:build e2e

package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/notify"
	"github.com/tenantops/tenant-operator/controllers/regioncell"
	"github.com/tenantops/tenant-operator/test/testenv"
)

const baseDomain = "e2e.test"

// TestEndToEnd runs the scenarios in order on one cluster: each builds on what the one before
// left, as a region's life does.
func TestEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	cell := e2eCell(t)
	acme := tenant("acme", "Acme Corporation", saasv1.TierPooled)
	initech := tenant("initech", "Initech", saasv1.TierDedicated)
	initech.Spec.Scaling = &saasv1.TenantScaling{MinReplicas: ptr(int32(1)), MaxReplicas: ptr(int32(2))}

	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"a cell and a pooled and a dedicated tenant go Ready, migrated by real Jobs", func(t *testing.T) {
			onboard(ctx, t, cell, acme, initech)
		}},
		{"the app's pods serve each tenant through its Service by Host", func(t *testing.T) {
			serve(ctx, t, cell, acme, initech)
		}},
		{"the HPA scales the shared app out above 80 % CPU, holds between, and scales in below 10 %", func(t *testing.T) {
			hpaScales(ctx, t, cell)
		}},
		{"the recommendations CronJob runs app recommend, falling back to on-demand, and the app serves the result", func(t *testing.T) {
			recommend(ctx, t, cell, acme)
		}},
		{"an upgrade migrates every tenant before the rollout", func(t *testing.T) {
			upgrade(ctx, t, cell, acme, initech)
		}},
		{"a failing migration holds the rollout until it is retried", func(t *testing.T) {
			failingUpgrade(ctx, t, cell, acme)
		}},
		{"a suspended tenant stops being served, and comes back", func(t *testing.T) {
			suspend(ctx, t, cell, acme)
		}},
		{"the operator restarted during onboarding writes each child once", func(t *testing.T) {
			restartMidOnboarding(ctx, t, cell)
		}},
		{"the operator restarted in steady state writes nothing", func(t *testing.T) {
			restartSteady(ctx, t)
		}},
		{"a tenant deleted while the cell's receiver is down goes; its Deleted event arrives once, after a restart", func(t *testing.T) {
			deleteWithReceiverDown(ctx, t, cell)
		}},
		{"a second cell in the region takes acme: some cell serves it at every moment, both only for the move's bound", func(t *testing.T) {
			moveBetweenCells(ctx, t, cell, acme)
		}},
		{"a new tenant claims a database from the cell's warm pool: served in seconds, with its own password only", func(t *testing.T) {
			claimFromWarmPool(ctx, t, cell)
		}},
		{"a customer signs up through the console the chart runs: the Tenant it creates goes Ready", func(t *testing.T) {
			consoleSignup(ctx, t, cell)
		}},
	}
	for _, s := range steps {
		start := time.Now()
		ok := t.Run(s.name, s.run)
		timings = append(timings, timing{s.name, time.Since(start).Round(100 * time.Millisecond)})
		if !ok {
			logf("cell: %s", describeCell(ctx, cell.Name))
			t.FailNow()
		}
	}
}

func ptr[T any](v T) *T { return &v }

// e2eCell is the sample cell sized for one node: small requests, two app replicas, and spot
// scheduling that this node cannot satisfy (it is labelled on-demand), so recommendation runs
// really wait unschedulable and really fall back.
func e2eCell(t *testing.T) *saasv1.RegionCell {
	cell, err := testenv.SampleCell()
	if err != nil {
		t.Fatal(err)
	}
	cell.Spec.BaseDomain = baseDomain
	cell.Spec.Email = nil
	// No S3, CloudFront, SNS or CloudWatch here: the app serves its own files, nothing alarms.
	cell.Spec.Assets, cell.Spec.Alerts = nil, nil
	cell.Spec.App.Version = "1.0.0"
	cell.Spec.App.MinReplicas = 2
	cell.Spec.App.MaxReplicas = 3
	cell.Spec.App.Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
		Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")},
	}
	// Scale in as soon as usage is under 10 %, so the test need not wait the default 5 minutes.
	cell.Spec.Autoscaling.ScaleDownStabilizationSeconds = ptr(int32(0))
	cell.Spec.Spot.NodeSelector = map[string]string{"karpenter.sh/capacity-type": "spot"}
	cell.Spec.Spot.Tolerations = nil
	cell.Spec.Spot.OnDemandNodeSelector = map[string]string{"karpenter.sh/capacity-type": "on-demand"}
	cell.Spec.Spot.OnDemandFallbackAfter = &metav1.Duration{Duration: 30 * time.Second}
	return cell
}

func tenant(name, display, tier string) *saasv1.Tenant {
	return &saasv1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.TenantSpec{
			DisplayName: display, Region: "eu-west-1", Subdomain: name, Tier: tier,
			AdminEmail:      "admin@" + name + ".example",
			Database:        saasv1.TenantDatabase{DeletionPolicy: saasv1.DeletionDelete},
			Recommendations: saasv1.Recommendations{Schedule: "* * * * *", TimeZone: "UTC"},
		},
	}
}

func onboard(ctx context.Context, t *testing.T, cell *saasv1.RegionCell, tenants ...*saasv1.Tenant) {
	// The node is what a cloud's provisioner would label: on-demand capacity.
	node := &corev1.Node{}
	must(t, k.Get(ctx, client.ObjectKey{Name: "tenantops-e2e"}, node))
	node.Labels["karpenter.sh/capacity-type"] = "on-demand"
	must(t, k.Update(ctx, node))

	must(t, k.Create(ctx, cell))
	for _, tn := range tenants {
		must(t, k.Create(ctx, tn))
	}
	for _, tn := range tenants {
		waitTenantReady(ctx, t, tn.Name, 6*time.Minute)
	}
	waitCellRolledOut(ctx, t, cell.Name, "1.0.0")
	for _, tn := range tenants {
		ns := "tenant-" + tn.Name
		job := &batchv1.Job{}
		must(t, k.Get(ctx, client.ObjectKey{Namespace: ns, Name: b.MigrationJobName("1.0.0")}, job))
		if job.Status.Succeeded != 1 {
			t.Errorf("%s: migration Job %s succeeded %d times, want 1 (the real Job controller's count)", tn.Name, job.Name, job.Status.Succeeded)
		}
		if args := job.Spec.Template.Spec.Containers[0].Args; len(args) == 0 || args[0] != "migrate" {
			t.Errorf("%s: migration Job runs %v, want app migrate", tn.Name, args)
		}
		// The migration really ran against the tenant's own database.
		db := tenantDB(ctx, t, tn.Name)
		var versions int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&versions); err != nil || versions == 0 {
			t.Errorf("%s: schema_migrations has %d rows (%v): app migrate did not run against the tenant's database", tn.Name, versions, err)
		}
		// The tenant's configuration points the app at the stores that stand in for RDS and
		// ElastiCache, as the operator read them from the ACK status.
		cfg := &corev1.Secret{}
		must(t, k.Get(ctx, client.ObjectKey{Namespace: ns, Name: b.TenantConfigName}, cfg))
		if got := string(cfg.Data[saasv1.ConfigDBHost]); got != hostIP {
			t.Errorf("%s: %s = %q, want the stand-in RDS endpoint %s", tn.Name, saasv1.ConfigDBHost, got, hostIP)
		}
		if got := string(cfg.Data[saasv1.ConfigCacheAddress]); got != stores.Redis.Addr {
			t.Errorf("%s: %s = %q, want the stand-in ElastiCache endpoint %s", tn.Name, saasv1.ConfigCacheAddress, got, stores.Redis.Addr)
		}
	}
}

func serve(ctx context.Context, t *testing.T, cell *saasv1.RegionCell, acme, initech *saasv1.Tenant) {
	for _, d := range []client.ObjectKey{{Namespace: "cell-" + cell.Name, Name: b.AppName}, {Namespace: "tenant-" + initech.Name, Name: b.AppName}} {
		dep := &appsv1.Deployment{}
		must(t, k.Get(ctx, d, dep))
		if dep.Status.ReadyReplicas < 1 || dep.Status.ReadyReplicas != *dep.Spec.Replicas {
			t.Errorf("%s: %d of %d app pods Ready (the kubelet's count)", d, dep.Status.ReadyReplicas, *dep.Spec.Replicas)
		}
	}
	cellSvc := client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.AppName}
	initechSvc := client.ObjectKey{Namespace: "tenant-" + initech.Name, Name: b.AppName}
	cases := []struct {
		svc      client.ObjectKey
		host     string
		code     int
		contains string
	}{
		{cellSvc, "acme." + baseDomain, 200, "Acme Corporation"},
		{cellSvc, "ACME." + baseDomain + ":80", 200, "Acme Corporation"},
		{initechSvc, "initech." + baseDomain, 200, "Initech"},
		{cellSvc, "initech." + baseDomain, 404, ""}, // a dedicated tenant is not served by the pooled tier
		{initechSvc, "acme." + baseDomain, 404, ""}, // nor a pooled one by a dedicated tier
		{cellSvc, "nobody." + baseDomain, 404, ""},
	}
	for _, c := range cases {
		var code int
		var body string
		err := waitFor(ctx, time.Minute, "an answer from "+c.svc.String(), func() (bool, string) {
			code, body = get(ctx, t, c.svc, c.host, "/")
			return code == c.code, fmt.Sprintf("HTTP %d: %.200s", code, body)
		})
		if err != nil {
			t.Errorf("GET / Host %s via Service %s: %v", c.host, c.svc, err)
			continue
		}
		if !strings.Contains(body, c.contains) {
			t.Errorf("GET / Host %s via Service %s: page lacks %q:\n%.500s", c.host, c.svc, c.contains, body)
		}
	}
	// The pages' files resolve: the app serves its own (no CDN here), content-hashed, cacheable.
	for _, c := range []struct {
		svc  client.ObjectKey
		host string
	}{{cellSvc, "acme." + baseDomain}, {initechSvc, "initech." + baseDomain}} {
		_, page := get(ctx, t, c.svc, c.host, "/")
		files := regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`).FindAllStringSubmatch(page, -1)
		if len(files) < 2 {
			t.Errorf("%s's home page links %d files, want its stylesheet and logo: %.300s", c.host, len(files), page)
		}
		for _, f := range files {
			code, body := get(ctx, t, c.svc, c.host, f[1])
			if code != http.StatusOK || len(body) == 0 {
				t.Errorf("%s %s: HTTP %d, %d bytes", c.host, f[1], code, len(body))
			}
		}
	}
	// What the operations endpoints show spans every tenant: a tenant's host never reaches them
	// through the port the load balancer routes to; Prometheus and the kubelet use the ops port.
	for _, c := range []struct {
		svc  client.ObjectKey
		host string
	}{{cellSvc, "acme." + baseDomain}, {initechSvc, "initech." + baseDomain}} {
		for _, p := range []string{"/metrics", "/healthz", "/readyz"} {
			if code, body := get(ctx, t, c.svc, c.host, p); code != http.StatusNotFound || strings.Contains(body, "app_http_requests_total") {
				t.Errorf("GET %s Host %s via the tenant port of %s: HTTP %d %.200s", p, c.host, c.svc, code, body)
			}
		}
		// The pod that answers may have served no request yet: its process metrics are there.
		code, body := getPort(ctx, t, c.svc, b.OpsPortName, "/metrics")
		if code != 200 || !strings.Contains(body, "process_cpu_seconds_total") || !strings.Contains(body, "go_goroutines") {
			t.Errorf("GET /metrics via the ops port of %s: HTTP %d %.200s", c.svc, code, body)
		}
	}
}

// getPort GETs path from the Service's port of that name, with no Host header of a tenant.
func getPort(ctx context.Context, t *testing.T, svc client.ObjectKey, port, path string) (int, string) {
	s := &corev1.Service{}
	must(t, k.Get(ctx, svc, s))
	for _, p := range s.Spec.Ports {
		if p.Name == port {
			resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(fmt.Sprintf("http://%s:%d%s", s.Spec.ClusterIP, p.Port, path))
			if err != nil {
				return 0, err.Error()
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(out)
		}
	}
	t.Fatalf("Service %s has no port %s", svc, port)
	return 0, ""
}

func recommend(ctx context.Context, t *testing.T, cell *saasv1.RegionCell, acme *saasv1.Tenant) {
	svc := client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.AppName}
	host := "acme." + baseDomain
	db := tenantDB(ctx, t, acme.Name)
	// Items come from the tenant's own back office; ratings come in through the app.
	var ids []int64
	for _, name := range []string{"Anvil", "Rocket skates", "Giant magnet"} {
		res, err := db.ExecContext(ctx, "INSERT INTO items (category, name, description) VALUES ('gear', ?, 'e2e')", name)
		must(t, err)
		id, _ := res.LastInsertId()
		ids = append(ids, id)
	}
	for i, id := range ids {
		for r := 0; r < 3+i; r++ {
			body := fmt.Sprintf(`{"customer": "wile-%d", "stars": %d, "review": "e2e"}`, r, 5-i)
			code, out := do(ctx, t, http.MethodPost, svc, host, fmt.Sprintf("/api/items/%d/ratings", id), body)
			if code != http.StatusCreated {
				t.Fatalf("rating item %d through the Service: HTTP %d: %s", id, code, out)
			}
		}
	}
	logf("seeded 3 items and 12 ratings; waiting for a recommendations run (every minute, spot first)")
	var recs struct {
		Recommendations []struct {
			ItemName string  `json:"itemName"`
			Score    float64 `json:"score"`
			Ratings  int64   `json:"ratings"`
		} `json:"recommendations"`
		Source string `json:"source"`
	}
	err := waitFor(ctx, 5*time.Minute, "recommendations for the seeded items", func() (bool, string) {
		code, out := get(ctx, t, svc, host, "/api/recommendations?category=gear")
		if code != 200 {
			return false, fmt.Sprintf("HTTP %d %s; jobs: %s", code, out, jobStates(ctx, "tenant-acme"))
		}
		if err := json.Unmarshal([]byte(out), &recs); err != nil {
			return false, err.Error()
		}
		return len(recs.Recommendations) == len(ids), fmt.Sprintf("%s; jobs: %s", out, jobStates(ctx, "tenant-acme"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if recs.Source != "cache" {
		t.Errorf("recommendations came from %q, want the cache app recommend filled (Redis over TLS)", recs.Source)
	}
	if recs.Recommendations[0].ItemName != "Anvil" || recs.Recommendations[0].Ratings != 3 {
		t.Errorf("top recommendation %+v, want Anvil with 3 five-star ratings", recs.Recommendations[0])
	}
	// The run that produced them: a spot Job the real scheduler could not place, replaced by an
	// on-demand Job that ran to success.
	err = waitFor(ctx, 2*time.Minute, "the on-demand run to succeed", func() (bool, string) {
		var jobs batchv1.JobList
		if err := k.List(ctx, &jobs, client.InNamespace("tenant-acme"), client.MatchingLabels{saasv1.LabelComponent: b.ComponentRecommend}); err != nil {
			return false, err.Error()
		}
		for _, j := range jobs.Items {
			if spot := j.Annotations[b.AnnotationFallbackOf]; spot != "" && j.Status.Succeeded == 1 {
				logf("on-demand Job %s replaced spot Job %s and succeeded", j.Name, spot)
				return true, ""
			}
		}
		return false, jobStates(ctx, "tenant-acme")
	})
	if err != nil {
		t.Error(err)
	}
}

func upgrade(ctx context.Context, t *testing.T, cell *saasv1.RegionCell, acme, initech *saasv1.Tenant) {
	setCellVersion(ctx, t, cell.Name, "1.1.0")
	waitCellRolledOut(ctx, t, cell.Name, "1.1.0")
	waitTenantReady(ctx, t, acme.Name, 3*time.Minute)
	waitTenantReady(ctx, t, initech.Name, 3*time.Minute)
	for _, c := range []struct {
		tenant string
		dep    client.ObjectKey
	}{
		{acme.Name, client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.AppName}},
		{initech.Name, client.ObjectKey{Namespace: "tenant-" + initech.Name, Name: b.AppName}},
	} {
		job := &batchv1.Job{}
		must(t, k.Get(ctx, client.ObjectKey{Namespace: "tenant-" + c.tenant, Name: b.MigrationJobName("1.1.0")}, job))
		if job.Status.CompletionTime == nil || job.Status.Succeeded != 1 {
			t.Fatalf("%s: migration to 1.1.0 did not complete: %+v", c.tenant, job.Status)
		}
		rs := replicaSetWithImage(ctx, t, c.dep, appImage+":1.1.0")
		if rs == nil {
			t.Fatalf("%s: no ReplicaSet of %s runs %s:1.1.0", c.tenant, c.dep, appImage)
		}
		if rs.CreationTimestamp.Before(job.Status.CompletionTime) {
			t.Errorf("%s: the 1.1.0 pods (ReplicaSet %s, %s) started before its migration completed (%s)",
				c.tenant, rs.Name, rs.CreationTimestamp, job.Status.CompletionTime)
		}
	}
}

func failingUpgrade(ctx context.Context, t *testing.T, cell *saasv1.RegionCell, acme *saasv1.Tenant) {
	db := tenantDB(ctx, t, acme.Name)
	master := masterUser(ctx, t, acme.Name)
	// The database refuses the tenant's master user: every migration attempt fails, as it
	// would against an RDS instance whose credentials were rotated behind the operator's back.
	_, err := db.ExecContext(ctx, "ALTER USER '"+master+"'@'%' ACCOUNT LOCK")
	must(t, err)
	setCellVersion(ctx, t, cell.Name, "1.2.0")
	cellDep := client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.AppName}
	err = waitFor(ctx, 4*time.Minute, "acme's migration to fail and the cell to hold", func() (bool, string) {
		tn := &saasv1.Tenant{}
		c := &saasv1.RegionCell{}
		if k.Get(ctx, client.ObjectKey{Name: acme.Name}, tn) != nil || k.Get(ctx, client.ObjectKey{Name: cell.Name}, c) != nil {
			return false, "reading"
		}
		stalled := meta.IsStatusConditionTrue(tn.Status.Conditions, saasv1.ConditionStalled)
		rollout := meta.FindStatusCondition(c.Status.Conditions, saasv1.ConditionRolloutComplete)
		held := rollout != nil && rollout.Status == metav1.ConditionFalse && strings.Contains(rollout.Message, acme.Name)
		return stalled && held, fmt.Sprintf("tenant stalled=%v; cell rollout %+v; jobs %s", stalled, rollout, jobStates(ctx, "tenant-acme"))
	})
	if err != nil {
		t.Fatal(err)
	}
	stalled := meta.FindStatusCondition(mustTenant(ctx, t, acme.Name).Status.Conditions, saasv1.ConditionStalled)
	if !strings.Contains(stalled.Message, "delete the Job to retry") {
		t.Errorf("Stalled says %q; it should tell how to retry", stalled.Message)
	}
	// Held, not just slow: for a while after the failure the pods still run 1.1.0.
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(time.Second) {
		if img := deploymentImage(ctx, t, cellDep); img != appImage+":1.1.0" {
			t.Fatalf("the cell's app moved to %s although acme's migration failed", img)
		}
	}
	// The fix, then the documented retry.
	_, err = db.ExecContext(ctx, "ALTER USER '"+master+"'@'%' ACCOUNT UNLOCK")
	must(t, err)
	must(t, k.Delete(ctx, &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-acme", Name: b.MigrationJobName("1.2.0")}},
		client.PropagationPolicy(metav1.DeletePropagationBackground)))
	waitCellRolledOut(ctx, t, cell.Name, "1.2.0")
	waitTenantReady(ctx, t, acme.Name, 3*time.Minute)
	if img := deploymentImage(ctx, t, cellDep); img != appImage+":1.2.0" {
		t.Errorf("after the retry the cell's app runs %s, want 1.2.0", img)
	}
}

func suspend(ctx context.Context, t *testing.T, cell *saasv1.RegionCell, acme *saasv1.Tenant) {
	svc := client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.AppName}
	host := "acme." + baseDomain
	setSuspend(ctx, t, acme.Name, true)
	if err := waitFor(ctx, time.Minute, "acme to stop being served", func() (bool, string) {
		code, body := get(ctx, t, svc, host, "/")
		return code == http.StatusNotFound, fmt.Sprintf("HTTP %d %.100s", code, body)
	}); err != nil {
		t.Fatal(err)
	}
	// The operator writes the tenant's status at the end of the reconcile that stopped serving
	// it; the app, watching its configuration, may stop a moment before.
	if err := waitFor(ctx, 30*time.Second, "acme's Ready to say Suspended", func() (bool, string) {
		ready := meta.FindStatusCondition(mustTenant(ctx, t, acme.Name).Status.Conditions, saasv1.ConditionReady)
		return ready != nil && ready.Reason == "Suspended", fmt.Sprintf("Ready %+v", ready)
	}); err != nil {
		t.Error(err)
	}
	if db := tenantDB(ctx, t, acme.Name); db.PingContext(ctx) != nil {
		t.Errorf("suspending lost the tenant's database")
	}
	setSuspend(ctx, t, acme.Name, false)
	if err := waitFor(ctx, time.Minute, "acme to be served again", func() (bool, string) {
		code, body := get(ctx, t, svc, host, "/")
		return code == http.StatusOK && strings.Contains(body, "Acme Corporation"), fmt.Sprintf("HTTP %d %.100s", code, body)
	}); err != nil {
		t.Fatal(err)
	}
}

func restartMidOnboarding(ctx context.Context, t *testing.T, cell *saasv1.RegionCell) {
	globex := tenant("globex", "Globex", saasv1.TierPooled)
	// RDS is slow today: globex's database stays creating until after the restart, so the
	// restart lands in the middle of its onboarding.
	stores.Hold("tenant-globex")
	since := time.Now()
	must(t, k.Create(ctx, globex))
	if err := waitFor(ctx, time.Minute, "the operator to ask RDS for globex's database", func() (bool, string) {
		var list rds.DBInstanceList
		return k.List(ctx, &list, client.InNamespace("tenant-globex")) == nil && len(list.Items) == 1, "no DBInstance yet"
	}); err != nil {
		t.Fatal(err)
	}
	restartOperator(ctx, t)
	tn := mustTenant(ctx, t, globex.Name)
	if meta.IsStatusConditionTrue(tn.Status.Conditions, saasv1.ConditionReady) {
		t.Fatalf("globex is Ready before its database exists: %s", conditionSummary(tn.Status.Conditions))
	}
	logf("globex is %s across the restart; RDS answers now", tn.Status.Phase)
	stores.Release("tenant-globex")
	waitTenantReady(ctx, t, globex.Name, 5*time.Minute)
	// Ready means the configuration is written; the app's pods pick it up through their watch.
	if err := waitFor(ctx, time.Minute, "globex to be served", func() (bool, string) {
		code, body := get(ctx, t, client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.AppName}, "globex."+baseDomain, "/")
		return code == 200 && strings.Contains(body, "Globex"), fmt.Sprintf("HTTP %d %.200s", code, body)
	}); err != nil {
		t.Errorf("globex after the restart: %v", err)
	}
	writes := operatorWrites(t, since)
	n := 0
	for obj, count := range writes {
		if !strings.Contains(obj, "tenant-globex") || strings.HasPrefix(obj, "events") || strings.HasPrefix(obj, "leases") {
			continue
		}
		n++
		if count > 1 {
			t.Errorf("%s written %d times across the restart, want once", obj, count)
		}
	}
	if n < 5 {
		t.Errorf("the audit log shows only %d of globex's children written by the operator: %v", n, writes)
	}
	logf("globex's %d children were each written once across the restart", n)
}

func restartSteady(ctx context.Context, t *testing.T) {
	// The every-minute recommendation runs are the cluster changing (a run stuck on spot is moved
	// to on-demand capacity, rightly): they are paused and the last run let finish, so that the
	// region is really at rest.
	var tenants saasv1.TenantList
	must(t, k.List(ctx, &tenants))
	for i := range tenants.Items {
		tn := &tenants.Items[i]
		orig := tn.DeepCopy()
		tn.Spec.Recommendations.Suspend = true
		must(t, k.Patch(ctx, tn, client.MergeFrom(orig)))
	}
	if err := waitFor(ctx, 2*time.Minute, "no recommendation run left waiting or running", func() (bool, string) {
		var pods corev1.PodList
		must(t, k.List(ctx, &pods, client.MatchingLabels{saasv1.LabelComponent: b.ComponentRecommend}))
		for _, p := range pods.Items {
			if p.Status.Phase == corev1.PodPending || p.Status.Phase == corev1.PodRunning {
				return false, p.Namespace + "/" + p.Name + " " + string(p.Status.Phase)
			}
		}
		for _, tn := range tenants.Items {
			cj := &batchv1.CronJob{}
			must(t, k.Get(ctx, client.ObjectKey{Namespace: b.TenantNamespace(&tn), Name: b.RecommendCronJobName}, cj))
			if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
				return false, "the CronJob of " + tn.Name + " runs"
			}
		}
		return true, ""
	}); err != nil {
		t.Fatal(err)
	}
	// A cell counts its tenants at most once a second (regioncell.TenantBatchWindow): let the
	// count of globex, just Ready, land before the region is called steady.
	if err := waitFor(ctx, time.Minute, "the cells to count every tenant's phase", func() (bool, string) {
		return cellsCountTheirTenants(ctx, t)
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * regioncell.TenantBatchWindow)
	before := resourceVersions(ctx, t)
	since := restartOperator(ctx, t)
	// The new leader's first pass over every tenant and cell, with time to spare.
	time.Sleep(20 * time.Second)
	writes := operatorWrites(t, since)
	for obj, count := range writes {
		if strings.HasPrefix(obj, "leases/"+operatorNS+"/") || strings.HasPrefix(obj, "events/"+operatorNS+"/") {
			continue // the new leader's lease, and its "became leader" Event on it
		}
		t.Errorf("after the restart the operator wrote %s %d times; an unchanged region needs no writes", obj, count)
	}
	after := resourceVersions(ctx, t)
	for key, rv := range before {
		if after[key] != rv {
			t.Errorf("%s changed across the restart (%s -> %s)", key, rv, after[key])
		}
	}
}

// restartOperator deletes the operator's pod, as a node drain or an OOM kill would, and waits
// until its replacement holds the leader lease; it returns when the old pod was gone.
// operatorOnly selects the operator's own pods and Deployment in its namespace: the chart's
// console is there too, labelled with its component.
func operatorOnly() client.ListOption {
	sel, _ := labels.Parse("!app.kubernetes.io/component")
	return client.MatchingLabelsSelector{Selector: sel}
}

func restartOperator(ctx context.Context, t *testing.T) time.Time {
	var pods corev1.PodList
	must(t, k.List(ctx, &pods, client.InNamespace(operatorNS), operatorOnly()))
	if len(pods.Items) != 1 {
		t.Fatalf("%d operator pods, want 1", len(pods.Items))
	}
	old := pods.Items[0]
	must(t, k.Delete(ctx, &old))
	if err := waitFor(ctx, time.Minute, "the old operator pod to go", func() (bool, string) {
		p := &corev1.Pod{}
		return k.Get(ctx, client.ObjectKeyFromObject(&old), p) != nil, string(p.Status.Phase)
	}); err != nil {
		t.Fatal(err)
	}
	gone := time.Now()
	if err := waitFor(ctx, 2*time.Minute, "a new operator pod to lead", func() (bool, string) {
		var leases coordinationv1.LeaseList
		if err := k.List(ctx, &leases, client.InNamespace(operatorNS)); err != nil {
			return false, err.Error()
		}
		for _, l := range leases.Items {
			if l.Spec.HolderIdentity != nil && strings.HasPrefix(*l.Spec.HolderIdentity, old.Name) {
				return false, "still held by " + *l.Spec.HolderIdentity
			}
			if l.Spec.HolderIdentity != nil && *l.Spec.HolderIdentity != "" {
				return true, ""
			}
		}
		return false, "no lease held: " + podStates(ctx, operatorNS)
	}); err != nil {
		t.Fatal(err)
	}
	logf("operator restarted: %s replaced", old.Name)
	return gone
}

// operatorWrites counts, from the API server's audit log, the writes the operator's
// ServiceAccount made since a moment, by resource/namespace/name[/subresource].
func operatorWrites(t *testing.T, since time.Time) map[string]int {
	dep := &appsv1.DeploymentList{}
	must(t, k.List(context.Background(), dep, client.InNamespace(operatorNS), operatorOnly()))
	user := "system:serviceaccount:" + operatorNS + ":" + dep.Items[0].Spec.Template.Spec.ServiceAccountName
	f, err := os.Open(filepath.Join(clusterDir, "logs", "audit.log"))
	must(t, err)
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var ev struct {
			Verb string `json:"verb"`
			User struct {
				Username string `json:"username"`
			} `json:"user"`
			ObjectRef struct {
				Resource, Namespace, Name, Subresource string
			} `json:"objectRef"`
			Received time.Time `json:"requestReceivedTimestamp"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil || ev.User.Username != user || ev.Received.Before(since) {
			continue
		}
		key := ev.ObjectRef.Resource + "/" + ev.ObjectRef.Namespace + "/" + ev.ObjectRef.Name
		if ev.ObjectRef.Subresource != "" {
			key += "/" + ev.ObjectRef.Subresource
		}
		counts[key]++
	}
	must(t, sc.Err())
	return counts
}

// resourceVersions of everything the operator owns or reports on; for the kinds whose status a
// real controller keeps writing (Deployments, CronJobs), their generation, which only a change
// of spec moves.
func resourceVersions(ctx context.Context, t *testing.T) map[string]string {
	out := map[string]string{}
	lists := []client.ObjectList{&saasv1.TenantList{}, &saasv1.RegionCellList{}, &appsv1.DeploymentList{}, &corev1.SecretList{},
		&corev1.ServiceList{}, &batchv1.CronJobList{}, &rds.DBInstanceList{}}
	for _, l := range lists {
		must(t, k.List(ctx, l))
		items, err := meta.ExtractList(l)
		must(t, err)
		for _, it := range items {
			o := it.(client.Object)
			if o.GetLabels()[saasv1.LabelManagedBy] != saasv1.LabelManagedByValue && !strings.HasPrefix(fmt.Sprintf("%T", l), "*v1alpha1.") {
				continue
			}
			version := "resourceVersion " + o.GetResourceVersion()
			switch o.(type) {
			case *appsv1.Deployment, *batchv1.CronJob:
				version = fmt.Sprintf("generation %d", o.GetGeneration())
			}
			out[fmt.Sprintf("%T %s/%s", o, o.GetNamespace(), o.GetName())] = version
		}
	}
	return out
}

// --- small helpers ---

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustTenant(ctx context.Context, t *testing.T, name string) *saasv1.Tenant {
	tn := &saasv1.Tenant{}
	must(t, k.Get(ctx, client.ObjectKey{Name: name}, tn))
	return tn
}

func waitTenantReady(ctx context.Context, t *testing.T, name string, within time.Duration) {
	t.Helper()
	if err := waitFor(ctx, within, "Tenant "+name+" Ready", func() (bool, string) {
		tn := &saasv1.Tenant{}
		if err := k.Get(ctx, client.ObjectKey{Name: name}, tn); err != nil {
			return false, err.Error()
		}
		ready := meta.FindStatusCondition(tn.Status.Conditions, saasv1.ConditionReady)
		ok := ready != nil && ready.Status == metav1.ConditionTrue && ready.ObservedGeneration == tn.Generation
		return ok, fmt.Sprintf("phase %s, conditions %s; pods %s", tn.Status.Phase, conditionSummary(tn.Status.Conditions), podStates(ctx, "tenant-"+name))
	}); err != nil {
		t.Fatal(err)
	}
}

func waitCellRolledOut(ctx context.Context, t *testing.T, name, version string) {
	t.Helper()
	if err := waitFor(ctx, 5*time.Minute, "cell "+name+" rolled out at "+version, func() (bool, string) {
		c := &saasv1.RegionCell{}
		if err := k.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
			return false, err.Error()
		}
		done := meta.IsStatusConditionTrue(c.Status.Conditions, saasv1.ConditionRolloutComplete) &&
			meta.IsStatusConditionTrue(c.Status.Conditions, saasv1.ConditionReady) && c.Status.AppVersion == version
		return done, describeCell(ctx, name)
	}); err != nil {
		t.Fatal(err)
	}
}

func describeCell(ctx context.Context, name string) string {
	c := &saasv1.RegionCell{}
	if err := k.Get(ctx, client.ObjectKey{Name: name}, c); err != nil {
		return err.Error()
	}
	return fmt.Sprintf("appVersion %q, conditions %s; pods %s", c.Status.AppVersion, conditionSummary(c.Status.Conditions), podStates(ctx, "cell-"+name))
}

func conditionSummary(conds []metav1.Condition) string {
	var out []string
	for _, c := range conds {
		out = append(out, fmt.Sprintf("%s=%s(%s: %s)", c.Type, c.Status, c.Reason, c.Message))
	}
	return strings.Join(out, " ")
}

func jobStates(ctx context.Context, ns string) string {
	var jobs batchv1.JobList
	if err := k.List(ctx, &jobs, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	var out []string
	for _, j := range jobs.Items {
		out = append(out, fmt.Sprintf("%s(active %d, succeeded %d, failed %d)", j.Name, j.Status.Active, j.Status.Succeeded, j.Status.Failed))
	}
	return strings.Join(out, ", ") + "; pods " + podStates(ctx, ns)
}

func setCellVersion(ctx context.Context, t *testing.T, name, version string) {
	c := &saasv1.RegionCell{}
	must(t, k.Get(ctx, client.ObjectKey{Name: name}, c))
	patch := client.MergeFrom(c.DeepCopy())
	c.Spec.App.Version = version
	must(t, k.Patch(ctx, c, patch))
}

func setSuspend(ctx context.Context, t *testing.T, name string, suspend bool) {
	tn := mustTenant(ctx, t, name)
	patch := client.MergeFrom(tn.DeepCopy())
	tn.Spec.Suspended = suspend
	must(t, k.Patch(ctx, tn, patch))
}

func deploymentImage(ctx context.Context, t *testing.T, key client.ObjectKey) string {
	d := &appsv1.Deployment{}
	must(t, k.Get(ctx, key, d))
	return d.Spec.Template.Spec.Containers[0].Image
}

func replicaSetWithImage(ctx context.Context, t *testing.T, dep client.ObjectKey, image string) *appsv1.ReplicaSet {
	var sets appsv1.ReplicaSetList
	must(t, k.List(ctx, &sets, client.InNamespace(dep.Namespace)))
	for i, rs := range sets.Items {
		if rs.Spec.Template.Spec.Containers[0].Image == image {
			return &sets.Items[i]
		}
	}
	return nil
}

// dbInstance is the tenant's DBInstance.
func dbInstance(ctx context.Context, t *testing.T, tenant string) *rds.DBInstance {
	var list rds.DBInstanceList
	must(t, k.List(ctx, &list, client.InNamespace("tenant-"+tenant)))
	if len(list.Items) != 1 {
		t.Fatalf("tenant %s has %d DBInstances", tenant, len(list.Items))
	}
	return &list.Items[0]
}

func masterUser(ctx context.Context, t *testing.T, tenant string) string {
	return *dbInstance(ctx, t, tenant).Spec.MasterUsername
}

// tenantDB is root on the MariaDB standing in for the tenant's RDS instance, in its database.
func tenantDB(ctx context.Context, t *testing.T, tenant string) *sql.DB {
	inst := dbInstance(ctx, t, tenant)
	srv := stores.Database(inst.Namespace, inst.Name)
	if srv == nil {
		t.Fatalf("no stand-in database for %s/%s", inst.Namespace, inst.Name)
	}
	db, err := sql.Open("mysql", srv.RootDSN(*inst.Spec.DBName))
	must(t, err)
	t.Cleanup(func() { db.Close() })
	return db
}

// get and do reach a Service by its ClusterIP from the host, through kube-proxy's rules, with
// the Host header a browser would send.
func get(ctx context.Context, t *testing.T, svc client.ObjectKey, host, path string) (int, string) {
	return do(ctx, t, http.MethodGet, svc, host, path, "")
}

func do(ctx context.Context, t *testing.T, method string, svc client.ObjectKey, host, path, body string) (int, string) {
	s := &corev1.Service{}
	must(t, k.Get(ctx, svc, s))
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.Spec.ClusterIP+path, bytes.NewBufferString(body))
	must(t, err)
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// webhookReceiver stands in for a CRM: down (503) until told otherwise, then it takes events and
// counts them by id.
type webhookReceiver struct {
	mu   sync.Mutex
	down bool
	took map[string]int
}

func (r *webhookReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	r.took[req.Header.Get(notify.HeaderDelivery)]++
	w.WriteHeader(http.StatusAccepted)
}

func (r *webhookReceiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *webhookReceiver) taken(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.took[id]
}

func deleteWithReceiverDown(ctx context.Context, t *testing.T, cell *saasv1.RegionCell) {
	rcv := &webhookReceiver{down: true, took: map[string]int{}}
	ln, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	must(t, err)
	srv := &http.Server{Handler: rcv}
	go func() { _ = srv.ServeTLS(ln, receiverCert, receiverKey) }()
	defer srv.Close()

	must(t, k.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "e2e-webhooks"}}))
	must(t, k.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "e2e-webhooks", Name: "hmac"},
		Data: map[string][]byte{"key": []byte("e2e-hmac")}}))
	c := &saasv1.RegionCell{}
	must(t, k.Get(ctx, client.ObjectKey{Name: cell.Name}, c))
	c.Spec.Notifications = &saasv1.Notifications{
		Webhooks:      []saasv1.Webhook{{Name: "crm", Purpose: "CRM", URL: "https://" + ln.Addr().String() + "/crm"}},
		HMACSecretRef: &saasv1.SecretKeyRef{Namespace: "e2e-webhooks", Name: "hmac", Key: "key"},
	}
	must(t, k.Update(ctx, c))

	umbrella := tenant("umbrella", "Umbrella", saasv1.TierPooled)
	umbrella.Spec.Database.DeletionPolicy = saasv1.DeletionDelete
	must(t, k.Create(ctx, umbrella))
	waitTenantReady(ctx, t, umbrella.Name, 6*time.Minute)
	uid := string(mustTenant(ctx, t, umbrella.Name).UID)

	start := time.Now()
	must(t, k.Delete(ctx, umbrella))
	if err := waitFor(ctx, 3*time.Minute, "umbrella to go while its receiver is down", func() (bool, string) {
		tn := &saasv1.Tenant{}
		err := k.Get(ctx, client.ObjectKey{Name: umbrella.Name}, tn)
		return apierrors.IsNotFound(err), conditionSummary(tn.Status.Conditions)
	}); err != nil {
		t.Fatal(err)
	}
	logf("umbrella deleted in %s with its receiver down", time.Since(start).Round(100*time.Millisecond))
	entry := &corev1.ConfigMap{}
	must(t, k.Get(ctx, client.ObjectKey{Namespace: "cell-" + cell.Name, Name: "event-" + uid + "-deleted"}, entry))

	restartOperator(ctx, t)
	rcv.setDown(false)
	if err := waitFor(ctx, 3*time.Minute, "the Deleted event to reach the receiver", func() (bool, string) {
		return rcv.taken(uid+"-deleted") > 0, "not yet"
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Second) // a second delivery, if there were one, would have come
	if n := rcv.taken(uid + "-deleted"); n != 1 {
		t.Errorf("the Deleted event reached the receiver %d times, want once", n)
	}
}

// The chart's move timings for the e2e (values in setup_test.go): short, so the scenario is.
const (
	moveWarmup = 5 * time.Second
	moveDrain  = 15 * time.Second
)

// moveBetweenCells adds a second cell to the region, moves acme there, and samples both cells'
// apps (through their Services, with acme's Host) every 250 ms together with where acme's DNS
// record points: the cell the record points at must serve acme at every sample, and both cells
// may serve it only for the move's bound (warm-up, Route53, drain) plus a margin for the app's
// watch.
func moveBetweenCells(ctx context.Context, t *testing.T, from *saasv1.RegionCell, acme *saasv1.Tenant) {
	to := e2eCell(t)
	to.Name = "eu-west-1-b"
	to.Spec.Ingress.LoadBalancerDNSName = "k8s-celleuwest1b-0123456789.eu-west-1.elb.amazonaws.com"
	to.Spec.App.MinReplicas, to.Spec.App.MaxReplicas = 1, 1
	to.Spec.Notifications = nil
	to.Spec.App.Version = mustCell(ctx, t, from.Name).Spec.App.Version
	must(t, k.Create(ctx, to))
	if err := waitFor(ctx, 3*time.Minute, "cell "+to.Name+" Ready", func() (bool, string) {
		c := mustCell(ctx, t, to.Name)
		return meta.IsStatusConditionTrue(c.Status.Conditions, saasv1.ConditionReady), conditionSummary(c.Status.Conditions)
	}); err != nil {
		t.Fatal(err)
	}
	host := "acme." + baseDomain
	fromSvc := client.ObjectKey{Namespace: "cell-" + from.Name, Name: b.AppName}
	toSvc := client.ObjectKey{Namespace: "cell-" + to.Name, Name: b.AppName}
	// Its app answers (kube-proxy has its Service), and not for acme yet.
	var code int
	if err := waitFor(ctx, time.Minute, "the new cell's app to answer", func() (bool, string) {
		var body string
		code, body = get(ctx, t, toSvc, host, "/")
		return code != 0, body
	}); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusNotFound {
		t.Fatalf("the new cell serves acme (HTTP %d) before the move", code)
	}

	type sample struct {
		at               time.Time
		fromOK, toOK     bool
		dnsFrom, dnsTo   bool
		fromCode, toCode int
	}
	var samples []sample
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
			rs := &route53.RecordSet{}
			if k.Get(ctx, client.ObjectKey{Namespace: "tenant-acme", Name: b.RecordSetName}, rs) != nil || rs.Spec.AliasTarget == nil {
				continue
			}
			fc, fb := get(ctx, t, fromSvc, host, "/")
			tc, tb := get(ctx, t, toSvc, host, "/")
			target := *rs.Spec.AliasTarget.DNSName
			samples = append(samples, sample{at: time.Now(),
				fromOK: fc == http.StatusOK && strings.Contains(fb, "Acme Corporation"), toOK: tc == http.StatusOK && strings.Contains(tb, "Acme Corporation"),
				dnsFrom: target == from.Spec.Ingress.LoadBalancerDNSName, dnsTo: target == to.Spec.Ingress.LoadBalancerDNSName,
				fromCode: fc, toCode: tc})
		}
	}()
	time.Sleep(time.Second)
	started := time.Now()
	tn := mustTenant(ctx, t, acme.Name)
	orig := tn.DeepCopy()
	tn.Spec.Cell = to.Name
	must(t, k.Patch(ctx, tn, client.MergeFrom(orig)))
	err := waitFor(ctx, 5*time.Minute, "acme moved to "+to.Name, func() (bool, string) {
		got := mustTenant(ctx, t, acme.Name)
		placed := meta.FindStatusCondition(got.Status.Conditions, saasv1.ConditionPlaced)
		return got.Status.Cell == to.Name && got.Status.Move == nil && placed != nil && placed.Status == metav1.ConditionTrue,
			fmt.Sprintf("cell %s, move %+v, %s", got.Status.Cell, got.Status.Move, conditionSummary(got.Status.Conditions))
	})
	moved := time.Since(started)
	time.Sleep(2 * time.Second) // the old cell's app lets go through its watch
	close(stop)
	<-sampled
	if err != nil {
		t.Fatal(err)
	}

	var neither, dnsToNonServing int
	var both time.Duration
	var firstBoth, lastBoth time.Time
	for _, s := range samples {
		if !s.fromOK && !s.toOK {
			neither++
		}
		if (s.dnsFrom && !s.fromOK) || (s.dnsTo && !s.toOK) {
			dnsToNonServing++
			t.Errorf("at %s DNS pointed at a cell that did not serve acme (from %d, to %d, DNS at from %v)",
				s.at.Format("15:04:05.000"), s.fromCode, s.toCode, s.dnsFrom)
		}
		if s.fromOK && s.toOK {
			if firstBoth.IsZero() {
				firstBoth = s.at
			}
			lastBoth = s.at
		}
	}
	if !firstBoth.IsZero() {
		both = lastBoth.Sub(firstBoth)
	}
	last := samples[len(samples)-1]
	if !last.toOK || last.fromOK || !last.dnsTo {
		t.Errorf("after the move: new cell serves %v, old cell serves %v, DNS at the new cell %v", last.toOK, last.fromOK, last.dnsTo)
	}
	// Route53 is played within a second; the apps pick up a configuration within a second or two.
	if bound := moveWarmup + moveDrain + 30*time.Second; both > bound {
		t.Errorf("both cells served acme for %s, longer than the move's bound %s", both.Round(time.Second), bound)
	}
	if neither > 0 {
		t.Errorf("%d of %d samples: neither cell served acme", neither, len(samples))
	}
	logf("acme moved in %s; %d samples, %d served by neither, %d with DNS at a cell not serving; both cells served it for %s (warm-up %s + drain %s)",
		moved.Round(100*time.Millisecond), len(samples), neither, dnsToNonServing, both.Round(100*time.Millisecond), moveWarmup, moveDrain)
	timings = append(timings, timing{fmt.Sprintf("move of acme between cells (both served it %s)", both.Round(time.Second)), moved.Round(100 * time.Millisecond)})
	// The database was not touched: its MariaDB, the one the operator asked for, still answers.
	if db := dbInstance(ctx, t, acme.Name); *db.Spec.DBInstanceIdentifier != "tenant-"+from.Name+"-acme" {
		t.Errorf("acme's database identifier changed to %s", *db.Spec.DBInstanceIdentifier)
	}
	if db := tenantDB(ctx, t, acme.Name); db.PingContext(ctx) != nil {
		t.Errorf("acme's database does not answer after the move")
	}
}

func mustCell(ctx context.Context, t *testing.T, name string) *saasv1.RegionCell {
	c := &saasv1.RegionCell{}
	must(t, k.Get(ctx, client.ObjectKey{Name: name}, c))
	return c
}

// cellsCountTheirTenants says whether every cell's status counts its tenants' phases as they are.
func cellsCountTheirTenants(ctx context.Context, t *testing.T) (bool, string) {
	var cells saasv1.RegionCellList
	var tenants saasv1.TenantList
	must(t, k.List(ctx, &cells))
	must(t, k.List(ctx, &tenants))
	for _, c := range cells.Items {
		want := map[string]int32{}
		for _, tn := range tenants.Items {
			if tn.Status.Cell == c.Name || (tn.Status.Move != nil && tn.Status.Move.From == c.Name) {
				want[tn.Status.Phase]++
			}
		}
		if fmt.Sprint(want) != fmt.Sprint(c.Status.TenantsByPhase) {
			return false, fmt.Sprintf("cell %s counts %v, its tenants are %v", c.Name, c.Status.TenantsByPhase, want)
		}
	}
	return true, ""
}

// claimFromWarmPool gives the cell a warm pool of one database (a real MariaDB made with the
// pool's password), signs a new tenant up, and checks that it is served from that database with
// its own password, that the pool's password no longer logs in, and that the pool refills.
func claimFromWarmPool(ctx context.Context, t *testing.T, cell *saasv1.RegionCell) {
	c := mustCell(ctx, t, cell.Name)
	c.Spec.Database.WarmPool = &saasv1.WarmPool{Size: 1}
	must(t, k.Update(ctx, c))
	poolFull := func(not string) string {
		var id string
		if err := waitFor(ctx, 3*time.Minute, "the warm pool to hold a ready database", func() (bool, string) {
			got := mustCell(ctx, t, cell.Name)
			var list rds.DBInstanceList
			must(t, k.List(ctx, &list, client.InNamespace("cell-"+cell.Name), client.MatchingLabels{saasv1.LabelComponent: b.WarmPoolComponent}))
			for _, db := range list.Items {
				if db.DeletionTimestamp.IsZero() && !b.IsWarmPoolClaimed(&db) && *db.Spec.DBInstanceIdentifier != not {
					id = *db.Spec.DBInstanceIdentifier
				}
			}
			return got.Status.WarmPool != nil && got.Status.WarmPool.Ready == 1 && id != "", fmt.Sprintf("%+v", got.Status.WarmPool)
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}
	pooled := poolFull("")
	poolSecret := &corev1.Secret{}
	must(t, k.Get(ctx, client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.WarmPoolPasswordSecretName}, poolSecret))
	poolPassword := string(poolSecret.Data[b.DBPasswordKey])

	hooli := tenant("hooli", "Hooli", saasv1.TierPooled)
	hooli.Spec.Cell = cell.Name
	start := time.Now()
	must(t, k.Create(ctx, hooli))
	waitTenantReady(ctx, t, hooli.Name, 3*time.Minute)
	took := time.Since(start).Round(100 * time.Millisecond)
	logf("hooli Ready in %s from a warm-pool database", took)
	timings = append(timings, timing{"warm pool: a new tenant's signup to Ready (its migration Job included)", took})

	eff := mustTenant(ctx, t, hooli.Name).Status.EffectiveDatabase
	if eff == nil || eff.Identifier != pooled || eff.ClaimedFrom == "" {
		t.Fatalf("hooli's database is %+v, not the pool's %s", eff, pooled)
	}
	srv := stores.Instance(pooled)
	if srv == nil {
		t.Fatalf("no stand-in server for %s", pooled)
	}
	user := masterUser(ctx, t, hooli.Name)
	pw := &corev1.Secret{}
	must(t, k.Get(ctx, client.ObjectKey{Namespace: "tenant-" + hooli.Name, Name: b.DBPasswordSecretName}, pw))
	login := func(password string) error {
		db, err := sql.Open("mysql", user+":"+password+"@tcp("+srv.Addr+")/")
		if err != nil {
			return err
		}
		defer db.Close()
		return db.PingContext(ctx)
	}
	if err := login(poolPassword); err == nil {
		t.Errorf("the pool's password still logs in to hooli's database %s", pooled)
	}
	if err := login(string(pw.Data[b.DBPasswordKey])); err != nil {
		t.Errorf("hooli's own password does not log in to its database %s: %v", pooled, err)
	}
	// The app serves hooli from that database: its migration ran there, its page answers.
	var versions int
	if err := tenantDB(ctx, t, hooli.Name).QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&versions); err != nil || versions == 0 {
		t.Errorf("hooli's database has %d migrations (%v)", versions, err)
	}
	svc := client.ObjectKey{Namespace: "cell-" + cell.Name, Name: b.AppName}
	if err := waitFor(ctx, time.Minute, "hooli's home page", func() (bool, string) {
		code, body := get(ctx, t, svc, "hooli."+baseDomain, "/")
		return code == http.StatusOK && strings.Contains(body, "Hooli"), fmt.Sprintf("%d", code)
	}); err != nil {
		t.Error(err)
	}
	refilled := poolFull(pooled)
	logf("the warm pool refilled with %s", refilled)

	c = mustCell(ctx, t, cell.Name)
	c.Spec.Database.WarmPool = nil
	must(t, k.Update(ctx, c))
	if err := waitFor(ctx, time.Minute, "the warm pool to empty", func() (bool, string) {
		got := mustCell(ctx, t, cell.Name)
		return got.Status.WarmPool == nil, fmt.Sprintf("%+v", got.Status.WarmPool)
	}); err != nil {
		t.Error(err)
	}
	if eff := mustTenant(ctx, t, hooli.Name).Status.EffectiveDatabase; eff.Identifier != pooled {
		t.Errorf("emptying the pool changed hooli's database to %s", eff.Identifier)
	}
	if err := login(string(pw.Data[b.DBPasswordKey])); err != nil {
		t.Errorf("after the pool emptied, hooli's password no longer logs in: %v", err)
	}
}

// consoleSignup is a customer signing up through the signup console the chart runs in the
// cluster (its image, its ServiceAccount): the page's CSRF token, the signup, the link from the
// mail (written to the console's log: no SES here), the confirmation; then the Tenant it created
// goes Ready like any other, and is deleted again.
func consoleSignup(ctx context.Context, t *testing.T, cell *saasv1.RegionCell) {
	svc := client.ObjectKey{Namespace: operatorNS, Name: "tenant-operator-console"}
	s := &corev1.Service{}
	must(t, k.Get(ctx, svc, s))
	base := "http://" + s.Spec.ClusterIP
	hc := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(base + "/")
	must(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	token := regexp.MustCompile(`data-csrf="([^"]+)"`).FindSubmatch(page)
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusOK || token == nil || cookie == "" || !strings.Contains(string(page), cell.Spec.Region) {
		t.Fatalf("the signup page: %d, csrf %v, cookie %q, offers %s: %v", resp.StatusCode, token != nil, cookie, cell.Spec.Region, strings.Contains(string(page), cell.Spec.Region))
	}
	cookie, _, _ = strings.Cut(cookie, ";")
	post := func(path, contentType, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+path, strings.NewReader(body))
		must(t, err)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("X-CSRF-Token", string(token[1]))
		req.Header.Set("Cookie", cookie)
		resp, err := hc.Do(req)
		must(t, err)
		return resp
	}
	resp = post("/api/signups", "application/json",
		`{"company":"Pied Piper","subdomain":"piedpiper","region":"`+cell.Spec.Region+`","tier":"pooled","adminEmail":"richard@piedpiper.example"}`)
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("signup: %d %s", resp.StatusCode, answer)
	}
	if err := k.Get(ctx, client.ObjectKey{Name: "piedpiper"}, &saasv1.Tenant{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a Tenant before the link was followed: %v", err)
	}
	var link string
	if err := waitFor(ctx, 30*time.Second, "the verification mail in the console's log", func() (bool, string) {
		// The container's log as the kubelet writes it on the node (this host): the API server
		// of the e2e cluster is not set up to proxy logs from the kubelet.
		files, _ := filepath.Glob(filepath.Join(clusterDir, "pod-logs", operatorNS+"_tenant-operator-console-*", "console", "*.log"))
		if len(files) == 0 {
			return false, "no log file of the console's container under " + filepath.Join(clusterDir, "pod-logs")
		}
		for _, f := range files {
			logs, err := os.ReadFile(f)
			if err != nil {
				return false, err.Error()
			}
			for _, line := range strings.Split(string(logs), "\n") {
				if strings.Contains(line, "richard@piedpiper.example") {
					if m := regexp.MustCompile(`verify\?token=([A-Za-z0-9_.%-]+)`).FindStringSubmatch(line); m != nil {
						link = m[1]
					}
				}
			}
		}
		return link != "", "no mail logged yet"
	}); err != nil {
		t.Fatal(err)
	}
	tok, err := url.QueryUnescape(link)
	must(t, err)
	resp = post("/verify", "application/x-www-form-urlencoded", url.Values{"csrf": {string(token[1])}, "token": {tok}}.Encode())
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/progress?token=") {
		t.Fatalf("confirming: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	tn := mustTenant(ctx, t, "piedpiper")
	if tn.Spec.Region != cell.Spec.Region || tn.Spec.Subdomain != "piedpiper" || tn.Labels["saas.tenantops.io/signup"] != "console" {
		t.Errorf("the Tenant the console made: %+v %v", tn.Spec, tn.Labels)
	}
	waitTenantReady(ctx, t, "piedpiper", 3*time.Minute)
	must(t, k.Delete(ctx, tn))
	if err := waitFor(ctx, 3*time.Minute, "the console's tenant deleted", func() (bool, string) {
		err := k.Get(ctx, client.ObjectKey{Name: "piedpiper"}, &saasv1.Tenant{})
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	}); err != nil {
		t.Fatal(err)
	}
}
