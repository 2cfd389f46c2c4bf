package controllers

import (
	"context"
	"fmt"

	utilptr "k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
	"github.com/tenantops/tenant-operator/controllers/apply"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// Alarms and their topic (spec.alerts): the cell's topic, subscriptions and alarms on its cache
// and load balancer; each tenant's alarms on its database. They report in AlarmsReady, a side
// condition: monitoring that lags or fails never makes a served tenant or cell un-Ready.

// reconcileAlerts keeps the cell's topic, its subscriptions and the cell's own alarms.
func (r *RegionCellReconciler) reconcileAlerts(ctx context.Context, run *cellRun) error {
	c, a := run.cell, r.applier()
	labels := b.CellLabels(c, b.ComponentAlerts)
	if c.Spec.Alerts == nil {
		c.Status.AlertsTopicARN = ""
		run.verdict.Side(verdict.Ready(saasv1.ConditionAlarmsReady, "NotConfigured", "the cell does not alert (spec.alerts)"))
		if !r.Kinds.Alerts {
			return nil
		}
		for _, l := range []client.ObjectList{&cloudwatch.MetricAlarmList{}, &sns.SubscriptionList{}, &sns.TopicList{}} {
			if err := ensureExactly(ctx, a, c, nil, l, run.ns, labels); err != nil {
				return err
			}
		}
		return nil
	}
	if !r.Kinds.Alerts {
		run.verdict.Side(verdict.Stalled(saasv1.ConditionAlarmsReady, "ACKMissing",
			"spec.alerts needs the ACK SNS and CloudWatch controllers: their CRDs are not installed (install them: the operator notices within a minute and restarts to watch them)"))
		return nil
	}
	topic := b.AlertsTopic(c)
	if _, err := a.Ensure(ctx, c, topic); err != nil {
		return verdict.RefusedSide(&run.verdict, saasv1.ConditionAlarmsReady, "InvalidTopic", err)
	}
	var subs []client.Object
	for _, s := range b.AlertSubscriptions(c) {
		subs = append(subs, s)
	}
	if err := ensureExactly(ctx, a, c, subs, &sns.SubscriptionList{}, run.ns, labels); err != nil {
		return verdict.RefusedSide(&run.verdict, saasv1.ConditionAlarmsReady, "InvalidSubscription", err)
	}
	arn := topicARN(topic)
	c.Status.AlertsTopicARN = arn
	if arn == "" {
		st := ack.ReadState(topic.Status.Conditions)
		run.verdict.Side(verdict.ACKSide(saasv1.ConditionAlarmsReady, st, "SNS topic "+b.AlertsTopicAWSName(c)+": "+st.Message, "WaitingForTopic"))
		return nil
	}
	alarms := b.CellAlarms(c, arn)
	states, err := ensureAlarms(ctx, a, c, alarms, run.ns, labels)
	if err != nil {
		return verdict.RefusedSide(&run.verdict, saasv1.ConditionAlarmsReady, "InvalidAlarm", err)
	}
	run.verdict.Side(alarmsPart(states, fmt.Sprintf("%d alarms and %d subscriptions to topic %s", len(alarms), len(subs), b.AlertsTopicAWSName(c))))
	return nil
}

// reconcileAlarms keeps the tenant's database alarms once its cell's topic exists, as its
// effective database is (a resize moves the thresholds). It never holds the steps after it.
func (r *TenantReconciler) reconcileAlarms(ctx context.Context, run *tenantRun) (bool, error) {
	t, c, a := run.t, run.cell, r.applier()
	labels := b.TenantLabels(t, c, b.ComponentAlerts)
	switch {
	case c.Spec.Alerts == nil:
		run.verdict.Side(verdict.Ready(saasv1.ConditionAlarmsReady, "NotConfigured", "the tenant's cell does not alert (spec.alerts)"))
		if !r.Kinds.Alerts {
			return true, nil
		}
		return true, ensureExactly(ctx, a, t, nil, &cloudwatch.MetricAlarmList{}, run.ns, labels)
	case !r.Kinds.Alerts:
		run.verdict.Side(verdict.Stalled(saasv1.ConditionAlarmsReady, "ACKMissing", "the cell alerts, but the ACK CloudWatch controller's CRDs are not installed"))
		return true, nil
	case t.Status.EffectiveDatabase == nil:
		run.verdict.Side(verdict.Waiting(saasv1.ConditionAlarmsReady, "WaitingForDatabase", "the alarms watch the database, not made yet"))
		return true, nil
	case c.Status.AlertsTopicARN == "":
		run.verdict.Side(verdict.Waiting(saasv1.ConditionAlarmsReady, "WaitingForTopic", "waiting for cell "+c.Name+"'s SNS topic"))
		return true, nil
	}
	alarms := b.TenantAlarms(t, c, *t.Status.EffectiveDatabase, c.Status.AlertsTopicARN)
	states, err := ensureAlarms(ctx, a, t, alarms, run.ns, labels)
	if err != nil {
		return true, verdict.RefusedSide(&run.verdict, saasv1.ConditionAlarmsReady, "InvalidAlarm", err)
	}
	what := fmt.Sprintf("%d alarms on database %s to cell %s's topic", len(alarms), t.Status.EffectiveDatabase.Identifier, c.Name)
	if t.Spec.Suspended {
		what += "; their actions are disabled while the tenant is suspended"
	}
	run.verdict.Side(alarmsPart(states, what))
	return true, nil
}

// ensureAlarms makes the alarms exactly these. An alarm whose CloudWatch name changed (an
// operator upgrade that scopes names) is replaced: CloudWatch cannot rename one, and ACK would
// make a second alarm beside the first; the old one is deleted first, the new one made once
// it is gone.
func ensureAlarms(ctx context.Context, a apply.Applier, owner client.Object, alarms []*cloudwatch.MetricAlarm, ns string, labels map[string]string) (map[string]ack.State, error) {
	objs := make([]client.Object, 0, len(alarms))
	states := map[string]ack.State{}
	for _, m := range alarms {
		live := &cloudwatch.MetricAlarm{}
		switch err := a.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: m.Name}, live); {
		case err == nil && (!live.DeletionTimestamp.IsZero() || utilptr.Deref(live.Spec.Name, "") != utilptr.Deref(m.Spec.Name, "")):
			if _, err := a.Absent(ctx, &cloudwatch.MetricAlarm{}, client.ObjectKeyFromObject(live)); err != nil {
				return nil, err
			}
			states[m.Name] = ack.State{Reason: "Renaming", Message: "replacing " + utilptr.Deref(live.Spec.Name, "") + " by " + utilptr.Deref(m.Spec.Name, "")}
			continue
		case client.IgnoreNotFound(err) != nil:
			return nil, err
		}
		objs = append(objs, m)
	}
	if err := ensureExactly(ctx, a, owner, objs, &cloudwatch.MetricAlarmList{}, ns, labels); err != nil {
		return nil, err
	}
	for _, o := range objs {
		m, _ := o.(*cloudwatch.MetricAlarm)
		states[m.Name] = ack.ReadState(m.Status.Conditions)
	}
	return states, nil
}

// alarmsPart is AlarmsReady from the ACK states of the alarms.
func alarmsPart(states map[string]ack.State, what string) verdict.Part {
	name, st := verdict.ACKReport(states)
	if name == "" {
		return verdict.Ready(saasv1.ConditionAlarmsReady, "InSync", what)
	}
	return verdict.ACKSide(saasv1.ConditionAlarmsReady, st, "CloudWatch alarm "+name+": "+st.Message, "")
}

func topicARN(t *sns.Topic) string {
	if m := t.Status.ACKResourceMetadata; m != nil && m.ARN != nil {
		return string(*m.ARN)
	}
	return ""
}

// cellAlarmCount and tenantAlarmCount are how many alarms the cell, and the tenant, have.
func cellAlarmCount(c *saasv1.RegionCell) int {
	if c.Spec.Alerts == nil {
		return 0
	}
	return len(b.CellAlarms(c, ""))
}

func tenantAlarmCount(t *saasv1.Tenant, c *saasv1.RegionCell) int {
	if c.Spec.Alerts == nil || t.Status.EffectiveDatabase == nil {
		return 0
	}
	return len(b.TenantAlarms(t, c, *t.Status.EffectiveDatabase, ""))
}
