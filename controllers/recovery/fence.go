package recovery

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// A Fence says which region serves a tenant that can fail over. It is a TXT record in the
// tenant's hosted zone: Route53's data plane answers while any one region is down, so the
// region taking a tenant over can write it and the region it took over from reads it when it
// comes back, before anyone has changed Git there. No record means the home region serves.
// Each takeover raises the epoch, and is written as a compare-and-swap (Route53 applies a
// change batch whole or not at all, and a DELETE of a value that is not there fails it), so of
// two regions racing for a tenant exactly one wins.
type Fence struct {
	Region string
	Epoch  int64
	At     time.Time
}

// FenceName is the fencing record's name for a tenant served at host.
func FenceName(host string) string { return "_tenantops-owner." + host }

// String is the record's TXT value.
func (f Fence) String() string {
	return fmt.Sprintf("region=%s epoch=%d at=%s", f.Region, f.Epoch, f.At.UTC().Format(time.RFC3339))
}

// ParseFence reads a TXT value written by String.
func ParseFence(v string) (Fence, error) {
	var f Fence
	for _, field := range strings.Fields(strings.Trim(v, `"`)) {
		k, val, _ := strings.Cut(field, "=")
		switch k {
		case "region":
			f.Region = val
		case "epoch":
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return Fence{}, fmt.Errorf("fencing record %q: epoch: %w", v, err)
			}
			f.Epoch = n
		case "at":
			at, err := time.Parse(time.RFC3339, val)
			if err != nil {
				return Fence{}, fmt.Errorf("fencing record %q: at: %w", v, err)
			}
			f.At = at
		}
	}
	if f.Region == "" || f.Epoch < 1 {
		return Fence{}, fmt.Errorf("fencing record %q names no region and epoch", v)
	}
	return f, nil
}

// Fences reads and claims fencing records (awsfence.Client, through Route53).
type Fences interface {
	// Read returns the record, or nil when there is none.
	Read(ctx context.Context, zoneID, name string) (*Fence, error)
	// ReadZone returns every fencing record of a hosted zone, by name.
	ReadZone(ctx context.Context, zoneID string) (map[string]*Fence, error)
	// Claim replaces prev (nil: no record) with next, atomically; it fails when the record is
	// not prev any more.
	Claim(ctx context.Context, zoneID, name string, prev *Fence, next Fence) error
}

// StandsDown says whether a tenant whose data lives in region, serving under epoch held, must
// stand down: the fencing record gives the tenant to another region, or to a later claim (a
// tenant serves only under the epoch it holds). A home tenant holds epoch 1, the one it writes
// first; a failover holds the epoch it claimed (status.restoredFrom.epoch).
func StandsDown(f *Fence, region string, held int64) bool {
	return f != nil && (f.Region != region || f.Epoch > held)
}

// HeldEpoch is the epoch a tenant serves under, and false for a failover that has not claimed
// the tenant yet: it serves nothing, so it has nothing to stand down from.
func HeldEpoch(t *saasv1.Tenant) (int64, bool) {
	switch {
	case t.Status.RestoredFrom != nil:
		return t.Status.RestoredFrom.Epoch, true
	case t.Spec.RestoreFrom != nil && t.Spec.RestoreFrom.FailoverFrom != "":
		return 0, false
	}
	return 1, true
}

// Takeover is the fencing record a region writes to take a tenant over from the record it read.
func Takeover(prev *Fence, region string, now time.Time) Fence {
	next := Fence{Region: region, Epoch: 1, At: now.UTC().Truncate(time.Second)}
	if prev != nil {
		next.Epoch = prev.Epoch + 1
	}
	return next
}

// CopyTags find a tenant's copies made by home in any region: the tags every copy carries.
func CopyTags(tenant, home string) map[string]string {
	return map[string]string{"tenantops:tenant": tenant, "tenantops:home-region": home, "tenantops:purpose": "disaster-recovery"}
}

// FailoverRefusal says why a failover cannot go ahead, or "" when it can: newest is the newest
// available copy of the tenant found in the region taking over (nil: none), standby the home
// region's standby found there (nil: none), homeInterval the copy interval the home region made
// the copy at (from its tags; 0 when unknown). The copies' age is how the home region is judged
// still serving: it copies every interval while it does.
func FailoverRefusal(rf *saasv1.RestoreSource, region string, newest *Snapshot, standby *Replica, homeInterval time.Duration, now time.Time) (reason, msg string) {
	switch {
	case newest == nil && standby == nil:
		return "NoCopies", fmt.Sprintf("spec.restoreFrom.failoverFrom: %s made no copy of this tenant in %s to restore (its cell's spec.disasterRecovery, and the tenant's DisasterRecoveryReady there, say why)", rf.FailoverFrom, region)
	case newest == nil && !rf.Force:
		return "HomeStateUnknown", fmt.Sprintf("%s keeps a standby of this tenant here (%s) but made no copy, so whether it still serves cannot be told. Set spec.restoreFrom.force to promote the standby anyway: if %s still serves, the writes made there after the promotion are lost, and it may keep serving until its operator reads the fencing record",
			rf.FailoverFrom, standby.ID, rf.FailoverFrom)
	case newest == nil:
		return "", ""
	}
	if age := now.Sub(newest.Created); homeInterval > 0 && age < 2*homeInterval && !rf.Force {
		return "HomeStillServing", fmt.Sprintf("%s copied this tenant %s ago (copy %s), within two of its %s intervals: it is probably still serving. Set spec.restoreFrom.force to take it over anyway: the writes made there since that copy (or, with a standby, since its promotion) are lost, and it may keep serving the clients whose DNS answer has not changed until its operator reads the fencing record",
			rf.FailoverFrom, age.Truncate(time.Second), newest.ID, homeInterval)
	}
	return "", ""
}

// Newest is the newest available snapshot, or nil.
func Newest(snaps []Snapshot) *Snapshot {
	var out *Snapshot
	for i := range snaps {
		if snaps[i].Available() && (out == nil || snaps[i].Created.After(out.Created)) {
			out = &snaps[i]
		}
	}
	return out
}
