// Package v1alpha1 holds the saas.tenantops.io/v1alpha1 API: Tenant, one customer of the SaaS,
// and RegionCell, one AWS region's copy of the architecture that serves Tenants of that region.
//
// +kubebuilder:object:generate=true
// +groupName=saas.tenantops.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of this API.
	GroupVersion = schema.GroupVersion{Group: "saas.tenantops.io", Version: "v1alpha1"}

	// SchemeBuilder registers the kinds of this API with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the kinds of this API to a runtime.Scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
