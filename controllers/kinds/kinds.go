package kinds

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tenantops/tenant-operator/controllers/ack/cloudfront"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
)

// DefaultCheck is how often the operator asks whether optional kinds were installed.
const DefaultCheck = time.Minute

// Optional say which optional ACK kinds the cluster has: their features need them, and a
// watch on a kind the API server does not serve would keep the operator from starting.
type Optional struct {
	// Alerts: SNS Topic and Subscription, CloudWatch MetricAlarm (spec.alerts).
	Alerts bool
	// Assets: S3 Bucket, CloudFront Distribution and OriginAccessControl (spec.assets).
	Assets bool
}

var (
	alertsKinds = []schema.GroupVersionKind{sns.GroupVersion.WithKind("Topic"), sns.GroupVersion.WithKind("Subscription"), cloudwatch.GroupVersion.WithKind("MetricAlarm")}
	assetsKinds = []schema.GroupVersionKind{s3.GroupVersion.WithKind("Bucket"), cloudfront.GroupVersion.WithKind("Distribution"), cloudfront.GroupVersion.WithKind("OriginAccessControl")}
)

// Discover asks the API server which optional ACK kinds it serves.
func Discover(d discovery.DiscoveryInterface) (Optional, error) {
	served := map[schema.GroupVersion]map[string]bool{}
	has := func(gvks []schema.GroupVersionKind) (bool, error) {
		for _, gvk := range gvks {
			gv := gvk.GroupVersion()
			if _, asked := served[gv]; !asked {
				served[gv] = map[string]bool{}
				list, err := d.ServerResourcesForGroupVersion(gv.String())
				if err != nil && !apierrors.IsNotFound(err) {
					return false, fmt.Errorf("discovering %s: %w", gv, err)
				}
				if list != nil {
					for _, r := range list.APIResources {
						served[gv][r.Kind] = true
					}
				}
			}
			if !served[gv][gvk.Kind] {
				return false, nil
			}
		}
		return true, nil
	}
	var k Optional
	var err error
	if k.Alerts, err = has(alertsKinds); err != nil {
		return k, err
	}
	k.Assets, err = has(assetsKinds)
	return k, err
}

// Installed ends the operator when optional kinds it started without are installed.
type Installed struct{ Features []string }

func (e *Installed) Error() string {
	return fmt.Sprintf("the kinds %s need were installed after the operator started: it stops to be started again with their watches",
		strings.Join(e.Features, " and "))
}

// Watch asks the API server every Interval (above zero) whether the optional kinds the operator
// started without are served now, and ends the manager with Installed when they are.
// Controllers' watches are fixed when they start, so the way to watch a kind installed later is a
// new process: the operator's Deployment starts one at once. Until then the features that need the
// kinds say ACKMissing.
type Watch struct {
	Discovery discovery.DiscoveryInterface
	Started   Optional
	Interval  time.Duration
}

// NeedLeaderElection is false: every replica, leader or not, has to restart to watch the kinds.
func (w *Watch) NeedLeaderElection() bool { return false }

// Start checks until ctx ends or kinds appear.
func (w *Watch) Start(ctx context.Context) error {
	if w.Started.Alerts && w.Started.Assets {
		return nil // nothing left to appear
	}
	tick := time.NewTicker(w.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now, err := Discover(w.Discovery)
		if err != nil {
			ctrl.LoggerFrom(ctx).Info("optional kinds not checked; trying again", "error", err.Error(), "in", w.Interval.String())
			continue
		}
		var appeared []string
		if now.Alerts && !w.Started.Alerts {
			appeared = append(appeared, "spec.alerts")
		}
		if now.Assets && !w.Started.Assets {
			appeared = append(appeared, "spec.assets")
		}
		if len(appeared) > 0 {
			return &Installed{Features: appeared}
		}
	}
}
