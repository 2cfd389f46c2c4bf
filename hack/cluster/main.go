// Command cluster brings up a real single-node Kubernetes cluster on this machine from the
// binaries hack/kube-bins.sh builds and Debian's containerd, runc and CNI plugins, and takes it
// down again leaving the host as it was: every process stopped by the PID it recorded, pods'
// mounts and network namespaces removed, KUBE-* iptables rules deleted, sysctls written back.
//
//	go run ./hack/cluster up   -bins DIR [-dir DIR]   # idempotent; prints the admin kubeconfig
//	go run ./hack/cluster load -dir DIR IMAGE.tar...  # into containerd's k8s.io namespace
//	go run ./hack/cluster tag -dir DIR IMAGE NEW-NAME...
//	go run ./hack/cluster down [-dir DIR] [-keep-logs]
//	go run ./hack/cluster status [-dir DIR]
//
// The API server and the node listen on 10.244.0.1, the host's end of the cluster's own bridge
// (tenantops0), so pods reach the API through the kubernetes Service like on any cluster; etcd
// and the components' health ports listen on 127.0.0.1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/tenantops/tenant-operator/hack/cluster/pki"
)

func say(format string, a ...any) { fmt.Fprintf(os.Stderr, "cluster: "+format+"\n", a...) }

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: cluster up|down|load|tag|status [flags]")
		os.Exit(2)
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	dir := fs.String("dir", envOr("CLUSTER_DIR", "/var/tmp/tenantops-cluster"), "the cluster's state, certificates and logs")
	bins := fs.String("bins", os.Getenv("KUBE_BINS"), "directory of etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl")
	keepLogs := fs.Bool("keep-logs", false, "down: keep the logs directory (the rest is removed)")
	metrics := fs.String("metrics-server", os.Getenv("METRICS_SERVER"), "up: a metrics-server binary to run, so HPAs see real CPU")
	_ = fs.Parse(os.Args[2:])
	abs, err := filepath.Abs(*dir)
	if err != nil {
		fail(err)
	}
	l := layout{dir: abs}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	switch cmd {
	case "up":
		if os.Geteuid() != 0 {
			fail(fmt.Errorf("a cluster needs root (containerd, the kubelet, iptables)"))
		}
		err = l.up(ctx, *bins, *metrics)
	case "down":
		err = l.down(ctx, *bins, *keepLogs)
	case "load":
		err = l.load(ctx, fs.Args())
	case "tag":
		err = l.tag(ctx, fs.Args())
	case "status":
		err = l.status()
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	say("%v", err)
	os.Exit(1)
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// up starts what is not running yet, in order, each only once the one before it answers.
func (l layout) up(ctx context.Context, bins, metricsServer string) error {
	if bins == "" {
		return fmt.Errorf("-bins (or KUBE_BINS) must name the directory hack/kube-bins.sh printed")
	}
	for _, b := range []string{"containerd", "runc", "iptables", "conntrack", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s is missing: apt-get install containerd runc containernetworking-plugins iptables conntrack iproute2", b)
		}
	}
	start := time.Now()
	if err := l.prepare(); err != nil {
		return err
	}
	for _, p := range l.commands(bins) {
		if err := l.start(p); err != nil {
			return err
		}
		if err := l.waitFor(ctx, p.name); err != nil {
			return fmt.Errorf("%s did not come up: %w (log: %s)", p.name, err, l.logPath(p.name))
		}
		if p.name == "containerd" {
			if err := l.loadPause(ctx); err != nil {
				return err
			}
		}
	}
	if err := l.waitNodeReady(ctx); err != nil {
		return err
	}
	if metricsServer != "" {
		if err := l.startMetrics(ctx, bins, metricsServer); err != nil {
			return err
		}
	}
	say("up in %s; export KUBECONFIG=%s", time.Since(start).Round(100*time.Millisecond), l.kubeconfig("admin"))
	fmt.Println(l.kubeconfig("admin"))
	return nil
}

// prepare writes certificates and configuration (kept across `up`s), records the host's
// sysctls and makes the bridge.
func (l layout) prepare() error {
	for _, d := range []string{"logs", "pids", "pki", "etcd", "containerd", "cni/net.d", "cni/ipam", "kubelet/root", "pod-logs", "kubeconfig"} {
		if err := os.MkdirAll(l.p(d), 0o755); err != nil {
			return err
		}
	}
	if err := l.saveHost(); err != nil {
		return err
	}
	ca, err := pki.NewAuthority(l.p("pki"))
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	certs := []struct {
		name, cn string
		orgs     []string
		hosts    []string
	}{
		{"apiserver", "kube-apiserver", nil, []string{hostIP, "127.0.0.1", apiServerIP, "localhost", host, "kubernetes",
			"kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}},
		{"apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"kubeadm:cluster-admins"}, nil},
		{"admin", "tenantops-e2e-admin", []string{"system:masters"}, nil},
		{"kube-controller-manager", "system:kube-controller-manager", nil, nil},
		{"kube-scheduler", "system:kube-scheduler", nil, nil},
		{"kubelet", "system:node:" + nodeName, []string{"system:nodes"}, nil},
		{"kubelet-serving", "system:node:" + nodeName, []string{"system:nodes"}, []string{hostIP, nodeName, "localhost"}},
		{"kube-proxy", "system:kube-proxy", nil, nil},
		{"front-proxy-client", "front-proxy-client", nil, nil},
		{"metrics-server", "system:metrics-server", nil, nil},
		{"metrics-server-serving", "metrics-server", nil, []string{hostIP, "metrics-server.kube-system.svc"}},
	}
	for _, c := range certs {
		if err := ca.Issue(c.name, c.cn, c.orgs, c.hosts...); err != nil {
			return err
		}
	}
	if err := ca.ServiceAccountKey(); err != nil {
		return err
	}
	for _, u := range []string{"admin", "kube-controller-manager", "kube-scheduler", "kubelet", "kube-proxy", "metrics-server"} {
		if err := l.writeKubeconfig(u); err != nil {
			return err
		}
	}
	files := map[string]string{
		l.p("containerd", "config.toml"):             l.containerdConfig(),
		l.p("cni", "net.d", "10-tenantops.conflist"): l.cniConfig(),
		l.p("kubelet", "config.yaml"):                l.kubeletConfig(),
		l.p("kube-proxy.yaml"):                       l.kubeProxyConfig(),
		l.p("audit-policy.yaml"):                     auditPolicy,
	}
	for path, content := range files {
		if err := writeFile(path, content, 0o644); err != nil {
			return err
		}
	}
	return bridgeUp()
}

// down stops everything in reverse order. Pods go first, through the kubelet, so containerd
// tears their networks down; whatever is left is then swept up directly.
func (l layout) down(ctx context.Context, bins string, keepLogs bool) error {
	if _, err := os.Stat(l.dir); errors.Is(err, fs.ErrNotExist) {
		say("nothing at %s", l.dir)
		bridgeDown()
		return nil
	} else if err != nil {
		return err
	}
	start := time.Now()
	l.drainPods(ctx, bins)
	names := []string{"metrics-server", "kube-proxy", "kubelet", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "containerd", "etcd"}
	for _, n := range names {
		l.stop(n)
	}
	l.stopShims()
	killCgroupLeftovers()
	unmountUnder(l.dir, podNetns())
	removeKubeRules()
	bridgeDown()
	if err := l.restoreHost(); err != nil {
		return err
	}
	if keepLogs {
		entries, _ := os.ReadDir(l.dir)
		for _, e := range entries {
			if e.Name() != "logs" {
				if err := os.RemoveAll(l.p(e.Name())); err != nil {
					say("removing %s: %v", l.p(e.Name()), err)
				}
			}
		}
		say("down in %s; logs kept in %s", time.Since(start).Round(100*time.Millisecond), l.logs())
		return nil
	}
	if err := os.RemoveAll(l.dir); err != nil {
		return err
	}
	say("down in %s; %s removed", time.Since(start).Round(100*time.Millisecond), l.dir)
	return nil
}

func (l layout) status() error {
	for _, p := range append(l.commands(""), l.metricsServer("")) {
		pid, alive := l.running(p.name)
		state := "stopped"
		if alive {
			state = fmt.Sprintf("running (pid %d)", pid)
		}
		fmt.Printf("%-24s %s\n", p.name, state)
	}
	return nil
}

// load imports image tarballs into the namespace the kubelet's images live in.
func (l layout) load(ctx context.Context, tars []string) error {
	for _, t := range tars {
		out, err := l.ctr(ctx, "images", "import", t)
		if err != nil {
			return fmt.Errorf("importing %s: %w", t, err)
		}
		say("loaded %s: %s", t, strings.TrimSpace(string(out)))
	}
	return nil
}

// tag gives a loaded image more names, as versions of the same build.
func (l layout) tag(ctx context.Context, args []string) error {
	if len(args) < 2 {
		return errors.New("usage: cluster tag [-dir DIR] IMAGE NEW-NAME [NEW-NAME]")
	}
	for _, name := range args[1:] {
		if _, err := l.ctr(ctx, "images", "tag", "--force", args[0], name); err != nil {
			return err
		}
		say("tagged %s as %s", args[0], name)
	}
	return nil
}

// ctr runs containerd's client against this cluster's containerd, in the kubelet's namespace.
func (l layout) ctr(ctx context.Context, args ...string) ([]byte, error) {
	out, err := exec.CommandContext(ctx, "ctr", append([]string{"--address", l.socket(), "-n", "k8s.io"}, args...)...).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return out, nil
}
