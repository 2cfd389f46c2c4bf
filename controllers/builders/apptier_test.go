package builders

import (
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// hpaScales reproduces the HPA controller's decision (pkg/controller/podautoscaler,
// Tolerances.isWithin): no change while 1-down <= usage/target <= 1+up.
func hpaScales(usage, target int32, up, down float64) string {
	ratio := float64(usage) / float64(target)
	switch {
	case ratio > 1+up:
		return "out"
	case ratio < 1-down:
		return "in"
	}
	return "hold"
}

func TestHPAScalesOutAboveOutAndInBelowIn(t *testing.T) {
	cases := []struct {
		out, in int32
		usage   int32
		want    string
	}{
		{80, 10, 100, "out"}, {80, 10, 81, "out"}, {80, 10, 80, "hold"}, {80, 10, 50, "hold"},
		{80, 10, 11, "hold"}, {80, 10, 10, "hold"}, {80, 10, 9, "in"}, {80, 10, 0, "in"},
		{70, 30, 71, "out"}, {70, 30, 30, "hold"}, {70, 30, 29, "in"},
		{60, 20, 20, "hold"}, {60, 20, 19, "in"},
		{90, 33, 33, "hold"}, {90, 33, 32, "in"},
	}
	for _, c := range cases {
		c := c
		cell := testCell()
		cell.Spec.Autoscaling.ScaleOutAtPercent, cell.Spec.Autoscaling.ScaleInAtPercent = c.out, ptr(c.in)
		hpa := AppHPA(CellAppTier(cell, "1.2.0"))
		target := *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization
		up := hpa.Spec.Behavior.ScaleUp.Tolerance.AsApproximateFloat64()
		down := hpa.Spec.Behavior.ScaleDown.Tolerance.AsApproximateFloat64()
		if got := hpaScales(c.usage, target, up, down); got != c.want {
			t.Errorf("out=%d in=%d usage=%d%%: HPA would %s, want %s (target %d, up %.3f, down %.3f)",
				c.out, c.in, c.usage, got, c.want, target, up, down)
		}
	}
}

func TestAppTierBuilders(t *testing.T) {
	cell := testCell()
	dedicated := testTenant("initech", func(t *saasv1.Tenant) {
		t.Spec.Tier = saasv1.TierDedicated
		t.Spec.Scaling = &saasv1.TenantScaling{MinReplicas: ptr(int32(3)), MaxReplicas: ptr(int32(30)), ScaleOutAtPercent: ptr(int32(70))}
	})
	suspended := testTenant("hooli", func(t *saasv1.Tenant) { t.Spec.Tier = saasv1.TierDedicated; t.Spec.Suspended = true })
	cases := []struct {
		name              string
		tier              AppTier
		ns, image         string
		min, max, out     int32
		replicas          *int32
		selectorHasTenant bool
	}{
		{"cell", CellAppTier(cell, "1.2.0"), "cell-eu1", "ghcr.io/tenantops/app:1.2.0", 2, 20, 80, nil, false},
		{"dedicated", DedicatedAppTier(dedicated, cell, "1.1.0"), "tenant-initech", "ghcr.io/tenantops/app:1.1.0", 3, 30, 70, nil, true},
		{"suspended", DedicatedAppTier(suspended, cell, "1.2.0"), "tenant-hooli", "ghcr.io/tenantops/app:1.2.0", 2, 20, 80, ptr(int32(0)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, h, s, p := AppDeployment(c.tier), AppHPA(c.tier), AppService(c.tier), AppPDB(c.tier)
			if d.Namespace != c.ns || s.Namespace != c.ns || h.Namespace != c.ns || p.Namespace != c.ns {
				t.Errorf("namespaces %s/%s/%s/%s, want %s", d.Namespace, s.Namespace, h.Namespace, p.Namespace, c.ns)
			}
			ctr := d.Spec.Template.Spec.Containers[0]
			if ctr.Image != c.image {
				t.Errorf("image %s, want %s", ctr.Image, c.image)
			}
			if *h.Spec.MinReplicas != c.min || h.Spec.MaxReplicas != c.max || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != c.out {
				t.Errorf("hpa min=%d max=%d target=%d, want %d %d %d", *h.Spec.MinReplicas, h.Spec.MaxReplicas,
					*h.Spec.Metrics[0].Resource.Target.AverageUtilization, c.min, c.max, c.out)
			}
			if (d.Spec.Replicas == nil) != (c.replicas == nil) || (c.replicas != nil && *d.Spec.Replicas != *c.replicas) {
				t.Errorf("replicas %v, want %v", d.Spec.Replicas, c.replicas)
			}
			if _, ok := d.Spec.Selector.MatchLabels[saasv1.LabelTenant]; ok != c.selectorHasTenant {
				t.Errorf("selector %v: tenant label present=%v, want %v", d.Spec.Selector.MatchLabels, ok, c.selectorHasTenant)
			}
			for k, v := range d.Spec.Selector.MatchLabels {
				if d.Spec.Template.Labels[k] != v || s.Spec.Selector[k] != v || p.Spec.Selector.MatchLabels[k] != v {
					t.Errorf("selector %s=%s does not match pod template, service and PDB", k, v)
				}
			}
			sc := ctr.SecurityContext
			if !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !*sc.RunAsNonRoot || sc.Capabilities.Drop[0] != "ALL" ||
				sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("container security context is not restricted: %+v", sc)
			}
			if ctr.ReadinessProbe.HTTPGet.Path != "/readyz" || ctr.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("probes %s %s", ctr.ReadinessProbe.HTTPGet.Path, ctr.LivenessProbe.HTTPGet.Path)
			}
			if len(d.Spec.Template.Spec.TopologySpreadConstraints) != 1 ||
				d.Spec.Template.Spec.TopologySpreadConstraints[0].TopologyKey != corev1.LabelTopologyZone {
				t.Errorf("pods are not spread over zones")
			}
		})
	}
}

// Customers reach the tenant port only; the kubelet, Prometheus and the load balancer's health
// checks use the ops port, which no Ingress rule targets.
func TestOpsPortIsNeverRouted(t *testing.T) {
	cell := testCell()
	tier := CellAppTier(cell, "1.2.0")
	dep := AppDeployment(tier)
	c := dep.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	svcPorts := map[string]string{}
	for _, p := range AppService(tier).Spec.Ports {
		svcPorts[p.Name] = fmt.Sprintf("%d->%s", p.Port, p.TargetPort.String())
	}
	ing := CellIngress(cell, CellLabels(cell, AppName))
	var backends []string
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			backends = append(backends, p.Backend.Service.Port.Name)
		}
	}
	np := NetworkPolicy("cell-eu1", nil, []string{"10.0.0.0/16"})
	checks := []struct {
		what      string
		got, want any
	}{
		{"container ports", ports, map[string]int32{"http": 8080, "ops": 9090}},
		{"args", strings.Join(c.Args[:3], " "), "serve --listen=:8080 --ops-listen=:9090"},
		{"readiness probe port", c.ReadinessProbe.HTTPGet.Port.String(), "ops"},
		{"liveness probe port", c.LivenessProbe.HTTPGet.Port.String(), "ops"},
		{"service ports", svcPorts, map[string]string{"http": "80->http", "ops": "9090->ops"}},
		{"ingress backends", backends, []string{"http"}},
		{"ALB health check", ing.Annotations["alb.ingress.kubernetes.io/healthcheck-port"] + " " + ing.Annotations["alb.ingress.kubernetes.io/healthcheck-path"], "9090 /healthz"},
		{"tenant port only from the load balancer", fmt.Sprint(np.Spec.Ingress[0].Ports[0].Port.IntValue(), " ", np.Spec.Ingress[0].From[0].IPBlock.CIDR), "8080 10.0.0.0/16"},
		{"ops port for health checks and Prometheus", np.Spec.Ingress[1].Ports[0].Port.IntValue(), 9090},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
}
