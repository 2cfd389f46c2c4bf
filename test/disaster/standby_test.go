package disaster

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	awsrds "github.com/aws/aws-sdk-go-v2/service/rds"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/recovery"
)

// publishLag is RDS's part, played: it publishes a replica's ReplicaLag to CloudWatch in the
// replica's region, ago before now. (RDS publishes once a minute, and the operator reads each
// minute's maximum: the test's readings go a minute apart, so that each is a minute's own.)
func publishLag(t *testing.T, region, id string, seconds float64, ago time.Duration) {
	t.Helper()
	cw := cloudwatch.NewFromConfig(moto.Config(), func(o *cloudwatch.Options) { o.Region = region; o.BaseEndpoint = aws.String(moto.URL) })
	_, err := cw.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/RDS"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("ReplicaLag"), Timestamp: aws.Time(time.Now().Add(-ago)), Value: aws.Float64(seconds),
			Unit: cwtypes.StandardUnitSeconds, Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(id)}}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// A dedicated tenant with a warm standby: the home region keeps a cross-region read replica in
// the partner region (declared with ACK), its lag in status and alarmed; at the failover the
// partner promotes it and adopts it, rather than restoring a copy; the home region, back, lets
// go of the standby without deleting it (it is the partner's database now).
func TestAStandbyIsPromotedAtAFailover(t *testing.T) {
	ctx := context.Background()
	w := homeServes(t, time.Minute, func(tn *saasv1.Tenant) { // restoring a copy would take a minute here: a promotion does not
		tn.Spec.Tier = saasv1.TierDedicated
		tn.Spec.DisasterRecovery = &saasv1.TenantDisasterRecovery{Standby: true}
	})
	east, west := w.east, w.west
	standbyID := recovery.StandbyIdentifier(w.homeDB)

	// ACK (played against moto) made the replica in the partner region, from the home
	// database's ARN, under the partner's key, tagged for a failover to find.
	sb := &rds.DBInstance{}
	if err := east.k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-acme", Name: b.StandbyDBInstanceName}, sb); err != nil {
		t.Fatal(err)
	}
	if sb.Annotations[ack.AnnotationRegion] != partner || !strings.HasSuffix(aws.ToString(sb.Spec.SourceDBInstanceIdentifier), ":"+home+":123456789012:db:"+w.homeDB) ||
		aws.ToString(sb.Spec.SourceRegion) != home || aws.ToString(sb.Spec.KMSKeyID) == "" {
		t.Errorf("the standby's DBInstance: %v %+v", sb.Annotations, sb.Spec)
	}
	d, err := moto.RDS(partner).DescribeDBInstances(ctx, &awsrds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(standbyID)})
	if err != nil || len(d.DBInstances) != 1 || !strings.Contains(aws.ToString(d.DBInstances[0].ReadReplicaSourceDBInstanceIdentifier), w.homeDB) {
		t.Fatalf("the replica in %s: %v", partner, err)
	}

	// No lag reported yet: the standby is there, not yet known good.
	east.waitFor(t, 30*time.Second, "the standby without a lag", func(tn *saasv1.Tenant) error {
		if c := cond(tn, saasv1.ConditionStandbyReady); c.Reason != "LagUnknown" || tn.Status.Standby == nil || tn.Status.Standby.DBInstanceIdentifier != standbyID {
			return fmt.Errorf("StandbyReady %s: %s; status %+v", c.Reason, c.Message, tn.Status.Standby)
		}
		return nil
	})
	publishLag(t, partner, standbyID, 3, 3*time.Minute)
	east.waitFor(t, 30*time.Second, "the standby replicating", func(tn *saasv1.Tenant) error {
		c := cond(tn, saasv1.ConditionStandbyReady)
		if c.Status != metav1.ConditionTrue || c.Reason != "Replicating" || tn.Status.Standby.LagSeconds == nil || *tn.Status.Standby.LagSeconds != 3 {
			return fmt.Errorf("StandbyReady %s: %s; status %+v", c.Reason, c.Message, tn.Status.Standby)
		}
		return nil
	})
	// A burst of writes the replica cannot keep up with: lagging, with an Event; the tenant
	// keeps serving.
	publishLag(t, partner, standbyID, 420, 2*time.Minute)
	lagging := east.waitFor(t, 30*time.Second, "the standby lagging", func(tn *saasv1.Tenant) error {
		c := cond(tn, saasv1.ConditionStandbyReady)
		if c.Status != metav1.ConditionFalse || c.Reason != "StandbyLagging" || *tn.Status.Standby.LagSeconds != 420 || !strings.Contains(c.Message, "7m0s") {
			return fmt.Errorf("StandbyReady %s: %s; status %+v", c.Reason, c.Message, tn.Status.Standby)
		}
		return nil
	})
	if lagging.Status.Phase != saasv1.PhaseReady || cond(lagging, saasv1.ConditionReady).Status != metav1.ConditionTrue {
		t.Errorf("a lagging standby stopped the tenant: phase %s", lagging.Status.Phase)
	}
	if !hasEvent(t, east, "StandbyLagging") {
		t.Error("no StandbyLagging event")
	}
	publishLag(t, partner, standbyID, 1, time.Minute)
	east.waitFor(t, 30*time.Second, "caught up", func(tn *saasv1.Tenant) error {
		if c := cond(tn, saasv1.ConditionStandbyReady); c.Reason != "Replicating" {
			return fmt.Errorf("StandbyReady %s: %s", c.Reason, c.Message)
		}
		return nil
	})

	// The home region is lost. The failover promotes the standby (forced: the home copied the
	// tenant moments ago) and adopts it; no copy is restored.
	east.stop()
	applied := time.Now()
	if err := west.k8s.Create(ctx, &saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "acme"}, Spec: saasv1.TenantSpec{
		DisplayName: "Acme", Region: partner, Subdomain: "acme", AdminEmail: "it@acme.example", Tier: saasv1.TierDedicated,
		RestoreFrom: &saasv1.RestoreSource{FailoverFrom: home, Force: true}}}); err != nil {
		t.Fatal(err)
	}
	over := west.waitFor(t, 30*time.Second, "Ready on the promoted standby", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseReady || tn.Status.RestoredFrom == nil {
			return fmt.Errorf("phase %s; %s", tn.Status.Phase, cond(tn, saasv1.ConditionReady).Message)
		}
		return nil
	})
	t.Logf("RTO with a standby: the failover Tenant applied to Ready in %s (the played RDS would have taken a minute to restore a copy)", time.Since(applied).Round(time.Millisecond))
	if rf := over.Status.RestoredFrom; rf.PromotedStandby != standbyID || rf.SnapshotIdentifier != "" || rf.Region != home || rf.Epoch != 2 {
		t.Errorf("restored from %+v", rf)
	}
	// A reconcile whose cache has not yet seen the takeover recorded promotes again: in AWS the
	// replica is no longer one then, and Promote does nothing (awsrds' test); moto's promoted
	// replica still names its source, so the call reaches it. Each was of the standby.
	if got := west.promoted.all(); len(got) == 0 || slices.ContainsFunc(got, func(p string) bool { return p != partner+"/"+standbyID }) {
		t.Errorf("promotions asked of RDS: %v", got)
	}
	db := &rds.DBInstance{}
	if err := west.k8s.Get(ctx, client.ObjectKey{Namespace: "tenant-acme", Name: b.DBInstanceName}, db); err != nil {
		t.Fatal(err)
	}
	if aws.ToString(db.Spec.DBInstanceIdentifier) != standbyID || db.Spec.DBSnapshotIdentifier != nil || db.Annotations[ack.AnnotationAdoptionPolicy] == "" ||
		!aws.ToBool(db.Spec.MultiAZ) || db.Spec.MasterUserPassword == nil {
		t.Errorf("the partner's DBInstance adopts the standby as the tenant's database: %v %+v", db.Annotations, db.Spec)
	}
	if f, err := w.fences.Read(ctx, w.zoneID, w.fenceName); err != nil || f.Region != partner || f.Epoch != 2 {
		t.Errorf("the fencing record: %+v (%v)", f, err)
	}

	// The home region comes back with its old objects: it stands down and lets go of the
	// standby without deleting it.
	east.start(t)
	east.waitFor(t, time.Minute, "stood down", func(tn *saasv1.Tenant) error {
		if tn.Status.Phase != saasv1.PhaseFailedOver || tn.Status.ServedFrom != partner {
			return fmt.Errorf("phase %s served from %q", tn.Status.Phase, tn.Status.ServedFrom)
		}
		return nil
	})
	waitGone(t, east, &rds.DBInstance{}, "tenant-acme", b.StandbyDBInstanceName)
	if d, err := moto.RDS(partner).DescribeDBInstances(ctx, &awsrds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(standbyID)}); err != nil || len(d.DBInstances) != 1 {
		t.Errorf("the promoted standby in %s after the home's return: %v", partner, err)
	}
}

func hasEvent(t *testing.T, r *region, reason string) bool {
	t.Helper()
	var evs corev1.EventList
	if err := r.k8s.List(context.Background(), &evs); err != nil {
		t.Fatal(err)
	}
	for _, e := range evs.Items {
		if e.Reason == reason {
			return true
		}
	}
	return false
}
