package recovery

import (
	"context"
	"fmt"
	"time"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// A warm standby is a cross-region read replica of a dedicated tenant's database in its cell's
// partner region (Tenant spec.disasterRecovery.standby). The home region declares it with ACK;
// the partner region promotes it at a failover (ACK has no promote) and adopts it.

// DefaultStandbyMaxLag is the lag past which a standby is reported lagging when the cell names
// none.
const DefaultStandbyMaxLag = 5 * time.Minute

// LagPoll is how often a standby's lag is read: RDS publishes ReplicaLag once a minute.
const LagPoll = time.Minute

// StandbySettings are where a tenant's standby lives and how it is watched.
type StandbySettings struct {
	Home, Partner    string
	KMSKeyID         string
	SubnetGroupName  string
	SecurityGroupIDs []string
	MaxLag           time.Duration
}

// StandbyFor is the tenant's standby in cell, or why it has none: nil settings and "" when it
// asks for none; nil settings and a reason (for the StandbyReady condition) when it asks but
// cannot have one.
func StandbyFor(cell *saasv1.RegionCell, t *saasv1.Tenant, j Jurisdictions) (*StandbySettings, *Off) {
	if d := t.Spec.DisasterRecovery; d == nil || !d.Standby {
		return nil, nil
	}
	if t.Spec.Tier != saasv1.TierDedicated {
		// Admission refuses it; a tenant written before the rule says so here.
		return nil, &Off{Reason: "NotDedicated", Stalled: true, Message: "spec.disasterRecovery.standby is for tier dedicated tenants"}
	}
	s, off := For(cell, t, j)
	if off != nil {
		return nil, &Off{Reason: off.Reason, Stalled: true, Message: "spec.disasterRecovery.standby: " + off.Message}
	}
	dr := cell.Spec.DisasterRecovery
	st := &StandbySettings{Home: s.Home, Partner: s.Partner, KMSKeyID: s.KMSKeyID, SubnetGroupName: dr.StandbyDBSubnetGroupName,
		SecurityGroupIDs: dr.StandbySecurityGroupIDs, MaxLag: DefaultStandbyMaxLag}
	if d, err := time.ParseDuration(dr.StandbyMaxLag); err == nil && d > 0 {
		st.MaxLag = d
	}
	return st, nil
}

// StandbyIdentifier is the RDS identifier of the standby of database home (at most 63
// characters, as RDS allows).
func StandbyIdentifier(home string) string {
	const suffix = "-standby"
	if len(home) > 63-len(suffix) {
		home = home[:63-len(suffix)]
	}
	return home + suffix
}

// StandbyTags find a tenant's standby made by home, in the region it is in.
func StandbyTags(tenant, home string) map[string]string {
	return map[string]string{"tenantops:tenant": tenant, "tenantops:home-region": home, "tenantops:purpose": "standby"}
}

// Replica is a read replica as RDS describes it.
type Replica struct {
	ID, ARN string
	// Status as RDS says it: creating, available, ...
	Status string
	// Source is the instance it replicates (its ARN across regions); RDS clears it once the
	// replica is promoted.
	Source string
}

// Available is a replica RDS finished making (or promoting).
func (r Replica) Available() bool { return r.Status == "available" }

// Standbys is what a failover needs of RDS to take a standby over (awsrds.Client).
type Standbys interface {
	// FindStandby is the instance of region that carries every tag of tags, or nil.
	FindStandby(ctx context.Context, region string, tags map[string]string) (*Replica, error)
	// Promote makes the replica id of region a standalone instance; promoting one promoted
	// already is done.
	Promote(ctx context.Context, region, id string) error
}

// LagReader reads a replica's lag (RDS's ReplicaLag metric, through CloudWatch).
type LagReader interface {
	// ReplicaLag is the newest lag reported for instance id of region, and when; ok is false
	// when RDS reported none in the last minutes.
	ReplicaLag(ctx context.Context, region, id string) (lag time.Duration, at time.Time, ok bool, err error)
}

// RecordLag says whether a lag just measured is written to status, where recorded is written
// now: a first measure, a move by half of it or by 30 s, or a crossing of maxLag. Small
// wobbles cost no write.
func RecordLag(recorded *int64, lag, maxLag time.Duration) bool {
	if recorded == nil {
		return true
	}
	was := time.Duration(*recorded) * time.Second
	if (was > maxLag) != (lag > maxLag) {
		return true
	}
	diff := lag - was
	if diff < 0 {
		diff = -diff
	}
	return diff >= 30*time.Second || (was > 0 && diff*2 >= was && diff >= 2*time.Second)
}

// StandbyObserved is what the home region knows of its standby.
type StandbyObserved struct {
	// Exists: ACK made the replica; Available: RDS reports it available.
	Exists, Available bool
	// Failure is what ACK or RDS reported wrong with it ("" when nothing).
	Failure string
	// Lag is the newest lag measured, when LagKnown.
	Lag      time.Duration
	LagKnown bool
}

// StandbyPart is the tenant's StandbyReady condition.
func StandbyPart(s *StandbySettings, id string, o StandbyObserved) verdict.Part {
	typ := saasv1.ConditionStandbyReady
	where := fmt.Sprintf("read replica %s in %s", id, s.Partner)
	switch {
	case o.Failure != "":
		return verdict.Stalled(typ, "StandbyFailed", where+": "+o.Failure)
	case !o.Exists || !o.Available:
		return verdict.Waiting(typ, "StandbyCreating", where+" is being made (RDS copies the database across regions first)")
	case !o.LagKnown:
		return verdict.Waiting(typ, "LagUnknown", where+" is available; RDS has reported no replica lag for it yet")
	case o.Lag > s.MaxLag:
		return verdict.Waiting(typ, "StandbyLagging", fmt.Sprintf("%s trails its source by %s, more than %s (spec.disasterRecovery.standbyMaxLag of the cell): a failover now would lose that much",
			where, o.Lag.Truncate(time.Second), s.MaxLag))
	}
	return verdict.Ready(typ, "Replicating", fmt.Sprintf("%s replicates, %s behind (at most %s)", where, o.Lag.Truncate(time.Second), s.MaxLag))
}
