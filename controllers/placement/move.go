package placement

import (
	"fmt"
	"time"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// A move between two cells of a region, in the order it happens:
//
//  1. The new cell is given the tenant (its configuration for a pooled tenant, a rule on its
//     load balancer for a dedicated one); the old cell keeps serving. DNS points at the old cell.
//  2. Warmup after the start, once the new cell serves the tenant, the DNS record is pointed at
//     the new cell's load balancer (status.move.switchedAt).
//  3. When Route53 reports the change in sync (status.move.drainingSince), clients that resolved
//     the old answer still reach the old cell: it serves them for Drain more.
//  4. The old cell lets go; the move ends.
//
// So some cell serves the tenant at every moment, and both serve it for Warmup, plus Route53's
// propagation, plus Drain; the database is never touched. A cell left that no longer exists
// serves nobody: there is nothing to warm up beside or drain from.

// MoveStage is where a move stands.
type MoveStage int

const (
	// NoMove: the tenant is not moving.
	NoMove MoveStage = iota
	// MoveWarmingUp: both cells serve; DNS points at the cell left until the warm-up is over.
	MoveWarmingUp
	// MoveSwitchDue: the warm-up is over; DNS is to point at the new cell now.
	MoveSwitchDue
	// MoveAwaitingDNS: DNS was switched; Route53 has not reported the change in sync.
	MoveAwaitingDNS
	// MoveDrainDue: Route53 reports the switch in sync; the drain starts now.
	MoveDrainDue
	// MoveDraining: the cell left serves clients still resolving the old answer.
	MoveDraining
	// MoveOver: the drain is over; the cell left lets the tenant go.
	MoveOver
)

// MoveClock is how long a move's stages last.
type MoveClock struct {
	// Warmup is how long the new cell serves before DNS is switched to it.
	Warmup time.Duration
	// Drain is how long the cell left serves after Route53 has the switch in sync.
	Drain time.Duration
}

// MoveState is where a move stands at a moment.
type MoveState struct {
	Stage MoveStage
	// Next is how long until the clock alone moves the stage on; 0 when only an event (the
	// record in sync) or the caller recording a due transition does.
	Next time.Duration
}

// At says where move m stands at now. fromGone: the cell left no longer exists. dnsInSync:
// Route53 reports the tenant's record in sync since m.SwitchedAt.
func (c MoveClock) At(m *saasv1.TenantMove, now time.Time, fromGone, dnsInSync bool) MoveState {
	switch {
	case m == nil:
		return MoveState{Stage: NoMove}
	case m.SwitchedAt == nil:
		if wait := m.StartedAt.Add(c.Warmup).Sub(now); wait > 0 && !fromGone {
			return MoveState{Stage: MoveWarmingUp, Next: wait}
		}
		return MoveState{Stage: MoveSwitchDue}
	case m.DrainingSince == nil:
		if dnsInSync {
			return MoveState{Stage: MoveDrainDue}
		}
		return MoveState{Stage: MoveAwaitingDNS}
	}
	if wait := m.DrainingSince.Add(c.Drain).Sub(now); wait > 0 && !fromGone {
		return MoveState{Stage: MoveDraining, Next: wait}
	}
	return MoveState{Stage: MoveOver}
}

// CellLeftServes says whether the cell a move leaves still serves the tenant at this stage.
func (s MoveState) CellLeftServes() bool { return s.Stage != NoMove && s.Stage != MoveOver }

// DNSOnCellLeft says whether the tenant's record still aliases the cell left at this stage.
func (s MoveState) DNSOnCellLeft() bool { return s.Stage == MoveWarmingUp }

// DescribeMove says where move m to cell to stands, for the Placed condition.
func DescribeMove(m *saasv1.TenantMove, to string) string {
	switch {
	case m.SwitchedAt == nil:
		return fmt.Sprintf("moving from cell %s to cell %s: both serve the tenant; DNS still points at %s and switches once %s serves it and its warm-up has passed",
			m.From, to, m.From, to)
	case m.DrainingSince == nil:
		return fmt.Sprintf("moving from cell %s to cell %s: DNS switched at %s; waiting for Route53 to report it in sync", m.From, to, m.SwitchedAt.UTC().Format(time.RFC3339))
	default:
		return fmt.Sprintf("moving from cell %s to cell %s: DNS in sync since %s; %s serves clients still resolving the old answer until the drain ends",
			m.From, to, m.DrainingSince.UTC().Format(time.RFC3339), m.From)
	}
}
