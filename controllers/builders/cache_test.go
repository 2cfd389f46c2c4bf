package builders

import (
	"fmt"
	"testing"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestCaches(t *testing.T) {
	cell := testCell()
	otherCell := testCell()
	otherCell.Name = "eu2"
	dedicated := testTenant("initech", func(t *saasv1.Tenant) {
		t.Spec.Tier = saasv1.TierDedicated
		t.Spec.Cache = &saasv1.TenantCache{NodeType: "cache.r7g.large", Replicas: 2}
	})
	cases := []struct {
		name                        string
		shape                       CacheShape
		ns, id, nodeType, subnetGrp string
		replicas                    int64
	}{
		{"the cell's shared cache", CellCache(cell), "cell-eu1", "cell-eu1", "cache.t4g.small", "cell-eu1", 1},
		{"a dedicated tenant's own", DedicatedCache(dedicated, cell, nil), "tenant-initech", "t-initech", "cache.r7g.large", "cell-eu1", 2},
		// ElastiCache cannot move a group to another subnet group: after a move the cache stays.
		{"a dedicated tenant's own after a move", DedicatedCache(dedicated, otherCell, ReplicationGroup(DedicatedCache(dedicated, cell, nil))),
			"tenant-initech", "t-initech", "cache.r7g.large", "cell-eu1", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rg := ReplicationGroup(c.shape)
			s := rg.Spec
			got := fmt.Sprint(rg.Namespace, " ", *s.ReplicationGroupID, " ", *s.CacheNodeType, " ", *s.CacheSubnetGroupName, " ", *s.ReplicasPerNodeGroup)
			want := fmt.Sprint(c.ns, " ", c.id, " ", c.nodeType, " ", c.subnetGrp, " ", c.replicas)
			if got != want {
				t.Errorf("namespace id nodeType subnetGroup replicas: got %s, want %s", got, want)
			}
			secure := fmt.Sprint(*s.TransitEncryptionEnabled, *s.AtRestEncryptionEnabled, *s.MultiAZEnabled, *s.AutomaticFailoverEnabled)
			if secure != "true true true true" {
				t.Errorf("encryption in transit, at rest, Multi-AZ, failover: got %s, want all true", secure)
			}
		})
	}
	addr, port, ok := CacheEndpoint(&ecv1.ReplicationGroup{})
	if ok || addr != "" || port != 0 {
		t.Errorf("an unreported cache has no endpoint: got %q %d %v", addr, port, ok)
	}
	if got := CacheSubnetGroup(cell).Spec.SubnetIDs; len(got) != 1 || *got[0] != "subnet-1" {
		t.Errorf("cache subnet group subnets: got %v, want [subnet-1]", got)
	}
}
