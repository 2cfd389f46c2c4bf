// Package recovery decides a tenant's copies to its partner region (disaster recovery): which
// jurisdiction a region belongs to, what a tenant's copies are set to, and, from what AWS holds
// of its snapshots in both regions, the next thing to do. It is pure: the decisions are tested
// with plain go test, and the AWS calls live in the awsrds package beside it.
//
// A copy cycle is three steps, each one AWS call: a manual snapshot of the tenant's database in
// its home region, named after the moment it was asked for; its copy, under the same name, in
// the partner region; and, once the copy is available, the recovery point recorded in the
// tenant's status. Nothing of a cycle in flight is kept in Kubernetes: AWS holds it, so a
// restarted operator finds it again (by name) and a cycle costs one status write.
package recovery

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// Jurisdictions says which jurisdiction each region belongs to, as the platform engineer
// configured it: data may be copied only between regions of one jurisdiction.
type Jurisdictions map[string]string

// ParseJurisdictions reads "eu=eu-west-1,eu-central-1;us=us-east-1,us-west-2": jurisdictions
// separated by ';', each a name and its regions. A region in two jurisdictions is refused.
func ParseJurisdictions(s string) (Jurisdictions, error) {
	j := Jurisdictions{}
	for _, group := range strings.Split(s, ";") {
		group = strings.TrimSpace(group)
		if group == "" {
			continue
		}
		name, regions, ok := strings.Cut(group, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("jurisdiction %q: want name=region,region", group)
		}
		for _, r := range strings.Split(regions, ",") {
			r = strings.TrimSpace(r)
			if r == "" {
				continue
			}
			if other, dup := j[r]; dup && other != name {
				return nil, fmt.Errorf("region %s is in two jurisdictions, %s and %s", r, other, name)
			}
			j[r] = name
		}
	}
	return j, nil
}

// Regions lists the regions of jurisdiction name, sorted.
func (j Jurisdictions) Regions(name string) []string {
	var out []string
	for r, n := range j {
		if n == name {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// CheckPartner refuses a partner region outside the home region's jurisdiction, saying why.
func (j Jurisdictions) CheckPartner(home, partner string) error {
	hj, ok := j[home]
	if !ok {
		return fmt.Errorf("spec.disasterRecovery.partnerRegion: the home region %s is in no jurisdiction the operator was given (chart value disasterRecovery.jurisdictions, flag --jurisdictions), so its data may not leave it", home)
	}
	if j[partner] != hj {
		return fmt.Errorf("spec.disasterRecovery.partnerRegion %s is outside the jurisdiction %q of %s (%s): the tenants' data may not go there",
			partner, hj, home, strings.Join(j.Regions(hj), ", "))
	}
	return nil
}

// Settings are a tenant's copies, once the cell and the tenant have had their say.
type Settings struct {
	Home, Partner string
	KMSKeyID      string
	Interval      time.Duration
	Retain        int
}

// DefaultInterval is the cell's copy interval when it names none.
const DefaultInterval = time.Hour

// Off says why a tenant has no copies. Stalled ones need a person.
type Off struct {
	Reason, Message string
	Stalled         bool
}

// For decides a tenant's copy settings from its cell (the cell that made its database: the
// copies follow the data) and its own spec. Without copies it says why.
func For(cell *saasv1.RegionCell, t *saasv1.Tenant, j Jurisdictions) (Settings, *Off) {
	if d := t.Spec.DisasterRecovery; d != nil && d.Copies == saasv1.CopiesDisabled {
		return Settings{}, &Off{Reason: "Disabled", Message: "spec.disasterRecovery.copies is Disabled: the tenant's data stays in " + t.Spec.Region + " only, and it cannot be failed over"}
	}
	dr := cell.Spec.DisasterRecovery
	if dr == nil {
		return Settings{}, &Off{Reason: "NotConfigured", Message: "cell " + cell.Name + " makes no copies out of its region (spec.disasterRecovery)"}
	}
	if err := j.CheckPartner(cell.Spec.Region, dr.PartnerRegion); err != nil {
		return Settings{}, &Off{Reason: "PartnerOutsideJurisdiction", Message: "cell " + cell.Name + ": " + err.Error(), Stalled: true}
	}
	s := Settings{Home: cell.Spec.Region, Partner: dr.PartnerRegion, KMSKeyID: dr.KMSKeyID, Interval: DefaultInterval, Retain: int(dr.RetainCopies)}
	if d, err := time.ParseDuration(dr.CopyInterval); err == nil && d > 0 {
		s.Interval = d
	}
	if d := t.Spec.DisasterRecovery; d != nil && d.CopyInterval != "" {
		if own, err := time.ParseDuration(d.CopyInterval); err == nil && own > 0 && own < s.Interval {
			s.Interval = own
		}
	}
	if s.Retain < 1 {
		s.Retain = 1
	}
	return s, nil
}

// Snapshot is an RDS DB snapshot of a tenant's copies, in one region.
type Snapshot struct {
	ID, ARN string
	// Status as RDS says it: creating, copying, available, failed, ...
	Status string
	// Created is when RDS took the snapshot (for a copy: when its source was taken).
	Created time.Time
	// Tags, where the listing reads them (FindTagged).
	Tags map[string]string
}

// Available is a snapshot RDS finished.
func (s Snapshot) Available() bool { return s.Status == "available" }

// Failed is a snapshot RDS gave up on; it is deleted and the step made again.
func (s Snapshot) Failed() bool {
	switch s.Status {
	case "failed", "error", "incompatible-restore", "incompatible-parameters":
		return true
	}
	return false
}

// SnapshotPrefix starts the name of every copy-cycle snapshot of a database: snapshots of
// other names (final snapshots, a person's own) are never touched.
func SnapshotPrefix(dbIdentifier string) string { return dbIdentifier + "-dr-" }

// SnapshotID names the snapshot of the cycle asked for at now. Names sort as their times do,
// to the second, so the newest is the greatest.
func SnapshotID(dbIdentifier string, now time.Time) string {
	return SnapshotPrefix(dbIdentifier) + strings.ToLower(now.UTC().Format("20060102t150405"))
}

// Tags mark a copy-cycle snapshot in both regions: a failover finds a tenant's copies by them
// (CopyTags), and reads from TagCopyInterval how fresh a copy its home region would have made.
func Tags(t *saasv1.Tenant, cell string, s Settings) map[string]string {
	tags := CopyTags(t.Name, s.Home)
	tags["tenantops:cell"] = cell
	tags["tenantops:managed-by"] = saasv1.LabelManagedByValue
	tags[TagCopyInterval] = s.Interval.String()
	return tags
}

// TagCopyInterval carries the interval a copy was made at.
const TagCopyInterval = "tenantops:copy-interval"

// Observed is what AWS holds of a tenant's copy-cycle snapshots.
type Observed struct {
	// Home are the snapshots in the home region, Partner the copies in the partner region.
	Home, Partner []Snapshot
}

// Plan is the next step of a tenant's copies.
type Plan struct {
	// Create is the name of a snapshot to take in the home region.
	Create string
	// Copy is a home snapshot to copy to the partner region.
	Copy *Snapshot
	// Record is the new recovery point, once a copy is available.
	Record *saasv1.RecoveryPoint
	// DeleteHome and DeletePartner are snapshots to delete: failed ones, home snapshots whose
	// copy is recorded, copies past the retention.
	DeleteHome, DeletePartner []string
	// Failure says what RDS gave up on, when it did.
	Failure string
	// After is when to look again: soon while a step is under way, at the next cycle otherwise.
	After time.Duration
}

// Due says whether a new cycle should start, and if not, how long until it should.
func Due(s Settings, rp *saasv1.RecoveryPoint, now time.Time) (bool, time.Duration) {
	if rp == nil {
		return true, 0
	}
	next := rp.SnapshotTime.Add(s.Interval)
	if !now.Before(next) {
		return true, 0
	}
	return false, next.Sub(now)
}

// Poll is how often a step under way is looked at: a tenth of the interval, between 1 and 30 s.
func Poll(s Settings) time.Duration {
	return min(max(s.Interval/10, time.Second), 30*time.Second)
}

// Next decides the next step of a tenant's copies from what AWS holds. rp is the recovery point
// the tenant's status records. Planning again from what the plan leaves changes nothing new:
// every step is named, so a step asked for twice (an operator restarted between the call and
// its answer) finds the first.
func Next(s Settings, dbIdentifier string, rp *saasv1.RecoveryPoint, obs Observed, now time.Time) Plan {
	prefix := SnapshotPrefix(dbIdentifier)
	home, partner := ours(obs.Home, prefix), ours(obs.Partner, prefix)
	recorded := ""
	if rp != nil {
		recorded = rp.SnapshotIdentifier
	}
	var p Plan
	// Home snapshots up to the recorded one have their copy: they go.
	for _, h := range home {
		if h.ID <= recorded && !strings.HasSuffix(h.Status, "ing") {
			p.DeleteHome = append(p.DeleteHome, h.ID)
		}
	}
	var inFlight *Snapshot
	if len(home) > 0 && home[0].ID > recorded {
		inFlight = &home[0]
	}
	due, wait := Due(s, rp, now)
	switch {
	case inFlight == nil && !due:
		p.After = wait
	case inFlight == nil:
		p.Create, p.After = SnapshotID(dbIdentifier, now), Poll(s)
	case inFlight.Failed():
		p.DeleteHome = append(p.DeleteHome, inFlight.ID)
		p.Failure = fmt.Sprintf("RDS could not take snapshot %s in %s (%s)", inFlight.ID, s.Home, inFlight.Status)
		p.After = Poll(s)
	case !inFlight.Available():
		p.After = Poll(s)
	default:
		cp := find(partner, inFlight.ID)
		switch {
		case cp == nil:
			p.Copy, p.After = inFlight, Poll(s)
		case cp.Failed():
			p.DeletePartner = append(p.DeletePartner, cp.ID)
			p.Failure = fmt.Sprintf("RDS could not copy snapshot %s to %s (%s)", cp.ID, s.Partner, cp.Status)
			p.After = Poll(s)
		case !cp.Available():
			p.After = Poll(s)
		default:
			p.Record = &saasv1.RecoveryPoint{Region: s.Partner, SnapshotIdentifier: inFlight.ID, SnapshotTime: metav1.NewTime(inFlight.Created.UTC().Truncate(time.Second))}
			_, p.After = Due(s, p.Record, now)
			p.After = max(p.After, Poll(s))
		}
	}
	// Copies past the retention go, newest kept; never the one in flight, nor the recorded one
	// until a newer one is recorded.
	if p.Record != nil {
		recorded = p.Record.SnapshotIdentifier
	}
	kept := 0
	for _, c := range partner {
		if c.Failed() && (inFlight == nil || c.ID != inFlight.ID) {
			if !slices.Contains(p.DeletePartner, c.ID) {
				p.DeletePartner = append(p.DeletePartner, c.ID)
			}
			continue
		}
		if !c.Available() || (inFlight != nil && c.ID == inFlight.ID) || c.ID == recorded {
			kept++
			continue
		}
		if kept < s.Retain {
			kept++
			continue
		}
		p.DeletePartner = append(p.DeletePartner, c.ID)
	}
	return p
}

// ours keeps the snapshots of the tenant's copy cycles, newest first.
func ours(all []Snapshot, prefix string) []Snapshot {
	var out []Snapshot
	for _, s := range all {
		if strings.HasPrefix(s.ID, prefix) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].ID > out[k].ID })
	return out
}

func find(all []Snapshot, id string) *Snapshot {
	for i := range all {
		if all[i].ID == id {
			return &all[i]
		}
	}
	return nil
}

// Late says whether the tenant's newest copy is older than twice its interval; since is when
// copies became possible (the database available), for a tenant with none yet.
func Late(s Settings, rp *saasv1.RecoveryPoint, since, now time.Time) bool {
	from := since
	if rp != nil {
		from = rp.SnapshotTime.Time
	}
	return now.Sub(from) > 2*s.Interval
}

// Part is the tenant's DisasterRecoveryReady condition. Its message names no snapshot and no
// time, so it changes only when the state does: a cycle costs one status write (the recovery
// point), not two. failure is what went wrong in this reconcile, if anything did.
func Part(s Settings, off *Off, rp *saasv1.RecoveryPoint, late bool, failure string) verdict.Part {
	typ := saasv1.ConditionDisasterRecoveryReady
	switch {
	case off != nil && off.Stalled:
		return verdict.Stalled(typ, off.Reason, off.Message)
	case off != nil:
		return verdict.Ready(typ, off.Reason, off.Message)
	case late:
		msg := fmt.Sprintf("the newest copy in %s is older than %s, twice the copy interval", s.Partner, 2*s.Interval)
		if rp == nil {
			msg = fmt.Sprintf("no copy reached %s in %s, twice the copy interval", s.Partner, 2*s.Interval)
		}
		if failure != "" {
			msg += ": " + failure
		}
		return verdict.Stalled(typ, "CopiesLate", msg)
	case rp == nil && failure != "":
		return verdict.Waiting(typ, "CopyFailed", "the first copy to "+s.Partner+" failed and is made again: "+failure)
	case rp == nil:
		return verdict.Waiting(typ, "FirstCopyPending", "the first copy to "+s.Partner+" is being made")
	}
	return verdict.Ready(typ, "CopiesCurrent", fmt.Sprintf("copied to %s every %s, the newest %d kept; status.recoveryPoint is the newest", s.Partner, s.Interval, s.Retain))
}

// Copier is what the copies need of RDS, in any region (awsrds.Client).
type Copier interface {
	List(ctx context.Context, region, dbIdentifier, prefix string) ([]Snapshot, error)
	Create(ctx context.Context, region, dbIdentifier, snapshotID string, tags map[string]string) error
	Copy(ctx context.Context, src Snapshot, from, to, kmsKeyID string, tags map[string]string) error
	Delete(ctx context.Context, region, snapshotID string) error
	// FindTagged lists the manual snapshots of region that carry every tag of tags.
	FindTagged(ctx context.Context, region string, tags map[string]string) ([]Snapshot, error)
}
