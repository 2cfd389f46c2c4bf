package controllers

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudfront"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
	"github.com/tenantops/tenant-operator/controllers/ack/s3"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/test/testenv"
)

// The tests below play ACK's SNS, CloudWatch, S3 and CloudFront controllers: they write the
// status those would write (an ARN, an ID, a domain, the ResourceSynced condition), nothing else.

func playARN(t testing.TB, obj client.Object, ns, name, arn string, meta func() **ackv1alpha1.ResourceMetadata, conds *[]*ackv1alpha1.Condition) {
	t.Helper()
	playStatus(t, obj, ns, name, func() {
		*meta() = testenv.ACKMetadata(arn)
		*conds = testenv.ACKSynced()
	})
}

func alarmsIn(t testing.TB, ns string) map[string]*cloudwatch.MetricAlarm {
	t.Helper()
	var list cloudwatch.MetricAlarmList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(ns)))
	out := map[string]*cloudwatch.MetricAlarm{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

func names[T any](m map[string]T) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

func TestAlarmsFollowTheirTenants(t *testing.T) {
	ctx := context.Background()
	const arn = "arn:aws:sns:eu-central-2:123456789012:tenantops-euc2"
	cell := servingCell(t, "euc2", "eu-central-2", func(c *saasv1.RegionCell) {
		c.Spec.Alerts = &saasv1.CellAlerts{Emails: []string{"oncall@website.com", "cto@website.com"},
			HTTPSEndpoints: []string{"https://events.example.com/sns"}, LoadBalancer: "app/k8s-celleuc2-0123456789/0123456789abcdef"}
	})
	ns := b.CellNamespace(cell)
	topic := &sns.Topic{}
	eventually(t, "the cell's topic", func() error { return get(t, topic, ns, b.AlertsTopicName) })
	if got := cellHas(t, "euc2", saasv1.ConditionAlarmsReady, metav1.ConditionFalse, ""); got.Status.AlertsTopicARN != "" {
		t.Errorf("a topic ARN before SNS made the topic: %s", got.Status.AlertsTopicARN)
	}
	var subs sns.SubscriptionList
	eventually(t, "three subscriptions", func() error {
		must(t, k8s.List(ctx, &subs, client.InNamespace(ns)))
		if len(subs.Items) != 3 {
			return fmt.Errorf("%d subscriptions", len(subs.Items))
		}
		return nil
	})
	playARN(t, topic, ns, b.AlertsTopicName, arn, func() **ackv1alpha1.ResourceMetadata { return &topic.Status.ACKResourceMetadata }, &topic.Status.Conditions)
	eventually(t, "the cell's four alarms to the topic", func() error {
		got := alarmsIn(t, ns)
		if names(got) != "cache-cpu-high,cache-memory-high,lb-5xx-high,lb-latency-high" {
			return fmt.Errorf("alarms %s", names(got))
		}
		if a := got["lb-5xx-high"]; *a.Spec.AlarmActions[0] != arn || *a.Spec.OKActions[0] != arn {
			return fmt.Errorf("actions %v", a.Spec.AlarmActions)
		}
		return nil
	})

	tenant := newTenant("zurich", "eu-central-2")
	create(t, tenant)
	// The alarms are monitoring: unsynced, they do not keep the tenant from Ready.
	onboard(t, cell, tenant)
	tns := b.TenantNamespace(tenant)
	var alarms map[string]*cloudwatch.MetricAlarm
	eventually(t, "the tenant's alarms", func() error {
		alarms = alarmsIn(t, tns)
		if names(alarms) != "db-connections-high,db-cpu-high,db-cpu-low,db-storage-low" {
			return fmt.Errorf("alarms %s", names(alarms))
		}
		return nil
	})
	if a := alarms["db-cpu-high"]; *a.Spec.AlarmActions[0] != arn || *a.Spec.Dimensions[0].Value != "tenant-euc2-zurich" || !*a.Spec.ActionsEnabled {
		t.Errorf("db-cpu-high: actions %v dimension %v enabled %v", a.Spec.AlarmActions, *a.Spec.Dimensions[0].Value, *a.Spec.ActionsEnabled)
	}
	if got := *alarms["db-storage-low"].Spec.Threshold; got != b.FreeStorageThreshold(20, 10) {
		t.Errorf("storage threshold %g, want 10 %% of 20 GiB", got)
	}
	tenantHas(t, "zurich", saasv1.ConditionAlarmsReady, metav1.ConditionFalse, "WaitingForACK")
	for name := range alarms {
		a := &cloudwatch.MetricAlarm{}
		playStatus(t, a, tns, name, func() { a.Status.Conditions = testenv.ACKSynced() })
	}
	tenantHas(t, "zurich", saasv1.ConditionAlarmsReady, metav1.ConditionTrue, "InSync")
	// In steady state, neither the tenant's nor the cell's reconcile writes anything.
	for _, w := range writesOnPoke(t, tenant, "tenant", "zurich") {
		t.Errorf("steady-state write of the tenant: %s", w)
	}
	cellCounts(t, "euc2", map[string]int32{saasv1.PhaseReady: 1})
	for _, w := range writesOnPoke(t, cell, "regioncell", "euc2", "cell-euc2") {
		t.Errorf("steady-state write of the cell: %s", w)
	}

	// Alarm names are unique per account and region: scoped by the tenant's cell, as its
	// database identifier is. An alarm an older operator named otherwise is replaced (deleted,
	// then made anew), not renamed in place, which would leave the old one in CloudWatch.
	if got := *alarms["db-cpu-high"].Spec.Name; got != "tenantops-euc2-zurich-db-cpu-high" {
		t.Errorf("alarm named %s in CloudWatch", got)
	}
	old := &cloudwatch.MetricAlarm{}
	must(t, get(t, old, tns, "db-cpu-high"))
	oldUID := old.UID
	legacy := old.DeepCopy()
	legacy.Spec.Name = ptr("tenantops-zurich-db-cpu-high")
	must(t, k8s.Patch(ctx, legacy, client.MergeFrom(old)))
	eventually(t, "the alarm of the older name replaced", func() error {
		a := &cloudwatch.MetricAlarm{}
		if err := get(t, a, tns, "db-cpu-high"); err != nil {
			return err
		}
		if a.UID == oldUID || *a.Spec.Name != "tenantops-euc2-zurich-db-cpu-high" {
			return fmt.Errorf("uid changed %v, name %s", a.UID != oldUID, *a.Spec.Name)
		}
		return nil
	})

	// A resize moves the storage threshold; a suspension turns the actions off, keeping the alarms.
	got := &saasv1.Tenant{}
	must(t, get(t, got, "", "zurich"))
	orig := got.DeepCopy()
	got.Spec.Database.StorageGiB = 100
	got.Spec.Suspended = true
	must(t, k8s.Patch(ctx, got, client.MergeFrom(orig)))
	eventually(t, "alarms follow the resize and the suspension", func() error {
		alarms = alarmsIn(t, tns)
		if len(alarms) != 4 {
			return fmt.Errorf("%d alarms", len(alarms))
		}
		if th := *alarms["db-storage-low"].Spec.Threshold; th != b.FreeStorageThreshold(100, 10) {
			return fmt.Errorf("storage threshold %g", th)
		}
		for n, a := range alarms {
			if *a.Spec.ActionsEnabled {
				return fmt.Errorf("%s still enabled", n)
			}
		}
		return nil
	})

	// An address leaves: its subscription goes, the others stay as they were.
	kept := map[string]string{}
	for _, s := range subs.Items {
		kept[s.Name] = s.ResourceVersion
	}
	c := &saasv1.RegionCell{}
	must(t, get(t, c, "", "euc2"))
	origC := c.DeepCopy()
	c.Spec.Alerts.Emails = []string{"oncall@website.com"}
	must(t, k8s.Patch(ctx, c, client.MergeFrom(origC)))
	eventually(t, "cto@ unsubscribed", func() error {
		must(t, k8s.List(ctx, &subs, client.InNamespace(ns)))
		if len(subs.Items) != 2 {
			return fmt.Errorf("%d subscriptions", len(subs.Items))
		}
		for _, s := range subs.Items {
			if *s.Spec.Endpoint == "cto@website.com" || kept[s.Name] != s.ResourceVersion {
				return fmt.Errorf("subscription %s (%s) gone or rewritten", s.Name, *s.Spec.Endpoint)
			}
		}
		return nil
	})

	// The tenant goes, and its alarms with it.
	must(t, k8s.Delete(ctx, got))
	eventually(t, "the tenant's alarms gone", func() error {
		if n := len(alarmsIn(t, tns)); n != 0 {
			return fmt.Errorf("%d alarms left", n)
		}
		return nil
	})
}

func TestAssetsOnS3BehindCloudFront(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "eun2", "eu-north-2", func(c *saasv1.RegionCell) {
		c.Spec.Assets = &saasv1.CellAssets{BucketName: "tenantops-eun2-assets", Alias: "static.website.com",
			CertificateARN: "arn:aws:acm:us-east-1:123456789012:certificate/abc", PublisherRoleARN: "arn:aws:iam::123456789012:role/assets"}
	})
	ns := b.CellNamespace(cell)
	bucket, oac := &s3.Bucket{}, &cloudfront.OriginAccessControl{}
	eventually(t, "the bucket and the origin access control", func() error {
		if err := get(t, bucket, ns, b.AssetsName); err != nil {
			return err
		}
		return get(t, oac, ns, b.AssetsName)
	})
	if bucket.Spec.Policy != nil {
		t.Errorf("a bucket policy before the distribution exists: %s", *bucket.Spec.Policy)
	}
	playStatus(t, oac, ns, b.AssetsName, func() { oac.Status.ID, oac.Status.Conditions = ptr("E3OACEXAMPLE"), testenv.ACKSynced() })
	dist := &cloudfront.Distribution{}
	eventually(t, "the distribution", func() error { return get(t, dist, ns, b.AssetsName) })
	if o := dist.Spec.DistributionConfig.Origins.Items[0]; *o.OriginAccessControlID != "E3OACEXAMPLE" {
		t.Errorf("distribution origin %+v", o)
	}
	const distARN = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"
	playStatus(t, dist, ns, b.AssetsName, func() {
		dist.Status.ACKResourceMetadata = testenv.ACKMetadata(distARN)
		dist.Status.DomainName, dist.Status.ID, dist.Status.Status = ptr("d111111abcdef8.cloudfront.net"), ptr("E2EXAMPLE"), ptr("InProgress")
		dist.Status.Conditions = testenv.ACKSynced()
	})
	eventually(t, "the bucket lets the distribution read, and the alias record", func() error {
		must(t, get(t, bucket, ns, b.AssetsName))
		if bucket.Spec.Policy == nil || !strings.Contains(*bucket.Spec.Policy, distARN) {
			return fmt.Errorf("policy %v", bucket.Spec.Policy)
		}
		rec := &route53.RecordSet{}
		if err := get(t, rec, ns, b.AssetsName); err != nil {
			return err
		}
		if *rec.Spec.AliasTarget.DNSName != "d111111abcdef8.cloudfront.net" {
			return fmt.Errorf("record aliases %s", *rec.Spec.AliasTarget.DNSName)
		}
		return nil
	})
	// Nothing is published before ACK says whose the bucket is.
	cellHas(t, "eun2", saasv1.ConditionAssetsReady, metav1.ConditionFalse, "WaitingForACK")
	if jobs := publishJobs(t, ns); len(jobs) != 0 {
		t.Errorf("publishing Jobs before the bucket's owner is known: %v", jobs)
	}
	playStatus(t, bucket, ns, b.AssetsName, func() {
		bucket.Status.ACKResourceMetadata = testenv.ACKMetadata("arn:aws:s3:::tenantops-eun2-assets")
		bucket.Status.Conditions = testenv.ACKSynced()
	})
	job := publishJob(t, ns, "1.0.0")
	if args := fmt.Sprint(job.Spec.Template.Spec.Containers[0].Args); !strings.Contains(args, "--expected-bucket-owner=123456789012") {
		t.Errorf("the publishing Job does not check the bucket's owner: %s", args)
	}
	playJob(t, ns, job.Name, true)
	c := &saasv1.RegionCell{}
	if got := cellHas(t, "eun2", saasv1.ConditionAssetsReady, metav1.ConditionFalse, "WaitingForACK"); got.Status.AssetsURL != "" {
		t.Errorf("an assets URL before the distribution is deployed: %s", got.Status.AssetsURL)
	}
	playStatus(t, dist, ns, b.AssetsName, func() { dist.Status.Status = ptr(cloudfront.StatusDeployed) })
	// Route53 does not answer for the alias yet: pages load from the distribution's own domain.
	eventually(t, "pages load from the distribution's domain while Route53 does not answer for the alias", func() error {
		must(t, get(t, c, "", "eun2"))
		if c.Status.AssetsURL != "https://d111111abcdef8.cloudfront.net/static" {
			return fmt.Errorf("assets URL %q", c.Status.AssetsURL)
		}
		return nil
	})
	play(t, "the alias record in sync", func(ctx context.Context) error { return testenv.PlayRecordInSync(ctx, k8s, ns, b.AssetsName) })
	served := cellHas(t, "eun2", saasv1.ConditionAssetsReady, metav1.ConditionTrue, "Serving")
	if served.Status.AssetsURL != "https://static.website.com/static" || fmt.Sprint(served.Status.AssetsVersions) != "[1.0.0]" {
		t.Errorf("assets status: %s %v", served.Status.AssetsURL, served.Status.AssetsVersions)
	}
	// A tenant's pages load their files from there.
	tenant := newTenant("oslo", "eu-north-2")
	create(t, tenant)
	onboard(t, cell, tenant)
	cfg := &corev1.Secret{}
	must(t, get(t, cfg, ns, b.ConfigSecretName(tenant)))
	if got := string(cfg.Data[saasv1.ConfigAssetsBaseURL]); got != "https://static.website.com/static" {
		t.Errorf("the tenant's pages load their files from %q", got)
	}

	// A new version: the tenant migrates, then the rollout waits for the version's files.
	must(t, get(t, c, "", "eun2"))
	orig := c.DeepCopy()
	c.Spec.App.Version = "1.1.0"
	must(t, k8s.Patch(ctx, c, client.MergeFrom(orig)))
	playJob(t, b.TenantNamespace(tenant), b.MigrationJobName("1.1.0"), true)
	held := cellHas(t, "eun2", saasv1.ConditionRolloutComplete, metav1.ConditionFalse, "PublishingAssets")
	if held.Status.AppVersion != "1.0.0" {
		t.Errorf("the shared app moved to %s before its files were published", held.Status.AppVersion)
	}
	v110 := publishJob(t, ns, "1.1.0")
	// The registry moves while 1.1.0's files are being published: its Job's pod template would
	// change, which the API server refuses; a new Job replaces the unfinished one, and 1.0.0's
	// finished Job is left alone.
	must(t, get(t, c, "", "eun2"))
	orig = c.DeepCopy()
	c.Spec.App.Image = "registry.example/tenantops/app"
	must(t, k8s.Patch(ctx, c, client.MergeFrom(orig)))
	var moved *batchv1.Job
	eventually(t, "a new publishing Job of 1.1.0 from the new registry", func() error {
		moved = publishJob(t, ns, "1.1.0")
		if moved.Name == v110.Name || !strings.HasPrefix(moved.Spec.Template.Spec.Containers[0].Image, "registry.example/") {
			return fmt.Errorf("Job %s runs %s", moved.Name, moved.Spec.Template.Spec.Containers[0].Image)
		}
		if err := get(t, &batchv1.Job{}, ns, v110.Name); err == nil {
			return fmt.Errorf("the unfinished Job %s of the old registry is still there", v110.Name)
		}
		return nil
	})
	if kept := &(batchv1.Job{}); get(t, kept, ns, job.Name) != nil || kept.Spec.Template.Spec.Containers[0].Image != "ghcr.io/tenantops/app:1.0.0" {
		t.Errorf("the finished Job of 1.0.0 was rewritten or removed")
	}
	playJob(t, ns, moved.Name, true)
	eventually(t, "the rollout goes on once the files are there", func() error {
		must(t, get(t, c, "", "eun2"))
		if c.Status.AppVersion != "1.1.0" {
			return fmt.Errorf("app version %s", c.Status.AppVersion)
		}
		return nil
	})
	// An operator upgrade whose Job builder differs finds an unfinished Job of the older
	// builder for a version in use (1.2.0 here): it is replaced, not updated, and the rollout
	// after it goes on.
	stale := b.PublishAssetsJob(c, "1.2.0", "123456789012")
	stale.Name = "publish-assets-1-2-0"
	stale.Spec.Template.Spec.Containers[0].Args = []string{"publish-assets", "--bucket=tenantops-eun2-assets"}
	must(t, controllerutil.SetControllerReference(c, stale, k8s.Scheme()))
	create(t, stale)
	must(t, get(t, c, "", "eun2"))
	orig = c.DeepCopy()
	c.Spec.App.Version = "1.2.0"
	must(t, k8s.Patch(ctx, c, client.MergeFrom(orig)))
	playJob(t, b.TenantNamespace(tenant), b.MigrationJobName("1.2.0"), true)
	eventually(t, "the old builder's Job of 1.2.0 replaced", func() error {
		if err := get(t, &batchv1.Job{}, ns, stale.Name); err == nil {
			return fmt.Errorf("Job %s of the old builder is still there", stale.Name)
		}
		return nil
	})
	playJob(t, ns, publishJob(t, ns, "1.2.0").Name, true)
	eventually(t, "the rollout to 1.2.0", func() error {
		must(t, get(t, c, "", "eun2"))
		if c.Status.AppVersion != "1.2.0" {
			return fmt.Errorf("app version %s", c.Status.AppVersion)
		}
		return nil
	})

	// A bucket ACK is asked to adopt (someone else's files) is never served from.
	must(t, get(t, bucket, ns, b.AssetsName))
	ob := bucket.DeepCopy()
	bucket.Annotations["services.k8s.aws/adoption-policy"] = "adopt"
	must(t, k8s.Patch(ctx, bucket, client.MergeFrom(ob)))
	refused := cellHas(t, "eun2", saasv1.ConditionAssetsReady, metav1.ConditionFalse, "BucketNotOurs")
	if refused.Status.AssetsURL != "" {
		t.Errorf("an assets URL from an adopted bucket: %s", refused.Status.AssetsURL)
	}
}

// publishJobs are the publishing Jobs of a cell namespace, by name.
func publishJobs(t testing.TB, ns string) map[string]*batchv1.Job {
	t.Helper()
	var list batchv1.JobList
	must(t, k8s.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{saasv1.LabelComponent: b.ComponentAssets}))
	out := map[string]*batchv1.Job{}
	for i := range list.Items {
		if list.Items[i].DeletionTimestamp.IsZero() {
			out[list.Items[i].Name] = &list.Items[i]
		}
	}
	return out
}

// publishJob waits for the one publishing Job of version the operator made, and returns it.
func publishJob(t testing.TB, ns, version string) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	eventually(t, "the publishing Job of "+version, func() error {
		job = nil
		for _, j := range publishJobs(t, ns) {
			if j.Annotations[b.AnnotationAppVersion] == version && strings.HasPrefix(j.Name, "publish-assets-") && len(j.Name) > 9 && j.Name[len(j.Name)-9] == '-' {
				if job != nil {
					return fmt.Errorf("two Jobs of %s: %s and %s", version, job.Name, j.Name)
				}
				job = j
			}
		}
		if job == nil {
			return fmt.Errorf("none yet")
		}
		return nil
	})
	return job
}

// The estimate follows what the tenant has. Hand-computed from the built-in table's defaults
// (ca-west-2 has no overrides), 730 hours a month, the test cell's defaults and app requests:
//
//	database db.t4g.medium Multi-AZ  0.065 x 730 x 2 = 94.90;  20 GiB x 0.115 x 2 = 4.60
//	the cell's own parts: cache 2 x 0.032 x 730 = 46.72; app 2 x (0.25 x 0.04048 + 0.25 x 0.004445) x 730 = 16.397625;
//	load balancer 0.0305 x 730 = 22.265; together 85.382625, a 1/500 share 0.17076525
//	tenant: 99.67;  after a resize to db.t4g.large (0.129 x 730 x 2 = 188.34): 193.11
//	cell: 85.382625 + EKS 73 + zone 0.50 + the tenant's own 99.50 = 258.38; after: 351.82
func TestCostFollowsAResize(t *testing.T) {
	ctx := context.Background()
	cell := servingCell(t, "caw2", "ca-west-2", func(c *saasv1.RegionCell) {
		c.Spec.App.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("256Mi")}}
	})
	tenant := newTenant("calgary2", "ca-west-2")
	create(t, tenant)
	onboard(t, cell, tenant)
	costs := func(tenantWant, cellWant string) {
		t.Helper()
		eventually(t, "costs "+tenantWant+" and "+cellWant, func() error {
			tn, c := &saasv1.Tenant{}, &saasv1.RegionCell{}
			must(t, get(t, tn, "", "calgary2"))
			must(t, get(t, c, "", "caw2"))
			if tn.Status.Cost == nil || c.Status.Cost == nil {
				return fmt.Errorf("no estimate yet")
			}
			if tn.Status.Cost.MonthlyUSD != tenantWant || c.Status.Cost.MonthlyUSD != cellWant || c.Status.Cost.PerTenantUSD != cellWant {
				return fmt.Errorf("tenant %s, cell %s (%s per tenant); items %+v", tn.Status.Cost.MonthlyUSD, c.Status.Cost.MonthlyUSD,
					c.Status.Cost.PerTenantUSD, tn.Status.Cost.Items)
			}
			return nil
		})
	}
	costs("99.67", "258.38")
	tn := &saasv1.Tenant{}
	must(t, get(t, tn, "", "calgary2"))
	orig := tn.DeepCopy()
	tn.Spec.Database.InstanceClass = "db.t4g.large"
	must(t, k8s.Patch(ctx, tn, client.MergeFrom(orig)))
	costs("193.11", "351.82")
}
