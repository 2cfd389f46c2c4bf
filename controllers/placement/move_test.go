package placement

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// The move's timeline, one moment at a time: every stage, what moves it on, and how long until
// the clock alone does.
func TestMoveTimeline(t *testing.T) {
	clock := MoveClock{Warmup: 10 * time.Second, Drain: 2 * time.Minute}
	start := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *metav1.Time { m := metav1.NewTime(start.Add(d)); return &m }
	started := &saasv1.TenantMove{From: "a", StartedAt: *at(0)}
	switched := &saasv1.TenantMove{From: "a", StartedAt: *at(0), SwitchedAt: at(15 * time.Second)}
	draining := &saasv1.TenantMove{From: "a", StartedAt: *at(0), SwitchedAt: at(15 * time.Second), DrainingSince: at(time.Minute)}
	cases := []struct {
		name                  string
		move                  *saasv1.TenantMove
		now                   time.Duration
		fromGone              bool
		dnsInSync             bool
		stage                 MoveStage
		next                  time.Duration
		leftServes, dnsOnLeft bool
	}{
		{"no move", nil, 0, false, false, NoMove, 0, false, false},
		{"just started: DNS stays on the cell left for the warm-up", started, 4 * time.Second, false, false, MoveWarmingUp, 6 * time.Second, true, true},
		{"warm-up over: the switch is due", started, 10 * time.Second, false, false, MoveSwitchDue, 0, true, false},
		{"the cell left is gone: nothing to warm up beside", started, time.Second, true, false, MoveSwitchDue, 0, true, false},
		{"switched, Route53 not in sync", switched, 20 * time.Second, false, false, MoveAwaitingDNS, 0, true, false},
		{"switched, Route53 in sync: the drain is due", switched, 30 * time.Second, false, true, MoveDrainDue, 0, true, false},
		{"draining: the cell left serves for the drain", draining, 90 * time.Second, false, true, MoveDraining, 90 * time.Second, true, false},
		{"the drain over: the cell left lets go", draining, 3 * time.Minute, false, true, MoveOver, 0, false, false},
		{"draining, the cell left gone: over at once", draining, 61 * time.Second, true, true, MoveOver, 0, false, false},
	}
	for _, c := range cases {
		st := clock.At(c.move, start.Add(c.now), c.fromGone, c.dnsInSync)
		if st.Stage != c.stage || st.Next != c.next || st.CellLeftServes() != c.leftServes || st.DNSOnCellLeft() != c.dnsOnLeft {
			t.Errorf("%s: stage %d next %s left serves %v DNS on left %v; want %d %s %v %v",
				c.name, st.Stage, st.Next, st.CellLeftServes(), st.DNSOnCellLeft(), c.stage, c.next, c.leftServes, c.dnsOnLeft)
		}
	}
	for move, want := range map[*saasv1.TenantMove]string{started: "DNS still points at a", switched: "waiting for Route53", draining: "a serves clients still resolving"} {
		if got := DescribeMove(move, "b"); !strings.Contains(got, want) || !strings.Contains(got, "from cell a to cell b") {
			t.Errorf("DescribeMove: %q, want it to say %q", got, want)
		}
	}
}
