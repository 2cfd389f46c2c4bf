package builders

import (
	"fmt"
	"testing"
)

func TestIngress(t *testing.T) {
	cell := testCell()
	cell.Spec.Ingress.CertificateARN = "arn:aws:acm:eu-west-1:123456789012:certificate/abc"
	ing := Ingress(cell, "cell-eu1", CellLabels(cell, AppName), []string{"acme.website.com", "globex.website.com"})
	var hosts []string
	for _, r := range ing.Spec.Rules {
		hosts = append(hosts, r.Host+" "+r.HTTP.Paths[0].Path+" "+r.HTTP.Paths[0].Backend.Service.Name)
	}
	cases := []struct {
		what      string
		got, want any
	}{
		{"class", *ing.Spec.IngressClassName, "alb"},
		{"rules", hosts, []string{"acme.website.com / app", "globex.website.com / app"}},
		{"TLS hosts", ing.Spec.TLS[0].Hosts, []string{"acme.website.com", "globex.website.com"}},
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
