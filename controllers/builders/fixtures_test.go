package builders

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func testCell() *saasv1.RegionCell {
	return &saasv1.RegionCell{
		ObjectMeta: metav1.ObjectMeta{Name: "eu1"},
		Spec: saasv1.RegionCellSpec{
			Region: "eu-west-1", BaseDomain: "website.com", HostedZoneID: "ZONE",
			Ingress: saasv1.CellIngress{ClassName: "alb", LoadBalancerDNSName: "lb.example", LoadBalancerHostedZoneID: "ZLB"},
			Network: saasv1.CellNetwork{DBSubnetIDs: []string{"subnet-1", "subnet-2"}, DBSecurityGroupIDs: []string{"sg-db"},
				CacheSubnetIDs: []string{"subnet-1"}, CacheSecurityGroupIDs: []string{"sg-cache"}},
			Database: saasv1.DatabaseDefaults{Engine: "mysql", EngineVersion: "8.0", InstanceClass: "db.t4g.medium",
				StorageGiB: 20, MultiAZ: ptr(true), BackupRetentionDays: 7},
			Cache: saasv1.CacheDefaults{Engine: "redis", EngineVersion: "7.1", NodeType: "cache.t4g.small", Replicas: 1},
			App:   saasv1.CellApp{Image: "ghcr.io/tenantops/app", Version: "1.2.0", MinReplicas: 2, MaxReplicas: 20},
			Autoscaling: saasv1.AutoscalingPolicy{ScaleOutAtPercent: 80, ScaleInAtPercent: ptr(int32(10)),
				ScaleDownStabilizationSeconds: ptr(int32(300))},
			Spot: saasv1.SpotScheduling{
				NodeSelector:         map[string]string{"capacity": "spot"},
				Tolerations:          []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists}},
				OnDemandNodeSelector: map[string]string{"capacity": "on-demand"},
			},
			Capacity: saasv1.CellCapacity{MaxTenants: 10},
		},
	}
}

func testTenant(name string, mutate ...func(*saasv1.Tenant)) *saasv1.Tenant {
	t := &saasv1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.TenantSpec{DisplayName: name, Region: "eu-west-1", Subdomain: name, Tier: saasv1.TierPooled,
			AdminEmail: "a@b.example", Database: saasv1.TenantDatabase{DeletionPolicy: saasv1.DeletionSnapshot},
			Recommendations: saasv1.Recommendations{Schedule: "0 3 * * *", TimeZone: "UTC"}},
	}
	for _, m := range mutate {
		m(t)
	}
	return t
}
