package main

import (
	"strings"
	"testing"
)

func TestWithoutKubeRules(t *testing.T) {
	saved := `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-NODEPORTS
-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT
-A FORWARD -j KUBE-FORWARD
-A KUBE-SERVICES -d 10.96.0.1/32 -j REJECT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:KUBE-POSTROUTING - [0:0]
-A PREROUTING -j DOCKER
COMMIT
`
	kept, removed := withoutKubeRules([]byte(saved))
	want := `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
-A INPUT -s 10.0.0.0/8 -p tcp --dport 22 -j ACCEPT
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
-A PREROUTING -j DOCKER
COMMIT
`
	if string(kept) != want {
		t.Errorf("kept:\n%s\nwant:\n%s", kept, want)
	}
	if removed != 6 {
		t.Errorf("removed %d lines, want 6", removed)
	}
}

// The cluster listens only on loopback and on its own bridge: nothing binds to every address.
func TestEverythingListensOnLoopbackOrTheBridge(t *testing.T) {
	l := layout{dir: "/tmp/x"}
	for _, p := range l.commands("/bins") {
		for _, a := range p.args {
			if strings.Contains(a, "0.0.0.0") {
				t.Errorf("%s listens on every address: %s", p.name, a)
			}
			for _, flag := range []string{"--bind-address=", "--listen-client-urls=", "--listen-peer-urls="} {
				if v, ok := strings.CutPrefix(a, flag); ok && !strings.Contains(v, "127.0.0.1") && !strings.Contains(v, hostIP) {
					t.Errorf("%s: %s", p.name, a)
				}
			}
		}
	}
	for name, cfg := range map[string]string{"kubelet": l.kubeletConfig(), "kube-proxy": l.kubeProxyConfig()} {
		for _, line := range strings.Split(cfg, "\n") {
			if strings.Contains(line, "Address") || strings.HasPrefix(line, "address") {
				if !strings.Contains(line, "127.0.0.1") && !strings.Contains(line, hostIP) {
					t.Errorf("%s: %s", name, line)
				}
			}
		}
	}
}
