package recommend

import (
	"math"
	"testing"
)

func TestBayesianAverageRanksEvidenceOverLuck(t *testing.T) {
	a := NewAccumulator()
	// Item 1: a single 5. Item 2: forty ratings averaging 4.5. Item 3: ten 2s. All "books".
	a.Add(1, "books", 5)
	for i := 0; i < 40; i++ {
		a.Add(2, "books", 4+i%2)
	}
	for i := 0; i < 10; i++ {
		a.Add(3, "books", 2)
	}
	a.Add(9, "music", 3)

	m, c := a.Prior(0)
	wantM := float64(5+40*4+20+10*2+3) / 52
	if math.Abs(m-wantM) > 1e-9 || math.Abs(c-52.0/4) > 1e-9 {
		t.Fatalf("prior m=%v c=%v, want %v %v", m, c, wantM, 52.0/4)
	}
	top := a.Top(2, 0)
	if len(top) != 3 {
		t.Fatalf("want top 2 books and 1 music, got %+v", top)
	}
	if top[0].ItemID != 2 || top[1].ItemID != 1 || top[0].Rank != 1 || top[1].Rank != 2 || top[2].Category != "music" {
		t.Errorf("ranking %+v", top)
	}
	want := (c*m + 180) / (c + 40)
	if math.Abs(top[0].Score-want) > 1e-9 {
		t.Errorf("score %v, want %v", top[0].Score, want)
	}
	// A fixed weight of 0.0001 is almost the plain mean: the single 5 wins.
	if top := a.Top(1, 0.0001); top[0].ItemID != 1 {
		t.Errorf("with a negligible prior the plain mean should win: %+v", top)
	}
}

func TestEmptyAndTies(t *testing.T) {
	if got := NewAccumulator().Top(5, 0); len(got) != 0 {
		t.Errorf("empty: %+v", got)
	}
	a := NewAccumulator()
	a.Add(7, "x", 4)
	a.Add(3, "x", 4)
	top := a.Top(5, 0)
	if top[0].ItemID != 3 || top[1].ItemID != 7 {
		t.Errorf("ties go to the lower id: %+v", top)
	}
}

func BenchmarkAccumulate(b *testing.B) {
	a := NewAccumulator()
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		a.Add(i%10000, "c", int(i%5)+1)
		i++
	}
	b.ReportMetric(float64(len(a.items)), "items")
}
