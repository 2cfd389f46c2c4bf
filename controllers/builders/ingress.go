package builders

import (
	"strconv"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Where a rule stands in the cell's load balancer (the IngressGroup's order, lower first): a
// dedicated tenant's own host before the wildcard that sends every other host to the shared app.
const (
	ingressOrderDedicated = 10
	ingressOrderCell      = 1000
)

// CellIngress sends every host of the cell's base domain to the shared app, with one rule and
// one (wildcard) certificate whatever the number of tenants: the app decides which hosts it
// serves, from the tenant configurations it is given (a new tenant's only once it is migrated).
func CellIngress(c *saasv1.RegionCell, labels map[string]string) *networkingv1.Ingress {
	return ingress(c, CellNamespace(c), labels, []string{WildcardHost(c)}, ingressOrderCell)
}

// DrainingIngressName is the Ingress that keeps a dedicated tenant's host on the load balancer of
// the cell it moves out of, until the move's drain ends.
const DrainingIngressName = "app-draining"

// DedicatedIngress sends a dedicated tenant's host to its own app through cell c's load balancer,
// ahead of the cell's wildcard. name is AppName, or DrainingIngressName for the cell a move leaves.
func DedicatedIngress(t *saasv1.Tenant, c *saasv1.RegionCell, name string, labels map[string]string) *networkingv1.Ingress {
	ing := ingress(c, TenantNamespace(t), labels, []string{Host(t, c)}, ingressOrderDedicated)
	ing.Name = name
	return ing
}

// ingress routes hosts to the app Service of namespace through the cell's load balancer. The
// AWS Load Balancer Controller's group annotation puts the cell's and its dedicated tenants'
// Ingresses behind one ALB; layer 1 listens on 80 and 443 only and redirects 80 to 443.
func ingress(c *saasv1.RegionCell, namespace string, labels map[string]string, hosts []string, order int) *networkingv1.Ingress {
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
		"alb.ingress.kubernetes.io/group.order":  strconv.Itoa(order),
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
