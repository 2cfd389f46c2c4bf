package builders

import (
	"fmt"
	"testing"
)

func TestIngress(t *testing.T) {
	cell := testCell()
	cell.Spec.Ingress.CertificateARN = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
	ing := CellIngress(cell, CellLabels(cell, AppName))
	own := DedicatedIngress(testTenant("initech"), cell, AppName, nil)
	draining := DedicatedIngress(testTenant("initech"), cell, DrainingIngressName, nil)
	var hosts []string
	for _, r := range ing.Spec.Rules {
		hosts = append(hosts, r.Host+" "+r.HTTP.Paths[0].Path+" "+r.HTTP.Paths[0].Backend.Service.Name)
	}
	cases := []struct {
		what      string
		got, want any
	}{
		{"class", *ing.Spec.IngressClassName, "alb"},
		{"one wildcard rule, whatever the tenants", hosts, []string{"*.website.com / app"}},
		{"one wildcard certificate", ing.Spec.TLS[0].Hosts, []string{"*.website.com"}},
		{"a dedicated tenant's own rule", fmt.Sprint(own.Namespace, " ", own.Spec.Rules[0].Host), "tenant-initech initech.website.com"},
		{"dedicated rules before the wildcard", own.Annotations["alb.ingress.kubernetes.io/group.order"] + " < " +
			ing.Annotations["alb.ingress.kubernetes.io/group.order"], "10 < 1000"},
		{"a move keeps the host on the cell left under another name", fmt.Sprint(draining.Name, " ", draining.Spec.Rules[0].Host, " ",
			draining.Annotations["alb.ingress.kubernetes.io/group.name"]), "app-draining initech.website.com cell-eu1"},
		{"one load balancer per cell", ing.Annotations["alb.ingress.kubernetes.io/group.name"], "cell-eu1"},
		{"80 and 443 only, 80 redirected", ing.Annotations["alb.ingress.kubernetes.io/listen-ports"] + " " + ing.Annotations["alb.ingress.kubernetes.io/ssl-redirect"],
			`[{"HTTP": 80}, {"HTTPS": 443}] 443`},
		{"certificate", ing.Annotations["alb.ingress.kubernetes.io/certificate-arn"], cell.Spec.Ingress.CertificateARN},
	}
	for _, c := range cases {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}
