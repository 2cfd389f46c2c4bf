package v1alpha1_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/test/testenv"
)

var k8s client.Client

func TestMain(m *testing.M) {
	env, err := testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(saasv1.AddToScheme(scheme))
	k8s, err = client.New(env.Config, client.Options{Scheme: scheme})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	_ = env.Stop()
	os.Exit(code)
}

func readManifest(t *testing.T, path string) (*unstructured.Unstructured, string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := ""
	sc := bufio.NewScanner(strings.NewReader(string(raw)))
	if sc.Scan() && strings.HasPrefix(sc.Text(), "# want: ") {
		want = strings.TrimPrefix(sc.Text(), "# want: ")
	}
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal(raw, &u.Object); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return u, want
}

// Every manifest under test/invalid is refused at admission with a message that names the
// field and says what to fix.
func TestInvalidManifestsAreRejected(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testenv.Root(), "test", "invalid", "*.yaml"))
	if err != nil || len(files) < 30 {
		t.Fatalf("want at least 30 invalid manifests, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			u, want := readManifest(t, f)
			if want == "" {
				t.Fatalf("%s has no '# want: <message>' first line", f)
			}
			err := k8s.Create(context.Background(), u, client.DryRunAll)
			if err == nil {
				t.Fatalf("accepted; want rejection with %q", want)
			}
			if !apierrors.IsInvalid(err) {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error does not say %q:\n%v", want, err)
			}
		})
	}
}

// The samples a newcomer applies first are accepted, and defaults fill what they leave out.
func TestSamplesAcceptedWithDefaults(t *testing.T) {
	ctx := context.Background()
	files, _ := filepath.Glob(filepath.Join(testenv.Root(), "config", "samples", "saas_*.yaml"))
	if len(files) != 5 {
		t.Fatalf("want 5 samples (two cells, three tenants), found %d", len(files))
	}
	for _, f := range files {
		u, _ := readManifest(t, f)
		if err := k8s.Create(ctx, u); err != nil {
			t.Fatalf("%s rejected: %v", filepath.Base(f), err)
		}
	}

	cell := &saasv1.RegionCell{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "eu-west-1"}, cell); err != nil {
		t.Fatal(err)
	}
	acme := &saasv1.Tenant{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: "acme"}, acme); err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		field     string
		got, want any
	}{
		{"tenant spec.tier", acme.Spec.Tier, saasv1.TierPooled},
		{"tenant spec.database.deletionPolicy", acme.Spec.Database.DeletionPolicy, saasv1.DeletionSnapshot},
		{"tenant spec.recommendations.schedule kept", acme.Spec.Recommendations.Schedule, "15 2 * * *"},
		{"cell spec.autoscaling.scaleOutAtPercent", cell.Spec.Autoscaling.ScaleOutAtPercent, int32(80)},
		{"cell spec.autoscaling.scaleInAtPercent", deref(cell.Spec.Autoscaling.ScaleInAtPercent), int32(10)},
		{"cell spec.autoscaling.scaleDownStabilizationSeconds", deref(cell.Spec.Autoscaling.ScaleDownStabilizationSeconds), int32(300)},
		{"cell spec.database.engine", cell.Spec.Database.Engine, "mysql"},
		{"cell spec.spot.onDemandFallbackAfter", cell.Spec.Spot.OnDemandFallbackAfter.Duration.String(), "5m0s"},
		{"cell spec.app.resources.requests.cpu", cell.Spec.App.Resources.Requests.Cpu().String(), "250m"},
		{"cell spec.capacity.maxDedicatedTenants", cell.Spec.Capacity.MaxDedicatedTenants, int32(50)},
		{"cell spec.assets.noncurrentVersionDays", cell.Spec.Assets.NoncurrentVersionDays, int32(30)},
		{"cell spec.alerts.thresholds", fmt.Sprint(cell.Spec.Alerts.Thresholds), "{80 10 10 80 80 80 5 2000}"},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}

	minimal := &saasv1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: "minimal"},
		Spec:       saasv1.TenantSpec{DisplayName: "Minimal", Region: "us-east-1", Subdomain: "minimal", AdminEmail: "a@b.example"},
	}
	if err := k8s.Create(ctx, minimal); err != nil {
		t.Fatal(err)
	}
	r := minimal.Spec.Recommendations
	if r.Schedule != "0 3 * * *" || r.TimeZone != "UTC" || minimal.Spec.Tier != "pooled" || minimal.Spec.Database.DeletionPolicy != "Snapshot" {
		t.Errorf("defaults not applied: tier=%q schedule=%q tz=%q deletionPolicy=%q",
			minimal.Spec.Tier, r.Schedule, r.TimeZone, minimal.Spec.Database.DeletionPolicy)
	}
}

// A Go client can ask for 0 where the default is not 0: scale in at once, or never.
func TestZeroIsNotTakenForUnset(t *testing.T) {
	ctx := context.Background()
	u, _ := readManifest(t, filepath.Join(testenv.Root(), "config", "samples", "saas_v1alpha1_regioncell.yaml"))
	cell := &saasv1.RegionCell{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, cell); err != nil {
		t.Fatal(err)
	}
	zero := int32(0)
	cell.Name, cell.Spec.Region = "zero", "sa-east-1"
	cell.Spec.Autoscaling.ScaleInAtPercent, cell.Spec.Autoscaling.ScaleDownStabilizationSeconds = &zero, &zero
	if err := k8s.Create(ctx, cell, client.DryRunAll); err != nil {
		t.Fatal(err)
	}
	if got := deref(cell.Spec.Autoscaling.ScaleInAtPercent); got != 0 {
		t.Errorf("scaleInAtPercent 0 came back as %d", got)
	}
	if got := deref(cell.Spec.Autoscaling.ScaleDownStabilizationSeconds); got != 0 {
		t.Errorf("scaleDownStabilizationSeconds 0 came back as %d", got)
	}
}

// Fields whose change would move data or break customers are refused after creation.
func TestImmutableFields(t *testing.T) {
	ctx := context.Background()
	base := func(name string) *saasv1.Tenant {
		return &saasv1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: saasv1.TenantSpec{DisplayName: name, Region: "eu-central-1", Subdomain: name, AdminEmail: "a@b.example", BaseDomain: "website.com",
				Database: saasv1.TenantDatabase{StorageGiB: 50}},
		}
	}
	cases := []struct {
		name   string
		mutate func(*saasv1.Tenant)
		want   string
	}{
		{"region", func(t *saasv1.Tenant) { t.Spec.Region = "us-east-1" }, "spec.region is immutable"},
		{"subdomain", func(t *saasv1.Tenant) { t.Spec.Subdomain = "other" }, "spec.subdomain is immutable"},
		{"storage-shrinks", func(t *saasv1.Tenant) { t.Spec.Database.StorageGiB = 20 }, "spec.database.storageGiB cannot shrink"},
		{"base-domain", func(t *saasv1.Tenant) { t.Spec.BaseDomain = "other.example" }, "spec.baseDomain is immutable"},
		{"restore-added-later", func(t *saasv1.Tenant) {
			t.Spec.RestoreFrom = &saasv1.RestoreSource{SnapshotIdentifier: "snap-1"}
		}, "spec.restoreFrom can only be set when the Tenant is created"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn := base(fmt.Sprintf("immutable-%d", i))
			if err := k8s.Create(ctx, tn); err != nil {
				t.Fatal(err)
			}
			c.mutate(tn)
			err := k8s.Update(ctx, tn)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("update: got %v, want an error saying %q", err, c.want)
			}
		})
	}

	t.Run("storage-grows", func(t *testing.T) {
		tn := base("immutable-grow")
		if err := k8s.Create(ctx, tn); err != nil {
			t.Fatal(err)
		}
		tn.Spec.Database.StorageGiB = 100
		if err := k8s.Update(ctx, tn); err != nil {
			t.Fatalf("growing storage must be allowed: %v", err)
		}
	})

	// The assets bucket and alias: pages load their files from them.
	for _, c := range []struct {
		name, field, value, want string
	}{
		{"cell-assets-bucket", "bucketName", "another-bucket", "spec.assets.bucketName is immutable"},
		{"cell-assets-alias", "alias", "cdn.website.com", "spec.assets.alias cannot be changed in one step"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, _ := readManifest(t, filepath.Join(testenv.Root(), "config", "samples", "saas_v1alpha1_regioncell.yaml"))
			u.SetName("immutable-" + c.name)
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(unstructured.SetNestedField(u.Object, "static.website.com", "spec", "assets", "alias"))
			must(unstructured.SetNestedField(u.Object, "arn:aws:acm:us-east-1:123456789012:certificate/0b6f5c3e-1234-4abc-9def-0123456789ab", "spec", "assets", "certificateARN"))
			must(k8s.Create(ctx, u))
			must(unstructured.SetNestedField(u.Object, c.value, "spec", "assets", c.field))
			err := k8s.Update(ctx, u)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %s", err, c.want)
			}
			if c.field == "alias" {
				// Removing it, then setting another, is the way.
				must(k8s.Get(ctx, client.ObjectKeyFromObject(u), u))
				unstructured.RemoveNestedField(u.Object, "spec", "assets", "alias")
				must(k8s.Update(ctx, u))
				must(unstructured.SetNestedField(u.Object, c.value, "spec", "assets", "alias"))
				must(k8s.Update(ctx, u))
			}
		})
	}

	t.Run("cell-region", func(t *testing.T) {
		u, _ := readManifest(t, filepath.Join(testenv.Root(), "config", "samples", "saas_v1alpha1_regioncell.yaml"))
		u.SetName("immutable-cell")
		if err := k8s.Create(ctx, u); err != nil {
			t.Fatal(err)
		}
		if err := unstructured.SetNestedField(u.Object, "eu-west-2", "spec", "region"); err != nil {
			t.Fatal(err)
		}
		err := k8s.Update(ctx, u)
		if err == nil || !strings.Contains(err.Error(), "spec.region is immutable") {
			t.Fatalf("got %v, want spec.region is immutable", err)
		}
	})
}

// deref reads an optional field the API server defaulted; -1 says it was left unset.
func deref(p *int32) int32 {
	if p == nil {
		return -1
	}
	return *p
}

// Schedules the CronJob API takes must pass admission too: the range rules refuse only what the
// CronJob API would refuse later.
func TestValidSchedulesAccepted(t *testing.T) {
	ctx := context.Background()
	for i, schedule := range []string{
		"0 3 * * *", "59 23 31 12 7", "*/15 1-5 1,15 JAN-MAR MON-FRI", "0 0 ? * sun", "0-59/5 */2 1-31/3 1-12 0-6",
		"30  2 * * *", "@daily", "5,10,15 0 * feb,Aug *",
	} {
		tn := &saasv1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("schedule-%d", i)},
			Spec: saasv1.TenantSpec{DisplayName: "S", Region: "us-east-1", Subdomain: fmt.Sprintf("schedule-%d", i), AdminEmail: "a@b.example",
				Recommendations: saasv1.Recommendations{Schedule: schedule}},
		}
		if err := k8s.Create(ctx, tn); err != nil {
			t.Errorf("schedule %q refused: %v", schedule, err)
		}
	}
}
