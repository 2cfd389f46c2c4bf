package tenant

import (
	"testing"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilptr "k8s.io/utils/ptr"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/rollout"
)

// Unit tests of the tenant reconciler's pure pieces; the operator's envtest suite shows them at work.

func cellWith(name string, mutate func(*saasv1.RegionCell)) *saasv1.RegionCell {
	c := &saasv1.RegionCell{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: saasv1.RegionCellSpec{Region: "eu-west-1", BaseDomain: "website.com"}}
	mutate(c)
	return c
}

// While a move waits, the cell being left serves the tenant with its own cache and its own CDN's
// files, those of the version it runs (it once handed out the destination's).
func TestTheCellLeftServesItsOwnFiles(t *testing.T) {
	leaving := &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "leaving"}, Spec: saasv1.TenantSpec{Region: "eu-west-1", Subdomain: "leaving"}}
	from := cellWith("old", func(c *saasv1.RegionCell) {
		c.Status.AppVersion, c.Status.AssetsURL, c.Status.AssetsVersions = "1.0.0", "https://static-old.website.com/static", []string{"1.0.0"}
	})
	to := cellWith("new", func(c *saasv1.RegionCell) {
		c.Status.AppVersion, c.Status.AssetsURL, c.Status.AssetsVersions = "2.0.0", "https://static-new.website.com/static", []string{"2.0.0"}
	})
	dest := b.Endpoints{DBAddress: "db", DBPort: 3306, CacheAddress: "cache-new", CachePort: 6379, AssetsBaseURL: rollout.AssetsBaseURL(leaving, to)}
	cache := &ecv1.ReplicationGroup{}
	cache.Status.NodeGroups = []*ecv1.NodeGroup{{PrimaryEndpoint: &ecv1.Endpoint{Address: utilptr.To("cache-old"), Port: utilptr.To(int64(6379))}}}
	got := endpointsIn(dest, leaving, from, cache)
	if got.AssetsBaseURL != "https://static-old.website.com/static" || got.CacheAddress != "cache-old" || got.DBAddress != "db" {
		t.Errorf("the cell left hands out %+v", got)
	}
	// A cell left without a CDN serves the app's own files.
	from.Status.AssetsURL, from.Status.AssetsVersions = "", nil
	if got := endpointsIn(dest, leaving, from, cache); got.AssetsBaseURL != "" {
		t.Errorf("the cell left, without a CDN, hands out %q", got.AssetsBaseURL)
	}
}
