package builders

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// One policy isolates a namespace: every pod selected, both directions, and only what is listed.
func TestNetworkPolicy(t *testing.T) {
	cases := []struct {
		name  string
		cidrs []string
		from  int
	}{{"port from anywhere", nil, 0}, {"port from the load balancer's subnets", []string{"10.0.1.0/24", "10.0.2.0/24"}, 2}}
	for _, c := range cases {
		np := NetworkPolicy("tenant-acme", nil, c.cidrs)
		if np.Name != NetworkPolicyName || len(np.Spec.PolicyTypes) != 2 || len(np.Spec.PodSelector.MatchLabels) != 0 {
			t.Errorf("%s: not a policy over every pod in both directions: %s %+v", c.name, np.Name, np.Spec)
		}
		if len(np.Spec.Ingress) != 2 {
			t.Fatalf("%s: %d ingress rules, want the app port and the ops port", c.name, len(np.Spec.Ingress))
		}
		app, ops := np.Spec.Ingress[0], np.Spec.Ingress[1]
		if app.Ports[0].Port.IntValue() != AppPort || len(app.From) != c.from {
			t.Errorf("%s: app port rule %+v, want port %d from %d ranges", c.name, app, AppPort, c.from)
		}
		if ops.Ports[0].Port.IntValue() != AppOpsPort || len(ops.From) != 0 {
			t.Errorf("%s: ops port rule %+v", c.name, ops)
		}
		var ports []int
		for _, rule := range np.Spec.Egress {
			if len(rule.To) != 0 {
				t.Errorf("%s: an egress rule names destinations: %+v", c.name, rule)
			}
			for _, p := range rule.Ports {
				ports = append(ports, p.Port.IntValue())
			}
		}
		if fmt.Sprint(ports) != "[53 53 3306 6379]" {
			t.Errorf("%s: egress ports %v, want DNS, MySQL and the cache only (HTTPS is the AWS APIs policy's)", c.name, ports)
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

// HTTPS out only for the pods that call AWS, and only to the cell's AWS API ranges.
func TestAWSAPIsPolicy(t *testing.T) {
	c, tn := testCell(), testTenant("acme")
	cases := []struct {
		name  string
		cidrs []string
		want  string
	}{
		{"the private ranges of VPC endpoints by default", nil, "[10.0.0.0/8 172.16.0.0/12 192.168.0.0/16]"},
		{"the cell's ranges", []string{"10.20.0.0/16", "52.95.128.0/21"}, "[10.20.0.0/16 52.95.128.0/21]"},
	}
	for _, tc := range cases {
		np := AWSAPIsPolicy("tenant-acme", nil, tc.cidrs)
		if len(np.Spec.Egress) != 1 || len(np.Spec.Egress[0].Ports) != 1 || np.Spec.Egress[0].Ports[0].Port.IntValue() != 443 ||
			fmt.Sprint(np.Spec.PolicyTypes) != "[Egress]" {
			t.Fatalf("%s: %+v, want one egress rule on 443", tc.name, np.Spec)
		}
		var to []string
		for _, p := range np.Spec.Egress[0].To {
			to = append(to, p.IPBlock.CIDR)
		}
		if fmt.Sprint(to) != tc.want {
			t.Errorf("%s: HTTPS to %v, want %s", tc.name, to, tc.want)
		}
	}
	sel, err := metav1.LabelSelectorAsSelector(&AWSAPIsPolicy("x", nil, nil).Spec.PodSelector)
	if err != nil {
		t.Fatal(err)
	}
	c.Spec.Assets = &saasv1.CellAssets{BucketName: "b"}
	pods := []struct {
		what   string
		labels map[string]string
		calls  bool
	}{
		{"the shared app (SES, SQS)", AppDeployment(CellAppTier(c, "1.0.0")).Spec.Template.Labels, true},
		{"a dedicated app", AppDeployment(DedicatedAppTier(tn, c, "1.0.0")).Spec.Template.Labels, true},
		{"a recommendation run (SES)", RecommendCronJob(tn, c, "1.0.0").Spec.JobTemplate.Spec.Template.Labels, true},
		{"a publishing Job (S3)", PublishAssetsJob(c, "1.0.0", "123456789012").Spec.Template.Labels, true},
		{"a migration (the database only)", MigrationJob(tn, c, "1.0.0").Spec.Template.Labels, false},
	}
	for _, p := range pods {
		if got := sel.Matches(labels.Set(p.labels)); got != p.calls {
			t.Errorf("%s: HTTPS to the AWS APIs %v, want %v", p.what, got, p.calls)
		}
	}
}
