// Package chart_test renders the Helm chart with Helm's Go SDK and proves what it renders
// against a real kube-apiserver: accepted, free of Pod Security warnings, its CRDs the
// project's, its values checked by values.schema.json, and its RBAC enough for the operator.
package chart_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/yaml"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
)

var (
	env      *testenv.Env
	chartDir = testenv.ChartDir()
)

func TestMain(m *testing.M) {
	var err error
	if env, err = testenv.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	c, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func valuesFile(t *testing.T, name string) map[string]any {
	t.Helper()
	if name == "" {
		return map[string]any{}
	}
	raw, err := os.ReadFile(filepath.Join(chartDir, "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	v := map[string]any{}
	if err := yaml.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func render(t *testing.T, _ *chart.Chart, values map[string]any, namespace string) []*unstructured.Unstructured {
	t.Helper()
	objs, err := testenv.RenderChart(values, "tenant-operator", namespace)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

type warnings struct {
	mu   sync.Mutex
	seen []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// The default values and every example values file render into objects the API server
// accepts, with no Pod Security "restricted" warning.
func TestChartRendersAndIsAcceptedWithoutPodSecurityWarnings(t *testing.T) {
	c := loadChart(t)
	cases := []string{""}
	examples, _ := filepath.Glob(filepath.Join(chartDir, "examples", "values-*.yaml"))
	for _, e := range examples {
		cases = append(cases, filepath.Base(e))
	}
	if len(cases) < 3 {
		t.Fatalf("want the default and at least two example values files, have %v", cases)
	}
	for i, vf := range cases {
		t.Run(strings.TrimSuffix(vf, ".yaml")+"default", func(t *testing.T) {
			ns := fmt.Sprintf("tenant-operator-%d", i)
			w := &warnings{}
			cfg := rest.CopyConfig(env.Config)
			cfg.WarningHandler = w
			cl, err := client.New(cfg, client.Options{Scheme: controllers.NewScheme()})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
				"pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted"}}}); err != nil {
				t.Fatal(err)
			}
			objs := render(t, c, valuesFile(t, vf), ns)
			kinds := map[string]int{}
			for _, o := range objs {
				kinds[o.GetKind()]++
				// Cluster-scoped names get the namespace as suffix so example releases can coexist.
				if o.GetNamespace() == "" && o.GetKind() != "RegionCell" {
					o.SetName(o.GetName() + "-" + ns)
				}
				if err := cl.Create(ctx, o); err != nil {
					t.Errorf("%s %s refused: %v", o.GetKind(), o.GetName(), err)
				}
			}
			for _, k := range []string{"Deployment", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service", "PodDisruptionBudget"} {
				if kinds[k] == 0 {
					t.Errorf("no %s rendered", k)
				}
			}
			if vf != "" && kinds["RegionCell"] != 1 {
				t.Errorf("%s renders no RegionCell", vf)
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			for _, warn := range w.seen {
				t.Errorf("warning: %s", warn)
			}
		})
	}
}

func TestChartCRDsAreTheProjects(t *testing.T) {
	want, _ := filepath.Glob(filepath.Join(testenv.Root(), "config", "crd", "bases", "*.yaml"))
	got, _ := filepath.Glob(filepath.Join(chartDir, "crds", "*.yaml"))
	if len(want) == 0 || len(got) != len(want) {
		t.Fatalf("chart has %d CRDs, config/crd has %d", len(got), len(want))
	}
	for _, w := range want {
		a, _ := os.ReadFile(w)
		b, err := os.ReadFile(filepath.Join(chartDir, "crds", filepath.Base(w)))
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s differs from config/crd (run make manifests): %v", filepath.Base(w), err)
		}
	}
}

func TestValuesSchemaRejectsBadValues(t *testing.T) {
	c := loadChart(t)
	cases := []struct {
		name   string
		values string
		says   string
	}{
		{"replicas zero", "replicas: 0", "replicas"},
		{"replicas a string", "replicas: two", "replicas"},
		{"pull policy", "image: {repository: x, pullPolicy: Sometimes}", "pullPolicy"},
		{"image with spaces", "image: {repository: 'my image'}", "repository"},
		{"unknown top-level key", "replica: 2", "replica"},
		{"log level", "logLevel: verbose", "logLevel"},
		{"metrics port", "metrics: {port: 80}", "port"},
		{"qps", "kubeAPI: {qps: 0}", "qps"},
		{"move drain", "move: {drain: two minutes}", "drain"},
		{"service monitor interval", "metrics: {serviceMonitor: {enabled: true, interval: soon}}", "interval"},
		{"cell without a name", "regionCell: {enabled: true, spec: {region: eu-west-1}}", "name"},
		{"cell without its spec fields", "regionCell: {enabled: true, name: eu, spec: {region: eu-west-1}}", "baseDomain"},
		{"cell region", "regionCell: {enabled: true, name: eu, spec: {region: europe, baseDomain: a.b, hostedZoneID: Z1, ingress: {}, network: {}, app: {}}}", "region"},
		{"service account name", "serviceAccount: {name: Bad_Name}", "name"},
		{"sns endpoint", "snsEndpointURL: ftp://x", "snsEndpointURL"},
		{"a jurisdiction's region", "disasterRecovery: {jurisdictions: {eu: [frankfurt]}}", "jurisdictions"},
		{"a jurisdiction's name", "disasterRecovery: {jurisdictions: {'E U': [eu-west-1]}}", "'E U'"},
		{"rds endpoint", "disasterRecovery: {rdsEndpointURL: ftp://x}", "rdsEndpointURL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := map[string]any{}
			if err := yaml.Unmarshal([]byte(tc.values), &v); err != nil {
				t.Fatal(err)
			}
			_, err := chartutil.ToRenderValues(c, v, chartutil.ReleaseOptions{Name: "x", Namespace: "x"}, chartutil.DefaultCapabilities)
			if err == nil || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("values %q: %v; want an error naming %q", tc.values, err, tc.says)
			}
		})
	}
}

// The chart's jurisdictions reach the operator as the flag it parses, and they keep the EU's
// data in the EU. Values add jurisdictions to the defaults (Helm merges maps; a default is
// removed by setting it to null).
func TestJurisdictionsReachTheOperator(t *testing.T) {
	for _, values := range []map[string]any{{}, {"disasterRecovery": map[string]any{"jurisdictions": map[string]any{"ch": []any{"eu-central-2"}}}}} {
		var flag string
		for _, o := range render(t, nil, values, "tenant-operator") {
			if o.GetKind() != "Deployment" {
				continue
			}
			containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			for _, a := range strs(containers[0].(map[string]any)["args"]) {
				if v, ok := strings.CutPrefix(a, "--jurisdictions="); ok {
					flag = v
				}
			}
		}
		j, err := recovery.ParseJurisdictions(flag)
		if err != nil || len(j) == 0 {
			t.Fatalf("--jurisdictions=%q: %v", flag, err)
		}
		if _, custom := values["disasterRecovery"]; custom {
			if err := j.CheckPartner("eu-central-2", "eu-central-1"); err == nil || j["eu-central-2"] != "ch" {
				t.Errorf("%q lets Zurich's data go to Frankfurt", flag)
			}
		}
		if err := j.CheckPartner("eu-west-1", "eu-central-1"); err != nil {
			t.Errorf("%q: %v", flag, err)
		}
		if err := j.CheckPartner("eu-west-1", "us-east-1"); err == nil {
			t.Errorf("%q lets the EU's data go to the US", flag)
		}
	}
}

// The operator, authenticated as the chart's ServiceAccount with only the RBAC the chart grants,
// still reconciles a Tenant to Ready (the test plays ACK, the Job controller and the kubelet).
func TestOperatorRunsUnderTheChartsRBAC(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "tenant-operator-rbac"
	admin, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	sa := ""
	for _, o := range render(t, loadChart(t), map[string]any{}, ns) {
		switch o.GetKind() {
		case "ServiceAccount":
			sa = o.GetName()
		case "Deployment", "Service", "PodDisruptionBudget":
			continue
		case "ClusterRole", "ClusterRoleBinding":
			o.SetName(o.GetName() + "-rbac-test")
			if ref, ok := o.Object["roleRef"].(map[string]any); ok {
				ref["name"] = ref["name"].(string) + "-rbac-test"
			}
			rules, _ := o.Object["rules"].([]any)
			for _, r := range rules {
				rule, _ := r.(map[string]any)
				names, _ := rule["resourceNames"].([]any)
				for i := range names {
					names[i] = names[i].(string) + "-rbac-test"
				}
			}
		}
		if err := admin.Create(ctx, o); err != nil {
			t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
	user, err := env.AddUser(envtest.User{Name: "system:serviceaccount:" + ns + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Leader election too: its Lease and Events are part of what the chart must grant.
	identity := builders.OperatorIdentity{ServiceAccount: sa, Namespace: ns, DataRole: "tenant-operator-namespace-data-rbac-test"}
	if _, err := inprocess.StartOperator(ctx, user.Config(), controllers.Options{MaxConcurrentReconciles: 2, Identity: identity}, func(o *ctrl.Options) {
		o.LeaderElection, o.LeaderElectionNamespace, o.LeaderElectionID = true, ns, "tenant-operator.saas.tenantops.io"
	}); err != nil {
		t.Fatal(err)
	}
	cell, err := testenv.SampleCell()
	if err != nil {
		t.Fatal(err)
	}
	cell.Name, cell.Spec.Region = "rbac-cell", "me-south-1"
	if err := admin.Create(ctx, cell); err != nil {
		t.Fatal(err)
	}
	tenant := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "rbac-tenant"}, Spec: saasv1.TenantSpec{
		DisplayName: "RBAC", Region: "me-south-1", Subdomain: "rbac", Tier: saasv1.TierDedicated, AdminEmail: "a@b.example"}}
	if err := admin.Create(ctx, tenant); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.StartPlayer(ctx, env.Config, testenv.PlayerOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := &saasv1.Tenant{}
		if err := admin.Get(ctx, client.ObjectKey{Name: "rbac-tenant"}, got); err != nil {
			t.Fatal(err)
		}
		if got.Status.Phase == saasv1.PhaseReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not Ready under the chart's RBAC: %+v", got.Status.Conditions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Secrets and ConfigMaps are written only where the operator binds itself to write them, in its
// own namespaces: nothing the chart (or config/rbac) grants it cluster-wide writes them. On EKS
// that keeps kube-system/aws-auth, and every other namespace's Secrets, out of its reach.
func TestNoClusterWideWritesOfSecretsOrConfigMaps(t *testing.T) {
	rendered := render(t, loadChart(t), map[string]any{}, "tenant-operator-system")
	var fromConfig []*unstructured.Unstructured
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "config", "rbac", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(raw), "\n---\n") {
			u := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if u.Object != nil {
				fromConfig = append(fromConfig, u)
			}
		}
	}
	for source, objs := range map[string][]*unstructured.Unstructured{"the chart": rendered, "config/rbac": fromConfig} {
		roles := map[string]*unstructured.Unstructured{}
		for _, o := range objs {
			if o.GetKind() == "ClusterRole" {
				roles[o.GetName()] = o
			}
		}
		bound := 0
		for _, o := range objs {
			if o.GetKind() != "ClusterRoleBinding" {
				continue
			}
			name, _, _ := unstructured.NestedString(o.Object, "roleRef", "name")
			role := roles[name]
			if role == nil {
				t.Errorf("%s: ClusterRoleBinding %s names ClusterRole %s, which it does not make", source, o.GetName(), name)
				continue
			}
			bound++
			for _, w := range clusterWideDataWrites(role) {
				t.Errorf("%s: ClusterRole %s, bound cluster-wide by %s, grants %s", source, name, o.GetName(), w)
			}
		}
		if bound < 2 {
			t.Errorf("%s: %d ClusterRoleBindings read, want the operator's (the check would pass on nothing)", source, bound)
		}
	}
	// The check itself catches what it is for.
	if got := clusterWideDataWrites(&unstructured.Unstructured{Object: map[string]any{"rules": []any{
		map[string]any{"apiGroups": []any{""}, "resources": []any{"configmaps", "pods"}, "verbs": []any{"get", "patch"}}}}}); len(got) != 1 {
		t.Errorf("a rule patching ConfigMaps cluster-wide was not caught: %v", got)
	}
}

// clusterWideDataWrites lists the writes of Secrets or ConfigMaps a ClusterRole's rules grant.
func clusterWideDataWrites(role *unstructured.Unstructured) []string {
	var out []string
	rules, _ := role.Object["rules"].([]any)
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		groups, resources, verbs := strs(rule["apiGroups"]), strs(rule["resources"]), strs(rule["verbs"])
		if !contains(groups, "", "*") {
			continue
		}
		for _, res := range []string{"secrets", "configmaps"} {
			if !contains(resources, res, "*") {
				continue
			}
			for _, v := range verbs {
				if contains([]string{v}, "create", "update", "patch", "delete", "deletecollection", "*") {
					out = append(out, v+" "+res)
				}
			}
		}
	}
	return out
}

func strs(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

func contains(list []string, any ...string) bool {
	for _, x := range list {
		for _, a := range any {
			if x == a {
				return true
			}
		}
	}
	return false
}

// With every monitor on, the chart's ServiceMonitor, PodMonitor (the apps' ops port) and
// PrometheusRule are accepted by the Prometheus Operator's own CRDs.
func TestMonitoringIsAcceptedByThePrometheusOperatorCRDs(t *testing.T) {
	c := loadChart(t)
	ctx := context.Background()
	ns := "tenant-operator-monitoring"
	cl, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	values := map[string]any{"metrics": map[string]any{
		"serviceMonitor": map[string]any{"enabled": true}, "prometheusRule": map[string]any{"enabled": true},
		"appPodMonitor": map[string]any{"enabled": true}}}
	seen := map[string]bool{}
	for _, o := range render(t, c, values, ns) {
		if o.GroupVersionKind().Group != "monitoring.coreos.com" {
			continue
		}
		seen[o.GetKind()] = true
		if err := cl.Create(ctx, o); err != nil {
			t.Errorf("%s %s refused: %v", o.GetKind(), o.GetName(), err)
		}
		if o.GetKind() == "PodMonitor" {
			ep, _, _ := unstructured.NestedSlice(o.Object, "spec", "podMetricsEndpoints")
			if len(ep) != 1 || ep[0].(map[string]any)["port"] != "ops" {
				t.Errorf("the apps' PodMonitor scrapes %v, want the ops port only", ep)
			}
		}
	}
	for _, k := range []string{"ServiceMonitor", "PodMonitor", "PrometheusRule"} {
		if !seen[k] {
			t.Errorf("no %s rendered", k)
		}
	}
}
