package builders

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func testCell() *saasv1.RegionCell {
	return &saasv1.RegionCell{
		ObjectMeta: metav1.ObjectMeta{Name: "eu1"},
		Spec: saasv1.RegionCellSpec{
			Region: "eu-west-1", BaseDomain: "website.com", HostedZoneID: "ZONE",
			Ingress: saasv1.CellIngress{ClassName: "alb", LoadBalancerDNSName: "lb.example", LoadBalancerHostedZoneID: "ZLB"},
			Network: saasv1.CellNetwork{DBSubnetIDs: []string{"subnet-1", "subnet-2"}, DBSecurityGroupIDs: []string{"sg-db"},
				CacheSubnetIDs: []string{"subnet-1"}, CacheSecurityGroupIDs: []string{"sg-cache"}},
			Database: saasv1.DatabaseDefaults{Engine: "mysql", EngineVersion: "8.0", InstanceClass: "db.t4g.medium",
				StorageGiB: 20, MultiAZ: ptr(true), BackupRetentionDays: 7},
			Cache: saasv1.CacheDefaults{Engine: "redis", EngineVersion: "7.1", NodeType: "cache.t4g.small", Replicas: 1},
			App:   saasv1.CellApp{Image: "ghcr.io/tenantops/app", Version: "1.2.0", MinReplicas: 2, MaxReplicas: 20},
			Autoscaling: saasv1.AutoscalingPolicy{ScaleOutAtPercent: 80, ScaleInAtPercent: ptr(int32(10)),
				ScaleDownStabilizationSeconds: ptr(int32(300))},
			Spot: saasv1.SpotScheduling{
				NodeSelector:         map[string]string{"capacity": "spot"},
				Tolerations:          []corev1.Toleration{{Key: "spot", Operator: corev1.TolerationOpExists}},
				OnDemandNodeSelector: map[string]string{"capacity": "on-demand"},
			},
			Capacity: saasv1.CellCapacity{MaxTenants: 10},
		},
	}
}

func testTenant(name string, mutate ...func(*saasv1.Tenant)) *saasv1.Tenant {
	t := &saasv1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: saasv1.TenantSpec{DisplayName: name, Region: "eu-west-1", Subdomain: name, Tier: saasv1.TierPooled,
			AdminEmail: "a@b.example", Database: saasv1.TenantDatabase{DeletionPolicy: saasv1.DeletionSnapshot},
			Recommendations: saasv1.Recommendations{Schedule: "0 3 * * *", TimeZone: "UTC"}},
	}
	for _, m := range mutate {
		m(t)
	}
	return t
}

// hpaScales reproduces the HPA controller's decision (pkg/controller/podautoscaler,
// Tolerances.isWithin): no change while 1-down <= usage/target <= 1+up.
func hpaScales(usage, target int32, up, down float64) string {
	ratio := float64(usage) / float64(target)
	switch {
	case ratio > 1+up:
		return "out"
	case ratio < 1-down:
		return "in"
	}
	return "hold"
}

func TestHPAScalesOutAboveOutAndInBelowIn(t *testing.T) {
	cases := []struct {
		out, in int32
		usage   int32
		want    string
	}{
		{80, 10, 100, "out"}, {80, 10, 81, "out"}, {80, 10, 80, "hold"}, {80, 10, 50, "hold"},
		{80, 10, 11, "hold"}, {80, 10, 10, "hold"}, {80, 10, 9, "in"}, {80, 10, 0, "in"},
		{70, 30, 71, "out"}, {70, 30, 30, "hold"}, {70, 30, 29, "in"},
		{60, 20, 20, "hold"}, {60, 20, 19, "in"},
		{90, 33, 33, "hold"}, {90, 33, 32, "in"},
	}
	for _, c := range cases {
		c := c
		cell := testCell()
		cell.Spec.Autoscaling.ScaleOutAtPercent, cell.Spec.Autoscaling.ScaleInAtPercent = c.out, ptr(c.in)
		hpa := AppHPA(CellAppTier(cell, "1.2.0"))
		target := *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization
		up := hpa.Spec.Behavior.ScaleUp.Tolerance.AsApproximateFloat64()
		down := hpa.Spec.Behavior.ScaleDown.Tolerance.AsApproximateFloat64()
		if got := hpaScales(c.usage, target, up, down); got != c.want {
			t.Errorf("out=%d in=%d usage=%d%%: HPA would %s, want %s (target %d, up %.3f, down %.3f)",
				c.out, c.in, c.usage, got, c.want, target, up, down)
		}
	}
}

func TestAppTierBuilders(t *testing.T) {
	cell := testCell()
	dedicated := testTenant("initech", func(t *saasv1.Tenant) {
		t.Spec.Tier = saasv1.TierDedicated
		t.Spec.Scaling = &saasv1.TenantScaling{MinReplicas: ptr(int32(3)), MaxReplicas: ptr(int32(30)), ScaleOutAtPercent: ptr(int32(70))}
	})
	suspended := testTenant("hooli", func(t *saasv1.Tenant) { t.Spec.Tier = saasv1.TierDedicated; t.Spec.Suspended = true })
	cases := []struct {
		name              string
		tier              AppTier
		ns, image         string
		min, max, out     int32
		replicas          *int32
		selectorHasTenant bool
	}{
		{"cell", CellAppTier(cell, "1.2.0"), "cell-eu1", "ghcr.io/tenantops/app:1.2.0", 2, 20, 80, nil, false},
		{"dedicated", DedicatedAppTier(dedicated, cell, "1.1.0"), "tenant-initech", "ghcr.io/tenantops/app:1.1.0", 3, 30, 70, nil, true},
		{"suspended", DedicatedAppTier(suspended, cell, "1.2.0"), "tenant-hooli", "ghcr.io/tenantops/app:1.2.0", 2, 20, 80, ptr(int32(0)), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, h, s, p := AppDeployment(c.tier), AppHPA(c.tier), AppService(c.tier), AppPDB(c.tier)
			if d.Namespace != c.ns || s.Namespace != c.ns || h.Namespace != c.ns || p.Namespace != c.ns {
				t.Errorf("namespaces %s/%s/%s/%s, want %s", d.Namespace, s.Namespace, h.Namespace, p.Namespace, c.ns)
			}
			ctr := d.Spec.Template.Spec.Containers[0]
			if ctr.Image != c.image {
				t.Errorf("image %s, want %s", ctr.Image, c.image)
			}
			if *h.Spec.MinReplicas != c.min || h.Spec.MaxReplicas != c.max || *h.Spec.Metrics[0].Resource.Target.AverageUtilization != c.out {
				t.Errorf("hpa min=%d max=%d target=%d, want %d %d %d", *h.Spec.MinReplicas, h.Spec.MaxReplicas,
					*h.Spec.Metrics[0].Resource.Target.AverageUtilization, c.min, c.max, c.out)
			}
			if (d.Spec.Replicas == nil) != (c.replicas == nil) || (c.replicas != nil && *d.Spec.Replicas != *c.replicas) {
				t.Errorf("replicas %v, want %v", d.Spec.Replicas, c.replicas)
			}
			if _, ok := d.Spec.Selector.MatchLabels[saasv1.LabelTenant]; ok != c.selectorHasTenant {
				t.Errorf("selector %v: tenant label present=%v, want %v", d.Spec.Selector.MatchLabels, ok, c.selectorHasTenant)
			}
			for k, v := range d.Spec.Selector.MatchLabels {
				if d.Spec.Template.Labels[k] != v || s.Spec.Selector[k] != v || p.Spec.Selector.MatchLabels[k] != v {
					t.Errorf("selector %s=%s does not match pod template, service and PDB", k, v)
				}
			}
			sc := ctr.SecurityContext
			if !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation || !*sc.RunAsNonRoot || sc.Capabilities.Drop[0] != "ALL" ||
				sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("container security context is not restricted: %+v", sc)
			}
			if ctr.ReadinessProbe.HTTPGet.Path != "/readyz" || ctr.LivenessProbe.HTTPGet.Path != "/healthz" {
				t.Errorf("probes %s %s", ctr.ReadinessProbe.HTTPGet.Path, ctr.LivenessProbe.HTTPGet.Path)
			}
			if len(d.Spec.Template.Spec.TopologySpreadConstraints) != 1 ||
				d.Spec.Template.Spec.TopologySpreadConstraints[0].TopologyKey != corev1.LabelTopologyZone {
				t.Errorf("pods are not spread over zones")
			}
		})
	}
}

func TestDBInstance(t *testing.T) {
	cell := testCell()
	cases := []struct {
		name           string
		tenant         *saasv1.Tenant
		currentVersion string
		class          string
		storage        int64
		multiAZ        bool
		version        string
		snapshot       string
	}{
		{"cell defaults", testTenant("acme"), "", "db.t4g.medium", 20, true, "8.0", ""},
		{"overrides", testTenant("big", func(t *saasv1.Tenant) {
			t.Spec.Database.InstanceClass, t.Spec.Database.StorageGiB, t.Spec.Database.MultiAZ = "db.r6g.large", 200, ptr(false)
		}), "", "db.r6g.large", 200, false, "8.0", ""},
		{"keeps a minor version RDS upgraded to", testTenant("acme"), "8.0.39", "db.t4g.medium", 20, true, "8.0.39", ""},
		{"does not keep another major version", testTenant("acme"), "5.7.44", "db.t4g.medium", 20, true, "8.0", ""},
		{"restores from a snapshot", testTenant("dr", func(t *saasv1.Tenant) {
			t.Spec.RestoreFrom = &saasv1.RestoreSource{SnapshotIdentifier: "acme-final-20260101"}
		}), "", "db.t4g.medium", 20, true, "8.0", "acme-final-20260101"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eff, _ := ResolveDatabase(c.tenant, cell, nil, false)
			db := DBInstance(c.tenant, cell, eff, c.currentVersion)
			s := db.Spec
			if *s.DBInstanceClass != c.class || *s.AllocatedStorage != c.storage || *s.MultiAZ != c.multiAZ || *s.EngineVersion != c.version {
				t.Errorf("class=%s storage=%d multiAZ=%v version=%s", *s.DBInstanceClass, *s.AllocatedStorage, *s.MultiAZ, *s.EngineVersion)
			}
			if !*s.StorageEncrypted || *s.PubliclyAccessible || !*s.DeletionProtection || *s.Engine != "mysql" {
				t.Errorf("must be encrypted, private, deletion-protected mysql: %+v", s)
			}
			if *s.DBSubnetGroupName != "cell-eu1" || *s.VPCSecurityGroupIDs[0] != "sg-db" {
				t.Errorf("network: subnet group %s, sgs %v", *s.DBSubnetGroupName, s.VPCSecurityGroupIDs)
			}
			if s.MasterUserPassword.Name != DBPasswordSecretName || s.MasterUserPassword.Key != DBPasswordKey {
				t.Errorf("password ref %+v", s.MasterUserPassword)
			}
			gotSnap := ""
			if s.DBSnapshotIdentifier != nil {
				gotSnap = *s.DBSnapshotIdentifier
			}
			if gotSnap != c.snapshot {
				t.Errorf("snapshot %q, want %q", gotSnap, c.snapshot)
			}
			if len(s.Tags) != 3 {
				t.Errorf("tags %v", s.Tags)
			}
		})
	}
}

func TestNames(t *testing.T) {
	cell := testCell()
	long := testTenant(strings.Repeat("a", 56))
	cases := []struct{ name, got, want string }{
		{"namespace", TenantNamespace(testTenant("acme")), "tenant-acme"},
		{"host", Host(testTenant("acme"), cell), "acme.website.com"},
		{"rds id", DBInstanceIdentifier(testTenant("acme"), cell), "tenant-eu1-acme"},
		{"long rds id is cut to 63", DBInstanceIdentifier(long, cell), ("tenant-eu1-" + strings.Repeat("a", 56))[:63]},
		{"final snapshot", FinalSnapshotIdentifier(testTenant("acme"), cell, "20261125"), "tenant-eu1-acme-final-20261125"},
		{"long final snapshot fits 63", strconv.Itoa(len(FinalSnapshotIdentifier(long, cell, "20261125"))), "63"},
		{"migration job", MigrationJobName("v1.4.2-rc.1"), "migrate-v1-4-2-rc-1"},
		{"auto follows the cell", EffectiveAppVersion(testTenant("a", func(t *saasv1.Tenant) {
			t.Spec.App = &saasv1.TenantApp{Version: "1.0.0", UpgradeStrategy: saasv1.UpgradeAuto}
		}), cell), "1.2.0"},
		{"manual keeps its pin", EffectiveAppVersion(testTenant("a", func(t *saasv1.Tenant) {
			t.Spec.App = &saasv1.TenantApp{Version: "1.0.0", UpgradeStrategy: saasv1.UpgradeManual}
		}), cell), "1.0.0"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.name, c.got, c.want)
		}
	}
}

func itoa(i int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(i)) }

func fmtInt(i int) string {
	if i == 0 {
		return "0"
	}
	s := ""
	for ; i > 0; i /= 10 {
		s = string(rune('0'+i%10)) + s
	}
	return s
}

type check struct {
	name string
	ok   bool
}

func TestBatchWork(t *testing.T) {
	cell := testCell()
	tenant := testTenant("acme", func(t *saasv1.Tenant) {
		t.Spec.Recommendations = saasv1.Recommendations{Schedule: "15 2 * * *", TimeZone: "Europe/Dublin"}
	})
	suspended := testTenant("paused", func(t *saasv1.Tenant) { t.Spec.Suspended = true })

	cj := RecommendCronJob(tenant, cell, "1.2.0")
	pod := cj.Spec.JobTemplate.Spec.Template.Spec
	checks := []check{
		{"schedule", cj.Spec.Schedule == "15 2 * * *" && *cj.Spec.TimeZone == "Europe/Dublin"},
		{"forbid concurrency", cj.Spec.ConcurrencyPolicy == batchv1.ForbidConcurrent},
		{"history limits", *cj.Spec.SuccessfulJobsHistoryLimit == 3 && *cj.Spec.FailedJobsHistoryLimit == 3},
		{"on spot", pod.NodeSelector["capacity"] == "spot" && len(pod.Tolerations) == 1},
		{"runs recommend for the tenant", strings.Join(pod.Containers[0].Args, " ") == "recommend --tenant=acme --config-dir=/etc/tenants --redis-tls"},
		{"not suspended", !*cj.Spec.Suspend},
		{"suspended with the tenant", *RecommendCronJob(suspended, cell, "1.2.0").Spec.Suspend},
		{"config mounted read-only", pod.Containers[0].VolumeMounts[0].ReadOnly && pod.Volumes[0].Secret.SecretName == TenantConfigName},
		{"pods labelled for the fallback watch", cj.Spec.JobTemplate.Spec.Template.Labels[saasv1.LabelComponent] == ComponentRecommend &&
			cj.Spec.JobTemplate.Spec.Template.Labels[saasv1.LabelManagedBy] == saasv1.LabelManagedByValue},
	}
	spot := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "recommend-29000000", Namespace: "tenant-acme"},
		Spec: cj.Spec.JobTemplate.Spec}
	spot.Spec.Template.Labels = map[string]string{"job-name": spot.Name, "batch.kubernetes.io/controller-uid": "uid-1"}
	for k, v := range cj.Spec.JobTemplate.Spec.Template.Labels {
		spot.Spec.Template.Labels[k] = v
	}
	od := OnDemandJob(spot, cell)
	checks = append(checks,
		check{"fallback on on-demand", od.Spec.Template.Spec.NodeSelector["capacity"] == "on-demand" && len(od.Spec.Template.Spec.Tolerations) == 0},
		check{"fallback named and marked", od.Name == "recommend-29000000-on-demand" && od.Annotations[AnnotationFallbackOf] == spot.Name},
		check{"spot job untouched", spot.Spec.Template.Spec.NodeSelector["capacity"] == "spot"},
		check{"the Job controller's labels are not copied", od.Spec.Template.Labels["job-name"] == "" &&
			od.Spec.Template.Labels["batch.kubernetes.io/controller-uid"] == "" && od.Spec.Template.Labels[saasv1.LabelTenant] == "acme"},
	)
	mj := MigrationJob(tenant, cell, "1.3.0")
	checks = append(checks,
		check{"migration job", mj.Name == "migrate-1-3-0" && mj.Spec.Template.Spec.Containers[0].Image == "ghcr.io/tenantops/app:1.3.0" &&
			mj.Spec.Template.Spec.Containers[0].Args[0] == "migrate" && mj.Annotations[AnnotationAppVersion] == "1.3.0"},
	)
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: not as expected", c.name)
		}
	}
}

func TestTenantConfigHasNoSurprises(t *testing.T) {
	cell := testCell()
	cell.Spec.Email = &saasv1.EmailSettings{Sender: "no-reply@website.com"}
	s := TenantConfig(testTenant("acme"), cell, "cell-eu1", "tenant-acme",
		Endpoints{DBAddress: "db.example", DBPort: 3306, CacheAddress: "cache.example", CachePort: 6379}, "s3cret")
	want := map[string]string{
		saasv1.ConfigTenantID: "acme", saasv1.ConfigHosts: "acme.website.com", saasv1.ConfigDBHost: "db.example", saasv1.ConfigDBPort: "3306",
		saasv1.ConfigDBUser: DBMasterUsername, saasv1.ConfigDBPassword: "s3cret", saasv1.ConfigCacheAddress: "cache.example:6379",
		saasv1.ConfigCacheKeyPrefix: "t:acme:", saasv1.ConfigMailSender: "no-reply@website.com", saasv1.ConfigSuspended: "false",
	}
	for k, v := range want {
		if string(s.Data[k]) != v {
			t.Errorf("%s = %q, want %q", k, s.Data[k], v)
		}
	}
	if s.Labels[saasv1.LabelTenantConfig] != "true" || s.Namespace != "cell-eu1" {
		t.Errorf("labels %v namespace %s", s.Labels, s.Namespace)
	}
}

func TestNetworkPolicies(t *testing.T) {
	cases := []struct {
		name  string
		cidrs []string
		from  int
	}{{"port from anywhere", nil, 0}, {"port from the load balancer's subnets", []string{"10.0.1.0/24", "10.0.2.0/24"}, 2}}
	for _, c := range cases {
		nps := NetworkPolicies("tenant-acme", nil, c.cidrs)
		byName := map[string]int{}
		for i, np := range nps {
			byName[np.Name] = i
		}
		deny := nps[byName["default-deny"]]
		if len(deny.Spec.PolicyTypes) != 2 || len(deny.Spec.Ingress) != 0 || len(deny.Spec.Egress) != 0 || len(deny.Spec.PodSelector.MatchLabels) != 0 {
			t.Errorf("%s: default-deny is not a deny-all: %+v", c.name, deny.Spec)
		}
		app := nps[byName["allow-app-port"]].Spec.Ingress[0]
		if app.Ports[0].Port.IntValue() != AppPort || len(app.From) != c.from {
			t.Errorf("%s: app ingress %+v", c.name, app)
		}
		egress := nps[byName["allow-egress-dns-db-cache"]].Spec.Egress
		var ports []int
		for _, rule := range egress {
			for _, p := range rule.Ports {
				ports = append(ports, p.Port.IntValue())
			}
		}
		if fmt.Sprint(ports) != "[53 53 3306 6379]" {
			t.Errorf("%s: egress ports %v", c.name, ports)
		}
	}
}

// The tier quota holds the tier's own numbers (a string concatenation once made "5" Jobs 50).
func TestResourceQuotaByTier(t *testing.T) {
	cases := []struct {
		tier                    string
		jobs, pods, cpu, memory string
	}{
		{saasv1.TierPooled, "10", "10", "2", "4Gi"},
		{saasv1.TierDedicated, "10", "200", "64", "128Gi"},
	}
	for _, tc := range cases {
		q := ResourceQuota(testTenant("acme", func(t *saasv1.Tenant) { t.Spec.Tier = tc.tier }), testCell())
		h := q.Spec.Hard
		got := []string{h.Name("count/jobs.batch", "").String(), h.Pods().String(), h.Name(corev1.ResourceRequestsCPU, "").String(),
			h.Name(corev1.ResourceRequestsMemory, "").String()}
		want := []string{tc.jobs, tc.pods, tc.cpu, tc.memory}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s quota (jobs pods cpu memory) = %v, want %v", tc.tier, got, want)
		}
	}
}

// Customers reach the tenant port only; the kubelet, Prometheus and the load balancer's health
// checks use the ops port, which no Ingress rule targets.
func TestOpsPortIsNeverRouted(t *testing.T) {
	cell := testCell()
	tier := CellAppTier(cell, "1.2.0")
	dep := AppDeployment(tier)
	c := dep.Spec.Template.Spec.Containers[0]
	ports := map[string]int32{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	svcPorts := map[string]string{}
	for _, p := range AppService(tier).Spec.Ports {
		svcPorts[p.Name] = fmt.Sprintf("%d->%s", p.Port, p.TargetPort.String())
	}
	ing := Ingress(cell, "cell-eu1", CellLabels(cell, AppName), []string{"acme.website.com", "globex.website.com"})
	var backends []string
	for _, r := range ing.Spec.Rules {
		for _, p := range r.HTTP.Paths {
			backends = append(backends, p.Backend.Service.Port.Name)
		}
	}
	np := NetworkPolicies("cell-eu1", nil, []string{"10.0.0.0/16"})[1]
	checks := []struct {
		what      string
		got, want any
	}{
		{"container ports", ports, map[string]int32{"http": 8080, "ops": 9090}},
		{"args", strings.Join(c.Args[:3], " "), "serve --listen=:8080 --ops-listen=:9090"},
		{"readiness probe port", c.ReadinessProbe.HTTPGet.Port.String(), "ops"},
		{"liveness probe port", c.LivenessProbe.HTTPGet.Port.String(), "ops"},
		{"service ports", svcPorts, map[string]string{"http": "80->http", "ops": "9090->ops"}},
		{"ingress backends", backends, []string{"http", "http"}},
		{"ALB health check", ing.Annotations["alb.ingress.kubernetes.io/healthcheck-port"] + " " + ing.Annotations["alb.ingress.kubernetes.io/healthcheck-path"], "9090 /healthz"},
		{"tenant port only from the load balancer", fmt.Sprint(np.Spec.Ingress[0].Ports[0].Port.IntValue(), " ", np.Spec.Ingress[0].From[0].IPBlock.CIDR), "8080 10.0.0.0/16"},
		{"ops port for health checks and Prometheus", np.Spec.Ingress[1].Ports[0].Port.IntValue(), 9090},
	}
	for _, ch := range checks {
		if fmt.Sprint(ch.got) != fmt.Sprint(ch.want) {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
		}
	}
}
