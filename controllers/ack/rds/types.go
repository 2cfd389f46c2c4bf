// Package rds mirrors the fields of the ACK RDS controller's API (rds.services.k8s.aws/v1alpha1,
// rds-controller v1.11.1) that the operator writes and reads. Field names and JSON tags are the
// upstream ones; the envtest suites check every object against the upstream CRDs.
//
// +kubebuilder:object:generate=true
// +groupName=rds.services.k8s.aws
package rds

import (
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	GroupVersion  = schema.GroupVersion{Group: "rds.services.k8s.aws", Version: "v1alpha1"}
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

// Annotations the RDS controller reads when it deletes a DBInstance.
const (
	AnnotationSkipFinalSnapshot       = "rds.services.k8s.aws/skip-final-snapshot"
	AnnotationFinalSnapshotIdentifier = "rds.services.k8s.aws/final-db-snapshot-identifier"
	AnnotationDeleteAutomatedBackups  = "rds.services.k8s.aws/delete-automated-backups"
	StatusAvailable                   = "available"
)

// Tag is an RDS resource tag.
type Tag struct {
	Key   *string `json:"key,omitempty"`
	Value *string `json:"value,omitempty"`
}

// SecretKeyReference points at a key of a Secret holding a password.
type SecretKeyReference struct {
	Name      string `json:"name,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	Key       string `json:"key"`
}

// DBInstanceSpec is the part of the upstream spec the operator sets.
type DBInstanceSpec struct {
	AllocatedStorage        *int64  `json:"allocatedStorage,omitempty"`
	AutoMinorVersionUpgrade *bool   `json:"autoMinorVersionUpgrade,omitempty"`
	BackupRetentionPeriod   *int64  `json:"backupRetentionPeriod,omitempty"`
	CopyTagsToSnapshot      *bool   `json:"copyTagsToSnapshot,omitempty"`
	DBInstanceClass         *string `json:"dbInstanceClass"`
	DBInstanceIdentifier    *string `json:"dbInstanceIdentifier"`
	DBName                  *string `json:"dbName,omitempty"`
	DBSnapshotIdentifier    *string `json:"dbSnapshotIdentifier,omitempty"`
	DBSubnetGroupName       *string `json:"dbSubnetGroupName,omitempty"`
	DeletionProtection      *bool   `json:"deletionProtection,omitempty"`
	Engine                  *string `json:"engine"`
	// KMSKeyID encrypts the instance; for a cross-region read replica, a key of its region.
	KMSKeyID           *string             `json:"kmsKeyID,omitempty"`
	EngineVersion      *string             `json:"engineVersion,omitempty"`
	MasterUserPassword *SecretKeyReference `json:"masterUserPassword,omitempty"`
	MasterUsername     *string             `json:"masterUsername,omitempty"`
	MultiAZ            *bool               `json:"multiAZ,omitempty"`
	PubliclyAccessible *bool               `json:"publiclyAccessible,omitempty"`
	// SourceDBInstanceIdentifier makes the instance a read replica of this one (its ARN, for
	// a replica in another region than the source's, with SourceRegion).
	SourceDBInstanceIdentifier *string   `json:"sourceDBInstanceIdentifier,omitempty"`
	SourceRegion               *string   `json:"sourceRegion,omitempty"`
	StorageEncrypted           *bool     `json:"storageEncrypted,omitempty"`
	StorageType                *string   `json:"storageType,omitempty"`
	Tags                       []*Tag    `json:"tags,omitempty"`
	VPCSecurityGroupIDs        []*string `json:"vpcSecurityGroupIDs,omitempty"`
}

// Endpoint is where a DBInstance listens.
type Endpoint struct {
	Address      *string `json:"address,omitempty"`
	HostedZoneID *string `json:"hostedZoneID,omitempty"`
	Port         *int64  `json:"port,omitempty"`
}

// DBInstanceStatus is the part of the upstream status the operator reads.
type DBInstanceStatus struct {
	// ACKResourceMetadata holds the instance's ARN once ACK made it.
	ACKResourceMetadata *ackv1alpha1.ResourceMetadata `json:"ackResourceMetadata,omitempty"`
	Conditions          []*ackv1alpha1.Condition      `json:"conditions,omitempty"`
	DBInstanceStatus    *string                       `json:"dbInstanceStatus,omitempty"`
	Endpoint            *Endpoint                     `json:"endpoint,omitempty"`
}

// DBInstance is an RDS database instance managed by the ACK RDS controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type DBInstance struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DBInstanceSpec   `json:"spec,omitempty"`
	Status            DBInstanceStatus `json:"status,omitempty"`
}

// DBInstanceList is a list of DBInstances.
//
// +kubebuilder:object:root=true
type DBInstanceList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DBInstance `json:"items"`
}

// DBSubnetGroupSpec is the part of the upstream spec the operator sets.
type DBSubnetGroupSpec struct {
	Description *string   `json:"description"`
	Name        *string   `json:"name"`
	SubnetIDs   []*string `json:"subnetIDs,omitempty"`
	Tags        []*Tag    `json:"tags,omitempty"`
}

// DBSubnetGroupStatus is the part of the upstream status the operator reads.
type DBSubnetGroupStatus struct {
	Conditions []*ackv1alpha1.Condition `json:"conditions,omitempty"`
}

// DBSubnetGroup is an RDS DB subnet group managed by the ACK RDS controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type DBSubnetGroup struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DBSubnetGroupSpec   `json:"spec,omitempty"`
	Status            DBSubnetGroupStatus `json:"status,omitempty"`
}

// DBSubnetGroupList is a list of DBSubnetGroups.
//
// +kubebuilder:object:root=true
type DBSubnetGroupList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []DBSubnetGroup `json:"items"`
}

func init() {
	SchemeBuilder.Register(&DBInstance{}, &DBInstanceList{}, &DBSubnetGroup{}, &DBSubnetGroupList{})
}
