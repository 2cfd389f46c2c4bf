package builders

import (
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// BenchmarkTenantChildren builds every child of a dedicated tenant (the most there are).
func BenchmarkTenantChildren(b *testing.B) {
	cell := testCell()
	t := testTenant("bench", func(t *saasv1.Tenant) { t.Spec.Tier = saasv1.TierDedicated })
	ep := Endpoints{DBAddress: "db", DBPort: 3306, CacheAddress: "cache", CachePort: 6379}
	b.ReportAllocs()
	for b.Loop() {
		_ = Namespace(TenantNamespace(t), TenantLabels(t, cell, ""))
		_ = ResourceQuota(t, cell)
		_ = LimitRange(t, cell)
		_ = NetworkPolicy(TenantNamespace(t), TenantLabels(t, cell, ""), nil)
		_ = DBPasswordSecret(t, cell, "pw")
		eff, _ := ResolveDatabase(t, cell, nil, false)
		_ = DBInstance(t, cell, eff, "")
		_ = ReplicationGroup(DedicatedCache(t, cell, nil))
		_ = TenantConfig(t, cell, TenantNamespace(t), TenantConfigName, ep, "pw")
		_ = MigrationJob(t, cell, "1.2.0")
		tier := DedicatedAppTier(t, cell, "1.2.0")
		_, _, _, _ = AppDeployment(tier), AppService(tier), AppHPA(tier), AppPDB(tier)
		_ = DedicatedIngress(t, cell, AppName, nil)
		_ = RecommendCronJob(t, cell, "1.2.0")
		_ = RecordSet(t, cell)
	}
}
