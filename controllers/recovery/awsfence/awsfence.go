// Package awsfence reads and claims tenants' fencing records (recovery.Fence), TXT records in
// their Route53 hosted zones, through aws-sdk-go-v2: ACK's RecordSet cannot compare-and-swap,
// and the region taking a tenant over must win alone. Tested against moto_server.
package awsfence

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/tenantops/tenant-operator/controllers/recovery"
)

// TTL of a fencing record: resolvers are not what reads it, the operators are (through the API).
const TTL = 60

// Client reads and claims fencing records.
type Client struct {
	Config aws.Config
	// EndpointURL sends every call to a Route53-compatible server instead of AWS (tests, moto).
	EndpointURL string
}

func (c *Client) api() *route53.Client {
	return route53.NewFromConfig(c.Config, func(o *route53.Options) {
		if o.Region == "" {
			o.Region = "us-east-1" // Route53 is global; its API is signed for us-east-1
		}
		if c.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.EndpointURL)
		}
	})
}

// Read returns the fencing record name of zone zoneID, or nil when there is none.
func (c *Client) Read(ctx context.Context, zoneID, name string) (*recovery.Fence, error) {
	out, err := c.api().ListResourceRecordSets(ctx, &route53.ListResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID), StartRecordName: aws.String(name), StartRecordType: r53types.RRTypeTxt, MaxItems: aws.Int32(1),
	})
	if err != nil {
		return nil, err
	}
	for _, rr := range out.ResourceRecordSets {
		if strings.TrimSuffix(aws.ToString(rr.Name), ".") != strings.TrimSuffix(name, ".") || rr.Type != r53types.RRTypeTxt || len(rr.ResourceRecords) == 0 {
			continue
		}
		f, err := recovery.ParseFence(aws.ToString(rr.ResourceRecords[0].Value))
		if err != nil {
			return nil, err
		}
		return &f, nil
	}
	return nil, nil
}

// Claim replaces prev with next in one change batch: Route53 applies it whole or not at all,
// and refuses the DELETE of a value that is not there, so a record changed since it was read
// fails the claim. With no prev, the batch CREATEs, which Route53 refuses when a record exists.
func (c *Client) Claim(ctx context.Context, zoneID, name string, prev *recovery.Fence, next recovery.Fence) error {
	var changes []r53types.Change
	if prev != nil {
		changes = append(changes, r53types.Change{Action: r53types.ChangeActionDelete, ResourceRecordSet: record(name, *prev)})
	}
	changes = append(changes, r53types.Change{Action: r53types.ChangeActionCreate, ResourceRecordSet: record(name, next)})
	_, err := c.api().ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String(zoneID),
		ChangeBatch:  &r53types.ChangeBatch{Comment: aws.String("tenant-operator: " + next.Region + " serves the tenant"), Changes: changes},
	})
	if err != nil {
		return fmt.Errorf("claiming %s for %s (epoch %d): %w", name, next.Region, next.Epoch, err)
	}
	return nil
}

func record(name string, f recovery.Fence) *r53types.ResourceRecordSet {
	return &r53types.ResourceRecordSet{
		Name: aws.String(name), Type: r53types.RRTypeTxt, TTL: aws.Int64(TTL),
		ResourceRecords: []r53types.ResourceRecord{{Value: aws.String(`"` + f.String() + `"`)}},
	}
}

// ReadZone returns every fencing record of zone zoneID by name: one listing serves all of a
// zone's tenants (Route53 answers 5 requests a second per account; a region of 2,000 tenants
// reads its fences in a few pages, not 2,000 calls).
func (c *Client) ReadZone(ctx context.Context, zoneID string) (map[string]*recovery.Fence, error) {
	out := map[string]*recovery.Fence{}
	pages := route53.NewListResourceRecordSetsPaginator(c.api(), &route53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zoneID)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, rr := range page.ResourceRecordSets {
			name := strings.TrimSuffix(aws.ToString(rr.Name), ".")
			if rr.Type != r53types.RRTypeTxt || !strings.HasPrefix(name, recovery.FenceName("")) || len(rr.ResourceRecords) == 0 {
				continue
			}
			f, err := recovery.ParseFence(aws.ToString(rr.ResourceRecords[0].Value))
			if err != nil {
				return nil, err
			}
			out[name] = &f
		}
	}
	return out, nil
}
