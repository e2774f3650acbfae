package idset

import (
	"slices"
	"sync/atomic"

	"github.com/tollgate-dev/tollgate/engine/internal/cowmap"
)

// chunkMax is the largest chunk: a changed chunk costs one copy of at most this
// many ids.
const chunkMax = 128

// Set is a sorted set of int64 ids, cut into chunks of at most chunkMax ids. The
// zero value and nil are the empty set. A published Set is never modified; an Edit
// modifies in place only the sets and chunks it created itself.
type Set struct {
	chunks []*chunk // non-empty, ascending, disjoint
	n      int
	owner  uint64
}

type chunk struct {
	ids   []int64
	owner uint64
}

var epochs atomic.Uint64

// Len returns the number of ids.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return s.n
}

// Contains reports whether id is in the set.
func (s *Set) Contains(id int64) bool {
	if s == nil {
		return false
	}
	i := s.find(id)
	if i < 0 {
		return false
	}
	_, ok := slices.BinarySearch(s.chunks[i].ids, id)
	return ok
}

// find returns the index of the chunk id belongs in: the last one whose first id
// is <= id, or 0; -1 for an empty set.
func (s *Set) find(id int64) int {
	if len(s.chunks) == 0 {
		return -1
	}
	lo, hi := 0, len(s.chunks)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if s.chunks[m].ids[0] <= id {
			lo = m
		} else {
			hi = m
		}
	}
	return lo
}

// AppendTo appends the ids in ascending order to dst.
func (s *Set) AppendTo(dst []int64) []int64 {
	if s == nil {
		return dst
	}
	for _, c := range s.chunks {
		dst = append(dst, c.ids...)
	}
	return dst
}

// Each calls f for every id in ascending order until f returns false.
func (s *Set) Each(f func(id int64) bool) {
	if s == nil {
		return
	}
	for _, c := range s.chunks {
		for _, id := range c.ids {
			if !f(id) {
				return
			}
		}
	}
}

// editor creates and changes sets for one edit.
type editor struct{ epoch uint64 }

func newEditor() editor { return editor{epoch: epochs.Add(1)} }

// own returns s itself when the edit created it, else a copy the edit owns.
func (e editor) own(s *Set) *Set {
	if s == nil {
		return &Set{owner: e.epoch}
	}
	if s.owner == e.epoch {
		return s
	}
	return &Set{chunks: slices.Clone(s.chunks), n: s.n, owner: e.epoch}
}

func (e editor) ownChunk(s *Set, i int) *chunk {
	c := s.chunks[i]
	if c.owner != e.epoch {
		c = &chunk{ids: slices.Clip(slices.Clone(c.ids)), owner: e.epoch}
		s.chunks[i] = c
	}
	return c
}

// add returns s with id added (s itself when id was already in it).
func (e editor) add(s *Set, id int64) *Set {
	if s.Contains(id) {
		return s
	}
	s = e.own(s)
	s.n++
	if len(s.chunks) == 0 {
		s.chunks = append(s.chunks, &chunk{ids: []int64{id}, owner: e.epoch})
		return s
	}
	i := s.find(id)
	c := s.chunks[i]
	// Appending past the end of the last chunk: start a new chunk when it is full.
	if i == len(s.chunks)-1 && id > c.ids[len(c.ids)-1] && len(c.ids) >= chunkMax {
		s.chunks = append(s.chunks, &chunk{ids: append(make([]int64, 0, chunkMax), id), owner: e.epoch})
		return s
	}
	c = e.ownChunk(s, i)
	j, _ := slices.BinarySearch(c.ids, id)
	c.ids = slices.Insert(c.ids, j, id)
	if len(c.ids) > chunkMax {
		half := len(c.ids) / 2
		right := &chunk{ids: slices.Clone(c.ids[half:]), owner: e.epoch}
		c.ids = slices.Clip(c.ids[:half])
		s.chunks = slices.Insert(s.chunks, i+1, right)
	}
	return s
}

// addSorted returns s with ids (ascending, without duplicates) added: appended in
// whole chunks when they all come after s's last id, else one by one.
func (e editor) addSorted(s *Set, ids []int64) *Set {
	if s.Len() > 0 {
		last := s.chunks[len(s.chunks)-1].ids
		if ids[0] <= last[len(last)-1] {
			for _, id := range ids {
				s = e.add(s, id)
			}
			return s
		}
	}
	s = e.own(s)
	if i := len(s.chunks) - 1; i >= 0 && len(s.chunks[i].ids) < chunkMax {
		c := e.ownChunk(s, i)
		k := min(chunkMax-len(c.ids), len(ids))
		c.ids = append(c.ids, ids[:k]...)
		ids, s.n = ids[k:], s.n+k
	}
	for len(ids) > 0 {
		k := min(chunkMax, len(ids))
		s.chunks = append(s.chunks, &chunk{ids: slices.Clone(ids[:k]), owner: e.epoch})
		ids, s.n = ids[k:], s.n+k
	}
	return s
}

// remove returns s without id (s itself when id was not in it; nil when empty).
func (e editor) remove(s *Set, id int64) *Set {
	if !s.Contains(id) {
		return s
	}
	if s.n == 1 {
		return nil
	}
	s = e.own(s)
	s.n--
	i := s.find(id)
	c := e.ownChunk(s, i)
	j, _ := slices.BinarySearch(c.ids, id)
	c.ids = slices.Delete(c.ids, j, j+1)
	if len(c.ids) == 0 {
		s.chunks = slices.Delete(s.chunks, i, i+1)
	}
	return s
}

// Map maps an int64 key to a non-empty Set. The zero value is the empty map. A Map
// value is immutable; edits go through an Edit.
type Map struct {
	m cowmap.Map[*Set]
}

// Get returns the set of key (nil: empty).
func (m Map) Get(key int64) *Set {
	s, _ := m.m.Get(key)
	return s
}

// Keys returns every key of m, in no particular order.
func (m Map) Keys() []int64 { return m.m.Keys() }

// Edit starts an edit of m; m itself never changes.
func (m Map) Edit() *Edit {
	return &Edit{m: m.m.Edit(), ed: newEditor()}
}

// Edit is a pending edit of a Map. It is not safe for concurrent use.
type Edit struct {
	m  *cowmap.Edit[*Set]
	ed editor
}

// Get returns the current set of key (nil: empty). It must not be modified.
func (e *Edit) Get(key int64) *Set {
	s, _ := e.m.Get(key)
	return s
}

// Add adds id to the set of key.
func (e *Edit) Add(key, id int64) {
	s := e.Get(key)
	if n := e.ed.add(s, id); n != s {
		e.m.Set(key, n)
	}
}

// AddSorted adds ids, ascending and without duplicates, to the set of key: at
// once, in whole chunks, when they all come after the set's last id.
func (e *Edit) AddSorted(key int64, ids []int64) {
	if len(ids) == 0 {
		return
	}
	s := e.Get(key)
	if n := e.ed.addSorted(s, ids); n != s {
		e.m.Set(key, n)
	}
}

// Remove removes id from the set of key.
func (e *Edit) Remove(key, id int64) {
	s := e.Get(key)
	switch n := e.ed.remove(s, id); {
	case n == nil && s != nil:
		e.m.Del(key)
	case n != s:
		e.m.Set(key, n)
	}
}

// Done returns the edited map. The edit may go on being used, but a Map it
// returned must then not be published before the edit ends.
func (e *Edit) Done() Map { return Map{m: e.m.Done()} }
