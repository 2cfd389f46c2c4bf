package tenant

import (
	"context"
	"fmt"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/alerting"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// The tenant's alarms on its database, to its cell's topic. AlarmsReady is a side condition
// (package alerting).
// reconcileAlarms keeps the tenant's database alarms once its cell's topic exists, as its
// effective database is (a resize moves the thresholds). It never holds the steps after it.
func (r *Reconciler) reconcileAlarms(ctx context.Context, run *tenantRun) (bool, error) {
	t, c, a := run.t, run.cell, r.applier()
	labels := b.TenantLabels(t, c, b.ComponentAlerts)
	switch {
	case c.Spec.Alerts == nil:
		run.verdict.Side(verdict.Ready(saasv1.ConditionAlarmsReady, "NotConfigured", "the tenant's cell does not alert (spec.alerts)"))
		if !r.Kinds.Alerts {
			return true, nil
		}
		return true, a.Exactly(ctx, t, nil, &cloudwatch.MetricAlarmList{}, run.ns, labels)
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
	states, err := alerting.Ensure(ctx, a, t, alarms, run.ns, labels)
	if err != nil {
		return true, verdict.RefusedSide(&run.verdict, saasv1.ConditionAlarmsReady, "InvalidAlarm", err)
	}
	what := fmt.Sprintf("%d alarms on database %s to cell %s's topic", len(alarms), t.Status.EffectiveDatabase.Identifier, c.Name)
	if t.Spec.Suspended {
		what += "; their actions are disabled while the tenant is suspended"
	}
	run.verdict.Side(alerting.Part(states, what))
	return true, nil
}
