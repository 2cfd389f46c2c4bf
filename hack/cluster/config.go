package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// The cluster's addresses. Everything the cluster serves listens on loopback or on the host end
// of its own bridge, which no physical interface joins: no traffic leaves the machine.
const (
	bridgeName  = "tenantops0"
	hostIP      = "10.244.0.1" // the host on the pod bridge: the API server, the node, and the e2e's stores
	podCIDR     = "10.244.0.0/24"
	serviceCIDR = "10.96.0.0/24"
	apiServerIP = "10.96.0.1" // the kubernetes Service
	apiPort     = 6443
	etcdClient  = "127.0.0.1:23790"
	etcdPeer    = "127.0.0.1:23800"
	nodeName    = "tenantops-e2e"
	// PauseImage is containerd's sandbox image, built here from ./pause.
	PauseImage = "tenantops.local/pause:e2e"
)

// layout names every file of a cluster under its directory.
type layout struct{ dir string }

func (l layout) p(parts ...string) string { return filepath.Join(append([]string{l.dir}, parts...)...) }
func (l layout) pki(name string) string   { return l.p("pki", name) }
func (l layout) logs() string             { return l.p("logs") }
func (l layout) socket() string           { return l.p("containerd", "containerd.sock") }
func (l layout) kubeconfig(user string) string {
	return l.p("kubeconfig", user+".kubeconfig")
}

// writeFile writes content to path unless it is there already: a second `up` must not touch
// the files of running components (kube-proxy exits when its configuration file is written to).
func writeFile(path, content string, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == content {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), mode)
}

// kubeconfigFor writes a kubeconfig authenticating with the client certificate pki/<user>.crt.
func (l layout) writeKubeconfig(user string) error {
	return writeFile(l.kubeconfig(user), fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: tenantops-e2e
  cluster:
    server: https://%s:%d
    certificate-authority: %s
users:
- name: %s
  user:
    client-certificate: %s
    client-key: %s
contexts:
- name: %s@tenantops-e2e
  context: {cluster: tenantops-e2e, user: %s}
current-context: %s@tenantops-e2e
`, hostIP, apiPort, l.pki("ca.crt"), user, l.pki(user+".crt"), l.pki(user+".key"), user, user, user), 0o600)
}

// containerdConfig is containerd 1.6's CRI configuration. restrict_oom_score_adj: this VM does not
// let runc set oom_score_adj, which runc reports as "can't get final child's PID from pipe".
func (l layout) containerdConfig() string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = %q
    conf_dir = %q
`, l.p("containerd", "root"), l.p("containerd", "state"), l.socket(), l.socket()+".ttrpc", l.p("containerd", "opt"),
		PauseImage, cniBinDir(), l.p("cni", "net.d"))
}

func cniBinDir() string {
	for _, d := range []string{"/usr/lib/cni", "/opt/cni/bin"} {
		if _, err := os.Stat(filepath.Join(d, "bridge")); err == nil {
			return d
		}
	}
	return "/usr/lib/cni"
}

// cniConfig puts pods on the cluster's bridge with addresses from host-local; no masquerading,
// since pods talk only to the host and to each other.
func (l layout) cniConfig() string {
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "tenantops-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dataDir": %q
      }
    }
  ]
}
`, bridgeName, podCIDR, hostIP, l.p("cni", "ipam"))
}

// kubeletConfig: cgroupfs and failCgroupV1 false for this cgroup v1 host; protectKernelDefaults
// false lets the kubelet set its sysctls, which `down` puts back.
func (l layout) kubeletConfig() string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: %s
tlsPrivateKeyFile: %s
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
podLogsDir: %s
clusterDomain: cluster.local
resolvConf: /etc/resolv.conf
protectKernelDefaults: false
serializeImagePulls: false
maxPods: 60
evictionHard: {memory.available: 100Mi, nodefs.available: 2%%, imagefs.available: 2%%, nodefs.inodesFree: 2%%}
imageGCHighThresholdPercent: 98
imageGCLowThresholdPercent: 97
`, hostIP, l.pki("kubelet-serving.crt"), l.pki("kubelet-serving.key"), l.pki("ca.crt"), l.socket(), l.p("pod-logs"))
}

// kubeProxyConfig: iptables mode; every conntrack figure 0 so kube-proxy leaves the host's
// conntrack settings alone, and no localhost NodePorts so it leaves route_localnet alone.
func (l layout) kubeProxyConfig() string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: %s}
mode: iptables
clusterCIDR: %s
hostnameOverride: %s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: ["%s/32"]
iptables: {localhostNodePorts: false, masqueradeAll: false, syncPeriod: 30s, minSyncPeriod: 1s}
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
`, l.kubeconfig("kube-proxy"), podCIDR, nodeName, hostIP)
}

// commands are the cluster's processes in start order, each with its arguments.
func (l layout) commands(bins string) []proc {
	b := func(n string) string { return filepath.Join(bins, n) }
	pki := l.pki
	return []proc{
		{name: "etcd", bin: b("etcd"), args: []string{
			"--name=tenantops-e2e", "--data-dir=" + l.p("etcd"),
			"--listen-client-urls=http://" + etcdClient, "--advertise-client-urls=http://" + etcdClient,
			"--listen-peer-urls=http://" + etcdPeer, "--initial-advertise-peer-urls=http://" + etcdPeer,
			"--initial-cluster=tenantops-e2e=http://" + etcdPeer, "--unsafe-no-fsync", "--quota-backend-bytes=4294967296",
		}},
		{name: "containerd", bin: "containerd", args: []string{"--config=" + l.p("containerd", "config.toml")}},
		{name: "kube-apiserver", bin: b("kube-apiserver"), args: []string{
			"--etcd-servers=http://" + etcdClient,
			fmt.Sprintf("--bind-address=%s", hostIP), fmt.Sprintf("--secure-port=%d", apiPort), "--advertise-address=" + hostIP,
			"--tls-cert-file=" + pki("apiserver.crt"), "--tls-private-key-file=" + pki("apiserver.key"),
			"--client-ca-file=" + pki("ca.crt"),
			"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
			"--service-account-key-file=" + pki("sa.pub"), "--service-account-signing-key-file=" + pki("sa.key"),
			"--service-cluster-ip-range=" + serviceCIDR,
			"--authorization-mode=Node,RBAC", "--enable-admission-plugins=NodeRestriction",
			"--kubelet-client-certificate=" + pki("apiserver-kubelet-client.crt"), "--kubelet-client-key=" + pki("apiserver-kubelet-client.key"),
			"--kubelet-certificate-authority=" + pki("ca.crt"), "--kubelet-preferred-address-types=InternalIP",
			// The aggregation layer, for the metrics-server: requests proxied with the front
			// proxy's client certificate, straight to the endpoint (there is no cluster DNS).
			"--requestheader-client-ca-file=" + pki("ca.crt"), "--requestheader-allowed-names=front-proxy-client",
			"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
			"--requestheader-extra-headers-prefix=X-Remote-Extra-",
			"--proxy-client-cert-file=" + pki("front-proxy-client.crt"), "--proxy-client-key-file=" + pki("front-proxy-client.key"),
			"--enable-aggregator-routing=true",
			"--profiling=false", "--audit-log-path=" + filepath.Join(l.logs(), "audit.log"), "--audit-policy-file=" + l.p("audit-policy.yaml"),
		}},
		{name: "kube-controller-manager", bin: b("kube-controller-manager"), args: []string{
			"--kubeconfig=" + l.kubeconfig("kube-controller-manager"),
			"--authentication-kubeconfig=" + l.kubeconfig("kube-controller-manager"),
			"--authorization-kubeconfig=" + l.kubeconfig("kube-controller-manager"),
			"--bind-address=127.0.0.1", "--leader-elect=false", "--use-service-account-credentials=true",
			"--service-account-private-key-file=" + pki("sa.key"), "--root-ca-file=" + pki("ca.crt"),
			"--cluster-signing-cert-file=" + pki("ca.crt"), "--cluster-signing-key-file=" + pki("ca.key"),
			"--service-cluster-ip-range=" + serviceCIDR, "--controllers=*,-nodeipam",
			"--profiling=false",
		}},
		{name: "kube-scheduler", bin: b("kube-scheduler"), args: []string{
			"--kubeconfig=" + l.kubeconfig("kube-scheduler"),
			"--authentication-kubeconfig=" + l.kubeconfig("kube-scheduler"),
			"--authorization-kubeconfig=" + l.kubeconfig("kube-scheduler"),
			"--bind-address=127.0.0.1", "--leader-elect=false", "--profiling=false",
		}},
		{name: "kubelet", bin: b("kubelet"), args: []string{
			"--config=" + l.p("kubelet", "config.yaml"), "--kubeconfig=" + l.kubeconfig("kubelet"),
			"--root-dir=" + l.p("kubelet", "root"), "--node-ip=" + hostIP, "--hostname-override=" + nodeName,
		}},
		{name: "kube-proxy", bin: b("kube-proxy"), args: []string{"--config=" + l.p("kube-proxy.yaml")}},
	}
}

// auditPolicy records every write, so a test can count what the operator wrote.
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: None
`
