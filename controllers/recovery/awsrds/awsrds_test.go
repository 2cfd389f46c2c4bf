package awsrds

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/tenantops/tenant-operator/controllers/recovery"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

var moto *testsvc.Moto

func TestMain(m *testing.M) { testsvc.MainWithMoto(m, &moto) }

// playACKCreate makes the database in moto, as ACK's rds-controller would in AWS.
func playACKCreate(t *testing.T, region, id string) {
	t.Helper()
	_, err := moto.RDS(region).CreateDBInstance(context.Background(), &rds.CreateDBInstanceInput{
		DBInstanceIdentifier: aws.String(id), DBInstanceClass: aws.String("db.t4g.medium"), Engine: aws.String("mysql"),
		EngineVersion: aws.String("8.0.39"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"),
		MasterUserPassword: aws.String("not-a-real-secret-1"), StorageEncrypted: aws.Bool(true), MultiAZ: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSnapshotsAcrossRegions(t *testing.T) {
	ctx := context.Background()
	c := &Client{Config: moto.Config(), EndpointURL: moto.URL}
	const db, home, partner = "tenant-eu-west-1-a-acme", "eu-west-1", "eu-central-1"
	playACKCreate(t, home, db)
	key, err := moto.KMSKey(context.Background(), partner)
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{"tenantops:tenant": "acme", "tenantops:purpose": "disaster-recovery"}
	prefix := recovery.SnapshotPrefix(db)

	if got, err := c.List(ctx, partner, db, prefix); err != nil || len(got) != 0 {
		t.Fatalf("the partner holds %v before any copy (%v)", got, err)
	}
	id := recovery.SnapshotID(db, time.Now())
	if err := c.Create(ctx, home, db, id, tags); err != nil {
		t.Fatal(err)
	}
	if err := c.Create(ctx, home, db, id, tags); err != nil {
		t.Fatalf("a snapshot asked for twice is the first: %v", err)
	}
	homes, err := c.List(ctx, home, db, prefix)
	if err != nil || len(homes) != 1 || homes[0].ID != id || !homes[0].Available() || homes[0].Created.IsZero() {
		t.Fatalf("home snapshots %+v (%v)", homes, err)
	}
	if !strings.Contains(homes[0].ARN, ":"+home+":") {
		t.Errorf("the source ARN %s is not of %s", homes[0].ARN, home)
	}

	// A key the partner region does not have: RDS refuses the copy, and says why.
	err = c.Copy(ctx, homes[0], home, partner, "arn:aws:kms:"+partner+":123456789012:key/00000000-0000-0000-0000-000000000000", tags)
	if err == nil || !strings.Contains(err.Error(), "KMS") {
		t.Errorf("a copy under a missing key: %v", err)
	}
	if err := c.Copy(ctx, homes[0], home, partner, key, tags); err != nil {
		t.Fatal(err)
	}
	if err := c.Copy(ctx, homes[0], home, partner, key, tags); err != nil {
		t.Fatalf("a copy asked for twice is the first: %v", err)
	}
	copies, err := c.List(ctx, partner, db, prefix)
	if err != nil || len(copies) != 1 || copies[0].ID != id || !copies[0].Available() {
		t.Fatalf("partner copies %+v (%v)", copies, err)
	}
	if !strings.Contains(copies[0].ARN, ":"+partner+":") {
		t.Errorf("the copy's ARN %s is not of %s", copies[0].ARN, partner)
	}
	// The copy is encrypted under the partner's key and carries the tags a failover finds it by.
	r := moto.RDS(partner)
	d, err := r.DescribeDBSnapshots(ctx, &rds.DescribeDBSnapshotsInput{DBSnapshotIdentifier: aws.String(id)})
	if err != nil || len(d.DBSnapshots) != 1 {
		t.Fatal(d, err)
	}
	if s := d.DBSnapshots[0]; aws.ToString(s.KmsKeyId) != key || !aws.ToBool(s.Encrypted) || tagOf(s.TagList, "tenantops:tenant") != "acme" {
		t.Errorf("copy: key %s encrypted %v tags %v", aws.ToString(s.KmsKeyId), aws.ToBool(s.Encrypted), s.TagList)
	}
	// Snapshots of other names are not listed: a person's own, or a final snapshot.
	if err := c.Create(ctx, home, db, db+"-final-20261206", nil); err != nil {
		t.Fatal(err)
	}
	if homes, _ := c.List(ctx, home, db, prefix); len(homes) != 1 {
		t.Errorf("listed %+v", homes)
	}

	if err := c.Delete(ctx, partner, id); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(ctx, partner, id); err != nil {
		t.Errorf("deleting a snapshot already gone: %v", err)
	}
	if copies, _ := c.List(ctx, partner, db, prefix); len(copies) != 0 {
		t.Errorf("deleted, still listed: %+v", copies)
	}
	if got, err := c.List(ctx, home, "no-such-db", "no-such-db-dr-"); err != nil || len(got) != 0 {
		t.Errorf("a database RDS does not know: %v %v", got, err)
	}
}

func tagOf(tags []rdstypes.Tag, key string) string {
	for _, t := range tags {
		if aws.ToString(t.Key) == key {
			return aws.ToString(t.Value)
		}
	}
	return ""
}

// The home region's ACK makes the standby (a cross-region read replica, played here as ACK
// would call RDS); the partner region finds it by its tags and promotes it.
func TestStandbyFoundAndPromoted(t *testing.T) {
	ctx := context.Background()
	c := &Client{Config: moto.Config(), EndpointURL: moto.URL}
	const db, home, partner = "tenant-eu-west-1-a-globex", "eu-west-1", "eu-central-1"
	playACKCreate(t, home, db)
	src, err := moto.RDS(home).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(db)})
	if err != nil {
		t.Fatal(err)
	}
	tags := recovery.StandbyTags("globex", home)
	if got, err := c.FindStandby(ctx, partner, tags); err != nil || got != nil {
		t.Fatalf("a standby before one was made: %+v (%v)", got, err)
	}
	id := recovery.StandbyIdentifier(db)
	if _, err := moto.RDS(partner).CreateDBInstanceReadReplica(ctx, &rds.CreateDBInstanceReadReplicaInput{
		DBInstanceIdentifier: aws.String(id), SourceDBInstanceIdentifier: src.DBInstances[0].DBInstanceArn, SourceRegion: aws.String(home),
		DBInstanceClass: aws.String("db.t4g.medium"), Tags: rdsTags(tags),
	}); err != nil {
		t.Fatal(err)
	}
	// Another tenant's standby, and this tenant's standby from another home, are not it.
	if got, _ := c.FindStandby(ctx, partner, recovery.StandbyTags("initech", home)); got != nil {
		t.Errorf("found another tenant's: %+v", got)
	}
	if got, _ := c.FindStandby(ctx, partner, recovery.StandbyTags("globex", "eu-south-1")); got != nil {
		t.Errorf("found another home's: %+v", got)
	}
	got, err := c.FindStandby(ctx, partner, tags)
	if err != nil || got == nil || got.ID != id || !got.Available() || !strings.Contains(got.Source, ":"+home+":") || !strings.Contains(got.ARN, ":"+partner+":") {
		t.Fatalf("standby %+v (%v)", got, err)
	}
	if err := c.Promote(ctx, partner, id); err != nil {
		t.Fatal(err)
	}
	if err := c.Promote(ctx, partner, id); err != nil {
		t.Errorf("promoting again (an operator restarted before recording it): %v", err)
	}
	if err := c.Promote(ctx, partner, "no-such-standby"); err == nil {
		t.Error("promoting a replica that is not there succeeded")
	}
}
