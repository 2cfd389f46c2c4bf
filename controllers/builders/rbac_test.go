package builders

import (
	"fmt"
	"testing"
)

// The app reads only Secrets of its own namespace: the Role grants read verbs on secrets, and
// nothing else.
func TestConfigReaderReadsSecretsOnly(t *testing.T) {
	role := ConfigReaderRole("cell-eu1", nil)
	binding := ConfigReaderRoleBinding("cell-eu1", nil)
	sa := AppServiceAccount("cell-eu1", nil)
	cases := []struct {
		what      string
		got, want any
	}{
		{"rules", len(role.Rules), 1},
		{"resources", role.Rules[0].Resources, []string{"secrets"}},
		{"verbs", role.Rules[0].Verbs, []string{"get", "list", "watch"}},
		{"binding", fmt.Sprint(binding.RoleRef.Name, " ", binding.Subjects[0].Name, " ", binding.Subjects[0].Namespace), role.Name + " " + sa.Name + " cell-eu1"},
		{"service account", sa.Name, ServiceAccountName},
	}
	for _, c := range cases {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}
