package builders

import (
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestTenantConfigHasNoSurprises(t *testing.T) {
	cell := testCell()
	cell.Spec.Email = &saasv1.EmailSettings{Sender: "no-reply@website.com"}
	s := TenantConfig(testTenant("acme"), cell, "cell-eu1", "tenant-acme",
		Endpoints{DBAddress: "db.example", DBPort: 3306, CacheAddress: "cache.example", CachePort: 6379}, "s3cret")
	want := map[string]string{
		saasv1.ConfigTenantID: "acme", saasv1.ConfigHosts: "acme.website.com", saasv1.ConfigDBHost: "db.example", saasv1.ConfigDBPort: "3306",
		saasv1.ConfigDBUser: DBMasterUsername, saasv1.ConfigDBPassword: "s3cret", saasv1.ConfigCacheAddress: "cache.example:6379",
		saasv1.ConfigCacheKeyPrefix: "t:acme:", saasv1.ConfigMailSender: "no-reply@website.com", saasv1.ConfigSuspended: "false",
	}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("%s = %q, want %q", k, s.Data[k], v)
		}
	}
	if s.Labels[saasv1.LabelTenantConfig] != "true" || s.Namespace != "cell-eu1" {
		t.Errorf("labels %v namespace %s", s.Labels, s.Namespace)
	}
}
