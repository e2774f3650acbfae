package circumstance

import "slices"

// postings is a sorted set of data source ids. Ids added in ascending order are
// appended to ids in O(1) amortised time. Others go to a small sorted tail that is
// merged into ids (in place, from the back) once it outgrows about the square root
// of len(ids), so that loading ids in any order costs O(sqrt n) per id instead of
// O(n). ids and tail are disjoint.
type postings struct {
	ids  []int64
	tail []int64
}

func (p *postings) len() int { return len(p.ids) + len(p.tail) }

// add inserts id; adding a present id does nothing.
func (p *postings) add(id int64) {
	if len(p.tail) == 0 && (len(p.ids) == 0 || id > p.ids[len(p.ids)-1]) {
		p.ids = append(p.ids, id)
		return
	}
	if _, ok := slices.BinarySearch(p.ids, id); ok {
		return
	}
	i, ok := slices.BinarySearch(p.tail, id)
	if ok {
		return
	}
	p.tail = slices.Insert(p.tail, i, id)
	if limit := tailLimit(len(p.ids)); len(p.tail) > limit {
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

// merge moves the tail into ids.
func (p *postings) merge() {
	n, m := len(p.ids), len(p.tail)
	p.ids = slices.Grow(p.ids, m)[:n+m]
	i, j, k := n-1, m-1, n+m-1
	for j >= 0 {
		if i >= 0 && p.ids[i] > p.tail[j] {
			p.ids[k] = p.ids[i]
			i--
		} else {
			p.ids[k] = p.tail[j]
			j--
		}
		k--
	}
	p.tail = p.tail[:0]
}

// remove deletes id in O(len) time; removing an absent id does nothing.
func (p *postings) remove(id int64) {
	if i, ok := slices.BinarySearch(p.ids, id); ok {
		p.ids = slices.Delete(p.ids, i, i+1)
		return
	}
	if i, ok := slices.BinarySearch(p.tail, id); ok {
		p.tail = slices.Delete(p.tail, i, i+1)
	}
}

// has reports whether id is in the set.
func (p *postings) has(id int64) bool {
	if _, ok := slices.BinarySearch(p.ids, id); ok {
		return true
	}
	_, ok := slices.BinarySearch(p.tail, id)
	return ok
}

// merger yields the union of several sorted id lists in ascending order, without
// duplicates, using a binary min-heap of cursors. Its memory is reused across
// calls.
type merger struct {
	heap []cursor
}

type cursor struct {
	s []int64
	i int
}

func (c cursor) head() int64 { return c.s[c.i] }

// reset empties the merger.
func (mg *merger) reset() {
	clear(mg.heap)
	mg.heap = mg.heap[:0]
}

// push adds a sorted list.
func (mg *merger) push(s []int64) {
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
	mg.push(p.ids)
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
