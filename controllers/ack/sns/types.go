// Package sns mirrors the fields of the ACK SNS controller's Topic and Subscription
// (sns.services.k8s.aws/v1alpha1, sns-controller v1.6.0) that the operator writes and reads.
// The envtest suites check every object against the upstream CRDs.
//
// +kubebuilder:object:generate=true
// +groupName=sns.services.k8s.aws
package sns

import (
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	GroupVersion  = schema.GroupVersion{Group: "sns.services.k8s.aws", Version: "v1alpha1"}
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

// Tag is an SNS resource tag.
type Tag struct {
	Key   *string `json:"key,omitempty"`
	Value *string `json:"value,omitempty"`
}

// TopicSpec is the part of the upstream spec the operator sets.
type TopicSpec struct {
	DisplayName    *string `json:"displayName,omitempty"`
	KMSMasterKeyID *string `json:"kmsMasterKeyID,omitempty"`
	Name           *string `json:"name"`
	Tags           []*Tag  `json:"tags,omitempty"`
}

// Status is the part of an ACK resource's status the operator reads.
type Status struct {
	ACKResourceMetadata *ackv1alpha1.ResourceMetadata `json:"ackResourceMetadata,omitempty"`
	Conditions          []*ackv1alpha1.Condition      `json:"conditions,omitempty"`
}

// Topic is an SNS topic managed by the ACK SNS controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type Topic struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              TopicSpec `json:"spec,omitempty"`
	Status            Status    `json:"status,omitempty"`
}

// TopicList is a list of Topics.
//
// +kubebuilder:object:root=true
type TopicList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Topic `json:"items"`
}

// SubscriptionSpec is the part of the upstream spec the operator sets. TopicRef names a Topic of
// the same namespace; ACK resolves it to its ARN.
type SubscriptionSpec struct {
	Endpoint *string                                  `json:"endpoint,omitempty"`
	Protocol *string                                  `json:"protocol"`
	TopicRef *ackv1alpha1.AWSResourceReferenceWrapper `json:"topicRef,omitempty"`
}

// Subscription is an SNS subscription managed by the ACK SNS controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type Subscription struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              SubscriptionSpec `json:"spec,omitempty"`
	Status            Status           `json:"status,omitempty"`
}

// SubscriptionList is a list of Subscriptions.
//
// +kubebuilder:object:root=true
type SubscriptionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Subscription `json:"items"`
}

func init() {
	SchemeBuilder.Register(&Topic{}, &TopicList{}, &Subscription{}, &SubscriptionList{})
}
