// Package cloudfront mirrors the fields of the ACK CloudFront controller's Distribution and
// OriginAccessControl (cloudfront.services.k8s.aws/v1alpha1, cloudfront-controller v1.7.1) that
// the operator writes and reads. The envtest suites check every object against the upstream
// CRDs.
//
// +kubebuilder:object:generate=true
// +groupName=cloudfront.services.k8s.aws
package cloudfront

import (
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	GroupVersion  = schema.GroupVersion{Group: "cloudfront.services.k8s.aws", Version: "v1alpha1"}
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

// StatusDeployed is a distribution's status once every edge location has its configuration.
const StatusDeployed = "Deployed"

// OriginAccessControlConfig is how CloudFront signs its requests to an origin.
type OriginAccessControlConfig struct {
	Description                   *string `json:"description,omitempty"`
	Name                          *string `json:"name,omitempty"`
	OriginAccessControlOriginType *string `json:"originAccessControlOriginType,omitempty"`
	SigningBehavior               *string `json:"signingBehavior,omitempty"`
	SigningProtocol               *string `json:"signingProtocol,omitempty"`
}

// OriginAccessControlSpec is the part of the upstream spec the operator sets.
type OriginAccessControlSpec struct {
	OriginAccessControlConfig *OriginAccessControlConfig `json:"originAccessControlConfig"`
}

// OriginAccessControlStatus is the part of the upstream status the operator reads.
type OriginAccessControlStatus struct {
	Conditions []*ackv1alpha1.Condition `json:"conditions,omitempty"`
	ID         *string                  `json:"id,omitempty"`
}

// OriginAccessControl lets a distribution sign its requests to an S3 origin.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type OriginAccessControl struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              OriginAccessControlSpec   `json:"spec,omitempty"`
	Status            OriginAccessControlStatus `json:"status,omitempty"`
}

// OriginAccessControlList is a list of OriginAccessControls.
//
// +kubebuilder:object:root=true
type OriginAccessControlList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OriginAccessControl `json:"items"`
}

// StringItems is CloudFront's list shape: {items: [...]}.
type StringItems struct {
	Items []*string `json:"items,omitempty"`
}

// CachedMethods are the methods whose answers are cached.
type CachedMethods struct {
	Items []*string `json:"items,omitempty"`
}

// AllowedMethods are the methods CloudFront passes on.
type AllowedMethods struct {
	CachedMethods *CachedMethods `json:"cachedMethods,omitempty"`
	Items         []*string      `json:"items,omitempty"`
}

// DefaultCacheBehavior is how the distribution serves every path.
type DefaultCacheBehavior struct {
	AllowedMethods       *AllowedMethods `json:"allowedMethods,omitempty"`
	CachePolicyID        *string         `json:"cachePolicyID,omitempty"`
	Compress             *bool           `json:"compress,omitempty"`
	TargetOriginID       *string         `json:"targetOriginID,omitempty"`
	ViewerProtocolPolicy *string         `json:"viewerProtocolPolicy,omitempty"`
}

// S3OriginConfig marks an origin as an S3 bucket.
type S3OriginConfig struct {
	OriginAccessIdentity *string `json:"originAccessIdentity,omitempty"`
}

// Origin is where the distribution fetches from.
type Origin struct {
	DomainName            *string         `json:"domainName,omitempty"`
	ID                    *string         `json:"id,omitempty"`
	OriginAccessControlID *string         `json:"originAccessControlID,omitempty"`
	S3OriginConfig        *S3OriginConfig `json:"s3OriginConfig,omitempty"`
}

// Origins is CloudFront's list of origins.
type Origins struct {
	Items []*Origin `json:"items,omitempty"`
}

// ViewerCertificate is the certificate viewers see.
type ViewerCertificate struct {
	ACMCertificateARN            *string `json:"acmCertificateARN,omitempty"`
	CloudFrontDefaultCertificate *bool   `json:"cloudFrontDefaultCertificate,omitempty"`
	MinimumProtocolVersion       *string `json:"minimumProtocolVersion,omitempty"`
	SSLSupportMethod             *string `json:"sslSupportMethod,omitempty"`
}

// DistributionConfig is the part of a distribution's configuration the operator sets.
type DistributionConfig struct {
	Aliases              *StringItems          `json:"aliases,omitempty"`
	Comment              *string               `json:"comment,omitempty"`
	DefaultCacheBehavior *DefaultCacheBehavior `json:"defaultCacheBehavior,omitempty"`
	Enabled              *bool                 `json:"enabled,omitempty"`
	HTTPVersion          *string               `json:"httpVersion,omitempty"`
	IsIPV6Enabled        *bool                 `json:"isIPV6Enabled,omitempty"`
	Origins              *Origins              `json:"origins,omitempty"`
	PriceClass           *string               `json:"priceClass,omitempty"`
	ViewerCertificate    *ViewerCertificate    `json:"viewerCertificate,omitempty"`
}

// Tag is a CloudFront tag.
type Tag struct {
	Key   *string `json:"key,omitempty"`
	Value *string `json:"value,omitempty"`
}

// DistributionSpec is the part of the upstream spec the operator sets.
type DistributionSpec struct {
	DistributionConfig *DistributionConfig `json:"distributionConfig"`
	Tags               []*Tag              `json:"tags,omitempty"`
}

// DistributionStatus is the part of the upstream status the operator reads.
type DistributionStatus struct {
	ACKResourceMetadata *ackv1alpha1.ResourceMetadata `json:"ackResourceMetadata,omitempty"`
	Conditions          []*ackv1alpha1.Condition      `json:"conditions,omitempty"`
	DomainName          *string                       `json:"domainName,omitempty"`
	ID                  *string                       `json:"id,omitempty"`
	Status              *string                       `json:"status,omitempty"`
}

// Distribution is a CloudFront distribution managed by the ACK CloudFront controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type Distribution struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              DistributionSpec   `json:"spec,omitempty"`
	Status            DistributionStatus `json:"status,omitempty"`
}

// DistributionList is a list of Distributions.
//
// +kubebuilder:object:root=true
type DistributionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Distribution `json:"items"`
}

func init() {
	SchemeBuilder.Register(&OriginAccessControl{}, &OriginAccessControlList{}, &Distribution{}, &DistributionList{})
}
