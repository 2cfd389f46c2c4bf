package builders

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
)

// Names of the alerting children.
const (
	AlertsTopicName = "alerts"
	ComponentAlerts = "alerts"
)

// AlertsTopicAWSName is the SNS topic's name in AWS.
func AlertsTopicAWSName(c *saasv1.RegionCell) string {
	if a := c.Spec.Alerts; a != nil && a.TopicName != "" {
		return a.TopicName
	}
	return truncate("tenantops-"+c.Name, 256)
}

// AlertsTopic is the cell's SNS topic: its alarms, and with lifecycleEvents its tenants'
// lifecycle events, go there.
func AlertsTopic(c *saasv1.RegionCell) *sns.Topic {
	a := c.Spec.Alerts
	t := &sns.Topic{
		ObjectMeta: metav1.ObjectMeta{Name: AlertsTopicName, Namespace: CellNamespace(c), Labels: CellLabels(c, ComponentAlerts)},
		Spec: sns.TopicSpec{
			Name:        ptr(AlertsTopicAWSName(c)),
			DisplayName: ptr("tenantops " + c.Name),
			Tags:        []*sns.Tag{{Key: ptr("tenantops:cell"), Value: ptr(c.Name)}, {Key: ptr("tenantops:managed-by"), Value: ptr(saasv1.LabelManagedByValue)}},
		},
	}
	if a.KMSKeyID != "" {
		t.Spec.KMSMasterKeyID = ptr(a.KMSKeyID)
	}
	return t
}

// AlertSubscriptions subscribe the cell's e-mail addresses and HTTPS endpoints to its topic.
// Each is named after a hash of what it subscribes, so reordering the lists changes nothing and
// a removed address's subscription is the one deleted.
func AlertSubscriptions(c *saasv1.RegionCell) []*sns.Subscription {
	a := c.Spec.Alerts
	var out []*sns.Subscription
	add := func(protocol, endpoint string) {
		sum := sha256.Sum256([]byte(protocol + " " + endpoint))
		out = append(out, &sns.Subscription{
			ObjectMeta: metav1.ObjectMeta{Name: "alerts-" + protocol + "-" + hex.EncodeToString(sum[:5]), Namespace: CellNamespace(c),
				Labels: CellLabels(c, ComponentAlerts)},
			Spec: sns.SubscriptionSpec{Protocol: ptr(protocol), Endpoint: ptr(endpoint),
				TopicRef: &ackv1alpha1.AWSResourceReferenceWrapper{From: &ackv1alpha1.AWSResourceReference{Name: ptr(AlertsTopicName)}}},
		})
	}
	for _, e := range a.Emails {
		add("email", e)
	}
	for _, u := range a.HTTPSEndpoints {
		add("https", u)
	}
	return out
}

// classMemoryGiB is the memory of the RDS classes whose connection limit the operator knows:
// MySQL's default max_connections is DBInstanceClassMemory / 12582880.
var classMemoryGiB = map[string]float64{
	"db.t4g.micro": 1, "db.t4g.small": 2, "db.t4g.medium": 4, "db.t4g.large": 8, "db.t4g.xlarge": 16, "db.t4g.2xlarge": 32,
	"db.t3.micro": 1, "db.t3.small": 2, "db.t3.medium": 4, "db.t3.large": 8, "db.t3.xlarge": 16, "db.t3.2xlarge": 32,
	"db.m7g.large": 8, "db.m7g.xlarge": 16, "db.m7g.2xlarge": 32, "db.m7g.4xlarge": 64,
	"db.m6g.large": 8, "db.m6g.xlarge": 16, "db.m6g.2xlarge": 32, "db.m6g.4xlarge": 64,
	"db.r6g.large": 16, "db.r6g.xlarge": 32, "db.r6g.2xlarge": 64, "db.r6g.4xlarge": 128,
	"db.r7g.large": 16, "db.r7g.xlarge": 32, "db.r7g.2xlarge": 64, "db.r7g.4xlarge": 128,
}

// MaxConnections is MySQL's default connection limit on an RDS class, when the class is known.
func MaxConnections(class string) (int64, bool) {
	gib, ok := classMemoryGiB[class]
	if !ok {
		return 0, false
	}
	return int64(gib * (1 << 30) / 12582880), true
}

// alarm is what differs between the alarms the operator makes.
type alarm struct {
	name, description, namespace, metric, statistic, comparison string
	dimensions                                                  map[string]string
	threshold                                                   float64
	period, evaluationPeriods                                   int64
	extendedStatistic                                           string
	// metrics, when set, make a metric-math alarm (and the single-metric fields stay empty).
	metrics []*cloudwatch.MetricDataQuery
}

// TenantAlarms are the alarms on a tenant's database, as its effective database is: heavy and
// low CPU, free storage under a share of what is allocated, and connections near the class's
// limit (left out for a class whose memory is unknown). Their actions go to topicARN; a
// suspended tenant's are disabled, not deleted.
func TenantAlarms(t *saasv1.Tenant, c *saasv1.RegionCell, db saasv1.EffectiveDatabase, topicARN string) []*cloudwatch.MetricAlarm {
	th := c.Spec.Alerts.Thresholds
	dims := map[string]string{"DBInstanceIdentifier": db.Identifier}
	alarms := []alarm{
		{name: "db-cpu-high", description: fmt.Sprintf("heavy use: CPU of %s at or above %d %% for 15 minutes", db.Identifier, th.DatabaseCPUHighPercent),
			namespace: "AWS/RDS", metric: "CPUUtilization", statistic: "Average", dimensions: dims, comparison: "GreaterThanOrEqualToThreshold",
			threshold: float64(th.DatabaseCPUHighPercent), period: 300, evaluationPeriods: 3},
		{name: "db-cpu-low", description: fmt.Sprintf("low use: CPU of %s at or below %d %% every hour of a day; a smaller class may do", db.Identifier, th.DatabaseCPULowPercent),
			namespace: "AWS/RDS", metric: "CPUUtilization", statistic: "Average", dimensions: dims, comparison: "LessThanOrEqualToThreshold",
			threshold: float64(th.DatabaseCPULowPercent), period: 3600, evaluationPeriods: 24},
		{name: "db-storage-low", description: fmt.Sprintf("free storage of %s under %d %% of its %d GiB", db.Identifier, th.FreeStorageLowPercent, db.StorageGiB),
			namespace: "AWS/RDS", metric: "FreeStorageSpace", statistic: "Minimum", dimensions: dims, comparison: "LessThanThreshold",
			threshold: FreeStorageThreshold(db.StorageGiB, th.FreeStorageLowPercent), period: 300, evaluationPeriods: 2},
	}
	if limit, ok := MaxConnections(db.InstanceClass); ok {
		alarms = append(alarms, alarm{name: "db-connections-high",
			description: fmt.Sprintf("connections to %s at or above %d %% of the %d %s allows", db.Identifier, th.ConnectionsHighPercent, limit, db.InstanceClass),
			namespace:   "AWS/RDS", metric: "DatabaseConnections", statistic: "Maximum", dimensions: dims, comparison: "GreaterThanOrEqualToThreshold",
			threshold: math.Floor(float64(limit) * float64(th.ConnectionsHighPercent) / 100), period: 300, evaluationPeriods: 3})
	}
	out := make([]*cloudwatch.MetricAlarm, 0, len(alarms))
	for _, a := range alarms {
		m := metricAlarm(a, TenantAlarmAWSName(t, c, a.name), TenantNamespace(t), TenantLabels(t, c, ComponentAlerts), topicARN, !t.Spec.Suspended,
			map[string]string{"tenantops:tenant": t.Name, "tenantops:cell": HomeCell(t, c)})
		m.Name = a.name
		out = append(out, m)
	}
	return out
}

// TenantAlarmAWSName is the name of one of a tenant's alarms in CloudWatch, where names are
// unique per account and region: scoped by the tenant's home cell, as its database identifier
// is, so two cells (or two clusters) of one account never write each other's alarms, and a move
// between cells renames nothing.
func TenantAlarmAWSName(t *saasv1.Tenant, c *saasv1.RegionCell, alarm string) string {
	return "tenantops-" + HomeCell(t, c) + "-" + t.Name + "-" + alarm
}

// FreeStorageThreshold is the free storage, in bytes, under which a database of storageGiB is
// short of space.
func FreeStorageThreshold(storageGiB, percent int32) float64 {
	return float64(storageGiB) * (1 << 30) * float64(percent) / 100
}

// CellAlarms are the alarms on a cell's shared cache (engine CPU and memory, the highest of its
// nodes) and, when the cell names its load balancer, the app's 5xx rate and p99 latency there.
func CellAlarms(c *saasv1.RegionCell, topicARN string) []*cloudwatch.MetricAlarm {
	th := c.Spec.Alerts.Thresholds
	cache := CellCache(c)
	nodes := make([]string, 0, 1+cache.Replicas)
	for i := int32(1); i <= 1+cache.Replicas; i++ {
		nodes = append(nodes, fmt.Sprintf("%s-%03d", cache.ReplicationGroupID, i))
	}
	alarms := []alarm{
		{name: "cache-cpu-high", description: fmt.Sprintf("heavy use: the engine CPU of a node of cache %s at or above %d %% for 15 minutes", cache.ReplicationGroupID, th.CacheCPUHighPercent),
			comparison: "GreaterThanOrEqualToThreshold", threshold: float64(th.CacheCPUHighPercent), evaluationPeriods: 3,
			metrics: highestOf("AWS/ElastiCache", "EngineCPUUtilization", "Average", nodes)},
		{name: "cache-memory-high", description: fmt.Sprintf("the memory use of a node of cache %s at or above %d %% for 15 minutes", cache.ReplicationGroupID, th.CacheMemoryHighPercent),
			comparison: "GreaterThanOrEqualToThreshold", threshold: float64(th.CacheMemoryHighPercent), evaluationPeriods: 3,
			metrics: highestOf("AWS/ElastiCache", "DatabaseMemoryUsagePercentage", "Average", nodes)},
	}
	if lb := c.Spec.Alerts.LoadBalancer; lb != "" {
		lbMetric := func(id, name string) *cloudwatch.MetricDataQuery {
			return &cloudwatch.MetricDataQuery{ID: ptr(id), ReturnData: ptr(false), MetricStat: &cloudwatch.MetricStat{Period: ptr(int64(300)), Stat: ptr("Sum"),
				Metric: &cloudwatch.Metric{Namespace: ptr("AWS/ApplicationELB"), MetricName: ptr(name), Dimensions: []*cloudwatch.Dimension{{Name: ptr("LoadBalancer"), Value: ptr(lb)}}}}}
		}
		alarms = append(alarms,
			alarm{name: "lb-5xx-high", description: fmt.Sprintf("the app answered 5xx to %d %% or more of the requests through %s over 5 minutes", th.LoadBalancer5xxPercent, lb),
				comparison: "GreaterThanOrEqualToThreshold", threshold: float64(th.LoadBalancer5xxPercent), evaluationPeriods: 1,
				metrics: []*cloudwatch.MetricDataQuery{lbMetric("errors", "HTTPCode_Target_5XX_Count"), lbMetric("requests", "RequestCount"),
					{ID: ptr("rate"), Expression: ptr("100 * errors / requests"), Label: ptr("5xx %"), ReturnData: ptr(true)}}},
			alarm{name: "lb-latency-high", description: fmt.Sprintf("the app's p99 response time through %s at or above %d ms over 5 minutes", lb, th.LoadBalancerP99Milliseconds),
				namespace: "AWS/ApplicationELB", metric: "TargetResponseTime", extendedStatistic: "p99", dimensions: map[string]string{"LoadBalancer": lb},
				comparison: "GreaterThanOrEqualToThreshold", threshold: float64(th.LoadBalancerP99Milliseconds) / 1000, period: 300, evaluationPeriods: 1})
	}
	out := make([]*cloudwatch.MetricAlarm, 0, len(alarms))
	for _, a := range alarms {
		m := metricAlarm(a, "tenantops-cell-"+c.Name+"-"+a.name, CellNamespace(c), CellLabels(c, ComponentAlerts), topicARN, true,
			map[string]string{"tenantops:cell": c.Name})
		m.Name = a.name
		out = append(out, m)
	}
	return out
}

// highestOf is a metric-math series: the highest of a metric over a cache's nodes.
func highestOf(namespace, metric, stat string, nodes []string) []*cloudwatch.MetricDataQuery {
	var q []*cloudwatch.MetricDataQuery
	ids := ""
	for i, n := range nodes {
		id := fmt.Sprintf("n%d", i+1)
		if ids != "" {
			ids += ", "
		}
		ids += id
		q = append(q, &cloudwatch.MetricDataQuery{ID: ptr(id), ReturnData: ptr(false), MetricStat: &cloudwatch.MetricStat{Period: ptr(int64(300)), Stat: ptr(stat),
			Metric: &cloudwatch.Metric{Namespace: ptr(namespace), MetricName: ptr(metric), Dimensions: []*cloudwatch.Dimension{{Name: ptr("CacheClusterId"), Value: ptr(n)}}}}})
	}
	return append(q, &cloudwatch.MetricDataQuery{ID: ptr("highest"), Expression: ptr("MAX([" + ids + "])"), Label: ptr(metric + ", highest node"), ReturnData: ptr(true)})
}

func metricAlarm(a alarm, awsName, namespace string, labels map[string]string, topicARN string, enabled bool, tags map[string]string) *cloudwatch.MetricAlarm {
	spec := cloudwatch.MetricAlarmSpec{
		Name:               ptr(truncate(awsName, 255)),
		AlarmDescription:   ptr(a.description),
		ActionsEnabled:     ptr(enabled),
		AlarmActions:       []*string{ptr(topicARN)},
		OKActions:          []*string{ptr(topicARN)},
		ComparisonOperator: ptr(a.comparison),
		Threshold:          ptr(a.threshold),
		EvaluationPeriods:  ptr(a.evaluationPeriods),
		DatapointsToAlarm:  ptr(a.evaluationPeriods),
		// A database with no data (being created, stopped) is not an alarm.
		TreatMissingData: ptr("notBreaching"),
		Metrics:          a.metrics,
	}
	if a.metrics == nil {
		spec.Namespace, spec.MetricName, spec.Period = ptr(a.namespace), ptr(a.metric), ptr(a.period)
		if a.extendedStatistic != "" {
			spec.ExtendedStatistic = ptr(a.extendedStatistic)
		} else {
			spec.Statistic = ptr(a.statistic)
		}
		for _, k := range sortedKeys(a.dimensions) {
			spec.Dimensions = append(spec.Dimensions, &cloudwatch.Dimension{Name: ptr(k), Value: ptr(a.dimensions[k])})
		}
	}
	tags["tenantops:managed-by"] = saasv1.LabelManagedByValue
	for _, k := range sortedKeys(tags) {
		spec.Tags = append(spec.Tags, &cloudwatch.Tag{Key: ptr(k), Value: ptr(tags[k])})
	}
	return &cloudwatch.MetricAlarm{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Labels: labels}, Spec: spec}
}
