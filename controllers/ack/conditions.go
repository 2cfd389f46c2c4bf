package ack

import (
	"time"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	corev1 "k8s.io/api/core/v1"
)

// State is what an ACK resource's conditions say, in the operator's terms.
type State struct {
	// Synced: ACK.ResourceSynced is True and nothing is terminal; the AWS resource matches its spec.
	Synced bool
	// Terminal: ACK.Terminal is True. ACK will not retry until the spec changes; a person must act.
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
