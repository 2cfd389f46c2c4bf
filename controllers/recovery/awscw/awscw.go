// Package awscw reads a warm standby's replica lag from CloudWatch (RDS's ReplicaLag metric)
// through aws-sdk-go-v2. It decides nothing: the recovery package does. Tested against
// moto_server, an AWS-protocol server. The module is held at v1.45 (AWS JSON protocol): later
// releases speak CloudWatch's CBOR protocol, which moto 5.2.1 does not, and the query this
// package makes is the same in both.
package awscw

import (
	"context"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// Client talks to CloudWatch in any region with one configuration.
type Client struct {
	Config aws.Config
	// EndpointURL sends every call to a CloudWatch-compatible server instead of AWS (tests, moto).
	EndpointURL string
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	mu      sync.Mutex
	regions map[string]*cloudwatch.Client
}

func (c *Client) in(region string) *cloudwatch.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.regions == nil {
		c.regions = map[string]*cloudwatch.Client{}
	}
	if cc, ok := c.regions[region]; ok {
		return cc
	}
	cc := cloudwatch.NewFromConfig(c.Config, func(o *cloudwatch.Options) {
		o.Region = region
		if c.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.EndpointURL)
		}
	})
	c.regions[region] = cc
	return cc
}

// lookBack is how far back a lag is looked for: RDS publishes it every minute, so a replica
// with nothing in ten minutes reports nothing.
const lookBack = 10 * time.Minute

// ReplicaLag is the newest ReplicaLag (the minute's maximum) RDS reported for instance id of
// region in the last ten minutes; ok is false when there is none.
func (c *Client) ReplicaLag(ctx context.Context, region, id string) (time.Duration, time.Time, bool, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	end := now().Add(time.Minute)
	out, err := c.in(region).GetMetricData(ctx, &cloudwatch.GetMetricDataInput{
		StartTime: aws.Time(end.Add(-lookBack)), EndTime: aws.Time(end),
		ScanBy: cwtypes.ScanByTimestampDescending,
		MetricDataQueries: []cwtypes.MetricDataQuery{{
			Id: aws.String("lag"),
			MetricStat: &cwtypes.MetricStat{
				Metric: &cwtypes.Metric{Namespace: aws.String("AWS/RDS"), MetricName: aws.String("ReplicaLag"),
					Dimensions: []cwtypes.Dimension{{Name: aws.String("DBInstanceIdentifier"), Value: aws.String(id)}}},
				Period: aws.Int32(60), Stat: aws.String("Maximum"),
			},
		}},
	})
	if err != nil {
		return 0, time.Time{}, false, err
	}
	var newest time.Time
	var lag float64
	found := false
	for _, r := range out.MetricDataResults {
		for i, at := range r.Timestamps {
			if i < len(r.Values) && (!found || at.After(newest)) {
				newest, lag, found = at, r.Values[i], true
			}
		}
	}
	if !found {
		return 0, time.Time{}, false, nil
	}
	return time.Duration(lag * float64(time.Second)), newest, true, nil
}
