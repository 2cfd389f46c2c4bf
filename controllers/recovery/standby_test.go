package recovery

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

func TestStandbyFor(t *testing.T) {
	j, _ := ParseJurisdictions("eu=eu-west-1,eu-central-1;us=us-east-1")
	cell := func(partner, maxLag string) *saasv1.RegionCell {
		c := &saasv1.RegionCell{ObjectMeta: metav1.ObjectMeta{Name: "euw1"}, Spec: saasv1.RegionCellSpec{Region: "eu-west-1"}}
		if partner != "" {
			c.Spec.DisasterRecovery = &saasv1.CellDisasterRecovery{PartnerRegion: partner, KMSKeyID: "alias/dr", StandbyMaxLag: maxLag,
				StandbyDBSubnetGroupName: "partner-dbs", StandbySecurityGroupIDs: []string{"sg-1"}}
		}
		return c
	}
	tenant := func(tier string, standby bool, copies string) *saasv1.Tenant {
		return &saasv1.Tenant{Spec: saasv1.TenantSpec{Region: "eu-west-1", Tier: tier,
			DisasterRecovery: &saasv1.TenantDisasterRecovery{Standby: standby, Copies: copies}}}
	}
	cases := []struct {
		name       string
		c          *saasv1.RegionCell
		t          *saasv1.Tenant
		want       bool
		offReason  string
		wantMaxLag time.Duration
	}{
		{"not asked", cell("eu-central-1", ""), tenant(saasv1.TierDedicated, false, saasv1.CopiesInherit), false, "", 0},
		{"asked, dedicated", cell("eu-central-1", ""), tenant(saasv1.TierDedicated, true, saasv1.CopiesInherit), true, "", DefaultStandbyMaxLag},
		{"the cell's threshold", cell("eu-central-1", "30s"), tenant(saasv1.TierDedicated, true, saasv1.CopiesInherit), true, "", 30 * time.Second},
		{"pooled", cell("eu-central-1", ""), tenant(saasv1.TierPooled, true, saasv1.CopiesInherit), false, "NotDedicated", 0},
		{"no partner", cell("", ""), tenant(saasv1.TierDedicated, true, saasv1.CopiesInherit), false, "NotConfigured", 0},
		{"partner abroad", cell("us-east-1", ""), tenant(saasv1.TierDedicated, true, saasv1.CopiesInherit), false, "PartnerOutsideJurisdiction", 0},
		{"copies off", cell("eu-central-1", ""), tenant(saasv1.TierDedicated, true, saasv1.CopiesDisabled), false, "Disabled", 0},
	}
	for _, c := range cases {
		s, off := StandbyFor(c.c, c.t, j)
		switch {
		case (s != nil) != c.want:
			t.Errorf("%s: settings %+v", c.name, s)
		case c.offReason == "" && off != nil:
			t.Errorf("%s: off %+v", c.name, off)
		case c.offReason != "" && (off == nil || off.Reason != c.offReason || !off.Stalled || !strings.Contains(off.Message, "standby")):
			t.Errorf("%s: off %+v, want reason %s", c.name, off, c.offReason)
		case s != nil && (s.Partner != "eu-central-1" || s.Home != "eu-west-1" || s.KMSKeyID != "alias/dr" || s.MaxLag != c.wantMaxLag ||
			s.SubnetGroupName != "partner-dbs" || len(s.SecurityGroupIDs) != 1):
			t.Errorf("%s: settings %+v", c.name, s)
		}
	}
}

func TestStandbyIdentifier(t *testing.T) {
	if got := StandbyIdentifier("tenant-euw1-acme"); got != "tenant-euw1-acme-standby" {
		t.Errorf("short: %s", got)
	}
	long := StandbyIdentifier(strings.Repeat("a", 63))
	if len(long) != 63 || !strings.HasSuffix(long, "-standby") {
		t.Errorf("long: %s (%d)", long, len(long))
	}
}

func TestRecordLag(t *testing.T) {
	sec := func(n int64) *int64 { return &n }
	max := 5 * time.Minute
	cases := []struct {
		name     string
		recorded *int64
		lag      time.Duration
		want     bool
	}{
		{"first measure", nil, 0, true},
		{"the same", sec(3), 3 * time.Second, false},
		{"a wobble", sec(3), 4 * time.Second, false},
		{"doubled", sec(4), 8 * time.Second, true},
		{"back to zero from 1 s", sec(1), 0, false},
		{"30 s more", sec(100), 130 * time.Second, true},
		{"20 s more on 100", sec(100), 120 * time.Second, false},
		{"crossing the threshold", sec(299), 301 * time.Second, true},
		{"back under it", sec(301), 299 * time.Second, true},
	}
	for _, c := range cases {
		if got := RecordLag(c.recorded, c.lag, max); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestStandbyPart(t *testing.T) {
	s := &StandbySettings{Partner: "eu-central-1", MaxLag: time.Minute}
	cases := []struct {
		name    string
		o       StandbyObserved
		status  metav1.ConditionStatus
		stalled bool
		reason  string
	}{
		{"being made", StandbyObserved{Exists: true}, metav1.ConditionFalse, false, "StandbyCreating"},
		{"no lag yet", StandbyObserved{Exists: true, Available: true}, metav1.ConditionFalse, false, "LagUnknown"},
		{"replicating", StandbyObserved{Exists: true, Available: true, LagKnown: true, Lag: 2 * time.Second}, metav1.ConditionTrue, false, "Replicating"},
		{"lagging", StandbyObserved{Exists: true, Available: true, LagKnown: true, Lag: 2 * time.Minute}, metav1.ConditionFalse, false, "StandbyLagging"},
		{"failed", StandbyObserved{Exists: true, Failure: "replication error"}, metav1.ConditionFalse, true, "StandbyFailed"},
	}
	for _, c := range cases {
		p := StandbyPart(s, "x-standby", c.o)
		if p.Type != saasv1.ConditionStandbyReady || p.Status != c.status || p.Stalled != c.stalled || p.Reason != c.reason || !strings.Contains(p.Message, "x-standby") {
			t.Errorf("%s: %+v", c.name, p)
		}
	}
}
