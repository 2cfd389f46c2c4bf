// Package awsrds takes, copies, lists and deletes a tenant's copy-cycle snapshots through
// aws-sdk-go-v2 (ACK has no cross-region snapshot copy). It decides nothing: the recovery
// package does. Tested against moto_server, an AWS-protocol server.
package awsrds

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/tenantops/tenant-operator/controllers/recovery"
)

// Client talks to RDS in any region with one configuration.
type Client struct {
	Config aws.Config
	// EndpointURL sends every call to an RDS-compatible server instead of AWS (tests, moto).
	EndpointURL string

	mu      sync.Mutex
	regions map[string]*rds.Client
}

func (c *Client) in(region string) *rds.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.regions == nil {
		c.regions = map[string]*rds.Client{}
	}
	if rc, ok := c.regions[region]; ok {
		return rc
	}
	rc := rds.NewFromConfig(c.Config, func(o *rds.Options) {
		o.Region = region
		if c.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.EndpointURL)
		}
	})
	c.regions[region] = rc
	return rc
}

// List returns the manual snapshots of database dbIdentifier in region whose names start with
// prefix (copies keep their source's database identifier, so this finds them in the partner
// region too).
func (c *Client) List(ctx context.Context, region, dbIdentifier, prefix string) ([]recovery.Snapshot, error) {
	var out []recovery.Snapshot
	pages := rds.NewDescribeDBSnapshotsPaginator(c.in(region), &rds.DescribeDBSnapshotsInput{
		DBInstanceIdentifier: aws.String(dbIdentifier),
		SnapshotType:         aws.String("manual"),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			var nf *rdstypes.DBInstanceNotFoundFault
			if errors.As(err, &nf) {
				return out, nil
			}
			return nil, err
		}
		for _, s := range page.DBSnapshots {
			id := aws.ToString(s.DBSnapshotIdentifier)
			if !strings.HasPrefix(id, prefix) {
				continue
			}
			out = append(out, snapshotOf(s))
		}
	}
	return out, nil
}

// Create takes a manual snapshot of dbIdentifier in region. A snapshot of that name already
// there is the one asked for before (an operator restarted between the call and its answer).
func (c *Client) Create(ctx context.Context, region, dbIdentifier, snapshotID string, tags map[string]string) error {
	_, err := c.in(region).CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{
		DBInstanceIdentifier: aws.String(dbIdentifier),
		DBSnapshotIdentifier: aws.String(snapshotID),
		Tags:                 rdsTags(tags),
	})
	var exists *rdstypes.DBSnapshotAlreadyExistsFault
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

// Copy copies a snapshot of region from to region to, under the same name, encrypted with
// kmsKeyID (a key of region to). The SDK signs the source region's part of the request
// (SourceRegion), as RDS requires of a cross-region copy of an encrypted snapshot.
func (c *Client) Copy(ctx context.Context, src recovery.Snapshot, from, to, kmsKeyID string, tags map[string]string) error {
	_, err := c.in(to).CopyDBSnapshot(ctx, &rds.CopyDBSnapshotInput{
		SourceDBSnapshotIdentifier: aws.String(src.ARN),
		TargetDBSnapshotIdentifier: aws.String(src.ID),
		SourceRegion:               aws.String(from),
		KmsKeyId:                   aws.String(kmsKeyID),
		Tags:                       rdsTags(tags),
	})
	var exists *rdstypes.DBSnapshotAlreadyExistsFault
	if errors.As(err, &exists) {
		return nil
	}
	return err
}

// Delete deletes a snapshot of region; one already gone is fine.
func (c *Client) Delete(ctx context.Context, region, snapshotID string) error {
	_, err := c.in(region).DeleteDBSnapshot(ctx, &rds.DeleteDBSnapshotInput{DBSnapshotIdentifier: aws.String(snapshotID)})
	var nf *rdstypes.DBSnapshotNotFoundFault
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

func rdsTags(tags map[string]string) []rdstypes.Tag {
	out := make([]rdstypes.Tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, rdstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return out
}

// FindTagged lists the manual snapshots of region carrying every tag of want (a failover's
// search for a tenant's copies: it does not know the home region's database identifier).
func (c *Client) FindTagged(ctx context.Context, region string, want map[string]string) ([]recovery.Snapshot, error) {
	var out []recovery.Snapshot
	pages := rds.NewDescribeDBSnapshotsPaginator(c.in(region), &rds.DescribeDBSnapshotsInput{SnapshotType: aws.String("manual")})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range page.DBSnapshots {
			tags := map[string]string{}
			for _, tg := range s.TagList {
				tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			matches := true
			for k, v := range want {
				matches = matches && tags[k] == v
			}
			if !matches {
				continue
			}
			snap := snapshotOf(s)
			snap.Tags = tags
			out = append(out, snap)
		}
	}
	return out, nil
}

func snapshotOf(s rdstypes.DBSnapshot) recovery.Snapshot {
	snap := recovery.Snapshot{ID: aws.ToString(s.DBSnapshotIdentifier), ARN: aws.ToString(s.DBSnapshotArn), Status: aws.ToString(s.Status)}
	switch {
	case s.OriginalSnapshotCreateTime != nil:
		// A copy's own creation time is the copy's; the data is as of its source's.
		snap.Created = *s.OriginalSnapshotCreateTime
	case s.SnapshotCreateTime != nil:
		snap.Created = *s.SnapshotCreateTime
	}
	return snap
}

// FindStandby is the DB instance of region carrying every tag of want (a failover's search for
// the home region's standby: it does not know the home region's identifiers), or nil.
func (c *Client) FindStandby(ctx context.Context, region string, want map[string]string) (*recovery.Replica, error) {
	pages := rds.NewDescribeDBInstancesPaginator(c.in(region), &rds.DescribeDBInstancesInput{})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, in := range page.DBInstances {
			tags := map[string]string{}
			for _, tg := range in.TagList {
				tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
			}
			matches := true
			for k, v := range want {
				matches = matches && tags[k] == v
			}
			if matches {
				return &recovery.Replica{ID: aws.ToString(in.DBInstanceIdentifier), ARN: aws.ToString(in.DBInstanceArn),
					Status: aws.ToString(in.DBInstanceStatus), Source: aws.ToString(in.ReadReplicaSourceDBInstanceIdentifier)}, nil
			}
		}
	}
	return nil, nil
}

// Promote makes the read replica id of region a standalone instance (PromoteReadReplica: ACK
// has none). One that is no longer a replica was promoted before (an operator restarted between
// the call and its record): nothing to do.
func (c *Client) Promote(ctx context.Context, region, id string) error {
	out, err := c.in(region).DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		return err
	}
	if len(out.DBInstances) == 1 && aws.ToString(out.DBInstances[0].ReadReplicaSourceDBInstanceIdentifier) == "" {
		return nil
	}
	_, err = c.in(region).PromoteReadReplica(ctx, &rds.PromoteReadReplicaInput{DBInstanceIdentifier: aws.String(id)})
	return err
}
