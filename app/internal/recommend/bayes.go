// Package recommend ranks a tenant's items by Bayesian average rating.
//
// An item's plain average is a poor rank: one 5-star rating would beat a thousand 4.9s. The
// Bayesian average pulls each item's mean towards the tenant-wide mean m by a weight C, as if
// every item had C extra ratings of m:
//
//	score(item) = (C*m + sum of the item's stars) / (C + number of the item's ratings)
//
// With few ratings an item scores near m; with many, near its own mean. m is the mean of every
// rating of the tenant (the prior: what an unknown item is most likely worth here). C is the
// confidence weight: by default the mean number of ratings per rated item, so an item needs a
// typical amount of evidence before its own mean dominates; a fixed C can be set instead.
//
// The accumulator keeps a count and a sum per item and nothing per rating, so memory grows with
// the number of items, not of ratings, and ratings can be streamed from the database.
package recommend

import (
	"container/heap"
	"sort"
)

// Accumulator gathers ratings one at a time.
type Accumulator struct {
	items      map[int64]*itemStats
	count, sum int64
}

type itemStats struct {
	category string
	n, sum   int64
}

// NewAccumulator is an empty accumulator.
func NewAccumulator() *Accumulator { return &Accumulator{items: map[int64]*itemStats{}} }

// Add counts one rating of stars for an item of category.
func (a *Accumulator) Add(itemID int64, category string, stars int) {
	s := a.items[itemID]
	if s == nil {
		s = &itemStats{category: category}
		a.items[itemID] = s
	}
	s.n++
	s.sum += int64(stars)
	a.count++
	a.sum += int64(stars)
}

// Ratings is how many ratings were added.
func (a *Accumulator) Ratings() int64 { return a.count }

// Prior is the tenant-wide mean m and the confidence weight C (priorWeight when > 0, else the
// mean number of ratings per rated item).
func (a *Accumulator) Prior(priorWeight float64) (m, c float64) {
	if a.count == 0 {
		return 0, priorWeight
	}
	m = float64(a.sum) / float64(a.count)
	c = priorWeight
	if c <= 0 {
		c = float64(a.count) / float64(len(a.items))
	}
	return m, c
}

// Scored is an item's Bayesian average.
type Scored struct {
	ItemID   int64
	Category string
	Score    float64
	Ratings  int64
	Rank     int
}

// Top returns the topN items of each category by Bayesian average, ranked from 1. Ties go to the
// item with more ratings, then the lower ID, so a run is reproducible.
func (a *Accumulator) Top(topN int, priorWeight float64) []Scored {
	m, c := a.Prior(priorWeight)
	heaps := map[string]*minHeap{}
	for id, s := range a.items {
		sc := Scored{ItemID: id, Category: s.category, Ratings: s.n, Score: (c*m + float64(s.sum)) / (c + float64(s.n))}
		h := heaps[s.category]
		if h == nil {
			h = &minHeap{}
			heaps[s.category] = h
		}
		if h.Len() < topN {
			heap.Push(h, sc)
		} else if topN > 0 && better(sc, (*h)[0]) {
			(*h)[0] = sc
			heap.Fix(h, 0)
		}
	}
	cats := make([]string, 0, len(heaps))
	for cat := range heaps {
		cats = append(cats, cat)
	}
	sort.Strings(cats)
	var out []Scored
	for _, cat := range cats {
		h := *heaps[cat]
		sort.Slice(h, func(i, j int) bool { return better(h[i], h[j]) })
		for i := range h {
			h[i].Rank = i + 1
			out = append(out, h[i])
		}
	}
	return out
}

func better(a, b Scored) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	if a.Ratings != b.Ratings {
		return a.Ratings > b.Ratings
	}
	return a.ItemID < b.ItemID
}

// minHeap keeps the worst of the best topN on top.
type minHeap []Scored

func (h minHeap) Len() int           { return len(h) }
func (h minHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h minHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *minHeap) Push(x any)        { *h = append(*h, x.(Scored)) }
func (h *minHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
