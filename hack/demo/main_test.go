package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/test/inprocess"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// The demo's operator, run as the chart's ServiceAccount under the chart's RBAC, gets each
// sample tenant past its namespace: its master password Secret and its DBInstance exist. (The
// demo once ran it without the identity the chart's Deployment gives it, so it could write no
// Secret and every tenant stopped at its first step: make demo showed nothing but namespaces.)
func TestTheDemoOperatorMakesEachTenantsDatabase(t *testing.T) {
	env, err := testenv.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = env.Stop() }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, identity, err := installChart(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	stopped, err := inprocess.StartOperator(ctx, cfg, demoOptions(identity), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-stopped }()
	c, err := client.New(env.Config, client.Options{Scheme: controllers.NewScheme()})
	if err != nil {
		t.Fatal(err)
	}
	if err := applySamples(ctx, c, false); err != nil {
		t.Fatal(err)
	}
	var tenants saasv1.TenantList
	if err := c.List(ctx, &tenants); err != nil || len(tenants.Items) == 0 {
		t.Fatalf("samples applied no Tenant: %v", err)
	}
	for _, tn := range tenants.Items {
		ns := b.TenantNamespace(&tn)
		var last error
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if last = c.Get(ctx, client.ObjectKey{Namespace: ns, Name: b.DBPasswordSecretName}, &corev1.Secret{}); last != nil {
				continue
			}
			if last = c.Get(ctx, client.ObjectKey{Namespace: ns, Name: b.DBInstanceName}, &rds.DBInstance{}); last == nil {
				break
			}
		}
		if last != nil {
			got := &saasv1.Tenant{}
			_ = c.Get(ctx, client.ObjectKeyFromObject(&tn), got)
			t.Errorf("tenant %s: %v; its conditions: %s", tn.Name, last, fmt.Sprint(got.Status.Conditions))
		}
	}
}
