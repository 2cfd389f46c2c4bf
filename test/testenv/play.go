package testenv

import (
	"context"
	"time"

	ecv1 "github.com/aws-controllers-k8s/elasticache-controller/apis/v1alpha1"
	ackv1alpha1 "github.com/aws-controllers-k8s/runtime/apis/core/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	"github.com/tenantops/tenant-operator/controllers/ack/route53"
)

// The Play functions stand in for the systems that cannot run beside envtest: the ACK
// controllers (and AWS behind them), the Job and Deployment controllers, the kubelet. Each
// writes only the status that system would write, through the status subresource, and nothing
// else.

// ACKSynced are the conditions the ACK runtime writes when the AWS resource matches its spec.
func ACKSynced() []*ackv1alpha1.Condition {
	msg := "Resource synced successfully"
	now := metav1.Now() // the ACK runtime stamps the condition at every reconcile that sets it
	return []*ackv1alpha1.Condition{{Type: ackv1alpha1.ConditionTypeResourceSynced, Status: corev1.ConditionTrue, Message: &msg, LastTransitionTime: &now}}
}

// ACKTerminal are the conditions the ACK runtime writes when AWS refuses the spec for good.
func ACKTerminal(msg string) []*ackv1alpha1.Condition {
	notSynced := "Resource not synced"
	return []*ackv1alpha1.Condition{
		{Type: ackv1alpha1.ConditionTypeTerminal, Status: corev1.ConditionTrue, Message: &msg},
		{Type: ackv1alpha1.ConditionTypeResourceSynced, Status: corev1.ConditionFalse, Message: &notSynced},
	}
}

// PlayStatus fetches obj, lets set change its status, and writes the status back.
func PlayStatus(ctx context.Context, c client.Client, obj client.Object, ns, name string, set func()) error {
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); err != nil {
		return err
	}
	orig := obj.DeepCopyObject().(client.Object)
	set()
	return c.Status().Patch(ctx, obj, client.MergeFrom(orig))
}

// PlayDBAvailable is the RDS controller reporting the instance available at address:3306.
func PlayDBAvailable(ctx context.Context, c client.Client, ns, name, address string) error {
	return PlayDBAvailableAt(ctx, c, ns, name, address, 3306)
}

// PlayDBAvailableAt is the RDS controller reporting the instance available at address:port.
func PlayDBAvailableAt(ctx context.Context, c client.Client, ns, name, address string, port int64) error {
	db := &rds.DBInstance{}
	return PlayStatus(ctx, c, db, ns, name, func() {
		st := rds.StatusAvailable
		db.Status.Conditions = ACKSynced()
		db.Status.DBInstanceStatus = &st
		db.Status.Endpoint = &rds.Endpoint{Address: &address, Port: &port}
	})
}

// PlayCacheAvailable is the ElastiCache controller reporting the replication group available
// at address:6379.
func PlayCacheAvailable(ctx context.Context, c client.Client, ns, name, address string) error {
	return PlayCacheAvailableAt(ctx, c, ns, name, address, 6379)
}

// PlayCacheAvailableAt is the ElastiCache controller reporting the group available at address:port.
func PlayCacheAvailableAt(ctx context.Context, c client.Client, ns, name, address string, port int64) error {
	rg := &ecv1.ReplicationGroup{}
	return PlayStatus(ctx, c, rg, ns, name, func() {
		st := "available"
		rg.Status.Conditions = ACKSynced()
		rg.Status.Status = &st
		rg.Status.NodeGroups = []*ecv1.NodeGroup{{PrimaryEndpoint: &ecv1.Endpoint{Address: &address, Port: &port}}}
	})
}

// PlayRecordInSync is the Route53 controller reporting the change propagated.
func PlayRecordInSync(ctx context.Context, c client.Client, ns, name string) error {
	rs := &route53.RecordSet{}
	return PlayStatus(ctx, c, rs, ns, name, func() {
		insync := "INSYNC"
		rs.Status.Conditions = ACKSynced()
		rs.Status.Status = &insync
	})
}

// PlayDeploymentAvailable is the Deployment controller and kubelet reporting every replica of
// the current template available.
func PlayDeploymentAvailable(ctx context.Context, c client.Client, ns, name string) error {
	d := &appsv1.Deployment{}
	return PlayStatus(ctx, c, d, ns, name, func() {
		n := int32(1)
		if d.Spec.Replicas != nil {
			n = *d.Spec.Replicas
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: n, UpdatedReplicas: n, ReadyReplicas: n, AvailableReplicas: n}
	})
}

// PlayJobFinished is the Job controller reporting the Job succeeded or failed for good.
func PlayJobFinished(ctx context.Context, c client.Client, ns, name string, succeeded bool) error {
	j := &batchv1.Job{}
	return PlayStatus(ctx, c, j, ns, name, func() {
		now := metav1.Now()
		start := metav1.NewTime(now.Add(-time.Minute))
		j.Status.StartTime = &start
		if succeeded {
			j.Status.CompletionTime = &now
			j.Status.Succeeded = 1
			j.Status.Conditions = []batchv1.JobCondition{
				{Type: batchv1.JobSuccessCriteriaMet, Status: corev1.ConditionTrue, LastTransitionTime: now},
				{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now},
			}
			return
		}
		j.Status.Failed = 3
		j.Status.Conditions = []batchv1.JobCondition{
			{Type: batchv1.JobFailureTarget, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: now},
			{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "BackoffLimitExceeded", LastTransitionTime: now},
		}
	})
}
