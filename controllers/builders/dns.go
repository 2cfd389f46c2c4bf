package builders

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
)

// RecordSet aliases <subdomain>.<baseDomain> to the cell's load balancer.
func RecordSet(t *saasv1.Tenant, c *saasv1.RegionCell) *route53.RecordSet {
	return &route53.RecordSet{
		ObjectMeta: metav1.ObjectMeta{Name: RecordSetName, Namespace: TenantNamespace(t), Labels: TenantLabels(t, c, "dns")},
		Spec: route53.RecordSetSpec{
			Name:         ptr(t.Spec.Subdomain),
			HostedZoneID: ptr(c.Spec.HostedZoneID),
			RecordType:   ptr("A"),
			AliasTarget: &route53.AliasTarget{
				DNSName:              ptr(c.Spec.Ingress.LoadBalancerDNSName),
				HostedZoneID:         ptr(c.Spec.Ingress.LoadBalancerHostedZoneID),
				EvaluateTargetHealth: ptr(true),
			},
		},
	}
}
