package controllers

import (
	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudfront"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
)

// NewScheme knows every kind the operator reads or writes.
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(saasv1.AddToScheme(s))
	utilruntime.Must(rds.AddToScheme(s))
	utilruntime.Must(route53.AddToScheme(s))
	utilruntime.Must(ecv1.AddToScheme(s))
	utilruntime.Must(sns.AddToScheme(s))
	utilruntime.Must(cloudwatch.AddToScheme(s))
	utilruntime.Must(s3.AddToScheme(s))
	utilruntime.Must(cloudfront.AddToScheme(s))
	return s
}
