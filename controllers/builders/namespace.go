package builders

import (
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Namespace is a tenant's or cell's namespace, enforcing Pod Security "restricted".
func Namespace(name string, labels map[string]string) *corev1.Namespace {
	l := map[string]string{
		"pod-security.kubernetes.io/enforce": "restricted",
		"pod-security.kubernetes.io/warn":    "restricted",
	}
	for k, v := range labels {
		l[k] = v
	}
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// tierSize is what a tenant namespace may use, by tier.
type tierSize struct{ cpu, memory, pods, jobs string }

// Jobs: the recommendation CronJob keeps 3 succeeded and 3 failed runs, plus one running and
// one on-demand fallback; migrations keep the current version's Job (and the one before it
// until the current one succeeded: older ones are removed), so 10 leaves room for all of them.
var tierSizes = map[string]tierSize{
	saasv1.TierPooled:    {cpu: "2", memory: "4Gi", pods: "10", jobs: "10"},
	saasv1.TierDedicated: {cpu: "64", memory: "128Gi", pods: "200", jobs: "10"},
}

// ResourceQuota bounds what a tenant namespace can consume: pooled tenants run only jobs there,
// dedicated tenants also their app.
func ResourceQuota(t *saasv1.Tenant, c *saasv1.RegionCell) *corev1.ResourceQuota {
	s := tierSizes[t.Spec.Tier]
	if s.cpu == "" {
		s = tierSizes[saasv1.TierPooled]
	}
	return &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: TenantNamespace(t), Labels: TenantLabels(t, c, "")},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourceRequestsCPU:    resource.MustParse(s.cpu),
			corev1.ResourceRequestsMemory: resource.MustParse(s.memory),
			corev1.ResourceLimitsMemory:   resource.MustParse(s.memory),
			corev1.ResourcePods:           resource.MustParse(s.pods),
			"count/jobs.batch":            resource.MustParse(s.jobs),
		}},
	}
}

// LimitRange gives containers without explicit resources a sane default, so the quota can
// admit them.
func LimitRange(t *saasv1.Tenant, c *saasv1.RegionCell) *corev1.LimitRange {
	return &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "tenant", Namespace: TenantNamespace(t), Labels: TenantLabels(t, c, "")},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			DefaultRequest: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Default:        corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		}}},
	}
}

// NetworkPolicyName is the one NetworkPolicy of a namespace the operator isolates.
const NetworkPolicyName = "isolation"

// LegacyNetworkPolicyNames are the three policies one NetworkPolicy replaced; they are removed
// once it is in place.
var LegacyNetworkPolicyNames = []string{"default-deny", "allow-app-port", "allow-egress-dns-db-cache"}

// NetworkPolicy isolates a namespace running the app or its jobs, in one object whatever runs
// there: every pod selected, so nothing comes in or goes out but what it lists. In: the app's
// port, from the load balancer's ranges when the cells name them (a pod that does not listen
// there, a Job's, takes nothing), and the ops port for health checks and Prometheus. Out: DNS,
// MySQL and the cache. HTTPS out is AWSAPIsPolicy's, for the pods that call AWS only.
func NetworkPolicy(namespace string, labels map[string]string, sourceCIDRs []string) *networkingv1.NetworkPolicy {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	port := func(p corev1.Protocol, n int32) networkingv1.NetworkPolicyPort {
		return networkingv1.NetworkPolicyPort{Protocol: &p, Port: ptr(intstr.FromInt32(n))}
	}
	var from []networkingv1.NetworkPolicyPeer
	for _, cidr := range sourceCIDRs {
		from = append(from, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: NetworkPolicyName, Namespace: namespace, Labels: labels},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{Ports: []networkingv1.NetworkPolicyPort{port(tcp, AppPort)}, From: from},
				// Health checks (the load balancer's, from its subnets) and Prometheus (in the
				// cluster) reach the ops port; no customer route leads there.
				{Ports: []networkingv1.NetworkPolicyPort{port(tcp, AppOpsPort)}},
			},
			Egress: []networkingv1.NetworkPolicyEgressRule{
				{Ports: []networkingv1.NetworkPolicyPort{port(udp, 53), port(tcp, 53)}},
				{Ports: []networkingv1.NetworkPolicyPort{port(tcp, DBPort), port(tcp, CachePort)}},
			},
		},
	}
}

// AWSAPIsPolicyName is the NetworkPolicy that lets the pods calling AWS reach its APIs.
const AWSAPIsPolicyName = "aws-apis"

// DefaultAWSAPICIDRs are where AWS's APIs are reached when a cell names no ranges: the private
// ranges a VPC's interface endpoints have their addresses in. Nothing on the internet.
var DefaultAWSAPICIDRs = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"}

// awsClients are the components whose pods call AWS: the app (SES, SQS), the recommendation
// runs (SES) and the publishing Jobs (S3). Migrations talk to the database only.
var awsClients = []string{AppName, ComponentRecommend, ComponentAssets}

// AWSAPIsPolicy lets the pods that call AWS APIs, and no other, open HTTPS connections, to the
// cell's AWS API ranges (spec.network.awsAPICIDRs, DefaultAWSAPICIDRs when empty) only: the
// shared app holds every pooled tenant's database password, and a compromised pod must not be
// able to send it anywhere on the internet.
func AWSAPIsPolicy(namespace string, labels map[string]string, cidrs []string) *networkingv1.NetworkPolicy {
	if len(cidrs) == 0 {
		cidrs = DefaultAWSAPICIDRs
	}
	tcp := corev1.ProtocolTCP
	to := make([]networkingv1.NetworkPolicyPeer, 0, len(cidrs))
	for _, cidr := range cidrs {
		to = append(to, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: cidr}})
	}
	return &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: AWSAPIsPolicyName, Namespace: namespace, Labels: labels},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: saasv1.LabelComponent, Operator: metav1.LabelSelectorOpIn, Values: awsClients}}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeEgress},
			Egress: []networkingv1.NetworkPolicyEgressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: ptr(intstr.FromInt32(443))}},
				To:    to,
			}},
		},
	}
}
