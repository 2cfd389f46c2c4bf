package warmpool

import (
	"reflect"
	"testing"
	"time"
)

func names(in []Instance) []string {
	out := []string{}
	for _, i := range in {
		out = append(out, i.Name)
	}
	return out
}

func TestRefill(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ready := func(name string, m int) Instance {
		return Instance{Name: name, Shape: "s1", Available: true, Created: at(m)}
	}
	making := func(name string, m int) Instance { return Instance{Name: name, Shape: "s1", Created: at(m)} }
	cases := []struct {
		name        string
		size        int32
		pool        []Instance
		create      int
		release     []string
		ready, made int32
		claimed     int32
	}{
		{name: "an empty pool is filled", size: 3, create: 3, release: []string{}},
		{name: "a full pool is left alone", size: 2, pool: []Instance{ready("a", 0), making("b", 1)}, release: []string{}, ready: 1, made: 1},
		{name: "a claimed instance neither counts nor goes", size: 2,
			pool:   []Instance{ready("a", 0), {Name: "b", Shape: "s1", Available: true, ClaimedBy: "uid-1"}},
			create: 1, release: []string{}, ready: 1, claimed: 1},
		{name: "a claimed instance of an old shape stays the tenant's", size: 1,
			pool:   []Instance{{Name: "old", Shape: "s0", Available: true, ClaimedBy: "uid-1"}},
			create: 1, release: []string{}, claimed: 1},
		{name: "unclaimed instances of another shape go and are replaced", size: 2,
			pool:   []Instance{{Name: "old", Shape: "s0", Available: true}, ready("a", 0)},
			create: 1, release: []string{"old"}, ready: 1},
		{name: "a pool shrunk releases what RDS is still making first, then the newest", size: 1,
			pool:    []Instance{making("m", 0), ready("new", 5), ready("old", 1)},
			release: []string{"new", "m"}, ready: 1},
		{name: "a pool removed releases every unclaimed instance and no claimed one", size: 0,
			pool:    []Instance{ready("a", 0), making("b", 1), {Name: "c", Shape: "s1", ClaimedBy: "uid-9"}},
			release: []string{"a", "b"}, claimed: 1},
		{name: "instances being deleted are neither counted nor released again", size: 1,
			pool:   []Instance{{Name: "gone", Shape: "s1", Deleting: true}},
			create: 1, release: []string{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := Refill(tc.size, "s1", tc.pool)
			if p.Create != tc.create || !reflect.DeepEqual(names(p.Release), tc.release) || p.Ready != tc.ready || p.Creating != tc.made || p.Claimed != tc.claimed {
				t.Errorf("Refill = create %d, release %v, ready %d, creating %d, claimed %d; want %d, %v, %d, %d, %d",
					p.Create, names(p.Release), p.Ready, p.Creating, p.Claimed, tc.create, tc.release, tc.ready, tc.made, tc.claimed)
			}
			// Planning from the planned pool changes nothing more.
			var after []Instance
			for _, in := range tc.pool {
				released := false
				for _, r := range p.Release {
					released = released || r.Name == in.Name
				}
				if !released && !in.Deleting {
					after = append(after, in)
				}
			}
			for i := range p.Create {
				after = append(after, making(string(rune('x'+i)), 10))
			}
			if again := Refill(tc.size, "s1", after); again.Create != 0 || len(again.Release) != 0 {
				t.Errorf("the pool as planned is planned again: create %d, release %v", again.Create, names(again.Release))
			}
		})
	}
}

func TestPick(t *testing.T) {
	pool := []Instance{
		{Name: "a", Shape: "s1", Available: true},
		{Name: "b", Shape: "s1", Available: true},
		{Name: "c", Shape: "s1", Available: true},
		{Name: "making", Shape: "s1"},
		{Name: "other-shape", Shape: "s2", Available: true},
		{Name: "leaving", Shape: "s1", Available: true, Deleting: true},
		{Name: "theirs", Shape: "s1", Available: true, ClaimedBy: "uid-other"},
	}
	free := map[string]bool{"a": true, "b": true, "c": true}
	if in, claimed, ok := Pick(pool, "uid-new", "s1"); !ok || claimed || !free[in.Name] {
		t.Errorf("a new tenant picked %q (claimed %v, ok %v), want one of a, b, c", in.Name, claimed, ok)
	}
	if in, claimed, ok := Pick(append(pool, Instance{Name: "mine", Shape: "s0", ClaimedBy: "uid-me"}), "uid-me", "s1"); !ok || !claimed || in.Name != "mine" {
		t.Errorf("a tenant whose claim was interrupted picked %q (claimed %v), want its own claim", in.Name, claimed)
	}
	if _, _, ok := Pick(pool, "uid-new", "s3"); ok {
		t.Error("a tenant of a shape the pool does not hold picked an instance")
	}
	if _, _, ok := Pick(pool[3:], "uid-new", "s1"); ok {
		t.Error("a tenant picked an instance that is being made, leaving, another shape or claimed")
	}
	// Tenants arriving together mostly ask for different instances.
	picked := map[string]bool{}
	for _, uid := range []string{"0b7c", "1f2e", "23aa", "4c5d", "5e6f", "7a8b", "9c0d", "ab12"} {
		in, _, _ := Pick(pool, uid, "s1")
		picked[in.Name] = true
	}
	if len(picked) < 2 {
		t.Errorf("eight tenants all picked %v", picked)
	}
}
