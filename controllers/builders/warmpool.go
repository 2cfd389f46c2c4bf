package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

// The warm pool: unclaimed DBInstances in the cell's namespace, made from the cell's database
// defaults, which a new tenant claims instead of waiting for RDS to make its own. A claim moves
// the AWS instance from the pool's custom resource to the tenant's: the pool's is marked claimed
// (and told to leave the instance in AWS when it goes), the tenant records the claim in its
// status, the pool's is deleted and the tenant's adopts the instance by its identifier.
const (
	// WarmPoolComponent is the component label of pool instances and their password.
	WarmPoolComponent = "warm-pool"
	// LabelWarmPoolShape carries the hash of the shape a pool instance was made with
	// (WarmPoolShapeHash): a tenant claims only an instance of its own shape, and a change of the
	// cell's defaults replaces the unclaimed instances of the old one.
	LabelWarmPoolShape = "saas.tenantops.io/warm-pool-shape"
	// AnnotationClaimedBy on a pool instance is the UID of the Tenant that claimed it.
	AnnotationClaimedBy = "saas.tenantops.io/claimed-by"
	// AnnotationClaimedFrom on a tenant's DBInstance names the pool instance it was claimed
	// from, so a tenant whose status was lost still knows.
	AnnotationClaimedFrom = "saas.tenantops.io/claimed-from"
	// WarmPoolPasswordSecretName is the cell's Secret holding the pool's master password. It
	// never reaches a tenant: a claim changes the instance's password to the tenant's own.
	WarmPoolPasswordSecretName = "warm-pool-master-password"
)

// WarmPoolShape is the database a cell's pool holds: the cell's defaults, placed in the cell.
func WarmPoolShape(c *saasv1.RegionCell) saasv1.EffectiveDatabase {
	shape := CellDatabaseDefaults(c)
	shape.Cell = c.Name
	shape.SubnetGroupName = DBSubnetGroupName(c)
	shape.SecurityGroupIDs = append([]string(nil), c.Spec.Network.DBSecurityGroupIDs...)
	return shape
}

// WarmPoolShapeHash names what RDS is asked for (not the revision of the defaults, which a
// shape may outlive): two databases of one hash are interchangeable for a new tenant.
func WarmPoolShapeHash(c *saasv1.RegionCell, db saasv1.EffectiveDatabase) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{
		c.Spec.Database.Engine, db.EngineVersion, db.InstanceClass, fmt.Sprint(db.StorageGiB), fmt.Sprint(db.MultiAZ),
		fmt.Sprint(db.BackupRetentionDays), db.Cell, db.SubnetGroupName, strings.Join(db.SecurityGroupIDs, ","),
	}, "\x00")))
	return hex.EncodeToString(sum[:5])
}

// WarmPoolInstanceIdentifier is the RDS identifier of the pool instance named name (which the
// cell makes unique): it stays the instance's for life, whichever tenant claims it.
func WarmPoolInstanceIdentifier(c *saasv1.RegionCell, name string) string {
	return truncate("pool-"+c.Name+"-"+strings.TrimPrefix(name, "pool-"), 63)
}

// WarmPoolInstance is an unclaimed database of the cell's pool named name: the cell's defaults,
// Multi-AZ as they say, encrypted and private as every tenant database, with the pool's own
// password. It holds no data, so it carries no deletion protection: a pool shrunk deletes it.
func WarmPoolInstance(c *saasv1.RegionCell, name string) *rds.DBInstance {
	shape := WarmPoolShape(c)
	labels := CellLabels(c, WarmPoolComponent)
	labels[LabelWarmPoolShape] = WarmPoolShapeHash(c, shape)
	return &rds.DBInstance{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: CellNamespace(c), Labels: labels},
		Spec: rds.DBInstanceSpec{
			AllocatedStorage:        ptr(int64(shape.StorageGiB)),
			AutoMinorVersionUpgrade: ptr(true),
			BackupRetentionPeriod:   ptr(int64(shape.BackupRetentionDays)),
			CopyTagsToSnapshot:      ptr(true),
			DBInstanceClass:         ptr(shape.InstanceClass),
			DBInstanceIdentifier:    ptr(WarmPoolInstanceIdentifier(c, name)),
			DBName:                  ptr(DBName),
			DBSubnetGroupName:       ptr(shape.SubnetGroupName),
			DeletionProtection:      ptr(false),
			Engine:                  ptr(c.Spec.Database.Engine),
			EngineVersion:           ptr(shape.EngineVersion),
			MasterUsername:          ptr(DBMasterUsername),
			MasterUserPassword:      &rds.SecretKeyReference{Name: WarmPoolPasswordSecretName, Namespace: CellNamespace(c), Key: DBPasswordKey},
			MultiAZ:                 ptr(shape.MultiAZ),
			PubliclyAccessible:      ptr(false),
			StorageEncrypted:        ptr(true),
			StorageType:             ptr("gp3"),
			Tags: []*rds.Tag{
				{Key: ptr(tagCell), Value: ptr(c.Name)},
				{Key: ptr("tenantops:warm-pool"), Value: ptr("true")},
				{Key: ptr("tenantops:managed-by"), Value: ptr(saasv1.LabelManagedByValue)},
			},
			VPCSecurityGroupIDs: ptrs(shape.SecurityGroupIDs),
		},
	}
}

// WarmPoolPasswordSecret holds the pool's master password, made once per cell.
func WarmPoolPasswordSecret(c *saasv1.RegionCell, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: WarmPoolPasswordSecretName, Namespace: CellNamespace(c), Labels: CellLabels(c, WarmPoolComponent)},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{DBPasswordKey: []byte(password)},
	}
}

// WarmPoolClaim is what a pool instance carries once tenantUID claimed it, and nothing else:
// the claim, and ACK told to leave the AWS instance in place when the pool's resource goes.
func WarmPoolClaim(pooled *rds.DBInstance, tenantUID string) *rds.DBInstance {
	return &rds.DBInstance{ObjectMeta: metav1.ObjectMeta{Name: pooled.Name, Namespace: pooled.Namespace, Annotations: map[string]string{
		AnnotationClaimedBy: tenantUID, ack.AnnotationDeletionPolicy: "retain",
	}}}
}

// WarmPoolRelease is what an unclaimed pool instance carries before it is deleted: it never
// held a tenant's data, so RDS deletes it without a final snapshot or its automated backups.
func WarmPoolRelease(pooled *rds.DBInstance) *rds.DBInstance {
	return &rds.DBInstance{
		ObjectMeta: metav1.ObjectMeta{Name: pooled.Name, Namespace: pooled.Namespace, Annotations: map[string]string{
			rds.AnnotationSkipFinalSnapshot: "true", rds.AnnotationDeleteAutomatedBackups: "true",
		}},
		Spec: rds.DBInstanceSpec{DeletionProtection: ptr(false)},
	}
}

// IsWarmPoolClaimed says whether a pool instance was claimed by a tenant.
func IsWarmPoolClaimed(pooled *rds.DBInstance) bool {
	return pooled.Annotations[AnnotationClaimedBy] != ""
}

// ClaimAdoption are the annotations of a tenant's DBInstance whose instance came from the pool
// instance claimedFrom: ACK adopts the AWS instance by its identifier, or makes it should it be
// gone, and then makes it what the tenant's spec says.
func ClaimAdoption(identifier, claimedFrom string) map[string]string {
	return mergeMaps(Adoption(identifier), map[string]string{AnnotationClaimedFrom: claimedFrom})
}

func mergeMaps(a, b map[string]string) map[string]string {
	out := make(map[string]string, len(a)+len(b))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
