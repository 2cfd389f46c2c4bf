package builders

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// AppTier is everything that differs between the cell's shared app and a dedicated tenant's
// own: one set of builders makes both.
type AppTier struct {
	Namespace   string
	Labels      map[string]string
	Image       string
	Version     string
	Resources   corev1.ResourceRequirements
	MinReplicas int32
	MaxReplicas int32
	Scaling     saasv1.AutoscalingPolicy
	// Replicas is set only to hold the app at zero (a suspended dedicated tenant); otherwise
	// the HorizontalPodAutoscaler owns the replica count.
	Replicas *int32
}

// CellAppTier is the shared app of a cell, serving its pooled tenants at version.
func CellAppTier(c *saasv1.RegionCell, version string) AppTier {
	return AppTier{
		Namespace:   CellNamespace(c),
		Labels:      CellLabels(c, AppName),
		Image:       Image(c, version),
		Version:     version,
		Resources:   c.Spec.App.Resources,
		MinReplicas: c.Spec.App.MinReplicas,
		MaxReplicas: c.Spec.App.MaxReplicas,
		Scaling:     c.Spec.Autoscaling,
	}
}

// DedicatedAppTier is a dedicated tenant's own app at version, with the tenant's scaling
// overrides on top of the cell's.
func DedicatedAppTier(t *saasv1.Tenant, c *saasv1.RegionCell, version string) AppTier {
	a := AppTier{
		Namespace:   TenantNamespace(t),
		Labels:      TenantLabels(t, c, AppName),
		Image:       Image(c, version),
		Version:     version,
		Resources:   c.Spec.App.Resources,
		MinReplicas: c.Spec.App.MinReplicas,
		MaxReplicas: c.Spec.App.MaxReplicas,
		Scaling:     c.Spec.Autoscaling,
	}
	if s := t.Spec.Scaling; s != nil {
		setIf(&a.MinReplicas, s.MinReplicas)
		setIf(&a.MaxReplicas, s.MaxReplicas)
		setIf(&a.Scaling.ScaleOutAtPercent, s.ScaleOutAtPercent)
		if s.ScaleInAtPercent != nil {
			a.Scaling.ScaleInAtPercent = s.ScaleInAtPercent
		}
	}
	if a.MaxReplicas < a.MinReplicas {
		a.MaxReplicas = a.MinReplicas
	}
	if t.Spec.Suspended {
		a.Replicas = ptr(int32(0))
	}
	return a
}

func (a AppTier) selector() map[string]string {
	sel := map[string]string{saasv1.LabelComponent: AppName}
	for _, k := range []string{saasv1.LabelCell, saasv1.LabelTenant} {
		if v, ok := a.Labels[k]; ok {
			sel[k] = v
		}
	}
	return sel
}

func (a AppTier) meta(name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: a.Namespace, Labels: a.Labels}
}

// RestrictedSecurityContext satisfies Pod Security "restricted".
func RestrictedSecurityContext() *corev1.SecurityContext {
	return &corev1.SecurityContext{
		AllowPrivilegeEscalation: ptr(false),
		ReadOnlyRootFilesystem:   ptr(true),
		RunAsNonRoot:             ptr(true),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

func restrictedPodSecurityContext() *corev1.PodSecurityContext {
	return &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr(true),
		RunAsUser:      ptr(int64(65532)),
		RunAsGroup:     ptr(int64(65532)),
		FSGroup:        ptr(int64(65532)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// AppDeployment runs `app serve`. The app finds its tenants by watching the tenant configuration
// Secrets of its namespace, so tenants come and go without a restart.
func AppDeployment(a AppTier) *appsv1.Deployment {
	sel := a.selector()
	podLabels := map[string]string{}
	for k, v := range a.Labels {
		podLabels[k] = v
	}
	podLabels["app.kubernetes.io/version"] = a.Version
	probe := func(path string, period int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString(OpsPortName)}},
			PeriodSeconds: period, TimeoutSeconds: 2, FailureThreshold: 3,
		}
	}
	return &appsv1.Deployment{
		ObjectMeta: a.meta(AppName),
		Spec: appsv1.DeploymentSpec{
			Replicas: a.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: sel},
			Strategy: appsv1.DeploymentStrategy{
				Type: appsv1.RollingUpdateDeploymentStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDeployment{
					MaxUnavailable: ptr(intstr.FromInt32(0)), MaxSurge: ptr(intstr.FromString("25%")),
				},
			},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: podLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName:            ServiceAccountName,
					SecurityContext:               restrictedPodSecurityContext(),
					TerminationGracePeriodSeconds: ptr(int64(30)),
					TopologySpreadConstraints: []corev1.TopologySpreadConstraint{{
						MaxSkew: 1, TopologyKey: corev1.LabelTopologyZone,
						WhenUnsatisfiable: corev1.ScheduleAnyway,
						LabelSelector:     &metav1.LabelSelector{MatchLabels: sel},
					}},
					Containers: []corev1.Container{{
						Name:  AppName,
						Image: a.Image,
						// ElastiCache is made with encryption in transit: the app speaks TLS to it.
						Args: []string{"serve", fmt.Sprintf("--listen=:%d", AppPort), fmt.Sprintf("--ops-listen=:%d", AppOpsPort), "--redis-tls",
							"--tenant-secrets-namespace=$(POD_NAMESPACE)",
							"--tenant-secrets-selector=" + saasv1.LabelTenantConfig + "=true"},
						Env: []corev1.EnvVar{{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{
							FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}},
						Ports: []corev1.ContainerPort{
							{Name: TenantPortName, ContainerPort: AppPort, Protocol: corev1.ProtocolTCP},
							{Name: OpsPortName, ContainerPort: AppOpsPort, Protocol: corev1.ProtocolTCP},
						},
						Resources:       a.Resources,
						ReadinessProbe:  probe("/readyz", 5),
						LivenessProbe:   probe("/healthz", 10),
						SecurityContext: RestrictedSecurityContext(),
						VolumeMounts:    []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
					}},
					Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
				},
			},
		},
	}
}

// Port names of the app: the Ingress routes customers to TenantPortName only.
const (
	TenantPortName = "http"
	OpsPortName    = "ops"
)

// AppService fronts the app pods: the tenant port for the Ingress, the ops port for Prometheus.
func AppService(a AppTier) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: a.meta(AppName),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: a.selector(),
			Ports: []corev1.ServicePort{
				{Name: TenantPortName, Port: 80, TargetPort: intstr.FromString(TenantPortName), Protocol: corev1.ProtocolTCP},
				{Name: OpsPortName, Port: AppOpsPort, TargetPort: intstr.FromString(OpsPortName), Protocol: corev1.ProtocolTCP},
			},
		},
	}
}

// ScaleDownTolerance is the HPA scale-down tolerance that makes the app scale in only under
// scaleInAtPercent while targeting scaleOutAtPercent: the HPA holds while
// usage/target >= 1 - tolerance, so tolerance = 1 - in/out. It is rounded so that the app never
// scales in at or above scaleInAtPercent.
func ScaleDownTolerance(p saasv1.AutoscalingPolicy) resource.Quantity {
	in := int32(10) // the API's default, for policies built without the API server
	if p.ScaleInAtPercent != nil {
		in = *p.ScaleInAtPercent
	}
	milli := int64(1000) - int64(1000)*int64(in)/int64(p.ScaleOutAtPercent)
	return *resource.NewMilliQuantity(milli, resource.DecimalSI)
}

// AppHPA scales the app out above scaleOutAtPercent average CPU and in under scaleInAtPercent.
func AppHPA(a AppTier) *autoscalingv2.HorizontalPodAutoscaler {
	down := ScaleDownTolerance(a.Scaling)
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: a.meta(AppName),
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: AppName},
			MinReplicas:    ptr(a.MinReplicas),
			MaxReplicas:    a.MaxReplicas,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name: corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType,
						AverageUtilization: ptr(a.Scaling.ScaleOutAtPercent)},
				},
			}},
			Behavior: &autoscalingv2.HorizontalPodAutoscalerBehavior{
				ScaleUp: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: ptr(a.Scaling.ScaleUpStabilizationSeconds),
					Tolerance:                  resource.NewQuantity(0, resource.DecimalSI),
				},
				ScaleDown: &autoscalingv2.HPAScalingRules{
					StabilizationWindowSeconds: a.Scaling.ScaleDownStabilizationSeconds,
					Tolerance:                  &down,
				},
			},
		},
	}
}

// AppPDB keeps at least one app pod through voluntary disruptions such as node drains.
func AppPDB(a AppTier) *policyv1.PodDisruptionBudget {
	return &policyv1.PodDisruptionBudget{
		ObjectMeta: a.meta(AppName),
		Spec: policyv1.PodDisruptionBudgetSpec{
			MaxUnavailable: ptr(intstr.FromInt32(1)),
			Selector:       &metav1.LabelSelector{MatchLabels: a.selector()},
		},
	}
}
