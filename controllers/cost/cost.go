// Package cost estimates what a tenant and a cell cost a month, from a dated table of list
// prices. Every function here but the table's loading is pure.
//
// A cell's own parts are its shared cache, its shared app's least capacity (minReplicas of what
// each pod requests), its load balancer, its alarms and its assets; the region's (the EKS control
// plane and the hosted zone) are split among the region's cells. A tenant's own parts are its
// database (instance and storage, twice for Multi-AZ), its alarms and, when dedicated, its app's
// least capacity and its cache. A pooled tenant's share of its cell is the cell's own parts
// divided by the cell's maxTenants, not by how many tenants it has: a tenant joining or leaving
// changes no other tenant's estimate. A dedicated tenant shares only the load balancer, alarms
// and assets. A cell's total is its own parts, its share of the region's, and its tenants' own
// parts; per tenant, that total divided by its tenants.
package cost

import (
	_ "embed"
	"fmt"
	"math"
	"os"
	"sort"
	"sync"
	"time"

	"sigs.k8s.io/yaml"
)

//go:embed prices.yaml
var builtIn []byte

// Prices are one region's list prices, in USD.
type Prices struct {
	RDSInstanceHour    map[string]float64 `json:"rdsInstanceHour,omitempty"`
	RDSStorageGiBMonth float64            `json:"rdsStorageGiBMonth,omitempty"`
	CacheNodeHour      map[string]float64 `json:"cacheNodeHour,omitempty"`
	VCPUHour           float64            `json:"vcpuHour,omitempty"`
	MemoryGiBHour      float64            `json:"memoryGiBHour,omitempty"`
	LoadBalancerHour   float64            `json:"loadBalancerHour,omitempty"`
	ClusterHour        float64            `json:"clusterHour,omitempty"`
	AlarmMonth         float64            `json:"alarmMonth,omitempty"`
	HostedZoneMonth    float64            `json:"hostedZoneMonth,omitempty"`
	AssetsMonth        float64            `json:"assetsMonth,omitempty"`
	// SnapshotGiBMonth is a manual RDS snapshot's storage (the copies in a partner region).
	SnapshotGiBMonth float64 `json:"snapshotGiBMonth,omitempty"`
}

// Table is a dated price table: defaults, and overrides per region.
type Table struct {
	Date          string            `json:"date"`
	Source        string            `json:"source,omitempty"`
	HoursPerMonth float64           `json:"hoursPerMonth"`
	Default       Prices            `json:"default"`
	Regions       map[string]Prices `json:"regions,omitempty"`
}

// Parse reads a price table.
func Parse(raw []byte) (Table, error) {
	var t Table
	if err := yaml.UnmarshalStrict(raw, &t); err != nil {
		return t, fmt.Errorf("price table: %w", err)
	}
	if t.Date == "" || t.HoursPerMonth <= 0 {
		return t, fmt.Errorf("price table: date and hoursPerMonth are required")
	}
	return t, nil
}

// BuiltIn is the table the operator ships with.
func BuiltIn() Table {
	t, err := Parse(builtIn)
	if err != nil {
		panic(err) // the embedded table is checked by the package's tests
	}
	return t
}

// For is region's prices: its overrides over the defaults.
func (t Table) For(region string) Prices {
	p := t.Default
	o, ok := t.Regions[region]
	if !ok {
		return p
	}
	merge := func(base, over map[string]float64) map[string]float64 {
		out := map[string]float64{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range over {
			out[k] = v
		}
		return out
	}
	p.RDSInstanceHour = merge(p.RDSInstanceHour, o.RDSInstanceHour)
	p.CacheNodeHour = merge(p.CacheNodeHour, o.CacheNodeHour)
	for _, f := range []struct{ dst, src *float64 }{
		{&p.RDSStorageGiBMonth, &o.RDSStorageGiBMonth}, {&p.VCPUHour, &o.VCPUHour}, {&p.MemoryGiBHour, &o.MemoryGiBHour},
		{&p.LoadBalancerHour, &o.LoadBalancerHour}, {&p.ClusterHour, &o.ClusterHour}, {&p.AlarmMonth, &o.AlarmMonth},
		{&p.HostedZoneMonth, &o.HostedZoneMonth}, {&p.AssetsMonth, &o.AssetsMonth}, {&p.SnapshotGiBMonth, &o.SnapshotGiBMonth},
	} {
		if *f.src != 0 {
			*f.dst = *f.src
		}
	}
	return p
}

// Item is one part of an estimate.
type Item struct {
	Name    string
	Monthly float64
}

// Estimate is a monthly cost and what it is made of.
type Estimate struct {
	Items []Item
	// Missing names what the table has no price for; it is left out of the total.
	Missing []string
}

// Total is the sum of the items.
func (e Estimate) Total() float64 {
	total := 0.0
	for _, it := range e.Items {
		total += it.Monthly
	}
	return total
}

func (e *Estimate) add(name string, monthly float64) {
	if monthly != 0 {
		e.Items = append(e.Items, Item{Name: name, Monthly: monthly})
	}
}

func (e *Estimate) missing(what string) {
	e.Missing = append(e.Missing, what)
	sort.Strings(e.Missing)
}

// USD formats an amount as the API shows it: dollars and cents.
func USD(v float64) string { return fmt.Sprintf("%.2f", math.Round(v*100)/100) }

// Source gives the price table: the file at Path, read at most once a minute (a ConfigMap the
// chart mounts, which the kubelet refreshes), or the built-in table without a Path. A file that
// does not parse keeps the last good table, and says so.
type Source struct {
	Path string
	// Every is how long a read table is used before the file is read again (a minute when zero).
	Every time.Duration

	mu     sync.Mutex
	table  *Table
	readAt time.Time
	err    error
}

// Table returns the current table and the last error reading the file, if any.
func (s *Source) Table(now time.Time) (Table, error) {
	if s == nil || s.Path == "" {
		return BuiltIn(), nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	every := s.Every
	if every == 0 {
		every = time.Minute
	}
	if s.table != nil && now.Sub(s.readAt) < every {
		return *s.table, s.err
	}
	s.readAt = now
	raw, err := os.ReadFile(s.Path)
	if err == nil {
		var t Table
		if t, err = Parse(raw); err == nil {
			s.table, s.err = &t, nil
			return t, nil
		}
	}
	s.err = fmt.Errorf("%s: %w (using the %s)", s.Path, err, map[bool]string{true: "last table read", false: "built-in table"}[s.table != nil])
	if s.table == nil {
		t := BuiltIn()
		return t, s.err
	}
	return *s.table, s.err
}
