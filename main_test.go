package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantops/tenant-operator/test/testenv"
)

// The operator binary run out of a cluster with nothing but a kubeconfig must start and keep
// running: a first run once exited with "unable to find leader election namespace".
func TestFirstRunWithAKubeconfig(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, env.KubeConfig, 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "tenant-operator")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cmd := exec.Command(bin, "--kubeconfig", kubeconfig, "--health-probe-bind-address", "127.0.0.1:0",
		"--metrics-bind-address", "0")
	out := &testenv.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill(); t.Logf("the operator stopped: %v", <-exited) }()

	deadline := time.After(60 * time.Second)
	for !strings.Contains(out.String(), `"worker count"`) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("the operator exited (%v):\n%s", err, out.String())
		case <-deadline:
			t.Fatalf("no controller started its workers in 60 s:\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if strings.Contains(out.String(), `"leaderElection": true`) {
		t.Errorf("leader election on by default out of a cluster:\n%s", out.String())
	}
}
