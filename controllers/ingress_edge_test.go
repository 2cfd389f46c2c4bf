package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/report"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// An ALB takes 100 listener rules and 25 certificates by default. A cell's edge must not grow
// with its pooled tenants: 300 of them (three times the rules quota) and a few dedicated ones go
// Ready, and the cell's load balancer group needs one rule and one certificate for the pooled
// tenants, one more rule per dedicated tenant, every host covered by the one wildcard name. The
// app decides which hosts it serves: the shared app's namespace holds every pooled tenant's
// configuration.
func TestACellOf300TenantsNeedsOneRuleAndOneCertificate(t *testing.T) {
	const pooled, dedicated = 300, 3
	const region, prefix = "ap-northeast-3", "edge"
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	cell := newCell(prefix+"-cell", region)
	create(t, cell)
	// Outside systems played only for this test's namespaces, event-driven, as make scale does.
	ours := func(ns string) bool { return ns == b.CellNamespace(cell) || strings.HasPrefix(ns, "tenant-"+prefix) }
	_, err := testenv.StartPlayer(ctx, restConfig, testenv.PlayerOptions{InNamespace: ours})
	must(t, err)

	var hosts, pooledNames []string
	for i := range pooled + dedicated {
		tn := newTenant(fmt.Sprintf("%s%03d", prefix, i), region)
		if i >= pooled {
			tn.Spec.Tier = saasv1.TierDedicated
		} else {
			pooledNames = append(pooledNames, tn.Name)
		}
		create(t, tn)
		hosts = append(hosts, tn.Spec.Subdomain+"."+cell.Spec.BaseDomain)
	}
	eventuallyWithin(t, 10*time.Minute, fmt.Sprintf("all %d tenants Ready", pooled+dedicated), func() error {
		var list saasv1.TenantList
		must(t, k8s.List(ctx, &list))
		ready := 0
		for _, tn := range list.Items {
			if strings.HasPrefix(tn.Name, prefix) && meta.IsStatusConditionTrue(tn.Status.Conditions, saasv1.ConditionReady) {
				ready++
			}
		}
		if ready < pooled+dedicated {
			return fmt.Errorf("%d Ready", ready)
		}
		return nil
	})

	var all networkingv1.IngressList
	must(t, k8s.List(ctx, &all))
	var group []networkingv1.Ingress
	for _, ing := range all.Items {
		if ing.Annotations["alb.ingress.kubernetes.io/group.name"] == b.CellNamespace(cell) {
			group = append(group, ing)
		}
	}
	rules, tlsHosts := 0, map[string]bool{}
	for _, ing := range group {
		rules += len(ing.Spec.Rules)
		for _, tls := range ing.Spec.TLS {
			for _, h := range tls.Hosts {
				tlsHosts[h] = true
			}
		}
	}
	if rules != 1+dedicated || len(group) != 1+dedicated {
		t.Errorf("the cell's load balancer has %d rules in %d Ingresses for %d pooled and %d dedicated tenants; want %d in %d",
			rules, len(group), pooled, dedicated, 1+dedicated, 1+dedicated)
	}
	wildcard := "*." + cell.Spec.BaseDomain
	if !tlsHosts[wildcard] {
		t.Errorf("no wildcard certificate name %s among %v", wildcard, tlsHosts)
	}
	for h := range tlsHosts {
		if h != wildcard && !coveredByWildcard(h, cell.Spec.BaseDomain) {
			t.Errorf("TLS host %s needs a certificate of its own", h)
		}
	}
	for _, h := range hosts {
		routed := false
		for i := range group {
			routed = routed || report.IngressRoutes(&group[i], h)
		}
		if !routed {
			t.Errorf("%s is not routed by the cell's load balancer", h)
		}
	}

	// The second split: the shared app is given every pooled tenant's configuration.
	var secrets corev1.SecretList
	must(t, k8s.List(ctx, &secrets, client.InNamespace(b.CellNamespace(cell))))
	configs := map[string]bool{}
	for _, s := range secrets.Items {
		configs[s.Name] = true
	}
	for _, name := range pooledNames {
		if !configs[b.ConfigSecretName(&saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}})] {
			t.Errorf("the shared app is not given %s's configuration", name)
		}
	}
}

// coveredByWildcard says whether *.baseDomain's certificate serves host (one label more).
func coveredByWildcard(host, baseDomain string) bool {
	label, rest, ok := strings.Cut(host, ".")
	return ok && label != "" && rest == baseDomain
}
