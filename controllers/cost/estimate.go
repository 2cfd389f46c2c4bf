package cost

import "fmt"

// AppCapacity is the least an app runs: replicas of pods requesting CPU and memory.
type AppCapacity struct {
	Replicas       int32
	CPU, MemoryGiB float64
}

// CellShape is what prices a cell's own parts.
type CellShape struct {
	Name       string
	MaxTenants int32
	App        AppCapacity
	// CacheNodeType and CacheNodes (a primary and its replicas) of the shared cache.
	CacheNodeType string
	CacheNodes    int32
	// Alarms the cell has of its own.
	Alarms int
	// Assets: the cell has an S3 bucket and a CloudFront distribution.
	Assets bool
}

// TenantShape is what prices a tenant's own parts.
type TenantShape struct {
	InstanceClass string
	StorageGiB    int32
	MultiAZ       bool
	// Alarms the tenant has of its own.
	Alarms int
	// Dedicated tenants have their own app and cache.
	Dedicated     bool
	App           AppCapacity
	CacheNodeType string
	CacheNodes    int32
	// CopiesIn is the partner region the tenant's database is copied to (disaster recovery).
	CopiesIn string
	// StandbyIn is the partner region of the tenant's warm standby (a single-AZ read replica
	// of its class and storage), when it has one.
	StandbyIn string
}

// Cell is a cell's own parts.
func Cell(t Table, region string, c CellShape) Estimate {
	p, h := t.For(region), t.HoursPerMonth
	var e Estimate
	cache(&e, p, h, "shared cache", c.CacheNodeType, c.CacheNodes)
	app(&e, p, h, "shared app", c.App)
	e.add("load balancer", p.LoadBalancerHour*h)
	e.add(fmt.Sprintf("%d cell alarms", c.Alarms), float64(c.Alarms)*p.AlarmMonth)
	if c.Assets {
		e.add("assets (S3 and CloudFront, fixed part)", p.AssetsMonth)
	}
	return e
}

// RegionShare is a cell's share of what its region's cells share: the EKS control plane and the
// hosted zone.
func RegionShare(t Table, region string, cellsInRegion int) Estimate {
	p, h := t.For(region), t.HoursPerMonth
	n := float64(max(1, cellsInRegion))
	var e Estimate
	e.add(fmt.Sprintf("EKS control plane (1/%d)", max(1, cellsInRegion)), p.ClusterHour*h/n)
	e.add(fmt.Sprintf("Route53 hosted zone (1/%d)", max(1, cellsInRegion)), p.HostedZoneMonth/n)
	return e
}

// Tenant is a tenant's own parts and its share of its cell.
func Tenant(t Table, region string, tn TenantShape, cell CellShape) Estimate {
	e := TenantOwn(t, region, tn)
	share(&e, t, region, cell, tn.Dedicated)
	return e
}

// TenantOwn is a tenant's own parts.
func TenantOwn(t Table, region string, tn TenantShape) Estimate {
	p, h := t.For(region), t.HoursPerMonth
	var e Estimate
	copies := 1.0
	az := "single-AZ"
	if tn.MultiAZ {
		copies, az = 2, "Multi-AZ"
	}
	if price, ok := p.RDSInstanceHour[tn.InstanceClass]; ok {
		e.add(fmt.Sprintf("database %s %s", tn.InstanceClass, az), price*h*copies)
	} else {
		e.missing("RDS instance class " + tn.InstanceClass)
	}
	e.add(fmt.Sprintf("database storage %d GiB gp3 %s", tn.StorageGiB, az), float64(tn.StorageGiB)*p.RDSStorageGiBMonth*copies)
	e.add(fmt.Sprintf("%d tenant alarms", tn.Alarms), float64(tn.Alarms)*p.AlarmMonth)
	if tn.Dedicated {
		app(&e, p, h, "own app", tn.App)
		cache(&e, p, h, "own cache", tn.CacheNodeType, tn.CacheNodes)
	}
	if tn.CopiesIn != "" {
		// Snapshots are incremental: the retained copies hold about one full database and the
		// blocks changed since, which depend on the tenant's writes and are not estimated.
		e.add(fmt.Sprintf("copies in %s: about one full snapshot, %d GiB", tn.CopiesIn, tn.StorageGiB),
			float64(tn.StorageGiB)*t.For(tn.CopiesIn).SnapshotGiBMonth)
	}
	if tn.StandbyIn != "" {
		sp := t.For(tn.StandbyIn)
		name := fmt.Sprintf("standby in %s: %s single-AZ, %d GiB", tn.StandbyIn, tn.InstanceClass, tn.StorageGiB)
		if price, ok := sp.RDSInstanceHour[tn.InstanceClass]; ok {
			e.add(name, price*h+float64(tn.StorageGiB)*sp.RDSStorageGiBMonth)
		} else {
			e.missing("RDS instance class " + tn.InstanceClass + " in " + tn.StandbyIn)
		}
	}
	return e
}

// share adds the tenant's share of its cell: every part of it for a pooled tenant, the load
// balancer, alarms and assets for a dedicated one; each divided by the cell's maxTenants.
func share(e *Estimate, t Table, region string, cell CellShape, dedicated bool) {
	shared := cell
	if dedicated {
		shared.App, shared.CacheNodes = AppCapacity{}, 0
	}
	own := Cell(t, region, shared)
	e.Missing = append(e.Missing, own.Missing...)
	e.add(fmt.Sprintf("share of cell %s (1/%d)", cell.Name, max(1, cell.MaxTenants)), own.Total()/float64(max(1, cell.MaxTenants)))
}

func cache(e *Estimate, p Prices, hours float64, what, nodeType string, nodes int32) {
	if nodes == 0 {
		return
	}
	price, ok := p.CacheNodeHour[nodeType]
	if !ok {
		e.missing("ElastiCache node type " + nodeType)
		return
	}
	e.add(fmt.Sprintf("%s %d x %s", what, nodes, nodeType), price*hours*float64(nodes))
}

func app(e *Estimate, p Prices, hours float64, what string, a AppCapacity) {
	if a.Replicas == 0 {
		return
	}
	perPod := a.CPU*p.VCPUHour + a.MemoryGiB*p.MemoryGiBHour
	e.add(fmt.Sprintf("%s, at least %d pods of %.2f vCPU and %.2f GiB", what, a.Replicas, a.CPU, a.MemoryGiB), perPod*hours*float64(a.Replicas))
}
