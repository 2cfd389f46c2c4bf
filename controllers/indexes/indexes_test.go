package indexes

import (
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// What each index holds for a tenant decides which reconciles read it: a value missing means a
// cell or a waiting tenant that is never woken.
func TestTenantValues(t *testing.T) {
	tenant := func(mutate func(*saasv1.Tenant)) *saasv1.Tenant {
		tn := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{Region: "eu-west-1", Subdomain: "acme"}}
		mutate(tn)
		return tn
	}
	waiting := tenant(func(*saasv1.Tenant) {})
	moving := tenant(func(tn *saasv1.Tenant) {
		tn.Spec.Cell, tn.Status.Cell = "b", "b"
		tn.Status.Move = &saasv1.TenantMove{From: "a"}
		tn.Status.EffectiveDatabase = &saasv1.EffectiveDatabase{Cell: "a"}
	})
	pinnedElsewhere := tenant(func(tn *saasv1.Tenant) { tn.Spec.Cell, tn.Status.Cell = "b", "a" })
	cases := []struct {
		name   string
		index  string
		tenant *saasv1.Tenant
		want   []string
	}{
		{"region", TenantRegion, waiting, []string{"eu-west-1"}},
		{"subdomain, within its region", TenantSubdomain, waiting, []string{"eu-west-1/acme"}},
		{"a tenant not placed waits in its region", TenantWaiting, waiting, []string{"eu-west-1"}},
		{"a tenant whose spec.cell names another cell waits for it", TenantWaiting, pinnedElsewhere, []string{"eu-west-1"}},
		{"a moving tenant does not wait", TenantWaiting, moving, nil},
		{"a moving tenant is in both cells", TenantCell, moving, []string{"b", "a"}},
		{"its database's cell is its home", TenantHome, moving, []string{"a"}},
		{"no database yet: no home", TenantHome, waiting, nil},
	}
	for _, c := range cases {
		if got := TenantValues[c.index](c.tenant); !slices.Equal(got, c.want) {
			t.Errorf("%s: %s holds %v, want %v", c.name, c.index, got, c.want)
		}
	}
}
