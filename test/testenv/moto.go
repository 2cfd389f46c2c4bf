package testenv

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsrds "github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/test/testsvc"
)

// MakeInMoto is ACK's rds-controller making a DBInstance's database in region of an AWS-protocol
// server (PlayerOptions.RDSCreated): restored from the snapshot the DBInstance names, or new.
// One already there is the one made before (ACK retries a create it lost the answer to).
func MakeInMoto(m *testsvc.Moto, region string) func(ctx context.Context, db *rds.DBInstance) error {
	return func(ctx context.Context, db *rds.DBInstance) error {
		var err error
		if snap := db.Spec.DBSnapshotIdentifier; snap != nil {
			_, err = m.RDS(region).RestoreDBInstanceFromDBSnapshot(ctx, &awsrds.RestoreDBInstanceFromDBSnapshotInput{
				DBInstanceIdentifier: db.Spec.DBInstanceIdentifier, DBSnapshotIdentifier: snap, DBInstanceClass: db.Spec.DBInstanceClass, MultiAZ: db.Spec.MultiAZ})
		} else {
			_, err = m.RDS(region).CreateDBInstance(ctx, &awsrds.CreateDBInstanceInput{
				DBInstanceIdentifier: db.Spec.DBInstanceIdentifier, DBInstanceClass: db.Spec.DBInstanceClass, Engine: aws.String("mysql"),
				// moto knows no default version for mysql's every release; RDS would pick one.
				EngineVersion: aws.String("8.0.39"), AllocatedStorage: aws.Int32(20), MasterUsername: aws.String("admin"),
				MasterUserPassword: aws.String("played-by-the-test-1"), StorageEncrypted: aws.Bool(true), MultiAZ: db.Spec.MultiAZ,
			})
		}
		var exists *rdstypes.DBInstanceAlreadyExistsFault
		if errors.As(err, &exists) {
			return nil
		}
		return err
	}
}
