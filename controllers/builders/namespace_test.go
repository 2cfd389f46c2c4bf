package builders

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestNetworkPolicies(t *testing.T) {
	cases := []struct {
		name  string
		cidrs []string
		from  int
	}{{"port from anywhere", nil, 0}, {"port from the load balancer's subnets", []string{"10.0.1.0/24", "10.0.2.0/24"}, 2}}
	for _, c := range cases {
		nps := NetworkPolicies("tenant-acme", nil, c.cidrs)
		byName := map[string]int{}
		for i, np := range nps {
			byName[np.Name] = i
		}
		deny := nps[byName["default-deny"]]
		if len(deny.Spec.PolicyTypes) != 2 || len(deny.Spec.Ingress) != 0 || len(deny.Spec.Egress) != 0 || len(deny.Spec.PodSelector.MatchLabels) != 0 {
			t.Errorf("%s: default-deny is not a deny-all: %+v", c.name, deny.Spec)
		}
		app := nps[byName["allow-app-port"]].Spec.Ingress[0]
		if app.Ports[0].Port.IntValue() != AppPort || len(app.From) != c.from {
			t.Errorf("%s: app ingress %+v", c.name, app)
		}
		egress := nps[byName["allow-egress-dns-db-cache"]].Spec.Egress
		var ports []int
		for _, rule := range egress {
			for _, p := range rule.Ports {
				ports = append(ports, p.Port.IntValue())
			}
		}
		if fmt.Sprint(ports) != "[53 53 3306 6379]" {
			t.Errorf("%s: egress ports %v", c.name, ports)
		}
	}
}

// The tier quota holds the tier's own numbers (a string concatenation once made "5" Jobs 50).
func TestResourceQuotaByTier(t *testing.T) {
	cases := []struct {
		tier                    string
		jobs, pods, cpu, memory string
	}{
		{saasv1.TierPooled, "10", "10", "2", "4Gi"},
		{saasv1.TierDedicated, "10", "200", "64", "128Gi"},
	}
	for _, tc := range cases {
		q := ResourceQuota(testTenant("acme", func(t *saasv1.Tenant) { t.Spec.Tier = tc.tier }), testCell())
		h := q.Spec.Hard
		got := []string{h.Name("count/jobs.batch", "").String(), h.Pods().String(), h.Name(corev1.ResourceRequestsCPU, "").String(),
			h.Name(corev1.ResourceRequestsMemory, "").String()}
		want := []string{tc.jobs, tc.pods, tc.cpu, tc.memory}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s quota (jobs pods cpu memory) = %v, want %v", tc.tier, got, want)
		}
	}
}
