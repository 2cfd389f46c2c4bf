package ack

import (
	"fmt"
	"strings"
	"testing"
	"time"

	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestReadACKState(t *testing.T) {
	cond := func(typ ackv1alpha1.ConditionType, s corev1.ConditionStatus, msg string) *ackv1alpha1.Condition {
		return &ackv1alpha1.Condition{Type: typ, Status: s, Message: &msg}
	}
	synced := cond(ackv1alpha1.ConditionTypeResourceSynced, corev1.ConditionTrue, "")
	notSynced := cond(ackv1alpha1.ConditionTypeResourceSynced, corev1.ConditionFalse, "creating")
	terminal := cond(ackv1alpha1.ConditionTypeTerminal, corev1.ConditionTrue, "InvalidParameter")
	recoverable := cond(ackv1alpha1.ConditionTypeRecoverable, corev1.ConditionTrue, "Throttling")
	cases := []struct {
		name  string
		conds []*ackv1alpha1.Condition
		want  string
	}{
		{"nothing reported", nil, "false false WaitingForACK"},
		{"synced", []*ackv1alpha1.Condition{synced}, "true false ACKSynced"},
		{"not synced", []*ackv1alpha1.Condition{notSynced}, "false false ACKNotSynced creating"},
		{"terminal wins over synced", []*ackv1alpha1.Condition{synced, terminal}, "false true ACKTerminal InvalidParameter"},
		{"recoverable wins over synced", []*ackv1alpha1.Condition{synced, recoverable}, "false false ACKRecoverable Throttling"},
		{"terminal wins over recoverable", []*ackv1alpha1.Condition{recoverable, terminal}, "false true ACKTerminal InvalidParameter"},
		{"a quota refusal, retried by ACK, needs a person and names the quota", []*ackv1alpha1.Condition{notSynced,
			cond(ackv1alpha1.ConditionTypeRecoverable, corev1.ConditionTrue, "InstanceQuotaExceeded: DB instance quota exceeded")},
			"false true QuotaExceeded AWS refused for the quota RDS DB instances per region (default 40); raise it (Service Quotas: Amazon RDS, DB instances)"},
		{"ElastiCache nodes", []*ackv1alpha1.Condition{cond(ackv1alpha1.ConditionTypeTerminal, corev1.ConditionTrue, "NodeQuotaForCustomerExceeded: ...")},
			"false true QuotaExceeded AWS refused for the quota ElastiCache nodes per region"},
	}
	for _, c := range cases {
		st := ReadState(c.conds)
		got := strings.TrimSpace(fmt.Sprint(st.Synced, " ", st.Terminal, " ", st.Reason, " ", st.Message))
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	now := time.Now()
	stamped := func(at time.Time) []*ackv1alpha1.Condition {
		c := *synced
		c.LastTransitionTime = &metav1.Time{Time: at}
		return []*ackv1alpha1.Condition{&c}
	}
	if SyncedSince(stamped(now.Add(-time.Minute)), now) || !SyncedSince(stamped(now.Add(time.Second)), now) {
		t.Error("SyncedSince: a synced condition stamped before the change must not count, one stamped after must")
	}
}
