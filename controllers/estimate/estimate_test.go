package estimate

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	saasv1 "github.com/tenantops/tenant-operator/api/v1alpha1"
	"github.com/tenantops/tenant-operator/controllers/cost"
)

func cell() *saasv1.RegionCell {
	return &saasv1.RegionCell{ObjectMeta: metav1.ObjectMeta{Name: "c1"}, Spec: saasv1.RegionCellSpec{Region: "eu-west-1",
		Capacity: saasv1.CellCapacity{MaxTenants: 50}, App: saasv1.CellApp{Image: "ghcr.io/tenantops/app", Version: "1.0.0"}}}
}

func tenantWith(name, cell string, db *saasv1.EffectiveDatabase) saasv1.Tenant {
	return saasv1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: saasv1.TenantSpec{Region: "eu-west-1"},
		Status: saasv1.TenantStatus{Cell: cell, EffectiveDatabase: db}}
}

// A tenant is priced once it has a database, by the database it has; a cell by its own parts,
// its share of the region's and its tenants' own parts.
func TestTenantAndCell(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	prices := &cost.Source{}
	small := &saasv1.EffectiveDatabase{InstanceClass: "db.t4g.medium", StorageGiB: 20, MultiAZ: true}
	if _, _, ok := Tenant(&saasv1.Tenant{}, cell(), prices, now); ok {
		t.Error("a tenant without a database is priced")
	}
	withSmall := tenantWith("a", "c1", small)
	est, usd, ok := Tenant(&withSmall, cell(), prices, now)
	if !ok || usd <= 0 || est.MonthlyUSD == "" || len(est.Items) == 0 {
		t.Fatalf("a tenant with a database: %+v, %v, %v", est, usd, ok)
	}
	bigger := tenantWith("b", "c1", &saasv1.EffectiveDatabase{InstanceClass: "db.r6g.large", StorageGiB: 100, MultiAZ: true})
	if _, usdBig, _ := Tenant(&bigger, cell(), prices, now); usdBig <= usd {
		t.Errorf("a bigger database costs %v, the smaller %v", usdBig, usd)
	}

	empty, emptyUSD := Cell(cell(), nil, 1, prices, now)
	tenants := []saasv1.Tenant{withSmall, bigger, tenantWith("elsewhere", "c2", small)}
	full, fullUSD := Cell(cell(), tenants, 1, prices, now)
	if fullUSD <= emptyUSD {
		t.Errorf("a cell with tenants costs %v, empty %v", fullUSD, emptyUSD)
	}
	if full.PerTenantUSD == "" || full.PerTenantUSD == empty.PerTenantUSD {
		t.Errorf("per tenant: %q with two tenants, %q with none", full.PerTenantUSD, empty.PerTenantUSD)
	}
	shared, sharedUSD := Cell(cell(), nil, 2, prices, now)
	if sharedUSD >= emptyUSD {
		t.Errorf("a region's share split over two cells costs each %v, over one %v", sharedUSD, emptyUSD)
	}
	named := false
	for _, it := range shared.Items {
		named = named || strings.Contains(it.Name, "tenants' own parts")
	}
	if !named {
		t.Errorf("the cell's items do not name its tenants' own parts: %+v", shared.Items)
	}
}

// A warm pool of N costs N tenant databases of its shape, named as the pool's.
func TestWarmPoolCost(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	prices := &cost.Source{}
	pooled := func(n int32) *saasv1.RegionCell {
		c := cell()
		c.Spec.Database = saasv1.DatabaseDefaults{InstanceClass: "db.t4g.medium", StorageGiB: 20, BackupRetentionDays: 7, Engine: "mysql", EngineVersion: "8.0",
			WarmPool: &saasv1.WarmPool{Size: n}}
		return c
	}
	_, none := Cell(pooled(0), nil, 1, prices, now)
	est1, one := Cell(pooled(1), nil, 1, prices, now)
	_, three := Cell(pooled(3), nil, 1, prices, now)
	db := tenantWith("a", "c1", &saasv1.EffectiveDatabase{InstanceClass: "db.t4g.medium", StorageGiB: 20, MultiAZ: true})
	_, withTenant := Cell(pooled(0), []saasv1.Tenant{db}, 1, prices, now)
	if one-none <= 0 || fmt.Sprintf("%.2f", three-none) != fmt.Sprintf("%.2f", 3*(one-none)) {
		t.Errorf("pool of 0, 1, 3: %.2f, %.2f, %.2f a month", none, one, three)
	}
	if fmt.Sprintf("%.2f", one-none) != fmt.Sprintf("%.2f", withTenant-none) {
		t.Errorf("one pool database costs %.2f, one tenant's database %.2f", one-none, withTenant-none)
	}
	// docs/cost.md's figure: 0.072 $/h x 730 h x 2 (Multi-AZ) + 20 GiB x 0.127 $ x 2, in eu-west-1.
	if got := fmt.Sprintf("%.2f", one-none); got != "110.20" {
		t.Errorf("one pool database of the sample defaults costs $%s a month; docs/cost.md says $110.20", got)
	}
	named := false
	for _, it := range est1.Items {
		named = named || strings.Contains(it.Name, "warm pool: 1 unclaimed")
	}
	if !named {
		t.Errorf("the cell's items do not name the pool: %+v", est1.Items)
	}
}

// A tenant with copies in a partner region pays for about one full snapshot there, at that
// region's snapshot price; one without pays nothing for them.
func TestCopiesCost(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	prices := &cost.Source{}
	db := &saasv1.EffectiveDatabase{InstanceClass: "db.t4g.medium", StorageGiB: 100, MultiAZ: true}
	plain := tenantWith("a", "c1", db)
	copied := tenantWith("a", "c1", db)
	copied.Status.RecoveryPoint = &saasv1.RecoveryPoint{Region: "eu-central-1", SnapshotIdentifier: "x"}
	_, without, _ := Tenant(&plain, cell(), prices, now)
	est, with, _ := Tenant(&copied, cell(), prices, now)
	// 100 GiB x $0.095, the default table's snapshot storage (eu-central-1 sets no price of its own).
	if got := fmt.Sprintf("%.2f", with-without); got != "9.50" {
		t.Errorf("copies cost $%s a month, want $9.50", got)
	}
	named := false
	for _, it := range est.Items {
		named = named || strings.Contains(it.Name, "copies in eu-central-1")
	}
	if !named {
		t.Errorf("the tenant's items do not name its copies: %+v", est.Items)
	}
}

// A tenant with a warm standby pays for a second, single-AZ instance of its class and storage in
// the standby's region.
func TestStandbyCost(t *testing.T) {
	now := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	prices := &cost.Source{}
	db := &saasv1.EffectiveDatabase{InstanceClass: "db.t4g.medium", StorageGiB: 100, MultiAZ: true}
	plain := tenantWith("a", "c1", db)
	standby := tenantWith("a", "c1", db)
	standby.Status.Standby = &saasv1.StandbyStatus{Region: "eu-central-1", DBInstanceIdentifier: "x-standby"}
	_, without, _ := Tenant(&plain, cell(), prices, now)
	est, with, _ := Tenant(&standby, cell(), prices, now)
	// One instance and its storage at the standby region's prices (the primary is priced at
	// its own region's, twice for Multi-AZ).
	table, err := prices.Table(now)
	if err != nil {
		t.Fatal(err)
	}
	p := table.For("eu-central-1")
	want := p.RDSInstanceHour["db.t4g.medium"]*table.HoursPerMonth + 100*p.RDSStorageGiBMonth
	if diff := with - without; want <= 0 || fmt.Sprintf("%.2f", diff) != fmt.Sprintf("%.2f", want) {
		t.Errorf("a standby costs $%.2f a month, want $%.2f", diff, want)
	}
	named := false
	for _, it := range est.Items {
		named = named || strings.Contains(it.Name, "standby in eu-central-1")
	}
	if !named {
		t.Errorf("the tenant's items do not name its standby: %+v", est.Items)
	}
}
