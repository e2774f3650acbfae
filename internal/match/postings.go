package match

import (
	"cmp"
	"slices"
)

// elem is an element of a sortedList: ordered by its key.
type elem interface {
	comparable
	key() int64
}

// dsID is a data source id as a sortedList element.
type dsID int64

func (d dsID) key() int64 { return int64(d) }

func (t *Target) key() int64 { return t.id }

// postings is a sorted set of data source ids.
type postings = sortedList[dsID]

// sortedList is a set of elements sorted by key, with distinct keys. Elements added
// in ascending key order are appended to items in O(1) amortised time. Others go
// to a small sorted tail that is merged into items (in place, from the back) once
// it outgrows about the square root of len(items), so that loading in any order
// costs O(sqrt n) per element instead of O(n). items and tail are disjoint.
type sortedList[E elem] struct {
	items []E
	tail  []E
}

func (p *sortedList[E]) len() int { return len(p.items) + len(p.tail) }

func search[E elem](s []E, k int64) (int, bool) {
	return slices.BinarySearchFunc(s, k, func(e E, k int64) int { return cmp.Compare(e.key(), k) })
}

// add inserts e, replacing an element with the same key.
func (p *sortedList[E]) add(e E) {
	k := e.key()
	if len(p.tail) == 0 && (len(p.items) == 0 || k > p.items[len(p.items)-1].key()) {
		p.items = append(p.items, e)
		return
	}
	if i, ok := search(p.items, k); ok {
		p.items[i] = e
		return
	}
	i, ok := search(p.tail, k)
	if ok {
		p.tail[i] = e
		return
	}
	p.tail = slices.Insert(p.tail, i, e)
	if len(p.tail) > tailLimit(len(p.items)) {
		p.merge()
	}
}

func tailLimit(n int) int {
	r := 32
	for r*r < n {
		r *= 2
	}
	return r
}

// merge moves the tail into items.
func (p *sortedList[E]) merge() {
	n, m := len(p.items), len(p.tail)
	p.items = slices.Grow(p.items, m)[:n+m]
	i, j, k := n-1, m-1, n+m-1
	for j >= 0 {
		if i >= 0 && p.items[i].key() > p.tail[j].key() {
			p.items[k] = p.items[i]
			i--
		} else {
			p.items[k] = p.tail[j]
			j--
		}
		k--
	}
	clear(p.tail)
	p.tail = p.tail[:0]
}

// remove deletes the element with key k in O(len) time; an absent key does
// nothing.
func (p *sortedList[E]) remove(k int64) {
	if i, ok := search(p.items, k); ok {
		p.items = slices.Delete(p.items, i, i+1)
		return
	}
	if i, ok := search(p.tail, k); ok {
		p.tail = slices.Delete(p.tail, i, i+1)
	}
}

// each calls f for every element in ascending key order.
func (p *sortedList[E]) each(f func(E)) {
	a, b := p.items, p.tail
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || len(a) > 0 && a[0].key() < b[0].key() {
			f(a[0])
			a = a[1:]
		} else {
			f(b[0])
			b = b[1:]
		}
	}
}

// merger yields the union of several sorted id lists in ascending order, without
// duplicates, using a binary min-heap of cursors. Its memory is reused across
// calls.
type merger struct {
	heap []cursor
}

type cursor struct {
	s []dsID
	i int
}

func (c cursor) head() int64 { return int64(c.s[c.i]) }

// reset empties the merger.
func (mg *merger) reset() {
	clear(mg.heap)
	mg.heap = mg.heap[:0]
}

// push adds a sorted list.
func (mg *merger) push(s []dsID) {
	if len(s) == 0 {
		return
	}
	mg.heap = append(mg.heap, cursor{s: s})
	mg.up(len(mg.heap) - 1)
}

// addPostings adds both parts of p.
func (mg *merger) addPostings(p *postings) {
	if p == nil {
		return
	}
	mg.push(p.items)
	mg.push(p.tail)
}

// next returns the next id, or false when every list is exhausted.
func (mg *merger) next(last int64, started bool) (int64, bool) {
	for len(mg.heap) > 0 {
		id := mg.heap[0].head()
		mg.advance()
		if !started || id != last {
			return id, true
		}
	}
	return 0, false
}

// advance moves the smallest cursor forward.
func (mg *merger) advance() {
	h := mg.heap
	h[0].i++
	if h[0].i == len(h[0].s) {
		n := len(h) - 1
		h[0] = h[n]
		h[n] = cursor{}
		mg.heap = h[:n]
		if n == 0 {
			return
		}
	}
	mg.down(0)
}

func (mg *merger) up(i int) {
	h := mg.heap
	for i > 0 {
		p := (i - 1) / 2
		if h[p].head() <= h[i].head() {
			return
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
}

func (mg *merger) down(i int) {
	h := mg.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h[r].head() < h[l].head() {
			c = r
		}
		if h[i].head() <= h[c].head() {
			return
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
