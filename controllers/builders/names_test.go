package builders

import (
	"strconv"
	"strings"
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestNames(t *testing.T) {
	cell := testCell()
	long := testTenant(strings.Repeat("a", 56))
	cases := []struct{ name, got, want string }{
		{"namespace", TenantNamespace(testTenant("acme")), "tenant-acme"},
		{"host", Host(testTenant("acme"), cell), "acme.website.com"},
		{"rds id", DBInstanceIdentifier(testTenant("acme"), cell), "tenant-eu1-acme"},
		{"long rds id is cut to 63", DBInstanceIdentifier(long, cell), ("tenant-eu1-" + strings.Repeat("a", 56))[:63]},
		{"final snapshot", FinalSnapshotIdentifier(DBInstanceIdentifier(testTenant("acme"), cell), "20261125"), "tenant-eu1-acme-final-20261125"},
		{"long final snapshot fits 63", strconv.Itoa(len(FinalSnapshotIdentifier(DBInstanceIdentifier(long, cell), "20261125"))), "63"},
		{"a tenant's objects name the cell it is served by first", HomeCell(testTenant("acme"), cell), "eu1"},
		{"then the cell its database was made in", HomeCell(testTenant("acme", func(t *saasv1.Tenant) {
			t.Status.EffectiveDatabase = &saasv1.EffectiveDatabase{Cell: "eu0"}
		}), cell), "eu0"},
		{"migration job", MigrationJobName("v1.4.2-rc.1"), "migrate-v1-4-2-rc-1"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
