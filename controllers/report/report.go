// Package report reads what the cluster reports of the objects the operator made: a
// Deployment rolled out, a Job finished, a pod no node takes, a host an Ingress routes, the state
// RDS gives a database. (What ACK reports is read by package ack.) Its functions are pure.
package report

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/tenantops/tenant-operator/controllers/ack/rds"
)

// RolledOut is `kubectl rollout status` for a Deployment: the controller has seen the current
// template, every wanted replica runs it, none of the old ones is left, and all of them are
// available. Otherwise it says how far along the rollout is.
func RolledOut(dep *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if dep.Spec.Replicas != nil {
		want = *dep.Spec.Replicas
	}
	st := dep.Status
	progress := fmt.Sprintf("%d of %d replicas updated, %d available", st.UpdatedReplicas, want, st.AvailableReplicas)
	done := st.ObservedGeneration >= dep.Generation && st.UpdatedReplicas >= want &&
		st.Replicas == st.UpdatedReplicas && st.AvailableReplicas >= st.UpdatedReplicas
	return done, progress
}

// IngressRoutes says whether the Ingress routes host: by a rule of its own, or by a wildcard of
// its domain (one label deep, as Ingress and ALB wildcards match).
func IngressRoutes(ing *networkingv1.Ingress, host string) bool {
	for _, rule := range ing.Spec.Rules {
		if rule.Host == host || (strings.HasPrefix(rule.Host, "*.") && strings.Count(host, ".") > 0 &&
			host[strings.Index(host, "."):] == rule.Host[1:]) {
			return true
		}
	}
	return false
}

// JobFinished says whether a Job has ended, and whether it failed.
func JobFinished(j *batchv1.Job) (finished, failed bool) {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return true, false
		case batchv1.JobFailed:
			return true, true
		}
	}
	return false, false
}

// UnschedulableSince says since when the scheduler has found no node for the pod.
func UnschedulableSince(p *corev1.Pod) (time.Time, bool) {
	if p.Status.Phase != corev1.PodPending || p.Spec.NodeName != "" {
		return time.Time{}, false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return p.CreationTimestamp.Time, true
		}
	}
	return time.Time{}, false
}

// DBStatus says what RDS reports of a DBInstance, for a message.
func DBStatus(db *rds.DBInstance) string {
	if db.Status.DBInstanceStatus != nil {
		return "is " + *db.Status.DBInstanceStatus
	}
	return "is being created"
}
