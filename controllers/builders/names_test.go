package builders

import (
	"strconv"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	cell := testCell()
	long := testTenant(strings.Repeat("a", 56))
	cases := []struct{ name, got, want string }{
		{"namespace", TenantNamespace(testTenant("acme")), "tenant-acme"},
		{"host", Host(testTenant("acme"), cell), "acme.website.com"},
		{"rds id", DBInstanceIdentifier(testTenant("acme"), cell), "tenant-eu1-acme"},
		{"long rds id is cut to 63", DBInstanceIdentifier(long, cell), ("tenant-eu1-" + strings.Repeat("a", 56))[:63]},
		{"final snapshot", FinalSnapshotIdentifier(testTenant("acme"), cell, "20261125"), "tenant-eu1-acme-final-20261125"},
		{"long final snapshot fits 63", strconv.Itoa(len(FinalSnapshotIdentifier(long, cell, "20261125"))), "63"},
		{"migration job", MigrationJobName("v1.4.2-rc.1"), "migrate-v1-4-2-rc-1"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
}
