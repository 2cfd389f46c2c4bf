package controllers

import (
	"testing"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/rollout"
)

// Unit tests of the pure decisions the reconcilers take; the envtest suites show them at work.

// Every kind's client takes from one budget (client-go gives each REST client its own bucket
// unless the configuration carries one, and controller-runtime makes a client per kind).
func TestOneRateLimitForEveryKind(t *testing.T) {
	cfg := &rest.Config{Host: "https://127.0.0.1:1"}
	ShareRateLimit(cfg, 300, 600)
	scheme := NewScheme()
	codecs := serializer.NewCodecFactory(scheme)
	httpClient, err := rest.HTTPClientFor(cfg)
	must(t, err)
	var limiters []flowcontrol.RateLimiter
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "Secret"}, {Group: "apps", Version: "v1", Kind: "Deployment"},
		{Group: "rds.services.k8s.aws", Version: "v1alpha1", Kind: "DBInstance"},
	} {
		rc, err := apiutil.RESTClientForGVK(gvk, false, false, cfg, codecs, httpClient)
		must(t, err)
		limiters = append(limiters, rc.GetRateLimiter())
	}
	if limiters[0] == nil || limiters[0] != limiters[1] || limiters[1] != limiters[2] {
		t.Errorf("each kind has its own rate limiter: %p %p %p", limiters[0], limiters[1], limiters[2])
	}
	if got := limiters[0].QPS(); got != 300 {
		t.Errorf("QPS %v, want 300", got)
	}
}

// While a move waits, the cell being left serves the tenant with its own cache and its own CDN's
// files, those of the version it runs (it once handed out the destination's).
func TestTheCellLeftServesItsOwnFiles(t *testing.T) {
	tenant := newTenant("leaving", "eu-west-1")
	from := newCell("old", "eu-west-1", func(c *saasv1.RegionCell) {
		c.Status.AppVersion, c.Status.AssetsURL, c.Status.AssetsVersions = "1.0.0", "https://static-old.website.com/static", []string{"1.0.0"}
	})
	to := newCell("new", "eu-west-1", func(c *saasv1.RegionCell) {
		c.Status.AppVersion, c.Status.AssetsURL, c.Status.AssetsVersions = "2.0.0", "https://static-new.website.com/static", []string{"2.0.0"}
	})
	dest := b.Endpoints{DBAddress: "db", DBPort: 3306, CacheAddress: "cache-new", CachePort: 6379, AssetsBaseURL: rollout.AssetsBaseURL(tenant, to)}
	cache := &ecv1.ReplicationGroup{}
	cache.Status.NodeGroups = []*ecv1.NodeGroup{{PrimaryEndpoint: &ecv1.Endpoint{Address: ptr("cache-old"), Port: ptr(int64(6379))}}}
	got := endpointsIn(dest, tenant, from, cache)
	if got.AssetsBaseURL != "https://static-old.website.com/static" || got.CacheAddress != "cache-old" || got.DBAddress != "db" {
		t.Errorf("the cell left hands out %+v", got)
	}
	// A cell left without a CDN serves the app's own files.
	from.Status.AssetsURL, from.Status.AssetsVersions = "", nil
	if got := endpointsIn(dest, tenant, from, cache); got.AssetsBaseURL != "" {
		t.Errorf("the cell left, without a CDN, hands out %q", got.AssetsBaseURL)
	}
}
