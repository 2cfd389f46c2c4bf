package awscw

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/tenantops/tenant-operator/test/testsvc"
)

var moto *testsvc.Moto

func TestMain(m *testing.M) { testsvc.MainWithMoto(m, &moto) }

// RDS's part, played: it publishes ReplicaLag for a replica every minute.
func publishLag(t *testing.T, c *cloudwatch.Client, id string, at time.Time, seconds float64) {
	t.Helper()
	_, err := c.PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{Namespace: aws.String("AWS/RDS"),
		MetricData: []cwtypes.MetricDatum{{MetricName: aws.String("ReplicaLag"), Timestamp: aws.Time(at), Value: aws.Float64(seconds),
			Unit: cwtypes.StandardUnitSeconds, Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(id)}}}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestReplicaLag(t *testing.T) {
	ctx := context.Background()
	const region = "eu-central-1"
	cw := cloudwatch.NewFromConfig(moto.Config(), func(o *cloudwatch.Options) { o.Region = region; o.BaseEndpoint = aws.String(moto.URL) })
	c := &Client{Config: moto.Config(), EndpointURL: moto.URL}
	if _, _, ok, err := c.ReplicaLag(ctx, region, "acme-standby"); err != nil || ok {
		t.Fatalf("a lag before RDS reported one: ok %v (%v)", ok, err)
	}
	now := time.Now().UTC().Truncate(time.Minute)
	publishLag(t, cw, "acme-standby", now.Add(-3*time.Minute), 4)
	publishLag(t, cw, "acme-standby", now.Add(-time.Minute), 42)
	publishLag(t, cw, "initech-standby", now, 900)
	lag, at, ok, err := c.ReplicaLag(ctx, region, "acme-standby")
	// at is the start of the minute the lag was reported in (CloudWatch's period).
	if err != nil || !ok || lag != 42*time.Second || at.Before(now.Add(-2*time.Minute)) || at.After(now) {
		t.Errorf("lag %s at %s ok %v (%v), want the newest: 42s about %s", lag, at, ok, err, now.Add(-time.Minute))
	}
	// Another region's metric is not this one's.
	if _, _, ok, _ := c.ReplicaLag(ctx, "eu-west-1", "acme-standby"); ok {
		t.Error("a lag read from the wrong region")
	}
	// Reported long ago only: none now.
	publishLag(t, cw, "old-standby", now.Add(-time.Hour), 1)
	if _, _, ok, _ := c.ReplicaLag(ctx, region, "old-standby"); ok {
		t.Error("an hour-old lag taken for a current one")
	}
}
