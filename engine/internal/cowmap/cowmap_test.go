package cowmap

import (
	"maps"
	"math/rand"
	"slices"
	"sync"
	"testing"
)

// TestCowMapMatchesMap drives random edits (dense and sparse keys, sets, deletes,
// several edits) and checks every published map against a plain Go map, and that an
// edit never changes the map it started from.
func TestCowMapMatchesMap(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		r := rand.New(rand.NewSource(seed))
		var m Map[int]
		ref := map[int64]int{}
		for round := 0; round < 30; round++ {
			before := m
			beforeRef := map[int64]int{}
			for k, v := range ref {
				beforeRef[k] = v
			}
			e := m.Edit()
			for op := 0; op < 200; op++ {
				var k int64
				switch r.Intn(21) {
				case 0:
					k = specialKey // the key no slot can hold
				case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10:
					k = int64(r.Intn(3000))
				default:
					k = r.Int63() - r.Int63()
				}
				if r.Intn(3) == 0 {
					e.Del(k)
					delete(ref, k)
				} else {
					v := r.Int()
					e.Set(k, v)
					ref[k] = v
				}
			}
			m = e.Done()
			check(t, m, ref)
			check(t, before, beforeRef)
		}
	}
}

func check(t *testing.T, m Map[int], ref map[int64]int) {
	t.Helper()
	if m.Len() != len(ref) {
		t.Fatalf("len %d, want %d", m.Len(), len(ref))
	}
	for k, v := range ref {
		if got, ok := m.Get(k); !ok || got != v {
			t.Fatalf("get(%d) = %d, %v; want %d", k, got, ok, v)
		}
		if p := m.Ref(k); p == nil || *p != v {
			t.Fatalf("ref(%d) = %v; want a pointer to %d", k, p, v)
		}
	}
	n := 0
	m.Each(func(k int64, v int) bool {
		if ref[k] != v {
			t.Fatalf("each: %d=%d, want %d", k, v, ref[k])
		}
		n++
		return true
	})
	if n != len(ref) {
		t.Fatalf("each visited %d, want %d", n, len(ref))
	}
	for i := 0; i < 50; i++ {
		k := int64(-i - 1000000)
		if _, ok := ref[k]; !ok {
			if _, ok := m.Get(k); ok {
				t.Fatalf("get(%d) found a deleted or absent key", k)
			}
			if m.Ref(k) != nil {
				t.Fatalf("ref(%d) found a deleted or absent key", k)
			}
		}
	}
}

// TestSetManyEqualsSet: SetMany, its parts run concurrently, leaves the map, its
// touched keys and its write count as Set called for each key in turn does, and
// never changes the map the edit started from.
func TestSetManyEqualsSet(t *testing.T) {
	for seed := int64(0); seed < 20; seed++ {
		r := rand.New(rand.NewSource(seed))
		var m Map[int]
		ref := map[int64]int{}
		for round := 0; round < 10; round++ {
			before := m
			beforeRef := maps.Clone(ref)
			plain, many := m.Edit(), m.Edit()
			var keys []int64
			var vals []int
			for op := r.Intn(3000); op > 0; op-- {
				k := int64(r.Intn(5000))
				switch r.Intn(40) {
				case 0:
					k = specialKey // the key no slot can hold
				case 1, 2, 3, 4, 5, 6, 7, 8, 9, 10:
					k = r.Int63() - r.Int63()
				}
				v := r.Int()
				keys, vals = append(keys, k), append(vals, v) // repeats included: the last one wins
				plain.Set(k, v)
				ref[k] = v
			}
			many.SetMany(keys, vals, func(part func(p int)) {
				var wg sync.WaitGroup
				for p := range SetParts {
					wg.Add(1)
					go func() { defer wg.Done(); part(p) }()
				}
				wg.Wait()
			})
			if !slices.Equal(many.TouchedKeys(), plain.TouchedKeys()) || many.Writes() != plain.Writes() {
				t.Fatalf("seed %d round %d: touched keys or writes differ", seed, round)
			}
			m = many.Done()
			check(t, plain.Done(), ref)
			check(t, m, ref)
			check(t, before, beforeRef)
		}
	}
}
