package builders

import (
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestEffectiveAppVersion(t *testing.T) {
	cell := testCell() // spec.app.version 1.2.0
	pinned := func(strategy string) *saasv1.Tenant {
		return testTenant("a", func(t *saasv1.Tenant) { t.Spec.App = &saasv1.TenantApp{Version: "1.0.0", UpgradeStrategy: strategy} })
	}
	cases := []struct {
		name   string
		tenant *saasv1.Tenant
		want   string
	}{
		{"no app settings follow the cell", testTenant("a"), "1.2.0"},
		{"Auto follows the cell, whatever it pins", pinned(saasv1.UpgradeAuto), "1.2.0"},
		{"Manual keeps its pin", pinned(saasv1.UpgradeManual), "1.0.0"},
	}
	for _, c := range cases {
		if got := EffectiveAppVersion(c.tenant, cell); got != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got, c.want)
		}
	}
	if got, want := Image(cell, "1.0.0"), "ghcr.io/tenantops/app:1.0.0"; got != want {
		t.Errorf("image: got %s, want %s", got, want)
	}
}
