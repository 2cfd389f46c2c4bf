package builders

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

// ResolveDatabase is the tenant's effective database: what it had (recorded in status, or, when
// status was lost, what the live DBInstance asks for), or the cell's defaults for a database not
// yet created; then, when adoptDefaults says the cell rolls its current defaults out to this
// tenant, those; then the tenant's own spec.database on top. Storage never shrinks: a smaller
// size asked for is kept out and explained in the returned note.
func ResolveDatabase(t *saasv1.Tenant, c *saasv1.RegionCell, had *saasv1.EffectiveDatabase, adoptDefaults bool) (saasv1.EffectiveDatabase, string) {
	defaults := CellDatabaseDefaults(c)
	eff := defaults
	if had != nil {
		eff = *had
		eff.ChangedAt = nil
		if adoptDefaults {
			storage := max(eff.StorageGiB, defaults.StorageGiB)
			eff = defaults
			eff.StorageGiB = storage
			eff.Cell, eff.Identifier, eff.SubnetGroupName, eff.SecurityGroupIDs = had.Cell, had.Identifier, had.SubnetGroupName, had.SecurityGroupIDs
		}
	}
	// Where the database lives is decided once, by the cell it is made in (a record from before
	// the operator kept it is the same: no tenant had moved then).
	if eff.Identifier == "" {
		eff.Identifier = DBInstanceIdentifier(t, c)
		if rf := t.Status.RestoredFrom; rf != nil && rf.PromotedStandby != "" {
			// A failover that promoted the home region's standby: that instance is the database.
			eff.Identifier = rf.PromotedStandby
		}
	}
	if eff.Cell == "" {
		eff.Cell = c.Name
	}
	if eff.SubnetGroupName == "" {
		eff.SubnetGroupName = DBSubnetGroupName(c)
	}
	if len(eff.SecurityGroupIDs) == 0 {
		eff.SecurityGroupIDs = append([]string(nil), c.Spec.Network.DBSecurityGroupIDs...)
	}
	o := t.Spec.Database
	if o.InstanceClass != "" {
		eff.InstanceClass = o.InstanceClass
	}
	if o.BackupRetentionDays != 0 {
		eff.BackupRetentionDays = o.BackupRetentionDays
	}
	if o.MultiAZ != nil {
		eff.MultiAZ = *o.MultiAZ
	}
	note := ""
	switch {
	case o.StorageGiB == 0:
	case had != nil && o.StorageGiB < eff.StorageGiB:
		note = fmt.Sprintf("spec.database.storageGiB %d is less than the %d GiB the database has and is not applied: RDS storage only grows", o.StorageGiB, eff.StorageGiB)
	default:
		eff.StorageGiB = o.StorageGiB
	}
	return eff, note
}

// CellDatabaseDefaults is the shape a new database of cell c gets when the tenant asks for
// nothing else: the cell's defaults at their current revision.
func CellDatabaseDefaults(c *saasv1.RegionCell) saasv1.EffectiveDatabase {
	d := c.Spec.Database
	return saasv1.EffectiveDatabase{
		InstanceClass: d.InstanceClass, StorageGiB: d.StorageGiB, MultiAZ: d.MultiAZ == nil || *d.MultiAZ,
		EngineVersion: d.EngineVersion, BackupRetentionDays: d.BackupRetentionDays, DefaultsRevision: d.Revision,
	}
}

// EffectiveDatabaseOf reads the shape a live DBInstance asks for, for a tenant whose status lost
// its record: the database as it is, not as the cell's defaults are now.
func EffectiveDatabaseOf(db *rds.DBInstance) *saasv1.EffectiveDatabase {
	s := db.Spec
	deref := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	eff := &saasv1.EffectiveDatabase{InstanceClass: deref(s.DBInstanceClass), EngineVersion: deref(s.EngineVersion),
		Identifier: deref(s.DBInstanceIdentifier), SubnetGroupName: deref(s.DBSubnetGroupName), Cell: tagValue(s.Tags, tagCell)}
	for _, sg := range s.VPCSecurityGroupIDs {
		if sg != nil {
			eff.SecurityGroupIDs = append(eff.SecurityGroupIDs, *sg)
		}
	}
	if s.AllocatedStorage != nil {
		eff.StorageGiB = int32(*s.AllocatedStorage)
	}
	if s.MultiAZ != nil {
		eff.MultiAZ = *s.MultiAZ
	}
	if s.BackupRetentionPeriod != nil {
		eff.BackupRetentionDays = int32(*s.BackupRetentionPeriod)
	}
	eff.DefaultsRevision = db.Annotations[AnnotationDefaultsRevision]
	eff.ClaimedFrom = db.Annotations[AnnotationClaimedFrom]
	return eff
}

// DescribeDatabase says what a database shape is, for people.
func DescribeDatabase(d saasv1.EffectiveDatabase) string {
	az := "single-AZ"
	if d.MultiAZ {
		az = "Multi-AZ"
	}
	return fmt.Sprintf("%s, %d GiB, %s, MySQL %s, backups %d days", d.InstanceClass, d.StorageGiB, az, d.EngineVersion, d.BackupRetentionDays)
}

// SameDatabase says whether two shapes ask RDS for the same instance shape (whatever revision of
// the defaults each names; where it lives never changes).
func SameDatabase(a, b saasv1.EffectiveDatabase) bool {
	return a.InstanceClass == b.InstanceClass && a.StorageGiB == b.StorageGiB && a.MultiAZ == b.MultiAZ &&
		a.EngineVersion == b.EngineVersion && a.BackupRetentionDays == b.BackupRetentionDays
}

const tagCell = "tenantops:cell"

func rdsTags(t *saasv1.Tenant, cell string) []*rds.Tag {
	return []*rds.Tag{
		{Key: ptr("tenantops:tenant"), Value: ptr(t.Name)},
		{Key: ptr(tagCell), Value: ptr(cell)},
		{Key: ptr("tenantops:managed-by"), Value: ptr(saasv1.LabelManagedByValue)},
	}
}

func tagValue(tags []*rds.Tag, key string) string {
	for _, tg := range tags {
		if tg != nil && tg.Key != nil && *tg.Key == key && tg.Value != nil {
			return *tg.Value
		}
	}
	return ""
}

// DBInstance is the tenant's own RDS MySQL database, shaped and placed as db says (made in the
// cell db.Cell, which it stays in whichever cell serves the tenant): Multi-AZ, encrypted,
// private, protected from deletion while the Tenant exists. currentEngineVersion is what RDS
// reports once the instance exists: a minor version it upgraded to within the requested one is
// kept, not fought.
func DBInstance(t *saasv1.Tenant, c *saasv1.RegionCell, db saasv1.EffectiveDatabase, currentEngineVersion string) *rds.DBInstance {
	version := db.EngineVersion
	if currentEngineVersion != "" && (version == "" || hasVersionPrefix(currentEngineVersion, version)) {
		version = currentEngineVersion
	}
	spec := rds.DBInstanceSpec{
		AllocatedStorage:        ptr(int64(db.StorageGiB)),
		AutoMinorVersionUpgrade: ptr(true),
		BackupRetentionPeriod:   ptr(int64(db.BackupRetentionDays)),
		CopyTagsToSnapshot:      ptr(true),
		DBInstanceClass:         ptr(db.InstanceClass),
		DBInstanceIdentifier:    ptr(db.Identifier),
		DBName:                  ptr(DBName),
		DBSubnetGroupName:       ptr(db.SubnetGroupName),
		DeletionProtection:      ptr(true),
		Engine:                  ptr(c.Spec.Database.Engine),
		EngineVersion:           ptr(version),
		MasterUsername:          ptr(DBMasterUsername),
		MasterUserPassword:      &rds.SecretKeyReference{Name: DBPasswordSecretName, Namespace: TenantNamespace(t), Key: DBPasswordKey},
		MultiAZ:                 ptr(db.MultiAZ),
		PubliclyAccessible:      ptr(false),
		StorageEncrypted:        ptr(true),
		StorageType:             ptr("gp3"),
		Tags:                    rdsTags(t, db.Cell),
		VPCSecurityGroupIDs:     ptrs(db.SecurityGroupIDs),
	}
	meta := metav1.ObjectMeta{Name: DBInstanceName, Namespace: TenantNamespace(t), Labels: TenantLabels(t, c, "database")}
	if db.DefaultsRevision != "" {
		meta.Annotations = map[string]string{AnnotationDefaultsRevision: db.DefaultsRevision}
	}
	if db.ClaimedFrom != "" {
		// A database claimed from the cell's warm pool exists already: ACK adopts it by its
		// identifier and makes it what this spec says, the tenant's password and tags included.
		meta.Annotations = mergeMaps(meta.Annotations, ClaimAdoption(db.Identifier, db.ClaimedFrom))
	}
	if rf := t.Status.RestoredFrom; rf != nil && rf.PromotedStandby != "" && rf.PromotedStandby == db.Identifier {
		meta.Annotations = mergeMaps(meta.Annotations, Adoption(db.Identifier))
	}
	if id := RestoreSnapshot(t); id != "" {
		// A restored instance takes its name, user and data from the snapshot.
		spec.DBSnapshotIdentifier = ptr(id)
		spec.DBName = nil
	}
	return &rds.DBInstance{
		ObjectMeta: meta,
		Spec:       spec,
	}
}

// RestoreSnapshot is the snapshot the tenant's database is restored from: the one its spec
// names, or, for a failover, the copy the operator found and recorded in status.restoredFrom
// (empty until then: a failover's database is never made before its copy is known).
func RestoreSnapshot(t *saasv1.Tenant) string {
	rf := t.Spec.RestoreFrom
	switch {
	case rf == nil:
		return ""
	case rf.SnapshotIdentifier != "":
		return rf.SnapshotIdentifier
	case t.Status.RestoredFrom != nil:
		return t.Status.RestoredFrom.SnapshotIdentifier
	}
	return ""
}

// DBSubnetGroupName is the RDS subnet group tenant databases of the cell use.
func DBSubnetGroupName(c *saasv1.RegionCell) string {
	if c.Spec.Network.DBSubnetGroupName != "" {
		return c.Spec.Network.DBSubnetGroupName
	}
	return CellNamespace(c)
}

func hasVersionPrefix(full, prefix string) bool {
	return full == prefix || (len(full) > len(prefix) && full[:len(prefix)] == prefix && full[len(prefix)] == '.')
}

// DBPasswordSecret holds the master password of the tenant database. The password is made by
// the caller once; the Secret is never rewritten with a new one.
func DBPasswordSecret(t *saasv1.Tenant, c *saasv1.RegionCell, password string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: DBPasswordSecretName, Namespace: TenantNamespace(t), Labels: TenantLabels(t, c, "database")},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{DBPasswordKey: []byte(password)},
	}
}

// DBSubnetGroup is the cell's RDS subnet group, made when the cell lists subnets rather than
// naming an existing group.
func DBSubnetGroup(c *saasv1.RegionCell) *rds.DBSubnetGroup {
	return &rds.DBSubnetGroup{
		ObjectMeta: metav1.ObjectMeta{Name: CellSubnetGroupName, Namespace: CellNamespace(c), Labels: CellLabels(c, "database")},
		Spec: rds.DBSubnetGroupSpec{
			Name:        ptr(DBSubnetGroupName(c)),
			Description: ptr("tenant-operator databases of cell " + c.Name),
			SubnetIDs:   ptrs(c.Spec.Network.DBSubnetIDs),
			Tags:        []*rds.Tag{{Key: ptr("tenantops:cell"), Value: ptr(c.Name)}},
		},
	}
}

// DBInstanceRelease is what a tenant's DBInstance carries before its custom resource is deleted
// under the tenant's spec.database.deletionPolicy, and nothing else: ACK's annotations and the
// deletion protection. Snapshot (the default) names the final snapshot finalSnapshot; Retain
// keeps the instance in AWS, protected; Delete skips the snapshot and the automated backups.
func DBInstanceRelease(t *saasv1.Tenant, finalSnapshot string) *rds.DBInstance {
	var ann map[string]string
	protection := false
	switch t.Spec.Database.DeletionPolicy {
	case saasv1.DeletionRetain:
		ann, protection = map[string]string{ack.AnnotationDeletionPolicy: "retain"}, true
	case saasv1.DeletionDelete:
		ann = map[string]string{rds.AnnotationSkipFinalSnapshot: "true", rds.AnnotationDeleteAutomatedBackups: "true"}
	default:
		ann = map[string]string{rds.AnnotationSkipFinalSnapshot: "false", rds.AnnotationFinalSnapshotIdentifier: finalSnapshot}
	}
	return &rds.DBInstance{
		ObjectMeta: metav1.ObjectMeta{Name: DBInstanceName, Namespace: TenantNamespace(t), Annotations: ann},
		Spec:       rds.DBInstanceSpec{DeletionProtection: ptr(protection)},
	}
}
