package builders

import (
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Ingress routes the given hosts to the app Service through the cell's load balancer. The
// AWS Load Balancer Controller's group annotation puts the cell's and its dedicated tenants'
// Ingresses behind one ALB; layer 1 listens on 80 and 443 only and redirects 80 to 443.
func Ingress(c *saasv1.RegionCell, namespace string, labels map[string]string, hosts []string) *networkingv1.Ingress {
	pathType := networkingv1.PathTypePrefix
	rules := make([]networkingv1.IngressRule, 0, len(hosts))
	for _, h := range hosts {
		rules = append(rules, networkingv1.IngressRule{Host: h, IngressRuleValue: networkingv1.IngressRuleValue{
			HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
				Path: "/", PathType: &pathType,
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: AppName, Port: networkingv1.ServiceBackendPort{Name: TenantPortName}}},
			}}},
		}})
	}
	ann := map[string]string{
		"alb.ingress.kubernetes.io/group.name":   CellNamespace(c),
		"alb.ingress.kubernetes.io/scheme":       "internet-facing",
		"alb.ingress.kubernetes.io/target-type":  "ip",
		"alb.ingress.kubernetes.io/listen-ports": `[{"HTTP": 80}, {"HTTPS": 443}]`,
		"alb.ingress.kubernetes.io/ssl-redirect": "443",
		// The ALB checks each pod (IP targets) on the ops port, which it never routes to.
		"alb.ingress.kubernetes.io/healthcheck-path": "/healthz",
		"alb.ingress.kubernetes.io/healthcheck-port": strconv.Itoa(AppOpsPort),
	}
	if c.Spec.Ingress.CertificateARN != "" {
		ann["alb.ingress.kubernetes.io/certificate-arn"] = c.Spec.Ingress.CertificateARN
	}
	var tls []networkingv1.IngressTLS
	if len(hosts) > 0 {
		tls = []networkingv1.IngressTLS{{Hosts: hosts}}
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: AppName, Namespace: namespace, Labels: labels, Annotations: ann},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr(c.Spec.Ingress.ClassName),
			Rules:            rules,
			TLS:              tls,
		},
	}
}
