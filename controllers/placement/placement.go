// Package placement decides where a tenant is served: which cell of its region takes it, which
// tenant holds a subdomain, whether a move between cells may happen, and how a move goes on in
// time. Its functions are pure: they read the tenants and cells the caller listed and the clock
// the caller passes, so every rule is tested with plain go test.
package placement

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/verdict"
)

// Reasons a tenant is not (yet) in the cell it asks for.
const (
	ReasonRegionFull        = "RegionFull"
	ReasonCellMissing       = "CellMissing"
	ReasonCellFull          = "CellFull"
	ReasonCellInOtherRegion = "CellInOtherRegion"
	ReasonMoveRefused       = "MoveRefused"
	// ReasonBaseDomainAmbiguous: the region's cells serve several base domains and the tenant
	// names none; its URL must not depend on which cell has room.
	ReasonBaseDomainAmbiguous = "BaseDomainAmbiguous"
	// ReasonBaseDomainMismatch: the cell the tenant is pinned to (or placed in) serves another
	// base domain than its spec.baseDomain.
	ReasonBaseDomainMismatch = "BaseDomainMismatch"
	// ReasonNoCellForBaseDomain: no cell of the region serves the tenant's base domain yet.
	ReasonNoCellForBaseDomain = "NoCellForBaseDomain"
)

// Decision is the cell a tenant goes to, or why it waits.
type Decision struct {
	Cell    string
	Reason  string
	Message string
	// Stalled: waiting will not help; the spec must change.
	Stalled bool
}

// occupancy is what a cell holds: tenants placed in it, and tenants moving out of it, which it
// still serves.
type occupancy struct{ tenants, dedicated int32 }

func (o *occupancy) add(t *saasv1.Tenant) {
	o.tenants++
	if t.Spec.Tier == saasv1.TierDedicated {
		o.dedicated++
	}
}

// WantsCell says whether t waits for a Cell: it was never placed, or its spec.cell names
// another cell than the one it is in and no move is under way.
func WantsCell(t *saasv1.Tenant) bool {
	return t.DeletionTimestamp.IsZero() && (t.Status.Cell == "" ||
		(t.Spec.Cell != "" && t.Spec.Cell != t.Status.Cell && t.Status.Move == nil))
}

// Decide decides where t goes among cells (every cell the operator sees) given the
// tenants of t's region. Every tenant waiting for a cell is placed in turn, oldest first, by the
// same rule, so that reconciles running at once, each deciding for its own tenant, agree on the
// queue and never put more tenants in a cell than it takes:
//   - a tenant with spec.cell goes there once the cell has room;
//   - any other goes to the least full cell of its region and base domain with room (by share
//     of maxTenants, then by count, then by name), and waits while every such cell is full.
//
// A dedicated tenant also needs a dedicated place (spec.capacity.maxDedicatedTenants). Only real
// claims take room: a tenant being deleted keeps its place until it is gone (its load balancer
// rule lives until then), while a waiting tenant that will never be placed there (its subdomain
// belongs to an older tenant, or its move is refused) takes none.
func Decide(t *saasv1.Tenant, cells []saasv1.RegionCell, region []saasv1.Tenant) Decision {
	occ := map[string]*occupancy{}
	for i := range cells {
		occ[cells[i].Name] = &occupancy{}
	}
	count := func(cell string, o *saasv1.Tenant) {
		if oc, ok := occ[cell]; ok {
			oc.add(o)
		}
	}
	var queue []*saasv1.Tenant
	// A subdomain is claimed by a placed tenant, else by the oldest waiting one: a younger
	// waiting tenant of the same subdomain is never placed, so it takes no room.
	held := map[string]bool{}
	for i := range region {
		o := &region[i]
		if o.UID == t.UID {
			continue
		}
		if o.Status.Cell != "" {
			count(o.Status.Cell, o)
			held[o.Spec.Subdomain] = true
		}
		if o.Status.Move != nil {
			count(o.Status.Move.From, o)
		}
		if WantsCell(o) && olderThan(&o.ObjectMeta, &t.ObjectMeta) {
			queue = append(queue, o)
		}
	}
	if t.Status.Cell != "" {
		count(t.Status.Cell, t)
	}
	sort.Slice(queue, func(i, j int) bool { return olderThan(&queue[i].ObjectMeta, &queue[j].ObjectMeta) })
	for _, q := range queue {
		if q.Status.Cell == "" {
			if held[q.Spec.Subdomain] {
				continue
			}
			held[q.Spec.Subdomain] = true
		} else if from, to := FindCell(cells, q.Status.Cell), FindCell(cells, q.Spec.Cell); from != nil && to != nil && MoveRefusal(from, to) != "" {
			continue
		}
		if p := chooseCell(q, cells, occ); p.Cell != "" {
			occ[p.Cell].add(q)
		}
	}
	return chooseCell(t, cells, occ)
}

// chooseCell is the rule for one tenant, given what each cell holds.
func chooseCell(t *saasv1.Tenant, cells []saasv1.RegionCell, occ map[string]*occupancy) Decision {
	if t.Spec.Cell != "" {
		c := FindCell(cells, t.Spec.Cell)
		switch {
		case c == nil:
			return Decision{Reason: ReasonCellMissing, Message: fmt.Sprintf(
				"spec.cell names RegionCell %s, which does not exist; the tenant waits for it (or remove spec.cell to let the operator choose)", t.Spec.Cell)}
		case c.Spec.Region != t.Spec.Region:
			return Decision{Reason: ReasonCellInOtherRegion, Stalled: true, Message: fmt.Sprintf(
				"spec.cell names RegionCell %s of region %s; a tenant of %s is served only by cells of its region (its data stays there)",
				c.Name, c.Spec.Region, t.Spec.Region)}
		case t.Spec.BaseDomain != "" && c.Spec.BaseDomain != t.Spec.BaseDomain:
			return Decision{Reason: ReasonBaseDomainMismatch, Stalled: true, Message: fmt.Sprintf(
				"spec.cell names RegionCell %s, which serves %s; the tenant's spec.baseDomain is %s: pin it to a cell of %s",
				c.Name, c.Spec.BaseDomain, t.Spec.BaseDomain, t.Spec.BaseDomain)}
		case !c.DeletionTimestamp.IsZero():
			return Decision{Reason: ReasonCellMissing, Message: fmt.Sprintf("spec.cell names RegionCell %s, which is being deleted", c.Name)}
		case !hasRoom(c, occ[c.Name], t):
			return Decision{Reason: ReasonCellFull, Message: fmt.Sprintf("cell %s is full (%s); the tenant waits for room", c.Name, describeRoom(c, occ[c.Name], t))}
		}
		return Decision{Cell: c.Name}
	}
	domain, p := tenantBaseDomain(t, cells)
	if domain == "" {
		return p
	}
	var best *saasv1.RegionCell
	var full []string
	for i := range cells {
		c := &cells[i]
		if c.Spec.Region != t.Spec.Region || !c.DeletionTimestamp.IsZero() || c.Spec.BaseDomain != domain {
			continue
		}
		if !hasRoom(c, occ[c.Name], t) {
			full = append(full, c.Name+" "+describeRoom(c, occ[c.Name], t))
			continue
		}
		if best == nil || lessFull(c, occ[c.Name], best, occ[best.Name]) {
			best = c
		}
	}
	if best == nil && len(full) == 0 {
		return Decision{Reason: ReasonNoCellForBaseDomain, Message: fmt.Sprintf(
			"no cell of region %s serves spec.baseDomain %s; the tenant waits for one (or set spec.baseDomain to a domain a cell of the region serves)",
			t.Spec.Region, domain)}
	}
	if best == nil {
		sort.Strings(full)
		return Decision{Reason: ReasonRegionFull, Message: fmt.Sprintf(
			"every cell of region %s serving %s is full (%s); the tenant waits for room: raise spec.capacity of a cell, or add a RegionCell to the region",
			t.Spec.Region, domain, strings.Join(verdict.Few(full, 5), "; "))}
	}
	return Decision{Cell: best.Name}
}

// tenantBaseDomain is the base domain an unpinned tenant is served under: its spec.baseDomain,
// or the one base domain its region's cells serve. Where they serve several and the tenant
// names none, its URL would depend on which cell has room: it waits for a person to choose.
func tenantBaseDomain(t *saasv1.Tenant, cells []saasv1.RegionCell) (string, Decision) {
	if t.Spec.BaseDomain != "" {
		return t.Spec.BaseDomain, Decision{}
	}
	var domains []string
	for i := range cells {
		c := &cells[i]
		if c.Spec.Region == t.Spec.Region && c.DeletionTimestamp.IsZero() && !slices.Contains(domains, c.Spec.BaseDomain) {
			domains = append(domains, c.Spec.BaseDomain)
		}
	}
	switch len(domains) {
	case 0:
		return "", Decision{Reason: ReasonRegionFull, Message: fmt.Sprintf("region %s has no cell that takes tenants; the tenant waits for a RegionCell", t.Spec.Region)}
	case 1:
		return domains[0], Decision{}
	}
	sort.Strings(domains)
	return "", Decision{Reason: ReasonBaseDomainAmbiguous, Stalled: true, Message: fmt.Sprintf(
		"the cells of region %s serve several base domains (%s): set spec.baseDomain to the one the tenant's URL is under",
		t.Spec.Region, strings.Join(domains, ", "))}
}

func hasRoom(c *saasv1.RegionCell, o *occupancy, t *saasv1.Tenant) bool {
	if o.tenants >= c.Spec.Capacity.MaxTenants {
		return false
	}
	return t.Spec.Tier != saasv1.TierDedicated || o.dedicated < c.Spec.Capacity.MaxDedicatedTenants
}

func describeRoom(c *saasv1.RegionCell, o *occupancy, t *saasv1.Tenant) string {
	s := fmt.Sprintf("%d/%d tenants", o.tenants, c.Spec.Capacity.MaxTenants)
	if t.Spec.Tier == saasv1.TierDedicated {
		s += fmt.Sprintf(", %d/%d dedicated", o.dedicated, c.Spec.Capacity.MaxDedicatedTenants)
	}
	return s
}

// lessFull orders cells by the share of their capacity in use, then by tenants, then by name.
func lessFull(a *saasv1.RegionCell, ao *occupancy, b *saasv1.RegionCell, bo *occupancy) bool {
	// ao/amax < bo/bmax, without division.
	l, r := int64(ao.tenants)*int64(b.Spec.Capacity.MaxTenants), int64(bo.tenants)*int64(a.Spec.Capacity.MaxTenants)
	if l != r {
		return l < r
	}
	if ao.tenants != bo.tenants {
		return ao.tenants < bo.tenants
	}
	return a.Name < b.Name
}

func FindCell(cells []saasv1.RegionCell, name string) *saasv1.RegionCell {
	for i := range cells {
		if cells[i].Name == name {
			return &cells[i]
		}
	}
	return nil
}

// MoveRefusal says why a tenant cannot move from one cell to another, if it cannot: its URL
// would change (another base domain or hosted zone), which its users depend on.
func MoveRefusal(from, to *saasv1.RegionCell) string {
	if from.Spec.BaseDomain != to.Spec.BaseDomain || from.Spec.HostedZoneID != to.Spec.HostedZoneID {
		return fmt.Sprintf("cell %s serves %s (hosted zone %s) and cell %s serves %s (hosted zone %s): the tenant's URL would change; a move keeps it",
			from.Name, from.Spec.BaseDomain, from.Spec.HostedZoneID, to.Name, to.Spec.BaseDomain, to.Spec.HostedZoneID)
	}
	return ""
}

// SubdomainOwner is the tenant of t's region that holds t's subdomain before t, if any: a placed
// tenant keeps its subdomain; among the others, the oldest claims it.
func SubdomainOwner(t *saasv1.Tenant, peers []saasv1.Tenant) string {
	for i := range peers {
		o := &peers[i]
		if o.UID == t.UID || o.Spec.Region != t.Spec.Region || o.Spec.Subdomain != t.Spec.Subdomain || !o.DeletionTimestamp.IsZero() {
			continue
		}
		if claimsFirst(o, t) {
			return o.Name
		}
	}
	return ""
}

// claimsFirst says whether tenant a holds a claim (a subdomain) before b: a placed tenant keeps
// it; otherwise the older one wins.
func claimsFirst(a, b *saasv1.Tenant) bool {
	if aIn, bIn := a.Status.Cell != "", b.Status.Cell != ""; aIn != bIn {
		return aIn
	}
	return olderThan(&a.ObjectMeta, &b.ObjectMeta)
}

func olderThan(a, b *metav1.ObjectMeta) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Name < b.Name
}

// CellsServing names the cells serving t: its cell and, during a move, the one it leaves.
func CellsServing(t *saasv1.Tenant) []string {
	var out []string
	if t.Status.Cell != "" {
		out = append(out, t.Status.Cell)
	}
	if m := t.Status.Move; m != nil && m.From != "" && m.From != t.Status.Cell {
		out = append(out, m.From)
	}
	return out
}
