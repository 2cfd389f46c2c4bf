package testenv

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsrds "github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// MakeInMoto is ACK's rds-controller making a DBInstance's database in region of an AWS-protocol
// server (PlayerOptions.RDSCreated): restored from the snapshot the DBInstance names, a read
// replica of the instance it names (in the region its services.k8s.aws/region annotation names),
// taken over when it adopts one (which must be there), or new. One already there is the one
// made before (ACK retries a create it lost the answer to).
func MakeInMoto(m *testsvc.Moto, region string) func(ctx context.Context, db *rds.DBInstance) error {
	return func(ctx context.Context, db *rds.DBInstance) error {
		in := region
		if r := db.Annotations[ack.AnnotationRegion]; r != "" {
			in = r
		}
		var err error
		switch {
		case db.Annotations[ack.AnnotationAdoptionPolicy] != "":
			// Adopting: ACK describes the instance and takes it over (adopt-or-create would make
			// it when missing; the operator names only instances that exist, which this checks).
			out, derr := m.RDS(in).DescribeDBInstances(ctx, &awsrds.DescribeDBInstancesInput{DBInstanceIdentifier: db.Spec.DBInstanceIdentifier})
			if derr != nil || len(out.DBInstances) != 1 {
				return fmt.Errorf("adopting %s in %s: not there (%v)", aws.ToString(db.Spec.DBInstanceIdentifier), in, derr)
			}
			return nil
		case db.Spec.SourceDBInstanceIdentifier != nil:
			_, err = m.RDS(in).CreateDBInstanceReadReplica(ctx, &awsrds.CreateDBInstanceReadReplicaInput{
				DBInstanceIdentifier: db.Spec.DBInstanceIdentifier, SourceDBInstanceIdentifier: db.Spec.SourceDBInstanceIdentifier,
				SourceRegion: db.Spec.SourceRegion, DBInstanceClass: db.Spec.DBInstanceClass, KmsKeyId: db.Spec.KMSKeyID, Tags: motoTags(db.Spec.Tags)})
		case db.Spec.DBSnapshotIdentifier != nil:
			_, err = m.RDS(in).RestoreDBInstanceFromDBSnapshot(ctx, &awsrds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: db.Spec.DBInstanceIdentifier, DBSnapshotIdentifier: db.Spec.DBSnapshotIdentifier, DBInstanceClass: db.Spec.DBInstanceClass, MultiAZ: db.Spec.MultiAZ})
		default:
			_, err = m.RDS(in).CreateDBInstance(ctx, &awsrds.CreateDBInstanceInput{
				DBInstanceIdentifier: db.Spec.DBInstanceIdentifier, DBInstanceClass: db.Spec.DBInstanceClass, Engine: aws.String("mysql"),
				// moto knows no default version for mysql's every release; RDS would pick one.
				EngineVersion: aws.String("8.0.39"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"),
				MasterUserPassword: aws.String("played-by-the-test-1"), StorageEncrypted: aws.Bool(true), MultiAZ: db.Spec.MultiAZ,
				Tags: motoTags(db.Spec.Tags),
			})
		}
		var exists *rdstypes.DBInstanceAlreadyExistsFault
		if errors.As(err, &exists) {
			return nil
		}
		return err
	}
}

func motoTags(tags []*rds.Tag) []rdstypes.Tag {
	out := make([]rdstypes.Tag, 0, len(tags))
	for _, t := range tags {
		if t != nil && t.Key != nil && t.Value != nil {
			out = append(out, rdstypes.Tag{Key: t.Key, Value: t.Value})
		}
	}
	return out
}
