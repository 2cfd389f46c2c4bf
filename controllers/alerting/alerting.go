// Package alerting keeps CloudWatch alarms, the cell's and each tenant's, and reads how ACK made
// them into the AlarmsReady side condition: monitoring that lags or fails never makes a served
// tenant or cell un-Ready.
package alerting

import (
	"context"

	utilptr "k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/cloudwatch"
	"github.com/tenantops/tenant-operator/controllers/apply"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// Ensure makes the alarms exactly these. An alarm whose CloudWatch name changed (an
// operator upgrade that scopes names) is replaced: CloudWatch cannot rename one, and ACK would
// make a second alarm beside the first; the old one is deleted first, the new one made once
// it is gone.
func Ensure(ctx context.Context, a apply.Applier, owner client.Object, alarms []*cloudwatch.MetricAlarm, ns string, labels map[string]string) (map[string]ack.State, error) {
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
	if err := a.Exactly(ctx, owner, objs, &cloudwatch.MetricAlarmList{}, ns, labels); err != nil {
		return nil, err
	}
	for _, o := range objs {
		m, _ := o.(*cloudwatch.MetricAlarm)
		states[m.Name] = ack.ReadState(m.Status.Conditions)
	}
	return states, nil
}

// Part is AlarmsReady from the ACK states of the alarms.
func Part(states map[string]ack.State, what string) verdict.Part {
	name, st := verdict.ACKReport(states)
	if name == "" {
		return verdict.Ready(saasv1.ConditionAlarmsReady, "InSync", what)
	}
	return verdict.ACKSide(saasv1.ConditionAlarmsReady, st, "CloudWatch alarm "+name+": "+st.Message, "")
}
