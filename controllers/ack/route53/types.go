// Package route53 mirrors the fields of the ACK Route53 controller's RecordSet
// (route53.services.k8s.aws/v1alpha1, route53-controller v1.5.2) that the operator writes and
// reads. The envtest suites check every object against the upstream CRD.
//
// +kubebuilder:object:generate=true
// +groupName=route53.services.k8s.aws
package route53

import (
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	GroupVersion  = schema.GroupVersion{Group: "route53.services.k8s.aws", Version: "v1alpha1"}
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}
	AddToScheme   = SchemeBuilder.AddToScheme
)

// AliasTarget points a record at an AWS resource, such as a load balancer.
type AliasTarget struct {
	DNSName              *string `json:"dnsName,omitempty"`
	EvaluateTargetHealth *bool   `json:"evaluateTargetHealth,omitempty"`
	HostedZoneID         *string `json:"hostedZoneID,omitempty"`
}

// RecordSetSpec is the part of the upstream spec the operator sets. Name is relative to the
// hosted zone: the controller appends the zone's domain.
type RecordSetSpec struct {
	AliasTarget  *AliasTarget `json:"aliasTarget,omitempty"`
	HostedZoneID *string      `json:"hostedZoneID,omitempty"`
	Name         *string      `json:"name,omitempty"`
	RecordType   *string      `json:"recordType"`
}

// RecordSetStatus is the part of the upstream status the operator reads.
type RecordSetStatus struct {
	Conditions []*ackv1alpha1.Condition `json:"conditions,omitempty"`
	// Status is PENDING until Route53 has propagated the change, then INSYNC.
	Status *string `json:"status,omitempty"`
}

// RecordSet is a Route53 record managed by the ACK Route53 controller.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
type RecordSet struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              RecordSetSpec   `json:"spec,omitempty"`
	Status            RecordSetStatus `json:"status,omitempty"`
}

// RecordSetList is a list of RecordSets.
//
// +kubebuilder:object:root=true
type RecordSetList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []RecordSet `json:"items"`
}

func init() {
	SchemeBuilder.Register(&RecordSet{}, &RecordSetList{})
}
