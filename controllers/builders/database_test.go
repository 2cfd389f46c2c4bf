package builders

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

func TestResolveDatabase(t *testing.T) {
	had := &saasv1.EffectiveDatabase{InstanceClass: "db.t4g.medium", StorageGiB: 100, MultiAZ: true, EngineVersion: "8.0",
		BackupRetentionDays: 7, DefaultsRevision: "r1"}
	// The cell's defaults moved on since the database was made: a bigger class, less storage.
	cell := testCell()
	cell.Spec.Database.InstanceClass, cell.Spec.Database.StorageGiB, cell.Spec.Database.Revision = "db.r6g.large", 50, "r2"
	withStorage := func(n int32) func(*saasv1.Tenant) {
		return func(t *saasv1.Tenant) { t.Spec.Database.StorageGiB = n }
	}
	cases := []struct {
		name     string
		tenant   *saasv1.Tenant
		had      *saasv1.EffectiveDatabase
		adopt    bool
		want     saasv1.EffectiveDatabase
		wantNote string
	}{
		{"a new database takes the cell's defaults now", testTenant("new"), nil, false,
			saasv1.EffectiveDatabase{InstanceClass: "db.r6g.large", StorageGiB: 50, MultiAZ: true, EngineVersion: "8.0", BackupRetentionDays: 7, DefaultsRevision: "r2"}, ""},
		{"an existing database keeps what it has when the defaults change", testTenant("old"), had, false, *had, ""},
		{"the tenant's own setting reaches it", testTenant("old", func(t *saasv1.Tenant) { t.Spec.Database.InstanceClass = "db.m7g.large" }), had, false,
			saasv1.EffectiveDatabase{InstanceClass: "db.m7g.large", StorageGiB: 100, MultiAZ: true, EngineVersion: "8.0", BackupRetentionDays: 7, DefaultsRevision: "r1"}, ""},
		{"a defaults rollout moves it but never shrinks storage", testTenant("old"), had, true,
			saasv1.EffectiveDatabase{InstanceClass: "db.r6g.large", StorageGiB: 100, MultiAZ: true, EngineVersion: "8.0", BackupRetentionDays: 7, DefaultsRevision: "r2"}, ""},
		{"more storage asked for is given", testTenant("old", withStorage(200)), had, false,
			saasv1.EffectiveDatabase{InstanceClass: "db.t4g.medium", StorageGiB: 200, MultiAZ: true, EngineVersion: "8.0", BackupRetentionDays: 7, DefaultsRevision: "r1"}, ""},
		{"less storage asked for is kept out and explained", testTenant("old", withStorage(40)), had, false, *had,
			"spec.database.storageGiB 40 is less than the 100 GiB"},
		{"a new database may start smaller than the default", testTenant("new", withStorage(20)), nil, false,
			saasv1.EffectiveDatabase{InstanceClass: "db.r6g.large", StorageGiB: 20, MultiAZ: true, EngineVersion: "8.0", BackupRetentionDays: 7, DefaultsRevision: "r2"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, note := ResolveDatabase(c.tenant, cell, c.had, c.adopt)
			if !SameDatabase(got, c.want) || got.DefaultsRevision != c.want.DefaultsRevision {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
			if (c.wantNote == "") != (note == "") || !strings.Contains(note, c.wantNote) {
				t.Errorf("note %q, want one containing %q", note, c.wantNote)
			}
			db := DBInstance(c.tenant, cell, got, "")
			if *db.Spec.DBInstanceClass != got.InstanceClass || *db.Spec.AllocatedStorage != int64(got.StorageGiB) ||
				db.Annotations[AnnotationDefaultsRevision] != got.DefaultsRevision {
				t.Errorf("DBInstance does not follow the effective database: %+v %v", db.Spec, db.Annotations)
			}
			if back := EffectiveDatabaseOf(db); !SameDatabase(*back, got) || back.DefaultsRevision != got.DefaultsRevision {
				t.Errorf("read back from the DBInstance: %+v, want %+v", *back, got)
			}
		})
	}
}

func TestDBInstance(t *testing.T) {
	cell := testCell()
	cases := []struct {
		name           string
		tenant         *saasv1.Tenant
		currentVersion string
		class          string
		storage        int64
		multiAZ        bool
		version        string
		snapshot       string
	}{
		{"cell defaults", testTenant("acme"), "", "db.t4g.medium", 20, true, "8.0", ""},
		{"overrides", testTenant("big", func(t *saasv1.Tenant) {
			t.Spec.Database.InstanceClass, t.Spec.Database.StorageGiB, t.Spec.Database.MultiAZ = "db.r6g.large", 200, ptr(false)
		}), "", "db.r6g.large", 200, false, "8.0", ""},
		{"keeps a minor version RDS upgraded to", testTenant("acme"), "8.0.39", "db.t4g.medium", 20, true, "8.0.39", ""},
		{"does not keep another major version", testTenant("acme"), "5.7.44", "db.t4g.medium", 20, true, "8.0", ""},
		{"restores from a snapshot", testTenant("dr", func(t *saasv1.Tenant) {
			t.Spec.RestoreFrom = &saasv1.RestoreSource{SnapshotIdentifier: "acme-final-20260101"}
		}), "", "db.t4g.medium", 20, true, "8.0", "acme-final-20260101"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eff, _ := ResolveDatabase(c.tenant, cell, nil, false)
			db := DBInstance(c.tenant, cell, eff, c.currentVersion)
			s := db.Spec
			if *s.DBInstanceClass != c.class || *s.AllocatedStorage != c.storage || *s.MultiAZ != c.multiAZ || *s.EngineVersion != c.version {
				t.Errorf("class=%s storage=%d multiAZ=%v version=%s", *s.DBInstanceClass, *s.AllocatedStorage, *s.MultiAZ, *s.EngineVersion)
			}
			if !*s.StorageEncrypted || *s.PubliclyAccessible || !*s.DeletionProtection || *s.Engine != "mysql" {
				t.Errorf("must be encrypted, private, deletion-protected mysql: %+v", s)
			}
			if *s.DBSubnetGroupName != "cell-eu1" || *s.VPCSecurityGroupIDs[0] != "sg-db" {
				t.Errorf("network: subnet group %s, sgs %v", *s.DBSubnetGroupName, s.VPCSecurityGroupIDs)
			}
			if s.MasterUserPassword.Name != DBPasswordSecretName || s.MasterUserPassword.Key != DBPasswordKey {
				t.Errorf("password ref %+v", s.MasterUserPassword)
			}
			gotSnap := ""
			if s.DBSnapshotIdentifier != nil {
				gotSnap = *s.DBSnapshotIdentifier
			}
			if gotSnap != c.snapshot {
				t.Errorf("snapshot %q, want %q", gotSnap, c.snapshot)
			}
			if len(s.Tags) != 3 {
				t.Errorf("tags %v", s.Tags)
			}
		})
	}
}

// A database lives where it was made: the cell serving the tenant later changes nothing RDS sees.
func TestDatabaseHome(t *testing.T) {
	home := testCell()
	other := testCell()
	other.Name = "eu2"
	other.Spec.Network.DBSecurityGroupIDs = []string{"sg-other"}
	other.Spec.Network.DBSubnetGroupName = "other-subnets"
	tenant := testTenant("acme")
	made, _ := ResolveDatabase(tenant, home, nil, false)
	atHome := DBInstance(tenant, home, made, "")

	tenant.Status.EffectiveDatabase = &made
	after, _ := ResolveDatabase(tenant, other, &made, false)
	moved := DBInstance(tenant, other, after, "")
	rolled, _ := ResolveDatabase(tenant, other, &made, true)
	// A record kept before the operator recorded where a database lives: it is where the cell put it.
	legacy := made
	legacy.Cell, legacy.Identifier, legacy.SubnetGroupName, legacy.SecurityGroupIDs = "", "", "", nil
	upgraded, _ := ResolveDatabase(testTenant("acme"), home, &legacy, false)
	cases := []struct {
		what      string
		got, want any
	}{
		{"made in its cell", fmt.Sprint(made.Cell, " ", made.Identifier, " ", made.SubnetGroupName, " ", made.SecurityGroupIDs), "eu1 tenant-eu1-acme cell-eu1 [sg-db]"},
		{"the same DBInstance spec from another cell", equality.Semantic.DeepEqual(moved.Spec, atHome.Spec), true},
		{"a defaults rollout from another cell keeps where it lives", fmt.Sprint(rolled.Identifier, " ", rolled.SubnetGroupName, " ", rolled.SecurityGroupIDs), "tenant-eu1-acme cell-eu1 [sg-db]"},
		{"a record from before keeps the same place", fmt.Sprint(upgraded.Cell, " ", upgraded.Identifier, " ", upgraded.SubnetGroupName), "eu1 tenant-eu1-acme cell-eu1"},
		{"read back from the live DBInstance", fmt.Sprint(EffectiveDatabaseOf(atHome).Cell, " ", EffectiveDatabaseOf(atHome).Identifier, " ",
			EffectiveDatabaseOf(atHome).SubnetGroupName, " ", EffectiveDatabaseOf(atHome).SecurityGroupIDs), "eu1 tenant-eu1-acme cell-eu1 [sg-db]"},
		{"its objects stay marked with the cell it was made in", TenantLabels(tenant, other, "")[saasv1.LabelCell], "eu1"},
	}
	for _, c := range cases {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s:\n got  %v\n want %v", c.what, c.got, c.want)
		}
	}
}

// What the database carries before its custom resource is deleted decides whether its data
// survives: a final snapshot by the name given, retained in AWS with protection on, or gone
// with its backups. Nothing else of the DBInstance is in it: the deletion writes these fields
// only, as their own field manager.
func TestDBInstanceRelease(t *testing.T) {
	policy := func(p string) *saasv1.Tenant {
		return &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{Database: saasv1.TenantDatabase{DeletionPolicy: p}}}
	}
	cases := []struct {
		policy     string
		want       map[string]string
		protection bool
	}{
		{saasv1.DeletionSnapshot, map[string]string{rds.AnnotationSkipFinalSnapshot: "false", rds.AnnotationFinalSnapshotIdentifier: "final-1"}, false},
		{"", map[string]string{rds.AnnotationSkipFinalSnapshot: "false", rds.AnnotationFinalSnapshotIdentifier: "final-1"}, false},
		{saasv1.DeletionRetain, map[string]string{"services.k8s.aws/deletion-policy": "retain"}, true},
		{saasv1.DeletionDelete, map[string]string{rds.AnnotationSkipFinalSnapshot: "true", rds.AnnotationDeleteAutomatedBackups: "true"}, false},
	}
	for _, c := range cases {
		db := DBInstanceRelease(policy(c.policy), "final-1")
		if db.Name != DBInstanceName || db.Namespace != "tenant-acme" || len(db.Annotations) != len(c.want) {
			t.Errorf("policy %q: %s/%s %v, want %s/tenant-acme %v", c.policy, db.Namespace, db.Name, db.Annotations, DBInstanceName, c.want)
			continue
		}
		for k, v := range c.want {
			if db.Annotations[k] != v {
				t.Errorf("policy %q: %s=%q, want %q", c.policy, k, db.Annotations[k], v)
			}
		}
		if db.Spec.DeletionProtection == nil || *db.Spec.DeletionProtection != c.protection {
			t.Errorf("policy %q: deletion protection %v, want %v", c.policy, db.Spec.DeletionProtection, c.protection)
		}
		spec := db.Spec
		spec.DeletionProtection = nil
		if !reflect.DeepEqual(spec, rds.DBInstanceSpec{}) || len(db.Labels) != 0 || len(db.OwnerReferences) != 0 {
			t.Errorf("policy %q: the release sets more than its fields: %+v", c.policy, db)
		}
	}
}
