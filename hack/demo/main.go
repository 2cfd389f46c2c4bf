// Command demo is `make demo`: a local control plane (kube-apiserver and etcd built from Go
// modules), the project's and the upstream ACK CRDs, the operator running in-process, and the
// samples of config/samples applied, then a table of what the operator made for each Tenant.
//
// Nothing of AWS runs here: no ACK controller, so no database, cache or DNS record is ever
// created in AWS and their custom resources stay unsynced. With --play-aws the demo writes, in
// plain sight, the status ACK, the Job controller and the kubelet would write, so the whole
// onboarding state machine can be watched to Ready.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/yaml"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
)

func main() {
	playAWS := flag.Bool("play-aws", false, "write the status ACK, the Job controller and the kubelet would write, so tenants reach Ready")
	exit := flag.Bool("exit", false, "stop after printing the table instead of waiting for Ctrl-C")
	wait := flag.Duration("wait", 8*time.Second, "how long to let the operator work before printing")
	flag.Parse()
	if err := run(*playAWS, *exit, *wait); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func say(format string, a ...any) { fmt.Printf("==> "+format+"\n", a...) }

func run(playAWS, exit bool, wait time.Duration) error {
	ctrl.SetLogger(zap.New(zap.WriteTo(discard{})))
	say("starting a local control plane (kube-apiserver + etcd built from Go modules)")
	env, err := testenv.Start()
	if err != nil {
		return err
	}
	defer func() {
		say("stopping the control plane")
		_ = env.Stop()
	}()
	user, err := env.AddUser(envtest.User{Name: "demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return err
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "tenant-operator-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	kubeconfigPath := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfigPath, kubeconfig, 0o600); err != nil {
		return err
	}
	say("installed CRDs: Tenant, RegionCell, and the upstream ACK CRDs from %s", ackDir())

	operatorCfg, identity, err := installChart(context.Background(), env)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	copies := &demoAWS{}
	if playAWS {
		demoCopies(copies)
		if copies.moto != nil {
			defer copies.moto.Stop()
		}
	}
	opts := demoOptions(identity)
	opts.Copier = copies.copier
	if _, err := inprocess.StartOperator(ctx, operatorCfg, opts, nil); err != nil {
		return err
	}
	say("operator running in this process as the chart's ServiceAccount, with exactly the chart's RBAC")

	c, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return err
	}
	if err := applySamples(ctx, c, playAWS); err != nil {
		return err
	}

	var local *localAWS
	if playAWS {
		say("--play-aws: standing in for AWS, the Job controller and the kubelet; every stand-in's write is marked")
		played := func(what string) { say("[played] %s", what) }
		if local, err = newLocalAWS(dir); err != nil {
			say("no local MariaDB/Redis (%v): playing with made-up endpoints instead (make test-deps installs them)", err)
			if _, err := testenv.StartPlayer(ctx, env.Config, testenv.PlayerOptions{Played: played}); err != nil {
				return err
			}
		} else {
			defer local.stop()
			// The stores and migrations run for real; the kubelet, Route53, SNS and CloudWatch are played.
			if _, err := testenv.StartPlayer(ctx, env.Config, testenv.PlayerOptions{Played: played,
				Systems: []testenv.System{testenv.Kubelet, testenv.Route53, testenv.SNS, testenv.CloudWatch}}); err != nil {
				return err
			}
			go func() {
				for ctx.Err() == nil {
					local.play(ctx, c)
					time.Sleep(500 * time.Millisecond)
				}
			}()
		}
	}
	if cmd, logPath, err := startConsole(env, dir); err != nil {
		say("signup console: %v", err)
	} else {
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
		if err := signUpThroughConsole(logPath, "piedpiper", "eu-west-1"); err != nil {
			say("signup console: %v", err)
		}
	}
	if playAWS {
		if err := signUpFromWarmPool(ctx, c); err != nil {
			say("warm pool: %v", err)
		}
		if err := showRecoveryPoints(ctx, c, copies); err != nil {
			say("disaster recovery: %v", err)
		}
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return nil
	}
	if err := printTable(ctx, c); err != nil {
		return err
	}
	if local != nil {
		// The app, as the operator deploys it, reading the tenant configuration it wrote.
		for _, app := range []struct{ ns, listen, ops string }{
			{"cell-eu-west-1", "127.0.0.1:8080", "127.0.0.1:9090"},
			{"cell-eu-west-1-b", "127.0.0.1:8082", "127.0.0.1:9092"},
			{"tenant-initech", "127.0.0.1:8081", "127.0.0.1:9091"},
		} {
			if err := local.serveApp(kubeconfigPath, app.ns, app.listen, app.ops); err != nil {
				return err
			}
		}
		time.Sleep(2 * time.Second)
		fmt.Println()
		fmt.Println("The app runs locally against the tenant configuration the operator wrote (MariaDB and Redis on loopback),")
		fmt.Println("one per cell as the cells' shared apps and one for the dedicated tenant:")
		fmt.Println("  curl -H 'Host: acme.website.com' http://127.0.0.1:8080/              # pooled, in cell eu-west-1")
		fmt.Println("  curl -H 'Host: globex.website.com' http://127.0.0.1:8082/api/items   # pooled, placed in cell eu-west-1-b")
		fmt.Println("  curl -H 'Host: initech.website.com' http://127.0.0.1:8081/           # dedicated, its own app")
		fmt.Println("  curl -H 'Host: acme.website.com' http://127.0.0.1:8080/static/       # its css, js and logo, content-hashed (no CDN here)")
		fmt.Println("  curl http://127.0.0.1:9090/metrics                                  # the ops port: health and metrics, never routed to customers")
		fmt.Printf("  app logs: %s/app-*.log\n", dir)
	}
	if !playAWS {
		fmt.Println()
		fmt.Println("AWS is not here: no ACK controller runs, so the RDS DBInstances, ElastiCache replication groups and")
		fmt.Println("Route53 records above are requested but never created, and tenants wait at DatabaseReady.")
		fmt.Println("Run `make demo DEMO_ARGS=--play-aws` to watch the test suite's stand-ins take them to Ready.")
	}
	fmt.Println()
	fmt.Printf("The signup console (app console) serves %s: sign up in a browser; the verification mail, link included,\n", consoleURL)
	fmt.Printf("is written to its log, %s/console.log (no SES here).\n", dir)
	fmt.Println()
	kubectl := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	fmt.Printf("Look around (while this runs):\n  export KUBECONFIG=%s\n  %s get saas\n  %s get tenant acme -o yaml\n  %s get all,dbinstances,recordsets,secrets -n tenant-initech\n",
		kubeconfigPath, kubectl, kubectl, kubectl)
	if exit {
		return nil
	}
	fmt.Println("\nCtrl-C stops the operator and the control plane and removes the kubeconfig.")
	<-ctx.Done()
	return nil
}

// signUpFromWarmPool waits for the sample cell eu-west-1-b's warm pool to hold a ready
// database, then signs a new tenant up in that cell: it claims the database instead of waiting
// for RDS, and the demo says how long it took.
func signUpFromWarmPool(ctx context.Context, c client.Client) error {
	const cell = "eu-west-1-b"
	poolReady := func() bool {
		got := &saasv1.RegionCell{}
		return c.Get(ctx, client.ObjectKey{Name: cell}, got) == nil && got.Status.WarmPool != nil && got.Status.WarmPool.Ready > 0
	}
	if !waitUntil(ctx, 90*time.Second, poolReady) {
		return fmt.Errorf("cell %s's pool holds no ready database after 90 s", cell)
	}
	say("cell %s's warm pool holds a ready database; signing up hooli in that cell", cell)
	hooli := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "hooli"}, Spec: saasv1.TenantSpec{
		DisplayName: "Hooli", Region: "eu-west-1", Subdomain: "hooli", Cell: cell, AdminEmail: "it@hooli.example"}}
	start := time.Now()
	if err := c.Create(ctx, hooli); err != nil {
		return err
	}
	if !waitUntil(ctx, 90*time.Second, func() bool {
		got := &saasv1.Tenant{}
		return c.Get(ctx, client.ObjectKey{Name: hooli.Name}, got) == nil && got.Status.Phase == saasv1.PhaseReady
	}) {
		return fmt.Errorf("hooli not Ready after 90 s")
	}
	got := &saasv1.Tenant{}
	if err := c.Get(ctx, client.ObjectKey{Name: hooli.Name}, got); err != nil {
		return err
	}
	say("hooli Ready in %s on database %s, claimed from the warm pool (%s); the pool refills behind it",
		time.Since(start).Round(100*time.Millisecond), got.Status.EffectiveDatabase.Identifier, got.Status.EffectiveDatabase.ClaimedFrom)
	return nil
}

func waitUntil(ctx context.Context, within time.Duration, done func() bool) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline) && ctx.Err() == nil; time.Sleep(250 * time.Millisecond) {
		if done() {
			return true
		}
	}
	return done()
}

func ackDir() string {
	if d := os.Getenv("ACK_CRDS_DIR"); d != "" {
		return d
	}
	return "../shared/ack-crds"
}

func printTable(ctx context.Context, c client.Client) error {
	var tenants saasv1.TenantList
	if err := c.List(ctx, &tenants); err != nil {
		return err
	}
	var cells saasv1.RegionCellList
	if err := c.List(ctx, &cells); err != nil {
		return err
	}
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(w, "CELL\tREGION\tTENANTS\tCAPACITY\tUSD/MO\tUSD/TENANT\tWARM POOL\tALARMS\tASSETS\tREADY\tWAITING ON")
	for _, cell := range cells.Items {
		ready, why := readiness(cell.Status.Conditions)
		usd, per := "-", "-"
		if c := cell.Status.Cost; c != nil {
			usd, per = c.MonthlyUSD, c.PerTenantUSD
		}
		pool := "-"
		if p := cell.Status.WarmPool; p != nil {
			pool = fmt.Sprintf("%d/%d ready", p.Ready, p.Size)
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", cell.Name, cell.Spec.Region, cell.Status.Tenants, cell.Status.Capacity,
			usd, per, pool, side(cell.Status.Conditions, saasv1.ConditionAlarmsReady), side(cell.Status.Conditions, saasv1.ConditionAssetsReady), ready, why)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "TENANT\tCELL\tTIER\tPHASE\tREADY\tDATABASE\tUSD/MO\tALARMS\tRECOVERY POINT\tURL\tWAITING ON")
	for _, t := range tenants.Items {
		ready, why := readiness(t.Status.Conditions)
		db := "-" // resolved when the database is requested, then kept (status.effectiveDatabase)
		if e := t.Status.EffectiveDatabase; e != nil {
			db = fmt.Sprintf("%s %dGiB", e.InstanceClass, e.StorageGiB)
			if e.ClaimedFrom != "" {
				db += " (warm pool)"
			}
		}
		usd := "-"
		if c := t.Status.Cost; c != nil {
			usd = c.MonthlyUSD
		}
		rp := "-"
		if p := t.Status.RecoveryPoint; p != nil {
			rp = fmt.Sprintf("%s, %s old", p.Region, time.Since(p.SnapshotTime.Time).Round(time.Second))
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Name, t.Status.Cell, t.Spec.Tier, t.Status.Phase, ready, db, usd,
			side(t.Status.Conditions, saasv1.ConditionAlarmsReady), rp, t.Status.URL, why)
	}
	_ = w.Flush()
	fmt.Println()
	for _, t := range tenants.Items {
		made, err := madeFor(ctx, c, t.Name)
		if err != nil {
			return err
		}
		fmt.Printf("%s (namespace %s):\n  %s\n", t.Name, t.Status.Namespace, strings.Join(made, "\n  "))
	}
	return nil
}

// side is a side condition's status and reason, such as "True/InSync".
func side(conds []metav1.Condition, typ string) string {
	for _, c := range conds {
		if c.Type == typ {
			return string(c.Status) + "/" + c.Reason
		}
	}
	return "-"
}

func readiness(conds []metav1.Condition) (string, string) {
	ready, why := "Unknown", ""
	for _, c := range conds {
		if c.Type == saasv1.ConditionReady {
			ready = string(c.Status)
			if c.Status != "True" {
				why = c.Message
			}
		}
	}
	if len(why) > 90 {
		why = why[:87] + "..."
	}
	return ready, why
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// madeFor lists what the operator made for a tenant.
func madeFor(ctx context.Context, c client.Client, tenant string) ([]string, error) {
	lists := []client.ObjectList{
		&corev1.NamespaceList{}, &corev1.SecretList{}, &corev1.ResourceQuotaList{}, &corev1.LimitRangeList{},
		&networkingv1.NetworkPolicyList{}, &rds.DBInstanceList{}, &ecv1.ReplicationGroupList{}, &batchv1.JobList{},
		&batchv1.CronJobList{}, &appsv1.DeploymentList{}, &corev1.ServiceList{}, &autoscalingv2.HorizontalPodAutoscalerList{},
		&policyv1.PodDisruptionBudgetList{}, &networkingv1.IngressList{}, &route53.RecordSetList{}, &cloudwatch.MetricAlarmList{},
	}
	var out []string
	for _, l := range lists {
		if err := c.List(ctx, l, client.MatchingLabels{saasv1.LabelTenant: tenant}); err != nil {
			return nil, err
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return nil, err
		}
		kind := strings.TrimSuffix(fmt.Sprintf("%T", l), "List")
		kind = kind[strings.LastIndex(kind, ".")+1:]
		var names []string
		for _, it := range items {
			o := it.(client.Object)
			names = append(names, strings.TrimPrefix(o.GetNamespace()+"/"+o.GetName(), "/"))
		}
		if len(names) > 0 {
			out = append(out, fmt.Sprintf("%-24s %s", kind, strings.Join(names, ", ")))
		}
	}
	return out, nil
}

// applySamples creates config/samples' RegionCells and Tenants, as a platform engineer's
// kubectl apply would, without what this machine cannot reach (webhooks; the CDN when AWS is
// played).
func applySamples(ctx context.Context, c client.Client, playAWS bool) error {
	samples, _ := filepath.Glob(filepath.Join(testenv.Root(), "config", "samples", "saas_*.yaml"))
	sort.Strings(samples)
	for _, f := range samples {
		raw, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, &u.Object); err != nil {
			return err
		}
		if u.GetKind() == "RegionCell" {
			// This machine reaches no webhook receiver: the demo sends no lifecycle events.
			unstructured.RemoveNestedField(u.Object, "spec", "notifications")
			if playAWS {
				// No CloudFront here to load files from: the local app serves its own.
				unstructured.RemoveNestedField(u.Object, "spec", "assets")
			}
		}
		if err := c.Create(ctx, u); err != nil {
			return fmt.Errorf("applying %s: %w", filepath.Base(f), err)
		}
		say("applied %s %s", u.GetKind(), u.GetName())
	}

	return nil
}

// demoOptions are the operator's options in the demo: the chart's identity (the operator binds
// itself in each namespace it makes to write Secrets there, as its Deployment's arguments say).
func demoOptions(identity builders.OperatorIdentity) controllers.Options {
	// The chart's default jurisdictions: the demo's cell eu-west-1-b copies to eu-central-1.
	jur, _ := recovery.ParseJurisdictions("eu=eu-west-1,eu-west-3,eu-central-1,eu-north-1,eu-south-1,eu-south-2;us=us-east-1,us-east-2,us-west-1,us-west-2")
	return controllers.Options{MaxConcurrentReconciles: 4, Identity: identity, Jurisdictions: jur}
}

// installChart applies what `helm install` of charts/tenant-operator renders, and returns the
// identity of its ServiceAccount: there is no kubelet here to run the chart's Deployment, so the
// operator runs in this process as that ServiceAccount, under exactly the chart's RBAC and with
// the identity its Deployment's arguments give it.
func installChart(ctx context.Context, env *testenv.Env) (*rest.Config, builders.OperatorIdentity, error) {
	const ns = "tenant-operator-system"
	var none builders.OperatorIdentity
	c, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		return nil, none, err
	}
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted"}}}); err != nil {
		return nil, none, err
	}
	// The signup console too: the demo runs it as its ServiceAccount (startConsole).
	objs, err := testenv.RenderChart(map[string]any{"console": map[string]any{"enabled": true, "publicURL": consoleURL}}, "tenant-operator", ns)
	if err != nil {
		return nil, none, err
	}
	identity, err := testenv.ChartOperatorIdentity(objs)
	if err != nil {
		return nil, none, err
	}
	sa := ""
	for _, o := range objs {
		if o.GetKind() == "ServiceAccount" && o.GetLabels()["app.kubernetes.io/component"] == "" {
			sa = o.GetName()
		}
		if o.GetKind() == "ServiceAccount" && o.GetLabels()["app.kubernetes.io/component"] == "console" {
			consoleSA = "system:serviceaccount:" + ns + ":" + o.GetName()
		}
		if err := c.Create(ctx, o); err != nil {
			return nil, none, fmt.Errorf("installing %s %s: %w", o.GetKind(), o.GetName(), err)
		}
	}
	say("helm chart charts/tenant-operator rendered and applied to %s (%d objects; its Deployment waits for a kubelet)", ns, len(objs))
	user, err := env.AddUser(envtest.User{Name: "system:serviceaccount:" + ns + ":" + sa,
		Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + ns, "system:authenticated"}}, nil)
	if err != nil {
		return nil, none, err
	}
	return user.Config(), identity, nil
}
