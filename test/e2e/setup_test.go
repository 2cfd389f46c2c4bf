//go:build e2e

// Package e2e_test proves on a real single-node cluster (make e2e: hack/cluster) that what the
// operator makes actually runs: the operator's own image installed by the chart, the app's image
// serving tenants through its Services, migration Jobs and recommendation CronJobs running `app`
// against a real MariaDB and a real Redis (TLS). The test plays only AWS: a MariaDB per
// DBInstance and one Redis on the host stand in for RDS and ElastiCache, and the test writes the
// status the ACK controllers would write. Everything else (Deployments, ReplicaSets, Jobs,
// CronJobs, the scheduler, the kubelet, kube-proxy) is the real thing.
package e2e_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zapcore"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/hack/cluster/pki"
	"github.com/tenantops/tenant-operator/test/localaws"
	"github.com/tenantops/tenant-operator/test/testenv"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

const (
	operatorNS  = "tenant-operator-system"
	imageTag    = "e2e"
	appImage    = "ghcr.io/tenantops/app"
	operatorImg = "ghcr.io/tenantops/tenant-operator"
)

var (
	// hostIP is the node's address: with hack/cluster, the host's end of the cluster's own bridge,
	// where pods reach the stand-in stores and nothing outside the machine reaches.
	hostIP     string
	cfg        *rest.Config
	k          client.Client
	cs         *kubernetes.Clientset
	clusterDir string
	stores     *localaws.Stores
	// receiverCert and receiverKey serve the stand-in webhook receiver at hostIP over TLS.
	receiverCert, receiverKey string
	timings                   []timing
)

type timing struct {
	what string
	took time.Duration
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, time.Now().Format("15:04:05")+" e2e: "+format+"\n", a...)
}

func TestMain(m *testing.M) {
	// The move's sampler watches through controller-runtime; its errors belong in the log, and
	// without a logger controller-runtime prints a stack trace saying it has none.
	ctrl.SetLogger(zap.New(zap.WriteTo(os.Stderr), zap.Level(zapcore.ErrorLevel)))
	code, err := run(m)
	if err != nil {
		logf("setup: %v", err)
		code = 1
	}
	os.Exit(code)
}

func run(m *testing.M) (int, error) {
	kubeconfig := os.Getenv("E2E_KUBECONFIG")
	clusterDir = os.Getenv("CLUSTER_DIR")
	if kubeconfig == "" || clusterDir == "" {
		return 1, fmt.Errorf("E2E_KUBECONFIG and CLUSTER_DIR are unset: run `make e2e`, which brings the cluster up")
	}
	var err error
	if cfg, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
		return 1, err
	}
	cfg.QPS, cfg.Burst = 50, 100
	if k, err = client.New(cfg, client.Options{Scheme: controllers.NewScheme()}); err != nil {
		return 1, err
	}
	if cs, err = kubernetes.NewForConfig(cfg); err != nil {
		return 1, err
	}
	if hostIP, err = nodeIP(); err != nil {
		return 1, err
	}
	work, err := os.MkdirTemp("", "tenantops-e2e-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(work)

	step := begin("images built, with the e2e CA among their roots, and loaded into containerd")
	redisCert, redisKey, bundle, err := storeCertificates(work)
	if err != nil {
		return 1, err
	}
	if err := buildAndLoadImages(work, bundle); err != nil {
		return 1, err
	}
	step.end()

	step = begin("stand-in stores started (Redis with TLS on " + hostIP + ")")
	if stores, err = localaws.Start(hostIP, testsvc.RedisOptions{CertFile: redisCert, KeyFile: redisKey}); err != nil {
		return 1, err
	}
	defer stores.Stop()
	step.end()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	step = begin("chart installed with helm install --wait, the operator's pod Ready")
	if err := installChart(ctx); err != nil {
		return 1, err
	}
	step.end()

	if err := playAWS(ctx); err != nil {
		return 1, err
	}
	code := m.Run()
	printTimings()
	return code, nil
}

type stepTimer struct {
	what  string
	start time.Time
}

func begin(what string) stepTimer {
	logf("%s ...", what)
	return stepTimer{what: what, start: time.Now()}
}

func (s stepTimer) end() {
	took := time.Since(s.start).Round(100 * time.Millisecond)
	timings = append(timings, timing{s.what, took})
	logf("%s: %s", s.what, took)
}

func printTimings() {
	var b strings.Builder
	fmt.Fprintf(&b, "\n| step | took |\n|---|---|\n")
	for _, t := range timings {
		fmt.Fprintf(&b, "| %s | %s |\n", t.what, t.took)
	}
	fmt.Fprint(os.Stderr, b.String())
	if out := os.Getenv("E2E_TIMINGS"); out != "" {
		_ = os.WriteFile(out, []byte(b.String()), 0o644)
	}
}

// storeCertificates makes a CA and serving certificates for the stand-in Redis and webhook
// receiver at hostIP, and a
// CA bundle of the system's roots plus that CA, for the images (as a company adds its private CA).
func storeCertificates(dir string) (cert, key, bundle string, err error) {
	ca, err := pki.NewAuthority(dir)
	if err != nil {
		return "", "", "", err
	}
	if err := ca.Issue("redis", "redis", nil, hostIP); err != nil {
		return "", "", "", err
	}
	if err := ca.Issue("receiver", "receiver", nil, hostIP); err != nil {
		return "", "", "", err
	}
	receiverCert, receiverKey = ca.Path("receiver.crt"), ca.Path("receiver.key")
	system, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		return "", "", "", fmt.Errorf("the system's CA bundle: %w", err)
	}
	caPEM, err := os.ReadFile(ca.Path("ca.crt"))
	if err != nil {
		return "", "", "", err
	}
	bundle = filepath.Join(dir, "ca-bundle.crt")
	if err := os.WriteFile(bundle, append(append(system, '\n'), caPEM...), 0o644); err != nil {
		return "", "", "", err
	}
	return ca.Path("redis.crt"), ca.Path("redis.key"), bundle, nil
}

// buildAndLoadImages builds both images as `make images` does, imports them into the cluster's
// containerd and tags the app image with the versions the test upgrades through.
func buildAndLoadImages(dir, bundle string) error {
	out := filepath.Join(dir, "images")
	if err := goRun("./hack/images", "-out", out, "-version", imageTag, "-ca-bundle", bundle); err != nil {
		return err
	}
	if err := goRun("./hack/cluster", "load", "-dir", clusterDir, filepath.Join(out, "tenant-operator.tar"), filepath.Join(out, "app.tar")); err != nil {
		return err
	}
	return goRun("./hack/cluster", "tag", "-dir", clusterDir, appImage+":"+imageTag,
		appImage+":1.0.0", appImage+":1.1.0", appImage+":1.2.0")
}

// nodeIP is the single node's InternalIP, as the kubelet reports it.
func nodeIP() (string, error) {
	var nodes corev1.NodeList
	if err := k.List(context.Background(), &nodes); err != nil {
		return "", err
	}
	if len(nodes.Items) != 1 {
		return "", fmt.Errorf("%d nodes, want the one of hack/cluster", len(nodes.Items))
	}
	for _, a := range nodes.Items[0].Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address, nil
		}
	}
	return "", fmt.Errorf("node %s reports no InternalIP", nodes.Items[0].Name)
}

func goRun(args ...string) error {
	cmd := exec.Command("go", append([]string{"run"}, args...)...)
	cmd.Dir = testenv.Root()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go run %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// installChart runs `helm install` of the chart with the image just loaded, then checks the
// operator's own pod (the real image, in containerd) is Ready. The upstream ACK CRDs are installed
// as the ACK charts would.
func installChart(ctx context.Context) error {
	helm := os.Getenv("HELM")
	if helm == "" {
		return fmt.Errorf("HELM is unset: make e2e builds the helm CLI (hack/helm) and sets it")
	}
	dirs, err := testenv.ACKCRDDirs()
	if err != nil {
		return err
	}
	if _, err := envtest.InstallCRDs(cfg, envtest.CRDInstallOptions{Paths: dirs, ErrorIfPathMissing: true}); err != nil {
		return fmt.Errorf("ACK CRDs: %w", err)
	}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNS, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted"}}}
	if err := k.Create(ctx, ns); err != nil {
		return err
	}
	// The signup console's keys, as the platform team makes them (docs/console.md).
	if err := k.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: operatorNS, Name: "tenant-operator-console-keys"},
		StringData: map[string]string{"token-key": "e2e-console-token-key-0123456789"}}); err != nil {
		return err
	}
	values := filepath.Join(os.TempDir(), "tenantops-e2e-values.yaml")
	if err := os.WriteFile(values, []byte(`image:
  tag: `+imageTag+`
  pullPolicy: Never
replicas: 1
resources:
  requests: {cpu: 50m, memory: 64Mi}
  limits: {memory: 512Mi}
move:
  warmup: 5s
  drain: 15s
console:
  enabled: true
  replicas: 1
  image:
    tag: `+imageTag+`
    pullPolicy: Never
  publicURL: http://console.`+baseDomain+`
  baseDomain: `+baseDomain+`
  printLinks: true
`), 0o644); err != nil {
		return err
	}
	defer os.Remove(values)
	cmd := exec.CommandContext(ctx, helm, "install", "tenant-operator", testenv.ChartDir(), "--namespace", operatorNS,
		"--values", values, "--wait", "--timeout", "3m", "--kubeconfig", os.Getenv("E2E_KUBECONFIG"))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("helm install: %w; pods: %s", err, podStates(ctx, operatorNS))
	}
	var list appsv1.DeploymentList
	if err := k.List(ctx, &list, client.InNamespace(operatorNS)); err != nil || len(list.Items) != 2 {
		return fmt.Errorf("the chart made %d Deployments, want the operator's and the console's (%v)", len(list.Items), err)
	}
	for _, d := range list.Items {
		if d.Status.AvailableReplicas < 1 {
			return fmt.Errorf("helm install returned with %s unavailable: %s", d.Name, podStates(ctx, operatorNS))
		}
	}
	return nil
}

// podStates sums up a namespace's pods for failure messages.
func podStates(ctx context.Context, ns string) string {
	var pods corev1.PodList
	if err := k.List(ctx, &pods, client.InNamespace(ns)); err != nil {
		return err.Error()
	}
	var out []string
	for _, p := range pods.Items {
		s := p.Name + "=" + string(p.Status.Phase)
		for _, c := range p.Status.ContainerStatuses {
			if w := c.State.Waiting; w != nil {
				s += "/" + w.Reason + ":" + w.Message
			}
			if t := c.State.Terminated; t != nil {
				s += fmt.Sprintf("/exit %d %s", t.ExitCode, t.Reason)
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Status != corev1.ConditionTrue && c.Message != "" {
				s += "/" + c.Message
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

// playAWS is the test's only part in the cluster's life: every second it plays RDS and
// ElastiCache (localaws), and, as records change, Route53 (a record set reported in sync).
func playAWS(ctx context.Context) error {
	if _, err := testenv.StartPlayer(ctx, cfg, testenv.PlayerOptions{Systems: []testenv.System{testenv.Route53},
		Played: func(what string) { logf("[played] %s", what) }}); err != nil {
		return err
	}
	go playStores(ctx)
	return nil
}

func playStores(ctx context.Context) {
	for ctx.Err() == nil {
		stores.Play(ctx, k, logf)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// waitFor polls cond until it holds or the time is up; the error carries cond's last word.
func waitFor(ctx context.Context, within time.Duration, what string, cond func() (bool, string)) error {
	deadline := time.Now().Add(within)
	last := ""
	for {
		ok, msg := cond()
		if ok {
			return nil
		}
		last = msg
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %s for %s; last: %s", within, what, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}
