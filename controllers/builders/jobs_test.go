package builders

import (
	"fmt"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestBatchWork(t *testing.T) {
	cell := testCell()
	tenant := testTenant("acme", func(t *saasv1.Tenant) {
		t.Spec.Recommendations = saasv1.Recommendations{Schedule: "15 2 * * *", TimeZone: "Europe/Dublin"}
	})
	suspended := testTenant("paused", func(t *saasv1.Tenant) { t.Spec.Suspended = true })

	cj := RecommendCronJob(tenant, cell, "1.2.0")
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	spot := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "recommend-29000000", Namespace: "tenant-acme"},
		Spec: cj.Spec.JobTemplate.Spec}
	spot.Spec.Template.Labels = map[string]string{"job-name": spot.Name, "batch.kubernetes.io/controller-uid": "uid-1"}
	for k, v := range cj.Spec.JobTemplate.Spec.Template.Labels {
		spot.Spec.Template.Labels[k] = v
	}
	od := OnDemandJob(spot, cell)
	mj := MigrationJob(tenant, cell, "1.3.0")
	mc := mj.Spec.Template.Spec.Containers[0]
	cases := []struct {
		what      string
		got, want any
	}{
		{"schedule", cj.Spec.Schedule + " " + *cj.Spec.TimeZone, "15 2 * * * Europe/Dublin"},
		{"concurrency", cj.Spec.ConcurrencyPolicy, batchv1.ForbidConcurrent},
		{"history limits", fmt.Sprint(*cj.Spec.SuccessfulJobsHistoryLimit, *cj.Spec.FailedJobsHistoryLimit), "3 3"},
		{"spot node selector and tolerations", fmt.Sprintf("%s %d", pod.NodeSelector["capacity"], len(pod.Tolerations)), "spot 1"},
		{"recommend args", strings.Join(pod.Containers[0].Args, " "), "recommend --tenant=acme --config-dir=/etc/tenants --redis-tls"},
		{"suspend", *cj.Spec.Suspend, false},
		{"suspend with the tenant", *RecommendCronJob(suspended, cell, "1.2.0").Spec.Suspend, true},
		{"config mount", fmt.Sprintf("%v %s", pod.Containers[0].VolumeMounts[0].ReadOnly, pod.Volumes[0].Secret.SecretName), "true " + TenantConfigName},
		{"pod labels for the fallback watch", cj.Spec.JobTemplate.Spec.Template.Labels[saasv1.LabelComponent] + " " +
			cj.Spec.JobTemplate.Spec.Template.Labels[saasv1.LabelManagedBy], ComponentRecommend + " " + saasv1.LabelManagedByValue},
		{"fallback on on-demand", fmt.Sprintf("%s %d", od.Spec.Template.Spec.NodeSelector["capacity"], len(od.Spec.Template.Spec.Tolerations)), "on-demand 0"},
		{"fallback name and mark", od.Name + " " + od.Annotations[AnnotationFallbackOf], "recommend-29000000-on-demand recommend-29000000"},
		{"spot job untouched", spot.Spec.Template.Spec.NodeSelector["capacity"], "spot"},
		{"the Job controller's labels are not copied", od.Spec.Template.Labels["job-name"] + "|" +
			od.Spec.Template.Labels["batch.kubernetes.io/controller-uid"] + "|" + od.Spec.Template.Labels[saasv1.LabelTenant], "||acme"},
		{"migration job", fmt.Sprint(mj.Name, " ", mc.Image, " ", mc.Args[0], " ", mj.Annotations[AnnotationAppVersion]),
			"migrate-1-3-0 ghcr.io/tenantops/app:1.3.0 migrate 1.3.0"},
	}
	for _, c := range cases {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
}
