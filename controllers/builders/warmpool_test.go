package builders

import (
	"reflect"
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

func TestWarmPoolInstance(t *testing.T) {
	c := testCell()
	db := WarmPoolInstance(c, "pool-abc12345")
	s := db.Spec
	cases := []struct {
		what      string
		got, want any
	}{
		{"namespace", db.Namespace, "cell-eu1"},
		{"identifier", *s.DBInstanceIdentifier, "pool-eu1-abc12345"},
		{"component", db.Labels[saasv1.LabelComponent], WarmPoolComponent},
		{"shape label", db.Labels[LabelWarmPoolShape], WarmPoolShapeHash(c, WarmPoolShape(c))},
		{"class", *s.DBInstanceClass, "db.t4g.medium"},
		{"storage", *s.AllocatedStorage, int64(20)},
		{"Multi-AZ", *s.MultiAZ, true},
		{"encrypted", *s.StorageEncrypted, true},
		{"private", *s.PubliclyAccessible, false},
		{"no deletion protection: it holds no data", *s.DeletionProtection, false},
		{"the pool's password", *s.MasterUserPassword, rds.SecretKeyReference{Name: WarmPoolPasswordSecretName, Namespace: "cell-eu1", Key: DBPasswordKey}},
		{"subnet group", *s.DBSubnetGroupName, DBSubnetGroupName(c)},
		{"cell tag", tagValue(s.Tags, tagCell), "eu1"},
	}
	for _, tc := range cases {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.what, tc.got, tc.want)
		}
	}
}

// The shape hash names what RDS is asked for: a new revision of the same defaults keeps it,
// anything RDS would make differently changes it.
func TestWarmPoolShapeHash(t *testing.T) {
	base := WarmPoolShapeHash(testCell(), WarmPoolShape(testCell()))
	cases := []struct {
		name   string
		change func(*saasv1.RegionCell)
		same   bool
	}{
		{"a new revision of the same defaults", func(c *saasv1.RegionCell) { c.Spec.Database.Revision = "r2" }, true},
		{"another instance class", func(c *saasv1.RegionCell) { c.Spec.Database.InstanceClass = "db.r6g.large" }, false},
		{"more storage", func(c *saasv1.RegionCell) { c.Spec.Database.StorageGiB = 50 }, false},
		{"single-AZ", func(c *saasv1.RegionCell) { c.Spec.Database.MultiAZ = ptr(false) }, false},
		{"another engine version", func(c *saasv1.RegionCell) { c.Spec.Database.EngineVersion = "8.4" }, false},
		{"other backups", func(c *saasv1.RegionCell) { c.Spec.Database.BackupRetentionDays = 14 }, false},
		{"other security groups", func(c *saasv1.RegionCell) { c.Spec.Network.DBSecurityGroupIDs = []string{"sg-other"} }, false},
	}
	for _, tc := range cases {
		c := testCell()
		tc.change(c)
		if got := WarmPoolShapeHash(c, WarmPoolShape(c)); (got == base) != tc.same {
			t.Errorf("%s: hash %s against %s, same=%v wanted", tc.name, got, base, tc.same)
		}
	}
	// A tenant asking for nothing else resolves to the pool's shape.
	c := testCell()
	eff, _ := ResolveDatabase(testTenant("a"), c, nil, false)
	if WarmPoolShapeHash(c, eff) != base {
		t.Errorf("a default tenant's database %+v is not the pool's shape", eff)
	}
}

// A claim and a release set their few fields and nothing else.
func TestWarmPoolClaimAndRelease(t *testing.T) {
	pooled := WarmPoolInstance(testCell(), "pool-x")
	claim := WarmPoolClaim(pooled, "uid-1")
	if !reflect.DeepEqual(claim.Annotations, map[string]string{AnnotationClaimedBy: "uid-1", ack.AnnotationDeletionPolicy: "retain"}) ||
		!reflect.DeepEqual(claim.Spec, rds.DBInstanceSpec{}) || claim.Name != "pool-x" || claim.Namespace != pooled.Namespace {
		t.Errorf("claim: %+v", claim)
	}
	release := WarmPoolRelease(pooled)
	if !reflect.DeepEqual(release.Annotations, map[string]string{rds.AnnotationSkipFinalSnapshot: "true", rds.AnnotationDeleteAutomatedBackups: "true"}) ||
		!reflect.DeepEqual(release.Spec, rds.DBInstanceSpec{DeletionProtection: ptr(false)}) {
		t.Errorf("release: %+v", release)
	}
}

// A tenant's database claimed from the pool adopts the pool's instance by its identifier, with
// the tenant's password and tags; read back, it still says where it came from.
func TestClaimedDBInstance(t *testing.T) {
	c, tn := testCell(), testTenant("acme")
	eff, _ := ResolveDatabase(tn, c, &saasv1.EffectiveDatabase{Identifier: "pool-eu1-x", Cell: "eu1", ClaimedFrom: "pool-x",
		InstanceClass: "db.t4g.medium", StorageGiB: 20, MultiAZ: true, EngineVersion: "8.0", BackupRetentionDays: 7}, false)
	db := DBInstance(tn, c, eff, "")
	if *db.Spec.DBInstanceIdentifier != "pool-eu1-x" || db.Spec.MasterUserPassword.Namespace != TenantNamespace(tn) ||
		tagValue(db.Spec.Tags, "tenantops:tenant") != "acme" {
		t.Errorf("claimed DBInstance: %+v", db.Spec)
	}
	want := map[string]string{ack.AnnotationAdoptionPolicy: "adopt-or-create", ack.AnnotationAdoptionFields: `{"dbInstanceIdentifier":"pool-eu1-x"}`, AnnotationClaimedFrom: "pool-x"}
	for k, v := range want {
		if db.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, db.Annotations[k], v)
		}
	}
	if got := EffectiveDatabaseOf(db); got.ClaimedFrom != "pool-x" || got.Identifier != "pool-eu1-x" {
		t.Errorf("read back: %+v", got)
	}
	own := DBInstance(tn, c, saasv1.EffectiveDatabase{Identifier: "tenant-eu1-acme"}, "")
	if _, adopts := own.Annotations[ack.AnnotationAdoptionPolicy]; adopts {
		t.Error("a tenant's own database asks ACK to adopt")
	}
}
