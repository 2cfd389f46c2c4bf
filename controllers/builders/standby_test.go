package builders

import (
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

func TestStandbyDBInstance(t *testing.T) {
	c := testCell()
	tn := testTenant("acme", func(t *saasv1.Tenant) { t.Spec.Tier = saasv1.TierDedicated })
	db := saasv1.EffectiveDatabase{InstanceClass: "db.r6g.large", Identifier: "tenant-eu1-acme", Cell: "eu1", MultiAZ: true}
	s := Standby{Identifier: "tenant-eu1-acme-standby", Region: "eu-central-1", SourceARN: "arn:aws:rds:eu-west-1:123456789012:db:tenant-eu1-acme",
		SourceRegion: "eu-west-1", KMSKeyID: "alias/dr", Tags: map[string]string{"tenantops:tenant": "acme", "tenantops:purpose": "standby"}}
	cases := []struct {
		name  string
		s     Standby
		check func(*rds.DBInstance) string
	}{
		{"a cross-region replica made by ACK in the partner region", s, func(d *rds.DBInstance) string {
			switch {
			case d.Name != StandbyDBInstanceName || d.Namespace != TenantNamespace(tn):
				return "name " + d.Namespace + "/" + d.Name
			case d.Annotations[ack.AnnotationRegion] != "eu-central-1":
				return "region annotation " + d.Annotations[ack.AnnotationRegion]
			case *d.Spec.SourceDBInstanceIdentifier != s.SourceARN || *d.Spec.SourceRegion != "eu-west-1" || *d.Spec.KMSKeyID != "alias/dr":
				return "source or key"
			case *d.Spec.DBInstanceIdentifier != s.Identifier || *d.Spec.DBInstanceClass != "db.r6g.large":
				return "identifier or class"
			}
			return ""
		}},
		{"private, encrypted, deleted without a final snapshot, never a password of its own", s, func(d *rds.DBInstance) string {
			switch {
			case *d.Spec.PubliclyAccessible || !*d.Spec.StorageEncrypted || *d.Spec.MultiAZ:
				return "public, unencrypted or Multi-AZ"
			case d.Annotations[rds.AnnotationSkipFinalSnapshot] != "true":
				return "final snapshot not skipped"
			case d.Spec.MasterUserPassword != nil || d.Spec.DBSnapshotIdentifier != nil || d.Spec.AllocatedStorage != nil:
				return "a password, snapshot or storage of its own (a replica takes its source's)"
			}
			return ""
		}},
		{"found by its tags, the cell's among them", s, func(d *rds.DBInstance) string {
			if tagValue(d.Spec.Tags, "tenantops:tenant") != "acme" || tagValue(d.Spec.Tags, "tenantops:purpose") != "standby" || tagValue(d.Spec.Tags, tagCell) != "eu1" {
				return "tags"
			}
			return ""
		}},
		{"no placement named: RDS's default", s, func(d *rds.DBInstance) string {
			if d.Spec.DBSubnetGroupName != nil || d.Spec.VPCSecurityGroupIDs != nil {
				return "placement set"
			}
			return ""
		}},
		{"the partner cell's subnets and groups", func() Standby {
			p := s
			p.SubnetGroupName, p.SecurityGroupIDs = "partner-dbs", []string{"sg-partner"}
			return p
		}(), func(d *rds.DBInstance) string {
			if d.Spec.DBSubnetGroupName == nil || *d.Spec.DBSubnetGroupName != "partner-dbs" || len(d.Spec.VPCSecurityGroupIDs) != 1 || *d.Spec.VPCSecurityGroupIDs[0] != "sg-partner" {
				return "placement"
			}
			return ""
		}},
	}
	for _, tc := range cases {
		if msg := tc.check(StandbyDBInstance(tn, c, db, tc.s)); msg != "" {
			t.Errorf("%s: %s", tc.name, msg)
		}
	}
}

// A failover that promoted the standby makes its database that instance, adopted.
func TestDBInstanceAdoptsAPromotedStandby(t *testing.T) {
	c := testCell()
	tn := testTenant("acme", func(t *saasv1.Tenant) {
		t.Spec.RestoreFrom = &saasv1.RestoreSource{FailoverFrom: "eu-south-1"}
		t.Status.RestoredFrom = &saasv1.RestoredFrom{Region: "eu-south-1", PromotedStandby: "tenant-eus1-acme-standby"}
	})
	eff, _ := ResolveDatabase(tn, c, nil, false)
	if eff.Identifier != "tenant-eus1-acme-standby" {
		t.Fatalf("identifier %s", eff.Identifier)
	}
	db := DBInstance(tn, c, eff, "")
	if db.Annotations[ack.AnnotationAdoptionPolicy] != "adopt-or-create" || db.Annotations[ack.AnnotationAdoptionFields] != `{"dbInstanceIdentifier":"tenant-eus1-acme-standby"}` {
		t.Errorf("annotations %v", db.Annotations)
	}
	if db.Spec.DBSnapshotIdentifier != nil || !*db.Spec.MultiAZ || db.Spec.MasterUserPassword == nil {
		t.Errorf("a promoted standby is adopted as the tenant's own database: %+v", db.Spec)
	}
	// A failover restoring a copy adopts nothing.
	tn.Status.RestoredFrom = &saasv1.RestoredFrom{Region: "eu-south-1", SnapshotIdentifier: "tenant-eus1-acme-dr-1"}
	eff, _ = ResolveDatabase(tn, c, nil, false)
	if db := DBInstance(tn, c, eff, ""); db.Annotations[ack.AnnotationAdoptionPolicy] != "" || *db.Spec.DBSnapshotIdentifier != "tenant-eus1-acme-dr-1" {
		t.Errorf("restoring a copy: %v %+v", db.Annotations, db.Spec)
	}
}
