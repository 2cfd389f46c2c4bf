// Package estimate prices tenants and cells: the shapes the cost package prices, read off the
// specs the builders make objects from, and the estimates as status shows them.
package estimate

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	b "github.com/tenantops/tenant-operator/controllers/builders"
	"github.com/tenantops/tenant-operator/controllers/cost"
)

func cellShape(c *saasv1.RegionCell) cost.CellShape {
	cache := b.CellCache(c)
	return cost.CellShape{
		Name: c.Name, MaxTenants: c.Spec.Capacity.MaxTenants,
		App:           appCapacity(b.CellAppTier(c, c.Spec.App.Version)),
		CacheNodeType: cache.NodeType, CacheNodes: 1 + cache.Replicas,
		Alarms: cellAlarms(c),
		Assets: c.Spec.Assets != nil,
	}
}

// tenantShape prices the database the tenant has (status.effectiveDatabase).
func tenantShape(t *saasv1.Tenant, c *saasv1.RegionCell) (cost.TenantShape, bool) {
	eff := t.Status.EffectiveDatabase
	if eff == nil {
		return cost.TenantShape{}, false
	}
	s := cost.TenantShape{InstanceClass: eff.InstanceClass, StorageGiB: eff.StorageGiB, MultiAZ: eff.MultiAZ, Alarms: tenantAlarms(t, c)}
	if rp := t.Status.RecoveryPoint; rp != nil {
		s.CopiesIn = rp.Region
	}
	if sb := t.Status.Standby; sb != nil {
		s.StandbyIn = sb.Region
	}
	if t.Spec.Tier == saasv1.TierDedicated {
		cache := b.DedicatedCache(t, c, nil)
		s.Dedicated = true
		s.App = appCapacity(b.DedicatedAppTier(t, c, b.EffectiveAppVersion(t, c)))
		s.CacheNodeType, s.CacheNodes = cache.NodeType, 1+cache.Replicas
	}
	return s, true
}

func appCapacity(a b.AppTier) cost.AppCapacity {
	gib := func(q resource.Quantity) float64 { return q.AsApproximateFloat64() / (1 << 30) }
	return cost.AppCapacity{Replicas: a.MinReplicas, CPU: a.Resources.Requests.Cpu().AsApproximateFloat64(), MemoryGiB: gib(*a.Resources.Requests.Memory())}
}

// costStatus is an estimate as the API shows it; a price table that could not be read is named
// among what is missing.
func costStatus(e cost.Estimate, table cost.Table, tableErr error) saasv1.CostEstimate {
	out := saasv1.CostEstimate{MonthlyUSD: cost.USD(e.Total()), PriceTable: table.Date, Missing: e.Missing}
	for _, it := range e.Items {
		out.Items = append(out.Items, saasv1.CostItem{Name: it.Name, MonthlyUSD: cost.USD(it.Monthly)})
	}
	if tableErr != nil {
		out.Missing = append(out.Missing, tableErr.Error())
	}
	return out
}

// Tenant is the tenant's estimate served by cell c, and its monthly total; ok is false before it
// has a database (the estimate prices the one it has).
func Tenant(t *saasv1.Tenant, c *saasv1.RegionCell, prices *cost.Source, now time.Time) (est saasv1.CostEstimate, usd float64, ok bool) {
	shape, ok := tenantShape(t, c)
	if !ok {
		return saasv1.CostEstimate{}, 0, false
	}
	table, err := prices.Table(now)
	e := cost.Tenant(table, c.Spec.Region, shape, cellShape(c))
	return costStatus(e, table, err), e.Total(), true
}

// Cell is the cell's estimate: its own parts, its share of the region's, and the own parts of
// the tenants placed in it; and its monthly total.
func Cell(c *saasv1.RegionCell, tenants []saasv1.Tenant, cellsInRegion int, prices *cost.Source, now time.Time) (saasv1.CellCost, float64) {
	table, err := prices.Table(now)
	e := cost.Cell(table, c.Spec.Region, cellShape(c))
	region := cost.RegionShare(table, c.Spec.Region, cellsInRegion)
	e.Items = append(e.Items, region.Items...)
	var tenantsOwn float64
	n := 0
	for i := range tenants {
		t := &tenants[i]
		if t.Status.Cell != c.Name || !t.DeletionTimestamp.IsZero() {
			continue
		}
		n++
		if shape, ok := tenantShape(t, c); ok {
			own := cost.TenantOwn(table, c.Spec.Region, shape)
			tenantsOwn += own.Total()
			for _, m := range own.Missing {
				e.Missing = appendMissing(e.Missing, m)
			}
		}
	}
	e.Items = append(e.Items, cost.Item{Name: "tenants' own parts", Monthly: tenantsOwn})
	if pool := c.Spec.Database.WarmPool; pool != nil && pool.Size > 0 {
		// Unclaimed databases cost what a tenant's does, for nobody yet.
		shape := b.WarmPoolShape(c)
		one := cost.TenantOwn(table, c.Spec.Region, cost.TenantShape{InstanceClass: shape.InstanceClass, StorageGiB: shape.StorageGiB, MultiAZ: shape.MultiAZ})
		e.Items = append(e.Items, cost.Item{Name: fmt.Sprintf("warm pool: %d unclaimed databases", pool.Size), Monthly: one.Total() * float64(pool.Size)})
		for _, m := range one.Missing {
			e.Missing = appendMissing(e.Missing, m)
		}
	}
	return saasv1.CellCost{CostEstimate: costStatus(e, table, err), PerTenantUSD: cost.USD(e.Total() / float64(max(1, n)))}, e.Total()
}

func appendMissing(list []string, m string) []string {
	for _, x := range list {
		if x == m {
			return list
		}
	}
	return append(list, m)
}

// cellAlarmCount and tenantAlarmCount are how many alarms the cell, and the tenant, have.
func cellAlarms(c *saasv1.RegionCell) int {
	if c.Spec.Alerts == nil {
		return 0
	}
	return len(b.CellAlarms(c, ""))
}

func tenantAlarms(t *saasv1.Tenant, c *saasv1.RegionCell) int {
	if c.Spec.Alerts == nil || t.Status.EffectiveDatabase == nil {
		return 0
	}
	return len(b.TenantAlarms(t, c, *t.Status.EffectiveDatabase, ""))
}
