package ack

import (
	"fmt"
	"strings"
	"time"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// State is what an ACK resource's conditions say, in the operator's terms.
type State struct {
	// Synced: ACK.ResourceSynced is True and nothing is terminal; the AWS resource matches its spec.
	Synced bool
	// Terminal: a person must act. ACK.Terminal is True (ACK will not retry until the spec
	// changes), or AWS refused for a service quota (ACK retries, and succeeds once it is raised).
	Terminal bool
	// Reason and Message explain the state, in ACK's words where ACK gave them.
	Reason  string
	Message string
}

// ReadState interprets ACK conditions the way the ACK runtime derives its own Ready condition
// (runtime pkg/runtime/reconciler.go, ensureConditions): Terminal wins, then Recoverable, then
// ResourceSynced.
func ReadState(conditions []*ackv1alpha1.Condition) State {
	find := func(t ackv1alpha1.ConditionType) *ackv1alpha1.Condition { return find(conditions, t) }
	text := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	for _, t := range []ackv1alpha1.ConditionType{ackv1alpha1.ConditionTypeTerminal, ackv1alpha1.ConditionTypeRecoverable} {
		if c := find(t); c != nil && c.Status == corev1.ConditionTrue {
			if q, ok := QuotaOf(text(c.Message)); ok {
				return State{Terminal: true, Reason: "QuotaExceeded", Message: fmt.Sprintf(
					"AWS refused for the quota %s; raise it (%s), and ACK's retries then succeed: nothing is lost meanwhile. AWS said: %s",
					q.Name, q.Raise, text(c.Message))}
			}
		}
	}
	if c := find(ackv1alpha1.ConditionTypeTerminal); c != nil && c.Status == corev1.ConditionTrue {
		return State{Terminal: true, Reason: "ACKTerminal", Message: firstNonEmpty(text(c.Message), text(c.Reason), "ACK reports a terminal error")}
	}
	if c := find(ackv1alpha1.ConditionTypeRecoverable); c != nil && c.Status == corev1.ConditionTrue {
		return State{Reason: "ACKRecoverable", Message: firstNonEmpty(text(c.Message), text(c.Reason), "ACK reports a recoverable error and retries")}
	}
	if c := find(ackv1alpha1.ConditionTypeResourceSynced); c != nil {
		if c.Status == corev1.ConditionTrue {
			return State{Synced: true, Reason: "ACKSynced", Message: "synced with AWS"}
		}
		return State{Reason: "ACKNotSynced", Message: firstNonEmpty(text(c.Message), text(c.Reason), "waiting for AWS")}
	}
	return State{Reason: "WaitingForACK", Message: "waiting for the ACK controller to pick it up"}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// SyncedSince says whether ACK reported the resource synced in a reconcile at or after t. The ACK
// runtime stamps ResourceSynced with the time of every reconcile that sets it, so a synced
// condition stamped before t may predate a change made at t.
func SyncedSince(conditions []*ackv1alpha1.Condition, t time.Time) bool {
	c := find(conditions, ackv1alpha1.ConditionTypeResourceSynced)
	return c != nil && c.Status == corev1.ConditionTrue && c.LastTransitionTime != nil && !c.LastTransitionTime.Time.Before(t.Truncate(time.Second))
}

func find(conditions []*ackv1alpha1.Condition, t ackv1alpha1.ConditionType) *ackv1alpha1.Condition {
	for _, c := range conditions {
		if c != nil && c.Type == t {
			return c
		}
	}
	return nil
}

// Quota is an AWS service quota a refusal names.
type Quota struct {
	// Name says which quota, with its default.
	Name string
	// Raise says how to raise it.
	Raise string
}

// quotas are the error codes AWS answers when a quota that bounds a cell is reached.
var quotas = map[string]Quota{
	"InstanceQuotaExceeded":           {"RDS DB instances per region (default 40)", "Service Quotas: Amazon RDS, DB instances"},
	"DBInstanceQuotaExceeded":         {"RDS DB instances per region (default 40)", "Service Quotas: Amazon RDS, DB instances"},
	"StorageQuotaExceeded":            {"RDS total storage for all DB instances (default 100 TiB)", "Service Quotas: Amazon RDS, Total storage for all DB instances"},
	"SnapshotQuotaExceeded":           {"RDS manual DB snapshots per region (default 100); final snapshots of deleted tenants count", "delete snapshots no longer needed, or Service Quotas: Amazon RDS, Manual DB instance snapshots"},
	"NodeQuotaForCustomerExceeded":    {"ElastiCache nodes per region (default 300)", "Service Quotas: Amazon ElastiCache, Nodes per Region"},
	"NodeQuotaForClusterExceeded":     {"ElastiCache nodes per cluster (default 90)", "Service Quotas: Amazon ElastiCache, Nodes per cluster"},
	"ClusterQuotaForCustomerExceeded": {"ElastiCache clusters per region", "Service Quotas: Amazon ElastiCache"},
	"LimitsExceeded":                  {"Route53 records per hosted zone (default 10,000)", "Service Quotas: Amazon Route 53, Records per hosted zone"},
	"TooManyRules":                    {"ALB rules per load balancer (default 100)", "Service Quotas: Elastic Load Balancing, Rules per Application Load Balancer"},
	"TooManyCertificates":             {"ALB certificates per load balancer (default 25)", "Service Quotas: Elastic Load Balancing, Certificates per Application Load Balancer"},
}

// QuotaOf says which quota an ACK message reports reached, if any.
func QuotaOf(message string) (Quota, bool) {
	for code, q := range quotas {
		if strings.Contains(message, code) {
			return q, true
		}
	}
	return Quota{}, false
}
