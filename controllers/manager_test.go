package controllers

import (
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
)

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
