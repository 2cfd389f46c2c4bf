package controllers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

func ingressHosts(t testing.TB, ns string) []string {
	t.Helper()
	ing := &networkingv1.Ingress{}
	if err := get(t, ing, ns, b.AppName); apierrors.IsNotFound(err) {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	var hosts []string
	for _, r := range ing.Spec.Rules {
		hosts = append(hosts, r.Host)
	}
	return hosts
}

func TestCellBuildsTheSharedTierAndRoutesItsPooledTenants(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "apne1", "ap-northeast-1")
	got := cellHas(t, "apne1", saasv1.ConditionReady, metav1.ConditionTrue, "Ready")
	// AvailableReplicas is what the played Deployment reports: its one (defaulted) replica.
	if got.Status.CacheEndpoint == "" || got.Status.AppVersion != "1.0.0" || got.Status.AvailableReplicas != 1 || got.Status.Namespace != "cell-apne1" {
		t.Errorf("cell status: %+v", got.Status)
	}
	// The app may read the tenant configuration Secrets of its namespace and nothing else.
	role := &rbacv1.Role{}
	must(t, get(t, role, "cell-apne1", b.ConfigReaderRoleName))
	if len(role.Rules) != 1 || role.Rules[0].Resources[0] != "secrets" || strings.Join(role.Rules[0].Verbs, ",") != "get,list,watch" {
		t.Errorf("role: %+v", role.Rules)
	}
	ns := &corev1.Namespace{}
	must(t, get(t, ns, "", "cell-apne1"))
	if ns.Labels["pod-security.kubernetes.io/enforce"] != "restricted" {
		t.Errorf("namespace labels %v", ns.Labels)
	}

	one, two := newTenant("one", "ap-northeast-1"), newTenant("two", "ap-northeast-1")
	create(t, one, two)
	// One wildcard rule, whatever the number of tenants: the shared app serves the hosts whose
	// configuration is in its namespace, each written once the tenant is migrated.
	if h := ingressHosts(t, "cell-apne1"); fmt.Sprint(h) != "[*.website.com]" {
		t.Errorf("hosts before any tenant: %v", h)
	}
	onboard(t, cell, one)
	onboard(t, cell, two)
	if h := ingressHosts(t, "cell-apne1"); fmt.Sprint(h) != "[*.website.com]" {
		t.Errorf("hosts with two tenants: %v", h)
	}
	for _, name := range []string{"one", "two"} {
		cfg := &corev1.Secret{}
		must(t, get(t, cfg, "cell-apne1", "tenant-"+name))
		if string(cfg.Data[saasv1.ConfigHosts]) != name+".website.com" {
			t.Errorf("%s's configuration in the cell serves %q", name, cfg.Data[saasv1.ConfigHosts])
		}
	}

	// Steady state: once the cell counted both tenants Ready, a reconcile of the unchanged cell
	// writes nothing.
	cellCounts(t, "apne1", map[string]int32{saasv1.PhaseReady: 2})
	for _, w := range writesOnPoke(t, cell, "regioncell", "apne1", "tenant-one", "tenant-two") {
		t.Errorf("steady-state write: %s", w)
	}

	// Drift on the shared app is put back.
	dep := &appsv1.Deployment{}
	must(t, get(t, dep, "cell-apne1", b.AppName))
	origD := dep.DeepCopy()
	dep.Spec.Template.Spec.Containers[0].Image = "attacker.example/app:evil"
	must(t, k8s.Patch(ctx, dep, client.MergeFrom(origD)))
	eventually(t, "image restored", func() error {
		must(t, get(t, dep, "cell-apne1", b.AppName))
		if img := dep.Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/tenantops/app:1.0.0" {
			return fmt.Errorf("image %s", img)
		}
		return nil
	})

	// Removing a tenant removes its configuration from the shared app's namespace.
	must(t, k8s.Delete(ctx, two))
	eventually(t, "removed tenant no longer served", func() error {
		if err := get(t, &corev1.Secret{}, "cell-apne1", "tenant-two"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("configuration still there: %v", err)
		}
		return nil
	})
}

func TestCellDeletionIsHeldWhileItServesTenants(t *testing.T) {
	ctx := context.Background()
	cell := newCell("apse1", "ap-southeast-1")
	create(t, cell)
	tenant := newTenant("anchor", "ap-southeast-1")
	create(t, tenant)
	tenantHas(t, "anchor", saasv1.ConditionDatabaseReady, metav1.ConditionFalse, "WaitingForACK")
	playDBAvailable(t, tenant)

	must(t, k8s.Delete(ctx, cell))
	held := cellHas(t, "apse1", saasv1.ConditionReady, metav1.ConditionFalse, "TenantsRemain")
	if !strings.Contains(condition(held.Status.Conditions, saasv1.ConditionReady).Message, "anchor") || held.Status.Phase != saasv1.PhaseDeleting {
		t.Errorf("held cell: %+v", held.Status)
	}
	stays(t, "cell kept while it serves a tenant", time.Second, func() error {
		return get(t, &saasv1.RegionCell{}, "", "apse1")
	})

	must(t, k8s.Delete(ctx, tenant))
	eventually(t, "cell gone once its tenants are", func() error {
		if err := get(t, &saasv1.RegionCell{}, "", "apse1"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there: %v", err)
		}
		return nil
	})
}

// Every route the operator gives the load balancer ends at the app's tenant port: followed
// through the stored Ingress, Service and Deployment, no backend reaches the ops port (metrics
// of every tenant) for a pooled or a dedicated tenant.
func TestTheEdgeReachesOnlyTheTenantPort(t *testing.T) {
	cell := servingCell(t, "edge1", "mx-central-1")
	pooled := newTenant("edgy", cell.Spec.Region)
	dedicated := newTenant("edgier", cell.Spec.Region, func(tn *saasv1.Tenant) { tn.Spec.Tier = saasv1.TierDedicated })
	create(t, pooled, dedicated)
	onboard(t, cell, pooled)
	onboard(t, cell, dedicated)
	for _, ns := range []string{b.CellNamespace(cell), "tenant-edgier"} {
		ing, svc, dep := &networkingv1.Ingress{}, &corev1.Service{}, &appsv1.Deployment{}
		must(t, get(t, ing, ns, b.AppName))
		must(t, get(t, svc, ns, b.AppName))
		must(t, get(t, dep, ns, b.AppName))
		containerPorts := map[string]int32{}
		for _, p := range dep.Spec.Template.Spec.Containers[0].Ports {
			containerPorts[p.Name] = p.ContainerPort
		}
		for _, rule := range ing.Spec.Rules {
			for _, path := range rule.HTTP.Paths {
				reached := int32(-1)
				for _, sp := range svc.Spec.Ports {
					if sp.Name == path.Backend.Service.Port.Name || sp.Port == path.Backend.Service.Port.Number {
						reached = containerPorts[sp.TargetPort.String()]
					}
				}
				if reached != b.AppPort {
					t.Errorf("%s: %s%s reaches container port %d, want only the tenant port %d", ns, rule.Host, path.Path, reached, b.AppPort)
				}
			}
		}
		if containerPorts["ops"] != b.AppOpsPort || dep.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Port.String() != "ops" {
			t.Errorf("%s: the ops port %v, readiness on %s", ns, containerPorts, dep.Spec.Template.Spec.Containers[0].ReadinessProbe.HTTPGet.Port.String())
		}
	}
}
