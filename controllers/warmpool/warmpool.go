// Package warmpool decides a cell's warm pool of unclaimed databases: what the cell makes and
// releases to keep it at its size (Refill), and which instance a new tenant claims (Pick). It is
// pure: the cell and tenant reconcilers read the instances and do what it says, and every rule
// is tested with plain go test.
package warmpool

import (
	"hash/fnv"
	"sort"
	"time"

	"github.com/tenantops/tenant-operator/controllers/ack"
	"github.com/tenantops/tenant-operator/controllers/ack/rds"
	b "github.com/tenantops/tenant-operator/controllers/builders"
)

// Instance is a pool instance as the decisions read it.
type Instance struct {
	Name string
	// Shape is the hash of the shape it was made with (builders.WarmPoolShapeHash).
	Shape string
	// ClaimedBy is the UID of the Tenant that claimed it, if one did.
	ClaimedBy string
	// Deleting is set once its deletion started.
	Deleting bool
	// Available is set once RDS reports it available with an endpoint.
	Available bool
	// Created is when its custom resource was made.
	Created time.Time
	// ResourceVersion is the version read, for a write that must land only on what was read.
	ResourceVersion string
}

// Of reads pool instances.
func Of(list []rds.DBInstance) []Instance {
	out := make([]Instance, 0, len(list))
	for i := range list {
		db := &list[i]
		st := ack.ReadState(db.Status.Conditions)
		out = append(out, Instance{
			Name: db.Name, Shape: db.Labels[b.LabelWarmPoolShape], ClaimedBy: db.Annotations[b.AnnotationClaimedBy],
			Deleting: !db.DeletionTimestamp.IsZero(), Created: db.CreationTimestamp.Time, ResourceVersion: db.ResourceVersion,
			Available: st.Synced && !st.Terminal && db.Status.Endpoint != nil && db.Status.Endpoint.Address != nil,
		})
	}
	return out
}

// Plan is what keeps the pool at its size.
type Plan struct {
	// Create is how many new instances to make.
	Create int
	// Release are the unclaimed instances to delete: of another shape, or beyond the size.
	Release []Instance
	// Ready and Creating count the unclaimed instances of the shape that stay.
	Ready, Creating int32
	// Claimed counts instances a tenant claimed whose claim is not finished yet.
	Claimed int32
	// Leaving counts instances whose deletion started.
	Leaving int32
}

// Refill plans a pool of size instances of shape from what it holds. A claimed instance is the
// claiming tenant's to finish with and never counts or goes; an unclaimed one of another shape
// (the cell's defaults changed) goes; of the rest, the available ones, oldest first, are kept,
// and those beyond the size go, the ones RDS is still making first.
func Refill(size int32, shape string, pool []Instance) Plan {
	var p Plan
	var same []Instance
	for _, in := range pool {
		switch {
		case in.Deleting:
			p.Leaving++
		case in.ClaimedBy != "":
			p.Claimed++
		case in.Shape != shape:
			p.Release = append(p.Release, in)
		default:
			same = append(same, in)
		}
	}
	sort.SliceStable(same, func(i, j int) bool {
		if same[i].Available != same[j].Available {
			return same[i].Available
		}
		if !same[i].Created.Equal(same[j].Created) {
			return same[i].Created.Before(same[j].Created)
		}
		return same[i].Name < same[j].Name
	})
	for i, in := range same {
		if int32(i) >= size {
			p.Release = append(p.Release, in)
			continue
		}
		if in.Available {
			p.Ready++
		} else {
			p.Creating++
		}
	}
	p.Create = max(0, int(size)-len(same))
	return p
}

// Pick is the pool instance the tenant with uid takes for a database of shape: the one it
// claimed already (a claim a restart interrupted), or an available unclaimed one of its shape,
// spread over the candidates by the tenant's UID so that tenants arriving together mostly ask
// for different ones. ok is false when there is none; claimed says it is the tenant's already.
func Pick(pool []Instance, uid, shape string) (in Instance, claimed, ok bool) {
	var candidates []Instance
	for _, i := range pool {
		if i.ClaimedBy == uid {
			return i, true, true
		}
		if i.ClaimedBy == "" && !i.Deleting && i.Available && i.Shape == shape {
			candidates = append(candidates, i)
		}
	}
	if len(candidates) == 0 {
		return Instance{}, false, false
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].Name < candidates[j].Name })
	h := fnv.New32a()
	_, _ = h.Write([]byte(uid))
	return candidates[int(h.Sum32()%uint32(len(candidates)))], false, true
}
