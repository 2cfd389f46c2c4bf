package recovery

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

var euUS = Jurisdictions{"eu-west-1": "eu", "eu-central-1": "eu", "us-east-1": "us", "us-west-2": "us"}

func TestParseJurisdictions(t *testing.T) {
	j, err := ParseJurisdictions(" eu=eu-west-1, eu-central-1 ;us=us-east-1,us-west-2;")
	if err != nil || !reflect.DeepEqual(j, euUS) {
		t.Fatalf("got %v, %v; want %v", j, err, euUS)
	}
	for _, bad := range []string{"eu-west-1", "=eu-west-1", "eu=eu-west-1;us=eu-west-1"} {
		if _, err := ParseJurisdictions(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
	if j, err := ParseJurisdictions(""); err != nil || len(j) != 0 {
		t.Errorf("empty: %v %v", j, err)
	}
}

func TestCheckPartner(t *testing.T) {
	for _, c := range []struct {
		home, partner, wantErr string
	}{
		{"eu-west-1", "eu-central-1", ""},
		{"eu-west-1", "us-east-1", `outside the jurisdiction "eu" of eu-west-1 (eu-central-1, eu-west-1)`},
		{"eu-west-1", "ap-south-1", "outside the jurisdiction"},
		{"ap-south-1", "ap-south-2", "the home region ap-south-1 is in no jurisdiction"},
	} {
		err := euUS.CheckPartner(c.home, c.partner)
		if (c.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s -> %s: %v, want %q", c.home, c.partner, err, c.wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "spec.disasterRecovery.partnerRegion") {
			t.Errorf("%v does not name the field", err)
		}
	}
}

func cellWith(dr *saasv1.CellDisasterRecovery) *saasv1.RegionCell {
	c := &saasv1.RegionCell{Spec: saasv1.RegionCellSpec{Region: "eu-west-1", DisasterRecovery: dr}}
	c.Name = "eu-west-1-a"
	return c
}

func TestFor(t *testing.T) {
	dr := &saasv1.CellDisasterRecovery{PartnerRegion: "eu-central-1", KMSKeyID: "alias/dr", CopyInterval: "1h", RetainCopies: 24}
	tenant := func(d *saasv1.TenantDisasterRecovery) *saasv1.Tenant {
		return &saasv1.Tenant{Spec: saasv1.TenantSpec{Region: "eu-west-1", DisasterRecovery: d}}
	}
	for _, c := range []struct {
		name       string
		cell       *saasv1.RegionCell
		t          *saasv1.Tenant
		want       Settings
		wantReason string
		stalled    bool
	}{
		{"the cell's copies", cellWith(dr), tenant(nil), Settings{"eu-west-1", "eu-central-1", "alias/dr", time.Hour, 24}, "", false},
		{"a cell without copies", cellWith(nil), tenant(nil), Settings{}, "NotConfigured", false},
		{"a tenant opted out", cellWith(dr), tenant(&saasv1.TenantDisasterRecovery{Copies: saasv1.CopiesDisabled}), Settings{}, "Disabled", false},
		{"a tenant asking for more", cellWith(dr), tenant(&saasv1.TenantDisasterRecovery{Copies: saasv1.CopiesInherit, CopyInterval: "15m"}),
			Settings{"eu-west-1", "eu-central-1", "alias/dr", 15 * time.Minute, 24}, "", false},
		{"a tenant asking for less is not taken", cellWith(dr), tenant(&saasv1.TenantDisasterRecovery{CopyInterval: "6h"}),
			Settings{"eu-west-1", "eu-central-1", "alias/dr", time.Hour, 24}, "", false},
		{"a partner outside the jurisdiction", cellWith(&saasv1.CellDisasterRecovery{PartnerRegion: "us-east-1", KMSKeyID: "alias/dr"}), tenant(nil),
			Settings{}, "PartnerOutsideJurisdiction", true},
		{"defaults when the cell names no interval", cellWith(&saasv1.CellDisasterRecovery{PartnerRegion: "eu-central-1", KMSKeyID: "k"}), tenant(nil),
			Settings{"eu-west-1", "eu-central-1", "k", DefaultInterval, 1}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, off := For(c.cell, c.t, euUS)
			if got != c.want {
				t.Errorf("settings %+v, want %+v", got, c.want)
			}
			switch {
			case c.wantReason == "" && off != nil:
				t.Errorf("off: %+v", off)
			case c.wantReason != "" && (off == nil || off.Reason != c.wantReason || off.Stalled != c.stalled):
				t.Errorf("off %+v, want %s stalled=%v", off, c.wantReason, c.stalled)
			}
		})
	}
}

func TestSnapshotIDSortsAsTime(t *testing.T) {
	a := SnapshotID("tenant-eu-west-1-a-acme", time.Date(2026, 12, 6, 9, 59, 59, 0, time.UTC))
	b := SnapshotID("tenant-eu-west-1-a-acme", time.Date(2026, 12, 6, 10, 0, 0, 0, time.FixedZone("CET", 3600)))
	if a != "tenant-eu-west-1-a-acme-dr-20261206t095959" {
		t.Errorf("id %s", a)
	}
	if b >= a { // 10:00 CET is 09:00 UTC
		t.Errorf("%s should sort before %s", b, a)
	}
}

func TestNext(t *testing.T) {
	s := Settings{Home: "eu-west-1", Partner: "eu-central-1", KMSKeyID: "alias/dr", Interval: time.Hour, Retain: 2}
	const db = "tenant-a-acme"
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	snap := func(at time.Time, status string) Snapshot {
		return Snapshot{ID: SnapshotID(db, at), ARN: "arn:" + SnapshotID(db, at), Status: status, Created: at}
	}
	rpAt := func(at time.Time) *saasv1.RecoveryPoint {
		return &saasv1.RecoveryPoint{Region: "eu-central-1", SnapshotIdentifier: SnapshotID(db, at), SnapshotTime: metav1.NewTime(at)}
	}
	h := func(d time.Duration) time.Time { return now.Add(-d) }
	cycle := h(2 * time.Minute) // the snapshot of the cycle under way
	for _, c := range []struct {
		name string
		rp   *saasv1.RecoveryPoint
		obs  Observed
		want Plan
	}{
		{"a first copy: snapshot now", nil, Observed{},
			Plan{Create: SnapshotID(db, now), After: 30 * time.Second}},
		{"not due: look again at the next cycle", rpAt(h(20 * time.Minute)), Observed{Home: []Snapshot{snap(h(20*time.Minute), "available")}, Partner: []Snapshot{snap(h(20*time.Minute), "available")}},
			Plan{DeleteHome: []string{SnapshotID(db, h(20*time.Minute))}, After: 40 * time.Minute}},
		{"due: snapshot now", rpAt(h(time.Hour)), Observed{Partner: []Snapshot{snap(h(time.Hour), "available")}},
			Plan{Create: SnapshotID(db, now), After: 30 * time.Second}},
		{"the snapshot is being taken", rpAt(h(time.Hour)), Observed{Home: []Snapshot{snap(cycle, "creating")}},
			Plan{After: 30 * time.Second}},
		{"the snapshot is taken: copy it", rpAt(h(time.Hour)), Observed{Home: []Snapshot{snap(cycle, "available")}, Partner: []Snapshot{snap(h(time.Hour), "available")}},
			Plan{Copy: &Snapshot{ID: SnapshotID(db, cycle), ARN: "arn:" + SnapshotID(db, cycle), Status: "available", Created: cycle}, After: 30 * time.Second}},
		{"the copy is under way", rpAt(h(time.Hour)), Observed{Home: []Snapshot{snap(cycle, "available")}, Partner: []Snapshot{snap(cycle, "copying"), snap(h(time.Hour), "available")}},
			Plan{After: 30 * time.Second}},
		{"the copy is there: record it, prune past the retention", rpAt(h(time.Hour)),
			Observed{Home: []Snapshot{snap(cycle, "available"), snap(h(time.Hour), "available")},
				Partner: []Snapshot{snap(h(3*time.Hour), "available"), snap(cycle, "available"), snap(h(time.Hour), "available"), snap(h(2*time.Hour), "available")}},
			Plan{Record: rpAt(cycle), DeleteHome: []string{SnapshotID(db, h(time.Hour))},
				DeletePartner: []string{SnapshotID(db, h(2*time.Hour)), SnapshotID(db, h(3*time.Hour))}, After: 58 * time.Minute}},
		{"RDS failed the snapshot: delete it and take another", rpAt(h(time.Hour)), Observed{Home: []Snapshot{snap(cycle, "failed")}},
			Plan{DeleteHome: []string{SnapshotID(db, cycle)}, Failure: "RDS could not take snapshot " + SnapshotID(db, cycle) + " in eu-west-1 (failed)", After: 30 * time.Second}},
		{"RDS failed the copy: delete it and copy again", rpAt(h(time.Hour)), Observed{Home: []Snapshot{snap(cycle, "available")}, Partner: []Snapshot{snap(cycle, "failed")}},
			Plan{DeletePartner: []string{SnapshotID(db, cycle)}, Failure: "RDS could not copy snapshot " + SnapshotID(db, cycle) + " to eu-central-1 (failed)", After: 30 * time.Second}},
		{"snapshots not of the copy cycles are never touched", rpAt(h(time.Hour)),
			Observed{Home: []Snapshot{{ID: db + "-final-20261201", Status: "available"}}, Partner: []Snapshot{{ID: "someone-elses", Status: "available"}}},
			Plan{Create: SnapshotID(db, now), After: 30 * time.Second}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := Next(s, db, c.rp, c.obs, now)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// Planning again once a plan's steps are done asks for nothing new: a cycle converges.
func TestNextConverges(t *testing.T) {
	s := Settings{Home: "eu-west-1", Partner: "eu-central-1", Interval: time.Hour, Retain: 3}
	const db = "tenant-a-acme"
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	var obs Observed
	var rp *saasv1.RecoveryPoint
	writes := 0
	for i := 0; i < 50; i++ {
		p := Next(s, db, rp, obs, now)
		if p.Create != "" {
			obs.Home = append(obs.Home, Snapshot{ID: p.Create, Status: "available", Created: now})
		}
		if p.Copy != nil {
			obs.Partner = append(obs.Partner, Snapshot{ID: p.Copy.ID, Status: "available", Created: p.Copy.Created})
		}
		if p.Record != nil {
			rp = p.Record
			writes++
		}
		obs.Home = without(obs.Home, p.DeleteHome)
		obs.Partner = without(obs.Partner, p.DeletePartner)
		// While a copy is made the partner holds one more than the retention: the recovery
		// point stays until the new one is recorded.
		if len(obs.Partner) > 4 || (p.Record != nil && writes > 3 && len(obs.Partner) != 3) || len(obs.Home) > 2 {
			t.Fatalf("step %d: %d copies (retain 3), %d home snapshots", i, len(obs.Partner), len(obs.Home))
		}
		now = now.Add(p.After)
	}
	if rp == nil || now.Sub(rp.SnapshotTime.Time) > s.Interval+time.Hour {
		t.Errorf("recovery point %v at %v", rp, now)
	}
	if writes < 10 {
		t.Errorf("only %d cycles recorded in 50 steps", writes)
	}
}

func without(all []Snapshot, ids []string) []Snapshot {
	var out []Snapshot
	for _, s := range all {
		gone := false
		for _, id := range ids {
			gone = gone || s.ID == id
		}
		if !gone {
			out = append(out, s)
		}
	}
	return out
}

func TestLateAndPart(t *testing.T) {
	s := Settings{Partner: "eu-central-1", Interval: time.Hour, Retain: 24}
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	fresh := &saasv1.RecoveryPoint{SnapshotTime: metav1.NewTime(now.Add(-90 * time.Minute))}
	stale := &saasv1.RecoveryPoint{SnapshotTime: metav1.NewTime(now.Add(-121 * time.Minute))}
	if Late(s, fresh, time.Time{}, now) || !Late(s, stale, time.Time{}, now) {
		t.Error("late past twice the interval only")
	}
	if Late(s, nil, now.Add(-time.Hour), now) || !Late(s, nil, now.Add(-3*time.Hour), now) {
		t.Error("a tenant with no copy yet is late twice the interval after copies became possible")
	}
	for _, c := range []struct {
		name           string
		off            *Off
		rp             *saasv1.RecoveryPoint
		late           bool
		failure        string
		reason         string
		status, stalls bool
	}{
		{"off", &Off{Reason: "NotConfigured"}, nil, false, "", "NotConfigured", true, false},
		{"refused partner", &Off{Reason: "PartnerOutsideJurisdiction", Stalled: true}, nil, false, "", "PartnerOutsideJurisdiction", false, true},
		{"first copy", nil, nil, false, "", "FirstCopyPending", false, false},
		{"first copy failing", nil, nil, false, "boom", "CopyFailed", false, false},
		{"current", nil, fresh, false, "", "CopiesCurrent", true, false},
		{"current with a failure: not yet late", nil, fresh, false, "boom", "CopiesCurrent", true, false},
		{"late", nil, stale, true, "KMS key not accessible", "CopiesLate", false, true},
	} {
		p := Part(s, c.off, c.rp, c.late, c.failure)
		if p.Reason != c.reason || (p.Status == metav1.ConditionTrue) != c.status || p.Stalled != c.stalls {
			t.Errorf("%s: %+v", c.name, p)
		}
		if c.late && !strings.Contains(p.Message, c.failure) {
			t.Errorf("%s: the message %q does not say what failed", c.name, p.Message)
		}
	}
	// The message of a current tenant names no snapshot or time: a new copy is not a new message.
	if a, b := Part(s, nil, fresh, false, ""), Part(s, nil, stale, false, ""); a.Message != b.Message {
		t.Errorf("the message changes with the recovery point: %q, %q", a.Message, b.Message)
	}
}

func TestFences(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	f := Takeover(nil, "us-east-2", at)
	if f != (Fence{Region: "us-east-2", Epoch: 1, At: at}) {
		t.Fatalf("first fence %+v", f)
	}
	back, err := ParseFence(`"` + f.String() + `"`)
	if err != nil || back != f {
		t.Fatalf("parsed %+v (%v) from %q", back, err, f.String())
	}
	for _, bad := range []string{"", "region=us-east-2", "region=x epoch=zero", "epoch=2 at=2026-12-06T12:00:00Z"} {
		if _, err := ParseFence(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	over := Takeover(&f, "us-west-1", at.Add(time.Hour))
	if over.Epoch != 2 || over.Region != "us-west-1" {
		t.Fatalf("takeover %+v", over)
	}
	home := &saasv1.Tenant{Spec: saasv1.TenantSpec{Region: "us-east-2"}}
	pending := &saasv1.Tenant{Spec: saasv1.TenantSpec{Region: "us-west-1", RestoreFrom: &saasv1.RestoreSource{FailoverFrom: "us-east-2"}}}
	restored := pending.DeepCopy()
	restored.Status.RestoredFrom = &saasv1.RestoredFrom{Epoch: 2}
	for _, c := range []struct {
		name   string
		t      *saasv1.Tenant
		fence  *Fence
		stands bool
	}{
		{"home, no fence yet", home, nil, false},
		{"home, its own fence", home, &f, false},
		{"home, taken over", home, &over, true},
		{"home, a later claim of its own region (a failback elsewhere)", home, &Fence{Region: "us-east-2", Epoch: 3}, true},
		{"a failover not claimed yet serves nothing: nothing to stand down from", pending, &f, false},
		{"a failover under its claim", restored, &over, false},
		{"a failover failed back", restored, &Fence{Region: "us-east-2", Epoch: 3}, true},
	} {
		held, serves := HeldEpoch(c.t)
		if got := serves && StandsDown(c.fence, c.t.Spec.Region, held); got != c.stands {
			t.Errorf("%s: stands down %v", c.name, got)
		}
	}
}

func TestFailoverRefusal(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	rf := &saasv1.RestoreSource{FailoverFrom: "us-east-2"}
	fresh := &Snapshot{ID: "x-dr-1", Status: "available", Created: now.Add(-30 * time.Minute)}
	old := &Snapshot{ID: "x-dr-0", Status: "available", Created: now.Add(-3 * time.Hour)}
	if r, msg := FailoverRefusal(rf, "us-west-1", nil, nil, 0, now); r != "NoCopies" || !strings.Contains(msg, "spec.restoreFrom.failoverFrom") {
		t.Errorf("no copies: %s %s", r, msg)
	}
	if r, msg := FailoverRefusal(rf, "us-west-1", fresh, nil, time.Hour, now); r != "HomeStillServing" || !strings.Contains(msg, "force") || !strings.Contains(msg, "lost") {
		t.Errorf("a fresh copy: %s %s", r, msg)
	}
	if r, _ := FailoverRefusal(rf, "us-west-1", old, nil, time.Hour, now); r != "" {
		t.Errorf("an old copy: %s", r)
	}
	forced := &saasv1.RestoreSource{FailoverFrom: "us-east-2", Force: true}
	if r, _ := FailoverRefusal(forced, "us-west-1", fresh, nil, time.Hour, now); r != "" {
		t.Errorf("forced: %s", r)
	}
	// A standby but no copy: whether the home still serves cannot be told, so only by force.
	standby := &Replica{ID: "x-standby", Status: "available"}
	if r, msg := FailoverRefusal(rf, "us-west-1", nil, standby, 0, now); r != "HomeStateUnknown" || !strings.Contains(msg, "x-standby") || !strings.Contains(msg, "force") {
		t.Errorf("a standby without copies: %s %s", r, msg)
	}
	if r, _ := FailoverRefusal(forced, "us-west-1", nil, standby, 0, now); r != "" {
		t.Errorf("a standby without copies, forced: %s", r)
	}
	// With copies, they judge the home, standby or not.
	if r, _ := FailoverRefusal(rf, "us-west-1", fresh, standby, time.Hour, now); r != "HomeStillServing" {
		t.Errorf("a standby and a fresh copy: %s", r)
	}
	if r, _ := FailoverRefusal(rf, "us-west-1", old, standby, time.Hour, now); r != "" {
		t.Errorf("a standby and an old copy: %s", r)
	}
	if n := Newest([]Snapshot{*old, {ID: "c", Status: "copying", Created: now}, *fresh}); n == nil || n.ID != fresh.ID {
		t.Errorf("newest %+v", n)
	}
}
