package builders

import (
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Labels and annotations of the batch work.
const (
	ComponentMigration = "migration"
	ComponentRecommend = "recommend"
	// AnnotationAppVersion records the version a migration Job migrates to.
	AnnotationAppVersion = "saas.tenantops.io/app-version"
	// AnnotationFallbackOf marks an on-demand Job that replaced a spot Job stuck unschedulable.
	AnnotationFallbackOf = "saas.tenantops.io/on-demand-fallback-of"
)

// batchPod is the pod both batch commands run in: the app image, the tenant's configuration
// mounted read-only as files, restricted security, and nothing on the command line but names.
func batchPod(t *saasv1.Tenant, c *saasv1.RegionCell, version string, args []string) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy:                corev1.RestartPolicyNever,
		SecurityContext:              restrictedPodSecurityContext(),
		AutomountServiceAccountToken: ptr(false),
		Containers: []corev1.Container{{
			Name:  "app",
			Image: Image(c, version),
			Args:  append(args, "--tenant="+t.Name, "--config-dir="+ConfigMountPath, "--redis-tls"),
			Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
				Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
			},
			SecurityContext: RestrictedSecurityContext(),
			VolumeMounts: []corev1.VolumeMount{
				{Name: "tenant-config", MountPath: ConfigMountPath + "/" + t.Name, ReadOnly: true},
				{Name: "tmp", MountPath: "/tmp"},
			},
		}},
		Volumes: []corev1.Volume{
			{Name: "tenant-config", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				SecretName: TenantConfigName, DefaultMode: ptr(int32(0o440))}}},
			{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		},
	}
}

// MigrationJob runs `app migrate` for the tenant at version. Migrations are expand-then-
// contract, so the version serving now keeps working while it runs.
func MigrationJob(t *saasv1.Tenant, c *saasv1.RegionCell, version string) *batchv1.Job {
	labels := TenantLabels(t, c, ComponentMigration)
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: MigrationJobName(version), Namespace: TenantNamespace(t), Labels: labels,
			Annotations: map[string]string{AnnotationAppVersion: version},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:          ptr(int32(2)),
			ActiveDeadlineSeconds: ptr(int64(1800)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       batchPod(t, c, version, []string{"migrate"}),
			},
		},
	}
}

// RecommendCronJob runs the tenant's daily `app recommend` on spot capacity, one run at a time.
func RecommendCronJob(t *saasv1.Tenant, c *saasv1.RegionCell, version string) *batchv1.CronJob {
	labels := TenantLabels(t, c, ComponentRecommend)
	r := t.Spec.Recommendations
	pod := batchPod(t, c, version, []string{"recommend"})
	pod.NodeSelector = c.Spec.Spot.NodeSelector
	pod.Tolerations = c.Spec.Spot.Tolerations
	return &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: RecommendCronJobName, Namespace: TenantNamespace(t), Labels: labels},
		Spec: batchv1.CronJobSpec{
			Schedule:                   r.Schedule,
			TimeZone:                   ptr(r.TimeZone),
			ConcurrencyPolicy:          batchv1.ForbidConcurrent,
			Suspend:                    ptr(r.Suspend || t.Spec.Suspended),
			StartingDeadlineSeconds:    ptr(int64(3600)),
			SuccessfulJobsHistoryLimit: ptr(int32(3)),
			FailedJobsHistoryLimit:     ptr(int32(3)),
			JobTemplate: batchv1.JobTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: batchv1.JobSpec{
					BackoffLimit:          ptr(int32(2)),
					ActiveDeadlineSeconds: ptr(int64(4 * 3600)),
					Template:              corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod},
				},
			},
		},
	}
}

// jobControllerLabels are the labels the API server adds to a Job's pod template; a new Job
// must not carry the old Job's.
var jobControllerLabels = map[string]bool{
	"controller-uid": true, "job-name": true,
	"batch.kubernetes.io/controller-uid": true, "batch.kubernetes.io/job-name": true,
}

// OnDemandJob is the replacement of a recommendation Job whose pod waited unschedulable on spot
// past the cell's onDemandFallbackAfter: the same work, on on-demand nodes.
func OnDemandJob(spot *batchv1.Job, c *saasv1.RegionCell) *batchv1.Job {
	labels := map[string]string{}
	for k, v := range spot.Spec.Template.Labels {
		if !jobControllerLabels[k] {
			labels[k] = v
		}
	}
	pod := *spot.Spec.Template.Spec.DeepCopy()
	pod.NodeSelector = c.Spec.Spot.OnDemandNodeSelector
	pod.Tolerations = nil
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name: truncate(spot.Name, 63-len("-on-demand")) + "-on-demand", Namespace: spot.Namespace,
			Labels:      labels,
			Annotations: map[string]string{AnnotationFallbackOf: spot.Name},
		},
		Spec: batchv1.JobSpec{
			BackoffLimit:          spot.Spec.BackoffLimit,
			ActiveDeadlineSeconds: spot.Spec.ActiveDeadlineSeconds,
			Template:              corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: pod},
		},
	}
}
