package placement

import (
	"sync"

	"k8s.io/apimachinery/pkg/types"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
)

// Ledger holds the placements this operator decided that the cache may not show yet,
// so that the next placement counts them. It forgets one once the cache shows it. Overlay and Record are called with the lock held.
type Ledger struct {
	// The whole of a placement (the decision and its record) runs under the lock, so that each
	// placement sees the ones before it.
	sync.Mutex
	pending map[types.UID]string // tenant -> the cell it was placed in (or moves to)
}

// Record notes a placement; the caller holds the lock.
func (l *Ledger) Record(uid types.UID, cell string) {
	if l.pending == nil {
		l.pending = map[types.UID]string{}
	}
	l.pending[uid] = cell
}

// Placed is the cell the ledger holds for a tenant, if any.
func (l *Ledger) Placed(uid types.UID) string {
	l.Lock()
	defer l.Unlock()
	return l.pending[uid]
}

// Forget drops a tenant that is going away.
func (l *Ledger) Forget(uid types.UID) {
	l.Lock()
	defer l.Unlock()
	delete(l.pending, uid)
}

// Overlay is tenants as the ledger knows them: a tenant whose placement the cache does not show
// yet is copied with it (a move into the cell it was placed in), and one the cache shows
// placed is forgotten. tenants share the cache's objects: they are never modified.
func (l *Ledger) Overlay(tenants []saasv1.Tenant) []saasv1.Tenant {
	if len(l.pending) == 0 {
		return tenants
	}
	out := tenants
	copied := false
	for i := range tenants {
		o := &tenants[i]
		cell, ok := l.pending[o.UID]
		switch {
		case !ok:
			continue
		case o.Status.Cell == cell || !o.DeletionTimestamp.IsZero():
			delete(l.pending, o.UID)
			continue
		}
		if !copied {
			out, copied = append([]saasv1.Tenant(nil), tenants...), true
		}
		seen := o.DeepCopy()
		if seen.Status.Cell != "" {
			seen.Status.Move = &saasv1.TenantMove{From: seen.Status.Cell}
		}
		seen.Status.Cell = cell
		out[i] = *seen
	}
	return out
}
