package regioncell

import (
	"context"
	"fmt"

	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/ack/sns"
	"github.com/tenantops/tenant-operator/controllers/alerting"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// The cell's alerting (spec.alerts): its SNS topic, the subscriptions to it and the cell's own
// alarms on its cache and load balancer. AlarmsReady is a side condition (package alerting).
// reconcileAlerts keeps the cell's topic, its subscriptions and the cell's own alarms.
func (r *Reconciler) reconcileAlerts(ctx context.Context, run *cellRun) error {
	c, a := run.cell, r.applier()
	labels := b.CellLabels(c, b.ComponentAlerts)
	if c.Spec.Alerts == nil {
		c.Status.AlertsTopicARN = ""
		run.verdict.Side(verdict.Ready(saasv1.ConditionAlarmsReady, "NotConfigured", "the cell does not alert (spec.alerts)"))
		if !r.Kinds.Alerts {
			return nil
		}
		for _, l := range []client.ObjectList{&cloudwatch.MetricAlarmList{}, &sns.SubscriptionList{}, &sns.TopicList{}} {
			if err := a.Exactly(ctx, c, nil, l, run.ns, labels); err != nil {
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
	if err := a.Exactly(ctx, c, subs, &sns.SubscriptionList{}, run.ns, labels); err != nil {
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
	states, err := alerting.Ensure(ctx, a, c, alarms, run.ns, labels)
	if err != nil {
		return verdict.RefusedSide(&run.verdict, saasv1.ConditionAlarmsReady, "InvalidAlarm", err)
	}
	run.verdict.Side(alerting.Part(states, fmt.Sprintf("%d alarms and %d subscriptions to topic %s", len(alarms), len(subs), b.AlertsTopicAWSName(c))))
	return nil
}

func topicARN(t *sns.Topic) string {
	if m := t.Status.ACKResourceMetadata; m != nil && m.ARN != nil {
		return string(*m.ARN)
	}
	return ""
}
