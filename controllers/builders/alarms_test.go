package builders

import (
	"fmt"
	"strings"
	"testing"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
)

func alertingCell(mutate ...func(*saasv1.AlertThresholds, *saasv1.CellAlerts)) *saasv1.RegionCell {
	c := testCell()
	c.Spec.Alerts = &saasv1.CellAlerts{Emails: []string{"oncall@website.com"}, HTTPSEndpoints: []string{"https://events.pagerduty.com/x"},
		Thresholds: saasv1.AlertThresholds{DatabaseCPUHighPercent: 80, DatabaseCPULowPercent: 10, FreeStorageLowPercent: 10,
			ConnectionsHighPercent: 80, CacheCPUHighPercent: 80, CacheMemoryHighPercent: 80, LoadBalancer5xxPercent: 5, LoadBalancerP99Milliseconds: 2000}}
	for _, m := range mutate {
		m(&c.Spec.Alerts.Thresholds, c.Spec.Alerts)
	}
	return c
}

// describe sums an alarm up: its name, what it watches, how and when it fires.
func describe(a *cloudwatch.MetricAlarm) string {
	what := ""
	switch {
	case a.Spec.MetricName != nil:
		what = *a.Spec.MetricName
	default:
		for _, m := range a.Spec.Metrics {
			if m.Expression != nil {
				what = *m.Expression
			}
		}
	}
	return fmt.Sprintf("%s %s %s %g x%d on=%v", a.Name, what, *a.Spec.ComparisonOperator, *a.Spec.Threshold, *a.Spec.EvaluationPeriods, *a.Spec.ActionsEnabled)
}

func TestTenantAlarms(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:tenantops-eu1"
	db := func(class string, storage int32) saasv1.EffectiveDatabase {
		return saasv1.EffectiveDatabase{InstanceClass: class, StorageGiB: storage, Identifier: "tenant-eu1-acme"}
	}
	cases := []struct {
		name   string
		tenant *saasv1.Tenant
		cell   *saasv1.RegionCell
		db     saasv1.EffectiveDatabase
		want   []string
	}{
		// db.t4g.medium: 4 GiB / 12582880 = 341 connections, 80 % = 272.8 -> 272; 10 % of 20 GiB = 2147483648 bytes.
		{"defaults on db.t4g.medium, 20 GiB", testTenant("acme"), alertingCell(), db("db.t4g.medium", 20), []string{
			"db-cpu-high CPUUtilization GreaterThanOrEqualToThreshold 80 x3 on=true",
			"db-cpu-low CPUUtilization LessThanOrEqualToThreshold 10 x24 on=true",
			"db-storage-low FreeStorageSpace LessThanThreshold 2.147483648e+09 x2 on=true",
			"db-connections-high DatabaseConnections GreaterThanOrEqualToThreshold 272 x3 on=true"}},
		// db.r6g.large: 16 GiB -> 1365 connections, 90 % = 1228.5 -> 1228; 15 % of 100 GiB = 16106127360 bytes.
		{"a resized database and the cell's own thresholds", testTenant("acme"), alertingCell(func(th *saasv1.AlertThresholds, _ *saasv1.CellAlerts) {
			th.DatabaseCPUHighPercent, th.FreeStorageLowPercent, th.ConnectionsHighPercent = 90, 15, 90
		}), db("db.r6g.large", 100), []string{
			"db-cpu-high CPUUtilization GreaterThanOrEqualToThreshold 90 x3 on=true",
			"db-cpu-low CPUUtilization LessThanOrEqualToThreshold 10 x24 on=true",
			"db-storage-low FreeStorageSpace LessThanThreshold 1.610612736e+10 x2 on=true",
			"db-connections-high DatabaseConnections GreaterThanOrEqualToThreshold 1228 x3 on=true"}},
		{"a class whose limit is unknown has no connections alarm", testTenant("acme"), alertingCell(), db("db.x2g.large", 20), []string{
			"db-cpu-high CPUUtilization GreaterThanOrEqualToThreshold 80 x3 on=true",
			"db-cpu-low CPUUtilization LessThanOrEqualToThreshold 10 x24 on=true",
			"db-storage-low FreeStorageSpace LessThanThreshold 2.147483648e+09 x2 on=true"}},
		{"a suspended tenant's alarms are off, not gone", testTenant("acme", func(t *saasv1.Tenant) { t.Spec.Suspended = true }), alertingCell(), db("db.t4g.micro", 20), []string{
			"db-cpu-high CPUUtilization GreaterThanOrEqualToThreshold 80 x3 on=false",
			"db-cpu-low CPUUtilization LessThanOrEqualToThreshold 10 x24 on=false",
			"db-storage-low FreeStorageSpace LessThanThreshold 2.147483648e+09 x2 on=false",
			"db-connections-high DatabaseConnections GreaterThanOrEqualToThreshold 68 x3 on=false"}},
	}
	for _, c := range cases {
		alarms := TenantAlarms(c.tenant, c.cell, c.db, topic)
		var got []string
		for _, a := range alarms {
			got = append(got, describe(a))
			if *a.Spec.AlarmActions[0] != topic || *a.Spec.OKActions[0] != topic || *a.Spec.Dimensions[0].Value != "tenant-eu1-acme" ||
				*a.Spec.Name != "tenantops-eu1-acme-"+a.Name || a.Namespace != "tenant-acme" {
				t.Errorf("%s: %s: actions %v, dimension %v, AWS name %s, namespace %s", c.name, a.Name, *a.Spec.AlarmActions[0], *a.Spec.Dimensions[0].Value, *a.Spec.Name, a.Namespace)
			}
		}
		if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
			t.Errorf("%s:\n got  %s\n want %s", c.name, strings.Join(got, "\n      "), strings.Join(c.want, "\n      "))
		}
	}
}

func TestCellAlarmsAndTopic(t *testing.T) {
	const topic = "arn:aws:sns:eu-west-1:123456789012:tenantops-eu1"
	plain := CellAlarms(alertingCell(), topic)
	withLB := CellAlarms(alertingCell(func(_ *saasv1.AlertThresholds, a *saasv1.CellAlerts) {
		a.LoadBalancer = "app/k8s-celleu1-0123456789/0123456789abcdef"
	}), topic)
	checks := []struct {
		what      string
		got, want any
	}{
		{"without a load balancer: the cache's two alarms", len(plain), 2},
		{"with one: four", len(withLB), 4},
		{"the cache's nodes", *withLB[0].Spec.Metrics[1].MetricStat.Metric.Dimensions[0].Value, "cell-eu1-002"},
		{"cache CPU: 3 periods of 5 minutes", fmt.Sprint(*withLB[0].Spec.EvaluationPeriods, " ", *withLB[0].Spec.Metrics[0].MetricStat.Period), "3 300"},
		{"5xx share", describe(withLB[2]), "lb-5xx-high 100 * errors / requests GreaterThanOrEqualToThreshold 5 x1 on=true"},
		{"p99 latency in seconds", fmt.Sprint(*withLB[3].Spec.ExtendedStatistic, " ", *withLB[3].Spec.Threshold), "p99 2"},
		{"the topic", fmt.Sprint(*AlertsTopic(alertingCell()).Spec.Name, " ", AlertsTopic(alertingCell()).Spec.KMSMasterKeyID == nil), "tenantops-eu1 true"},
	}
	for _, c := range checks {
		if fmt.Sprint(c.got) != fmt.Sprint(c.want) {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	// Subscriptions are named after what they subscribe: reordering keeps each one's name.
	a := alertingCell(func(_ *saasv1.AlertThresholds, a *saasv1.CellAlerts) {
		a.Emails = []string{"x@website.com", "y@website.com"}
	})
	b := alertingCell(func(_ *saasv1.AlertThresholds, a *saasv1.CellAlerts) {
		a.Emails = []string{"y@website.com", "x@website.com"}
	})
	names := func(c *saasv1.RegionCell) map[string]string {
		out := map[string]string{}
		for _, s := range AlertSubscriptions(c) {
			out[*s.Spec.Endpoint] = s.Name + " " + *s.Spec.Protocol + " " + *s.Spec.TopicRef.From.Name
		}
		return out
	}
	if fmt.Sprint(names(a)) != fmt.Sprint(names(b)) || len(names(a)) != 3 {
		t.Errorf("subscriptions follow the order of the list: %v vs %v", names(a), names(b))
	}
}
