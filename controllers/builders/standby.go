package builders

import (
	"encoding/json"
	"maps"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

// StandbyDBInstanceName is the DBInstance of a dedicated tenant's warm standby.
const StandbyDBInstanceName = "database-standby"

// Standby is where a tenant's warm standby goes and what it carries.
type Standby struct {
	// Identifier of the replica in Region (the partner region).
	Identifier, Region string
	// SourceARN is the tenant's database's ARN (ACK reports it); SourceRegion its region.
	SourceARN, SourceRegion string
	// KMSKeyID is a key of Region: RDS encrypts a cross-region replica of an encrypted database
	// only under a key of the replica's region.
	KMSKeyID         string
	SubnetGroupName  string
	SecurityGroupIDs []string
	// Tags find the standby at a failover (recovery.StandbyTags).
	Tags map[string]string
}

// StandbyDBInstance is a dedicated tenant's warm standby: a cross-region read replica of its
// database db, declared in the home cluster and made by ACK in the partner region (the ACK
// runtime's region annotation). It is the same class as its source, single-AZ (a replica of a
// Multi-AZ database; a failover's adopted database asks for Multi-AZ again), encrypted, private,
// and deleted without a final snapshot: the data is its source's, which keeps its own.
func StandbyDBInstance(t *saasv1.Tenant, c *saasv1.RegionCell, db saasv1.EffectiveDatabase, s Standby) *rds.DBInstance {
	tags := make([]*rds.Tag, 0, len(s.Tags)+1)
	for _, k := range slices.Sorted(maps.Keys(s.Tags)) {
		tags = append(tags, &rds.Tag{Key: ptr(k), Value: ptr(s.Tags[k])})
	}
	tags = append(tags, &rds.Tag{Key: ptr(tagCell), Value: ptr(db.Cell)})
	spec := rds.DBInstanceSpec{
		AutoMinorVersionUpgrade:    ptr(true),
		CopyTagsToSnapshot:         ptr(true),
		DBInstanceClass:            ptr(db.InstanceClass),
		DBInstanceIdentifier:       ptr(s.Identifier),
		DeletionProtection:         ptr(false),
		Engine:                     ptr(c.Spec.Database.Engine),
		KMSKeyID:                   ptr(s.KMSKeyID),
		MultiAZ:                    ptr(false),
		PubliclyAccessible:         ptr(false),
		SourceDBInstanceIdentifier: ptr(s.SourceARN),
		SourceRegion:               ptr(s.SourceRegion),
		StorageEncrypted:           ptr(true),
		StorageType:                ptr("gp3"),
		Tags:                       tags,
	}
	if s.SubnetGroupName != "" {
		spec.DBSubnetGroupName = ptr(s.SubnetGroupName)
	}
	if len(s.SecurityGroupIDs) > 0 {
		spec.VPCSecurityGroupIDs = ptrs(s.SecurityGroupIDs)
	}
	return &rds.DBInstance{
		ObjectMeta: metav1.ObjectMeta{
			Name: StandbyDBInstanceName, Namespace: TenantNamespace(t), Labels: TenantLabels(t, c, "standby"),
			Annotations: map[string]string{
				ack.AnnotationRegion:            s.Region,
				rds.AnnotationSkipFinalSnapshot: "true",
			},
		},
		Spec: spec,
	}
}

// Adoption are the annotations of a DBInstance that takes over the RDS instance identifier
// (a warm-pool claim, a failover's promoted standby): ACK adopts it by its identifier and makes
// it what the spec says (the tenant's password, Multi-AZ, tags). The operator names only
// instances that exist, so adopt-or-create never creates here.
func Adoption(identifier string) map[string]string {
	fields, _ := json.Marshal(map[string]string{"dbInstanceIdentifier": identifier})
	return map[string]string{ack.AnnotationAdoptionPolicy: "adopt-or-create", ack.AnnotationAdoptionFields: string(fields)}
}
