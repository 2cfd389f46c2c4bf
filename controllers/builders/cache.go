package builders

import (
	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// CacheShape is what differs between the cell's shared cache and a dedicated tenant's own.
type CacheShape struct {
	Namespace, ReplicationGroupID, Description string
	Labels                                     map[string]string
	Engine, EngineVersion, NodeType            string
	Replicas                                   int32
	SubnetGroup                                string
	SecurityGroupIDs                           []string
	Tags                                       map[string]string
}

// CellCache is the cell's shared cache shape.
func CellCache(c *saasv1.RegionCell) CacheShape {
	return CacheShape{
		Namespace: CellNamespace(c), ReplicationGroupID: truncate("cell-"+c.Name, 40),
		Description: "tenant-operator shared cache of cell " + c.Name,
		Labels:      CellLabels(c, CacheName),
		Engine:      c.Spec.Cache.Engine, EngineVersion: c.Spec.Cache.EngineVersion,
		NodeType: c.Spec.Cache.NodeType, Replicas: c.Spec.Cache.Replicas,
		SubnetGroup: CacheSubnetGroupID(c), SecurityGroupIDs: c.Spec.Network.CacheSecurityGroupIDs,
		Tags: map[string]string{"tenantops:cell": c.Name},
	}
}

// DedicatedCache is a dedicated tenant's own cache shape. live is the cache as it exists, if it
// does: ElastiCache cannot move a replication group to another subnet group, so a tenant that
// moved to another cell keeps its cache in the network it was made in.
func DedicatedCache(t *saasv1.Tenant, c *saasv1.RegionCell, live *ecv1.ReplicationGroup) CacheShape {
	s := CellCache(c)
	s.Namespace = TenantNamespace(t)
	// ElastiCache IDs are at most 40 characters; the tenant's name keeps them apart in a cell.
	s.ReplicationGroupID = truncate("t-"+t.Name, 40)
	s.Description = "tenant-operator cache of tenant " + t.Name
	s.Labels = TenantLabels(t, c, CacheName)
	s.Tags = map[string]string{"tenantops:cell": HomeCell(t, c), "tenantops:tenant": t.Name}
	if live != nil && live.Spec.CacheSubnetGroupName != nil {
		s.SubnetGroup = *live.Spec.CacheSubnetGroupName
		s.SecurityGroupIDs = nil
		for _, sg := range live.Spec.SecurityGroupIDs {
			if sg != nil {
				s.SecurityGroupIDs = append(s.SecurityGroupIDs, *sg)
			}
		}
	}
	if o := t.Spec.Cache; o != nil {
		if o.NodeType != "" {
			s.NodeType = o.NodeType
		}
		if o.Replicas != 0 {
			s.Replicas = o.Replicas
		}
	}
	return s
}

// CacheSubnetGroupID is the ElastiCache subnet group of a cell's caches.
func CacheSubnetGroupID(c *saasv1.RegionCell) string { return CellNamespace(c) }

// ReplicationGroup is an ElastiCache replication group: Multi-AZ with automatic failover when it
// has a replica, encrypted in transit and at rest.
func ReplicationGroup(s CacheShape) *ecv1.ReplicationGroup {
	multiAZ := s.Replicas > 0
	tags := make([]*ecv1.Tag, 0, len(s.Tags)+1)
	for _, k := range sortedKeys(s.Tags) {
		tags = append(tags, &ecv1.Tag{Key: ptr(k), Value: ptr(s.Tags[k])})
	}
	tags = append(tags, &ecv1.Tag{Key: ptr("tenantops:managed-by"), Value: ptr(saasv1.LabelManagedByValue)})
	return &ecv1.ReplicationGroup{
		ObjectMeta: metav1.ObjectMeta{Name: CacheName, Namespace: s.Namespace, Labels: s.Labels},
		Spec: ecv1.ReplicationGroupSpec{
			ReplicationGroupID:       ptr(s.ReplicationGroupID),
			Description:              ptr(s.Description),
			Engine:                   ptr(s.Engine),
			EngineVersion:            ptr(s.EngineVersion),
			CacheNodeType:            ptr(s.NodeType),
			NumNodeGroups:            ptr(int64(1)),
			ReplicasPerNodeGroup:     ptr(int64(s.Replicas)),
			MultiAZEnabled:           ptr(multiAZ),
			AutomaticFailoverEnabled: ptr(multiAZ),
			AtRestEncryptionEnabled:  ptr(true),
			TransitEncryptionEnabled: ptr(true),
			CacheSubnetGroupName:     ptr(s.SubnetGroup),
			SecurityGroupIDs:         ptrs(s.SecurityGroupIDs),
			Port:                     ptr(int64(CachePort)),
			SnapshotRetentionLimit:   ptr(int64(1)),
			Tags:                     tags,
		},
	}
}

// CacheEndpoint is the primary endpoint ElastiCache reported, if any.
func CacheEndpoint(rg *ecv1.ReplicationGroup) (string, int64, bool) {
	for _, ng := range rg.Status.NodeGroups {
		if ng != nil && ng.PrimaryEndpoint != nil && ng.PrimaryEndpoint.Address != nil && *ng.PrimaryEndpoint.Address != "" {
			port := int64(CachePort)
			if ng.PrimaryEndpoint.Port != nil {
				port = *ng.PrimaryEndpoint.Port
			}
			return *ng.PrimaryEndpoint.Address, port, true
		}
	}
	if e := rg.Status.ConfigurationEndpoint; e != nil && e.Address != nil && *e.Address != "" {
		port := int64(CachePort)
		if e.Port != nil {
			port = *e.Port
		}
		return *e.Address, port, true
	}
	return "", 0, false
}

// CacheSubnetGroup is the cell's ElastiCache subnet group.
func CacheSubnetGroup(c *saasv1.RegionCell) *ecv1.CacheSubnetGroup {
	return &ecv1.CacheSubnetGroup{
		ObjectMeta: metav1.ObjectMeta{Name: CacheSubnetGroupName, Namespace: CellNamespace(c), Labels: CellLabels(c, CacheName)},
		Spec: ecv1.CacheSubnetGroupSpec{
			CacheSubnetGroupName:        ptr(CacheSubnetGroupID(c)),
			CacheSubnetGroupDescription: ptr("tenant-operator caches of cell " + c.Name),
			SubnetIDs:                   ptrs(c.Spec.Network.CacheSubnetIDs),
			Tags:                        []*ecv1.Tag{{Key: ptr("tenantops:cell"), Value: ptr(c.Name)}},
		},
	}
}
