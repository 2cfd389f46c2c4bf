// Package s3 mirrors the fields of the ACK S3 controller's Bucket (s3.services.k8s.aws/v1alpha1,
// s3-controller v1.10.0) that the operator writes and reads. The envtest suites check every
// object against the upstream CRD.
//
// +kubebuilder:object:generate=true
// +groupName=s3.services.k8s.aws
package s3

import (
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	GroupVersion  = schema.GroupVersion{Group: "s3.services.k8s.aws", Version: "v1alpha1"}
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

// ServerSideEncryptionByDefault is how new objects are encrypted.
type ServerSideEncryptionByDefault struct {
	SSEAlgorithm *string `json:"sseAlgorithm,omitempty"`
}

// ServerSideEncryptionRule is one encryption rule.
type ServerSideEncryptionRule struct {
	ApplyServerSideEncryptionByDefault *ServerSideEncryptionByDefault `json:"applyServerSideEncryptionByDefault,omitempty"`
	BucketKeyEnabled                   *bool                          `json:"bucketKeyEnabled,omitempty"`
}

// ServerSideEncryptionConfiguration is the bucket's default encryption.
type ServerSideEncryptionConfiguration struct {
	Rules []*ServerSideEncryptionRule `json:"rules,omitempty"`
}

// NoncurrentVersionExpiration expires old versions.
type NoncurrentVersionExpiration struct {
	NoncurrentDays *int64 `json:"noncurrentDays,omitempty"`
}

// AbortIncompleteMultipartUpload cleans up uploads left unfinished.
type AbortIncompleteMultipartUpload struct {
	DaysAfterInitiation *int64 `json:"daysAfterInitiation,omitempty"`
}

// LifecycleRuleFilter selects what a rule applies to.
type LifecycleRuleFilter struct {
	Prefix *string `json:"prefix,omitempty"`
}

// LifecycleRule is one lifecycle rule.
type LifecycleRule struct {
	AbortIncompleteMultipartUpload *AbortIncompleteMultipartUpload `json:"abortIncompleteMultipartUpload,omitempty"`
	Filter                         *LifecycleRuleFilter            `json:"filter,omitempty"`
	ID                             *string                         `json:"id,omitempty"`
	NoncurrentVersionExpiration    *NoncurrentVersionExpiration    `json:"noncurrentVersionExpiration,omitempty"`
	Status                         *string                         `json:"status,omitempty"`
}

// BucketLifecycleConfiguration is the bucket's lifecycle.
type BucketLifecycleConfiguration struct {
	Rules []*LifecycleRule `json:"rules,omitempty"`
}

// OwnershipControlsRule sets who owns objects.
type OwnershipControlsRule struct {
	ObjectOwnership *string `json:"objectOwnership,omitempty"`
}

// OwnershipControls are the bucket's ownership rules.
type OwnershipControls struct {
	Rules []*OwnershipControlsRule `json:"rules,omitempty"`
}

// PublicAccessBlockConfiguration blocks public access.
type PublicAccessBlockConfiguration struct {
	BlockPublicACLs       *bool `json:"blockPublicACLs,omitempty"`
	BlockPublicPolicy     *bool `json:"blockPublicPolicy,omitempty"`
	IgnorePublicACLs      *bool `json:"ignorePublicACLs,omitempty"`
	RestrictPublicBuckets *bool `json:"restrictPublicBuckets,omitempty"`
}

// Tag is an S3 tag.
type Tag struct {
	Key   *string `json:"key,omitempty"`
	Value *string `json:"value,omitempty"`
}

// Tagging is the bucket's tags.
type Tagging struct {
	TagSet []*Tag `json:"tagSet,omitempty"`
}

// VersioningConfiguration turns versioning on.
type VersioningConfiguration struct {
	Status *string `json:"status,omitempty"`
}

// BucketSpec is the part of the upstream spec the operator sets.
type BucketSpec struct {
	Encryption        *ServerSideEncryptionConfiguration `json:"encryption,omitempty"`
	Lifecycle         *BucketLifecycleConfiguration      `json:"lifecycle,omitempty"`
	Name              *string                            `json:"name"`
	OwnershipControls *OwnershipControls                 `json:"ownershipControls,omitempty"`
	Policy            *string                            `json:"policy,omitempty"`
	PublicAccessBlock *PublicAccessBlockConfiguration    `json:"publicAccessBlock,omitempty"`
	Tagging           *Tagging                           `json:"tagging,omitempty"`
	Versioning        *VersioningConfiguration           `json:"versioning,omitempty"`
}

// BucketStatus is the part of the upstream status the operator reads.
type BucketStatus struct {
	ACKResourceMetadata *ackv1alpha1.ResourceMetadata `json:"ackResourceMetadata,omitempty"`
	Conditions          []*ackv1alpha1.Condition      `json:"conditions,omitempty"`
}

// Bucket is an S3 bucket managed by the ACK S3 controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type Bucket struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              BucketSpec   `json:"spec,omitempty"`
	Status            BucketStatus `json:"status,omitempty"`
}

// BucketList is a list of Buckets.
//
// +kubebuilder:object:root=true
type BucketList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Bucket `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Bucket{}, &BucketList{})
}
