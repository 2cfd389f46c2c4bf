package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const metricsServerPort = 4443

// The metrics-server runs on the host like the other components, serving the resource metrics
// API through the API server's aggregation layer at the host's bridge address; the HPA controller
// reads CPU from it as on any cluster.
func (l layout) metricsServer(bin string) proc {
	return proc{name: "metrics-server", bin: bin, args: []string{
		fmt.Sprintf("--secure-port=%d", metricsServerPort), "--bind-address=" + hostIP,
		"--tls-cert-file=" + l.pki("metrics-server-serving.crt"), "--tls-private-key-file=" + l.pki("metrics-server-serving.key"),
		"--kubeconfig=" + l.kubeconfig("metrics-server"),
		"--authentication-kubeconfig=" + l.kubeconfig("metrics-server"),
		"--authorization-kubeconfig=" + l.kubeconfig("metrics-server"),
		"--kubelet-preferred-address-types=InternalIP", "--kubelet-certificate-authority=" + l.pki("ca.crt"),
		"--kubelet-client-certificate=" + l.pki("metrics-server.crt"), "--kubelet-client-key=" + l.pki("metrics-server.key"),
		"--metric-resolution=15s", "--profiling=false",
	}}
}

// metricsManifest registers the metrics-server with the aggregation layer: RBAC for its
// identity, a Service without selector whose endpoint is the host, and the APIService.
func (l layout) metricsManifest() (string, error) {
	ca, err := os.ReadFile(l.pki("ca.crt"))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "system:metrics-server"}
rules:
- apiGroups: [""]
  resources: [nodes/metrics, nodes/stats]
  verbs: [get]
- apiGroups: [""]
  resources: [pods, nodes]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "system:metrics-server"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:metrics-server"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:metrics-server"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "metrics-server:system:auth-delegator"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:auth-delegator"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:metrics-server"}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: metrics-server-auth-reader, namespace: kube-system}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: extension-apiserver-authentication-reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: "system:metrics-server"}]
---
apiVersion: v1
kind: Service
metadata: {name: metrics-server, namespace: kube-system}
spec:
  ports: [{name: https, port: 443, targetPort: %d, protocol: TCP}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: metrics-server, namespace: kube-system}
subsets:
- addresses: [{ip: %s}]
  ports: [{name: https, port: %d, protocol: TCP}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.metrics.k8s.io}
spec:
  group: metrics.k8s.io
  version: v1beta1
  service: {name: metrics-server, namespace: kube-system, port: 443}
  caBundle: %s
  groupPriorityMinimum: 100
  versionPriority: 100
`, metricsServerPort, hostIP, metricsServerPort, base64.StdEncoding.EncodeToString(ca)), nil
}

// startMetrics registers and starts the metrics-server, then waits until the API server
// serves node metrics through it.
func (l layout) startMetrics(ctx context.Context, bins, bin string) error {
	manifest, err := l.metricsManifest()
	if err != nil {
		return err
	}
	path := l.p("metrics-server.yaml")
	if err := writeFile(path, manifest, 0o644); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, filepath.Join(bins, "kubectl"), "--kubeconfig", l.kubeconfig("admin"),
		"apply", "--server-side", "-f", path).CombinedOutput(); err != nil {
		return fmt.Errorf("registering the metrics-server: %v: %s", err, out)
	}
	if err := l.start(l.metricsServer(bin)); err != nil {
		return err
	}
	cs, err := l.clientset()
	if err != nil {
		return err
	}
	var last string
	for {
		if _, alive := l.running("metrics-server"); !alive {
			return fmt.Errorf("metrics-server exited (log: %s)", l.logPath("metrics-server"))
		}
		raw, err := cs.RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/nodes", nodeName).DoRaw(ctx)
		if err == nil && strings.Contains(string(raw), `"cpu"`) {
			say("metrics-server serves node metrics")
			return nil
		}
		last = fmt.Sprint(err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("no node metrics from the metrics-server: %s (log: %s)", last, l.logPath("metrics-server"))
		case <-time.After(2 * time.Second):
		}
	}
}
