package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenantops/tenant-operator/hack/images/oci"
)

// proc is one of the cluster's processes.
type proc struct {
	name, bin string
	args      []string
}

func (l layout) pidPath(name string) string { return l.p("pids", name+".pid") }
func (l layout) logPath(name string) string { return filepath.Join(l.logs(), name+".log") }

// running reports the recorded PID and whether that process is still the one we started: alive
// and running a command line that names this cluster's directory or our binary.
func (l layout) running(name string) (int, bool) {
	b, err := os.ReadFile(l.pidPath(name))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return pid, false
	}
	// A process just exec'd may show an empty command line for a moment.
	ours := len(cmdline) == 0 || strings.Contains(string(cmdline), l.dir) || strings.Contains(string(cmdline), name)
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	zombie := strings.Contains(string(stat), ") Z ")
	return pid, ours && !zombie
}

// start runs p in its own session with its output in logs/<name>.log and records its PID; a
// process of this cluster that already runs is left alone.
func (l layout) start(p proc) error {
	if pid, ok := l.running(p.name); ok {
		say("%s already running (pid %d)", p.name, pid)
		return nil
	}
	logf, err := os.OpenFile(l.logPath(p.name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Dir = l.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	if err := os.WriteFile(l.pidPath(p.name), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return err
	}
	say("started %s (pid %d)", p.name, cmd.Process.Pid)
	return cmd.Process.Release()
}

// stop sends SIGTERM to the recorded PID, then SIGKILL after 20 s.
func (l layout) stop(name string) {
	pid, ok := l.running(name)
	if !ok {
		_ = os.Remove(l.pidPath(name))
		return
	}
	_ = syscall.Kill(pid, syscall.SIGTERM)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if _, alive := l.running(name); !alive {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, alive := l.running(name); alive {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		say("%s (pid %d) killed after 20 s", name, pid)
	} else {
		say("stopped %s (pid %d)", name, pid)
	}
	_ = os.Remove(l.pidPath(name))
}

// stopShims stops the containerd shims serving this cluster's containerd (they outlive it).
func (l layout) stopShims() {
	procs, _ := os.ReadDir("/proc")
	for _, e := range procs {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || !strings.Contains(string(cmdline), "containerd-shim") || !strings.Contains(string(cmdline), l.socket()) {
			continue
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
		say("stopped containerd shim (pid %d)", pid)
	}
}

// waitFor waits until the named component answers its health check.
func (l layout) waitFor(ctx context.Context, name string) error {
	check := func() error { return nil }
	insecure := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	get := func(c *http.Client, url string, want200 bool) func() error {
		return func() error {
			resp, err := c.Get(url)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if want200 && resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s", url, resp.Status)
			}
			return nil
		}
	}
	switch name {
	case "etcd":
		check = get(http.DefaultClient, "http://"+etcdClient+"/health", true)
	case "containerd":
		check = func() error {
			_, err := l.ctr(ctx, "version")
			return err
		}
	case "kube-apiserver":
		admin, err := l.adminHTTP()
		if err != nil {
			return err
		}
		check = get(admin, fmt.Sprintf("https://%s:%d/readyz", hostIP, apiPort), true)
	case "kube-controller-manager":
		check = get(insecure, "https://127.0.0.1:10257/healthz", true)
	case "kube-scheduler":
		check = get(insecure, "https://127.0.0.1:10259/healthz", true)
	case "kubelet":
		check = get(http.DefaultClient, "http://127.0.0.1:10248/healthz", true)
	case "kube-proxy":
		check = get(http.DefaultClient, "http://127.0.0.1:10256/livez", false)
	}
	var err error
	for {
		if pid, alive := l.running(name); !alive {
			stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			return fmt.Errorf("exited (pid %d: %.60s)", pid, stat)
		}
		if err = check(); err == nil {
			say("%s is up", name)
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func (l layout) adminHTTP() (*http.Client, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", l.kubeconfig("admin"))
	if err != nil {
		return nil, err
	}
	cfg.Timeout = 2 * time.Second
	return rest.HTTPClientFor(cfg)
}

func (l layout) clientset() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", l.kubeconfig("admin"))
	if err != nil {
		return nil, err
	}
	return kubernetes.NewForConfig(cfg)
}

// loadPause builds the sandbox image containerd needs and imports it, once.
func (l layout) loadPause(ctx context.Context) error {
	out, _ := l.ctr(ctx, "images", "ls", "-q")
	if strings.Contains(string(out), PauseImage) {
		return nil
	}
	name, tag, _ := strings.Cut(PauseImage, ":")
	tar, err := oci.Build(oci.Image{Name: name, Package: "./hack/cluster/pause", Binary: "pause", User: "65535:65535"}, tag, moduleRoot(), l.p("images"))
	if err != nil {
		return err
	}
	return l.load(ctx, []string{tar})
}

// moduleRoot is the repository root: the directory holding go.mod above this program's sources.
func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/tenantops/tenant-operator\n") {
			return d
		}
	}
	return dir
}

func (l layout) waitNodeReady(ctx context.Context) error {
	cs, err := l.clientset()
	if err != nil {
		return err
	}
	var last string
	for {
		node, err := cs.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
		if err == nil {
			for _, c := range node.Status.Conditions {
				if c.Type == corev1.NodeReady {
					if c.Status == corev1.ConditionTrue {
						say("node %s is Ready", nodeName)
						return nil
					}
					last = c.Message
				}
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node %s not Ready: %s (log: %s)", nodeName, last, l.logPath("kubelet"))
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// drainPods stops the controllers that would replace pods, deletes every pod and waits until
// containerd runs no container, so each pod's network is torn down by its own runtime.
func (l layout) drainPods(ctx context.Context, bins string) {
	if _, ok := l.running("kube-apiserver"); !ok {
		return
	}
	if _, ok := l.running("kubelet"); !ok {
		return
	}
	l.stop("kube-controller-manager")
	l.stop("kube-scheduler")
	cs, err := l.clientset()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	zero := int64(0)
	for _, p := range pods.Items {
		_ = cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
	}
	say("deleted %d pods; waiting for containerd to stop their containers", len(pods.Items))
	for ctx.Err() == nil {
		out, err := l.ctr(ctx, "tasks", "ls", "-q")
		if err != nil || len(strings.TrimSpace(string(out))) == 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	say("containers still running after 90 s; sweeping them up")
}
