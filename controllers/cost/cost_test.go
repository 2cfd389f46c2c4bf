package cost

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The sample cell of config/samples in eu-west-1, priced by hand from prices.yaml (730 hours):
//
//	shared cache  2 x cache.t4g.small  0.036 x 730 x 2                       = 52.56
//	shared app    2 pods of 0.25 vCPU, 0.25 GiB: (0.25 x 0.04456 + 0.25 x 0.004865) x 730 x 2 = 18.040125
//	load balancer 0.0332 x 730                                               = 24.236
//	4 alarms      4 x 0.10                                                   = 0.40
//	assets                                                                   = 1.00
var sampleCell = CellShape{Name: "eu-west-1", MaxTenants: 500, App: AppCapacity{Replicas: 2, CPU: 0.25, MemoryGiB: 0.25},
	CacheNodeType: "cache.t4g.small", CacheNodes: 2, Alarms: 4, Assets: true}

func TestEstimates(t *testing.T) {
	table := BuiltIn()
	cellOwn := 52.56 + 18.040125 + 24.236 + 0.40 + 1.00
	cases := []struct {
		name    string
		got     Estimate
		want    float64
		missing string
	}{
		{"the cell's own parts", Cell(table, "eu-west-1", sampleCell), cellOwn, ""},
		{"a cell's share of its region, alone in it: EKS 0.10 x 730 + zone 0.50", RegionShare(table, "eu-west-1", 1), 73.50, ""},
		{"the same, one of two cells", RegionShare(table, "eu-west-1", 2), 36.75, ""},
		// 0.072 x 730 x 2 + 20 x 0.127 x 2 + 4 x 0.10 + the cell / 500
		{"a pooled tenant, db.t4g.medium Multi-AZ, 20 GiB", Tenant(table, "eu-west-1",
			TenantShape{InstanceClass: "db.t4g.medium", StorageGiB: 20, MultiAZ: true, Alarms: 4}, sampleCell),
			105.12 + 5.08 + 0.40 + cellOwn/500, ""},
		{"single-AZ counts one copy", Tenant(table, "eu-west-1",
			TenantShape{InstanceClass: "db.t4g.medium", StorageGiB: 20, MultiAZ: false}, sampleCell),
			52.56 + 2.54 + cellOwn/500, ""},
		// 0.240 x 730 x 2 + 100 x 0.127 x 2 + 3 pods (27.0601875) + 3 x cache.r7g.large 0.243 x 730
		// + (load balancer, alarms and assets) / 500
		{"a dedicated tenant: its own app and cache, a share of the load balancer only", Tenant(table, "eu-west-1",
			TenantShape{InstanceClass: "db.r6g.large", StorageGiB: 100, MultiAZ: true, Dedicated: true,
				App: AppCapacity{Replicas: 3, CPU: 0.25, MemoryGiB: 0.25}, CacheNodeType: "cache.r7g.large", CacheNodes: 3}, sampleCell),
			350.40 + 25.40 + 27.0601875 + 532.17 + (24.236+0.40+1.00)/500, ""},
		{"a region without overrides takes the defaults: 0.065 x 730 x 2 + 20 x 0.115 x 2", Tenant(table, "us-east-2",
			TenantShape{InstanceClass: "db.t4g.medium", StorageGiB: 20, MultiAZ: true}, CellShape{Name: "c", MaxTenants: 1}),
			94.90 + 4.60 + 0.0305*730, ""},
		{"a class the table lacks is named and left out", Tenant(table, "eu-west-1",
			TenantShape{InstanceClass: "db.x2g.large", StorageGiB: 20, MultiAZ: true}, CellShape{Name: "c", MaxTenants: 1}),
			5.08 + 24.236, "RDS instance class db.x2g.large"},
	}
	for _, c := range cases {
		if USD(c.got.Total()) != USD(c.want) || strings.Join(c.got.Missing, ",") != c.missing {
			t.Errorf("%s: got %s (missing %v), want %s (missing %q)\n  items: %+v", c.name, USD(c.got.Total()), c.got.Missing, USD(c.want), c.missing, c.got.Items)
		}
	}
	// The design's first point: one client alone in a region.
	region := Cell(table, "eu-west-1", sampleCell).Total() + RegionShare(table, "eu-west-1", 1).Total() +
		Tenant(table, "eu-west-1", TenantShape{InstanceClass: "db.t4g.medium", StorageGiB: 20, MultiAZ: true, Alarms: 4}, sampleCell).Total() - cellOwn/500
	if got := USD(region); got != USD(cellOwn+73.50+105.12+5.08+0.40) {
		t.Errorf("one client in a region: %s", got)
	}
}

// The table is read at most once a minute; a broken file keeps the last good table and says so.
func TestSourceRereadsAtMostOnceAMinute(t *testing.T) {
	path := filepath.Join(t.TempDir(), "prices.yaml")
	write := func(hoursPerMonth string) {
		raw := strings.Replace(string(builtIn), "hoursPerMonth: 730", "hoursPerMonth: "+hoursPerMonth, 1)
		if err := os.WriteFile(path, []byte(raw), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("720")
	s := &Source{Path: path}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	read := func(at time.Duration) string {
		tb, err := s.Table(now.Add(at))
		return fmt.Sprint(tb.HoursPerMonth, " ", err != nil)
	}
	steps := []struct {
		what string
		do   func()
		at   time.Duration
		want string
	}{
		{"first read", nil, 0, "720 false"},
		{"changed within the minute: not read yet", func() { write("700") }, 30 * time.Second, "720 false"},
		{"a minute later: read", nil, time.Minute, "700 false"},
		{"broken: the last good table, and an error", func() { _ = os.WriteFile(path, []byte("date: [broken"), 0o600) }, 2 * time.Minute, "700 true"},
	}
	for _, st := range steps {
		if st.do != nil {
			st.do()
		}
		if got := read(st.at); got != st.want {
			t.Errorf("%s: got %q, want %q", st.what, got, st.want)
		}
	}
	if tb, err := (&Source{Path: filepath.Join(t.TempDir(), "none.yaml")}).Table(now); err == nil || tb.Date != BuiltIn().Date {
		t.Errorf("a missing file: table %s, error %v; want the built-in table and an error", tb.Date, err)
	}
	if _, err := Parse([]byte("date: x\nhoursPerMonth: 730\nunknownKey: 1\n")); err == nil {
		t.Errorf("an unknown key is accepted")
	}
}
