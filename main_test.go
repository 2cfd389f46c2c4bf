package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/test/testenv"
)

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime; without a logger it prints a stack saying so.
	ctrl.SetLogger(zap.New(zap.WriteTo(io.Discard)))
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// The operator binary run out of a cluster with nothing but a kubeconfig must start and keep
// running: a first run once exited with "unable to find leader election namespace".
func TestFirstRunWithAKubeconfig(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	op := startOperator(t, env)
	op.waitForWorkers(t)
	if strings.Contains(op.out.String(), `"leaderElection": true`) {
		t.Errorf("leader election on by default out of a cluster:\n%s", op.out.String())
	}
}

// ACK controllers installed after the operator: it runs without the kinds of spec.alerts and
// spec.assets, says ACKMissing for a cell that alerts, notices the kinds once installed, and exits
// cleanly; started again (as its Deployment would), it makes the cell's SNS topic.
func TestOptionalKindsInstalledLaterRestartTheOperator(t *testing.T) {
	ctx := context.Background()
	var later []string
	env, err := testenv.StartWith(func(e *envtest.Environment) {
		var now []string
		for _, d := range e.CRDDirectoryPaths {
			if base := filepath.Base(d); strings.HasPrefix(base, "sns-controller") || strings.HasPrefix(base, "cloudwatch-controller") {
				later = append(later, d)
				continue
			}
			now = append(now, d)
		}
		e.CRDDirectoryPaths = now
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	if len(later) != 2 {
		t.Fatalf("the SNS and CloudWatch CRDs are not among the ACK CRDs: %v", later)
	}
	k8s, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	cell, err := testenv.SampleCell()
	if err != nil {
		t.Fatal(err)
	}
	if cell.Spec.Alerts == nil {
		t.Fatal("the sample cell no longer alerts: this test needs one that does")
	}
	if err := k8s.Create(ctx, cell); err != nil {
		t.Fatal(err)
	}

	op := startOperator(t, env, "--optional-kinds-check-interval", "200ms")
	op.waitForWorkers(t)
	waitForAlarmsReason(t, k8s, cell.Name, func(reason string) bool { return reason == "ACKMissing" }, "ACKMissing")
	select {
	case err := <-op.exited:
		t.Fatalf("the operator exited (%v) before any kind was installed:\n%s", err, op.out.String())
	case <-time.After(2 * time.Second):
	}

	if _, err := envtest.InstallCRDs(env.Config, envtest.CRDInstallOptions{Paths: later, ErrorIfPathMissing: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-op.exited:
		if err != nil {
			t.Errorf("the operator exited with %v, want a clean exit (0):\n%s", err, op.out.String())
		}
		if out := op.out.String(); !strings.Contains(out, "stopping to start again") || !strings.Contains(out, "spec.alerts") {
			t.Errorf("the operator did not say why it stopped:\n%s", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the operator did not notice the SNS and CloudWatch kinds in 30 s:\n%s", op.out.String())
	}

	again := startOperator(t, env)
	again.waitForWorkers(t)
	waitForAlarmsReason(t, k8s, cell.Name, func(reason string) bool { return reason != "ACKMissing" }, "anything but ACKMissing")
	topic := &sns.Topic{}
	if err := k8s.Get(ctx, client.ObjectKey{Namespace: b.CellNamespace(cell), Name: b.AlertsTopicName}, topic); err != nil {
		t.Errorf("the restarted operator made no SNS topic for the cell: %v", err)
	}
}

// waitForAlarmsReason waits until the cell's AlarmsReady condition has a reason ok accepts.
func waitForAlarmsReason(t *testing.T, k8s client.Client, name string, ok func(string) bool, want string) {
	t.Helper()
	var got metav1.Condition
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		cell := &saasv1.RegionCell{}
		if err := k8s.Get(context.Background(), client.ObjectKey{Name: name}, cell); err != nil {
			t.Fatal(err)
		}
		if c := meta.FindStatusCondition(cell.Status.Conditions, saasv1.ConditionAlarmsReady); c != nil {
			if got = *c; ok(c.Reason) {
				return
			}
		}
	}
	t.Fatalf("cell %s: AlarmsReady %s %s (%s), want %s", name, got.Status, got.Reason, got.Message, want)
}

// buildOperator builds the operator once for the tests of the package, in buildDir.
var buildOperator = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "tenant-operator-main-test-")
	if err != nil {
		return "", err
	}
	buildDir = dir
	bin := filepath.Join(dir, "tenant-operator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

var buildDir string

type operatorProcess struct {
	out    *testenv.SyncBuffer
	exited chan error
}

// startOperator builds the operator and runs it with a kubeconfig for env and args; it is killed
// when the test ends.
func startOperator(t *testing.T, env *testenv.Env, args ...string) *operatorProcess {
	t.Helper()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := buildOperator()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, append([]string{"--kubeconfig", kubeconfig, "--health-probe-bind-address", "127.0.0.1:0",
		"--metrics-bind-address", "0"}, args...)...)
	op := &operatorProcess{out: &testenv.SyncBuffer{}, exited: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = op.out, op.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { op.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			t.Logf("killing the operator: %v", err)
		}
	})
	return op
}

// waitForWorkers waits until a controller started its workers.
func (op *operatorProcess) waitForWorkers(t *testing.T) {
	t.Helper()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(op.out.String(), `"worker count"`) {
		select {
		case err := <-op.exited:
			op.exited <- err
			t.Fatalf("the operator exited (%v):\n%s", err, op.out.String())
		case <-deadline:
			t.Fatalf("no controller started its workers in 60 s:\n%s", op.out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
