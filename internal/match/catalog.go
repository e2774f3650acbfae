package match

import "slices"

// CatalogIndex answers on which data sources a policy applies: the reverse of
// PolicyIndex. It holds the Target of every data source and, per exact-match key
// (tag prefix, column-tag prefix, domain id, domain name, case-folded server), the
// sorted set of ids of the data sources that have it. For a policy it unions the
// sets of the policy's keys (operator any: every key, plus the owner-selected list
// if it has an owner-selected circumstance; all: the keys of its most selective
// exact circumstance, the one with the fewest postings now, or the owner-selected
// list when that is shorter), or takes every data source (no circumstances, or a
// regex or time circumstance the keys cannot decide), and evaluates the policy on
// each candidate. A policy decided by keys alone (operator any over tags, column
// tags, domains and servers, or a single such circumstance) applies on exactly its
// candidates and is not evaluated per data source.
//
// Memory per data source is its Target plus one 8-byte posting per key. Put and
// Remove are incremental: a Put in ascending id order costs O(1) amortised per key,
// out of order O(sqrt n), and a Remove O(postings) per key.
//
// A CatalogIndex is not safe for concurrent use, lookups included (they reuse
// scratch memory held by the index); one owner serialises all calls. The zero
// value is not usable; call NewCatalogIndex.
type CatalogIndex struct {
	keys     *Keys
	targets  targetTable
	all      sortedList[*Target] // every Target, for scans in id order
	postings []*postings         // by key symbol
	mg       merger
	selected []dsID
}

// NewCatalogIndex returns an empty index on table k (nil: a table of its own).
// Targets built on k are stored as they are; others are translated first.
func NewCatalogIndex(k *Keys) *CatalogIndex {
	if k == nil {
		k = NewKeys()
	}
	return &CatalogIndex{keys: k}
}

// Len returns the number of data sources.
func (c *CatalogIndex) Len() int { return c.targets.n }

// Get returns the Target of data source dataSourceID, or nil.
func (c *CatalogIndex) Get(dataSourceID int64) *Target { return c.targets.get(dataSourceID) }

// Put inserts t, or replaces the Target with the same id. A nil t does nothing.
func (c *CatalogIndex) Put(t *Target) {
	if t == nil {
		return
	}
	t = t.on(c.keys)
	if old := c.targets.get(t.id); old != nil {
		c.forKeys(old, c.unpost)
	}
	c.all.add(t) // replaces an old Target with the same id
	c.targets.set(t.id, t)
	c.forKeys(t, c.post)
}

// PutAll is Put of each Target of ts in order. When the ids of ts ascend and are
// all above every id the index holds, and the Targets are built on the index's
// table, it counts the postings of each key first and fills each list once, which
// is much faster than Put one by one for a large catalog.
func (c *CatalogIndex) PutAll(ts []*Target) {
	if len(ts) == 0 {
		return
	}
	if !c.appendable(ts) {
		for _, t := range ts {
			c.Put(t)
		}
		return
	}
	n := c.keys.Len()
	counts := make([]int32, n)
	for _, t := range ts {
		for _, k := range t.syms {
			counts[k]++
		}
		counts[t.server]++
	}
	if len(c.postings) < n {
		c.postings = append(c.postings, make([]*postings, n-len(c.postings))...)
	}
	for k, cnt := range counts {
		if cnt == 0 {
			continue
		}
		if p := c.postings[k]; p != nil {
			p.items = slices.Grow(p.items, int(cnt))
		} else {
			c.postings[k] = &postings{items: make([]dsID, 0, cnt)}
		}
	}
	for _, t := range ts {
		id := dsID(t.id)
		for _, k := range t.syms {
			p := c.postings[k]
			p.items = append(p.items, id) // above every id held: items stay sorted
		}
		p := c.postings[t.server]
		p.items = append(p.items, id)
	}
	c.targets.reserve(ts[len(ts)-1].id, len(ts))
	for _, t := range ts {
		c.targets.set(t.id, t)
	}
	c.all.items = append(c.all.items, ts...)
}

// appendable reports whether PutAll may append ts: Targets on c's table, with
// ascending ids above every id c holds.
func (c *CatalogIndex) appendable(ts []*Target) bool {
	last := int64(-1 << 63)
	if n := len(c.all.items); n > 0 {
		last = c.all.items[n-1].id
	}
	for _, t := range c.all.tail {
		last = max(last, t.id)
	}
	for _, t := range ts {
		if t == nil || t.keys != c.keys || t.id <= last {
			return false
		}
		last = t.id
	}
	return true
}

// Remove removes data source dataSourceID; removing an absent id does nothing.
func (c *CatalogIndex) Remove(dataSourceID int64) {
	t := c.targets.get(dataSourceID)
	if t == nil {
		return
	}
	c.targets.del(dataSourceID)
	c.all.remove(dataSourceID)
	c.forKeys(t, c.unpost)
}

func (c *CatalogIndex) forKeys(t *Target, f func(sym, int64)) {
	for _, k := range t.syms {
		f(k, t.id)
	}
	f(t.server, t.id)
}

func (c *CatalogIndex) post(k sym, id int64) {
	if int(k) >= len(c.postings) {
		c.postings = append(c.postings, make([]*postings, int(k)+1-len(c.postings))...)
	}
	p := c.postings[k]
	if p == nil {
		p = &postings{}
		c.postings[k] = p
	}
	p.add(dsID(id))
}

func (c *CatalogIndex) unpost(k sym, id int64) {
	p := c.posted(k)
	if p == nil {
		return
	}
	p.remove(id)
	if p.len() == 0 {
		c.postings[k] = nil
	}
}

// posted returns the postings of symbol k, or nil.
func (c *CatalogIndex) posted(k sym) *postings {
	if int(k) < len(c.postings) {
		return c.postings[k]
	}
	return nil
}

// postingsOf returns the postings of key k, or nil.
func (c *CatalogIndex) postingsOf(k key) *postings {
	if s, ok := c.keys.lookup(k); ok {
		return c.posted(s)
	}
	return nil
}

// cost is the number of postings of the keys of an exact circumstance.
func (c *CatalogIndex) cost(cd *cond) int {
	n := 0
	for _, k := range cd.keys {
		if p := c.postingsOf(k); p != nil {
			n += p.len()
		}
	}
	return n
}

// Applicable calls visit for every data source on which m Applies or is
// Indeterminate, in ascending data source id order, and returns how many data
// sources it evaluated (a policy whose circumstances are all decided by keys is
// decided by the postings alone, without Match). selected are the ids of the data
// sources where owners applied this policy (what an owner-selected circumstance
// asks about), in any order; ids not in the index are ignored. visit must not call
// back into the index. A nil m evaluates nothing.
func (c *CatalogIndex) Applicable(m *Matcher, selected []int64, visit func(dataSourceID int64, r Result, err error)) (evaluated int) {
	if m == nil {
		return 0
	}
	sel := c.selected[:0]
	if m.ownerSelected {
		for _, id := range selected {
			sel = append(sel, dsID(id))
		}
		slices.Sort(sel)
		sel = slices.Compact(sel)
		c.selected = sel
	}
	eval := func(t *Target) {
		evaluated++
		os := false
		if m.ownerSelected {
			_, os = slices.BinarySearch(sel, dsID(t.id))
		}
		if r, err := m.Match(t, os); r != NotApplies {
			visit(t.id, r, err)
		}
	}
	mg := &c.mg
	mg.reset()
	if !c.candidates(m, sel, mg) {
		c.all.each(eval)
		return evaluated
	}
	var last int64
	started := false
	for {
		id, ok := mg.next(last, started)
		if !ok {
			break
		}
		last, started = id, true
		if m.byKeys {
			// Found through one of m's keys: applies, no Target needed.
			evaluated++
			visit(id, Applies, nil)
			continue
		}
		if t := c.targets.get(id); t != nil {
			eval(t)
		}
	}
	mg.reset()
	return evaluated
}

// candidates pushes the candidate id lists of m, or returns false when every data
// source is a candidate.
func (c *CatalogIndex) candidates(m *Matcher, sel []dsID, mg *merger) bool {
	if len(m.conds) == 0 {
		return false
	}
	if !m.all {
		for i := range m.conds {
			if cd := &m.conds[i]; !cd.exact() && cd.kind != kindOwnerSelected {
				return false
			}
		}
		for i := range m.conds {
			for _, k := range m.conds[i].keys {
				mg.addPostings(c.postingsOf(k))
			}
		}
		if m.ownerSelected {
			mg.push(sel)
		}
		return true
	}
	best, bestCost := -1, 0
	for i := range m.conds {
		if cd := &m.conds[i]; cd.exact() {
			if n := c.cost(cd); best < 0 || n < bestCost {
				best, bestCost = i, n
			}
		}
	}
	switch {
	case m.ownerSelected && (best < 0 || len(sel) < bestCost):
		mg.push(sel)
	case best >= 0:
		for _, k := range m.conds[best].keys {
			mg.addPostings(c.postingsOf(k))
		}
	default:
		return false
	}
	return true
}

// targetTable maps data source ids to Targets: a slice indexed by id while the ids
// are dense (the usual case: a fraction of the memory of a map), a map once they
// are not.
type targetTable struct {
	dense []*Target
	m     map[int64]*Target
	n     int
}

// denseFits reports whether id may go in the dense slice of a table of n entries.
func denseFits(id int64, n int) bool { return id >= 0 && id < int64(max(1024, 4*n)) }

func (tt *targetTable) get(id int64) *Target {
	if tt.m != nil {
		return tt.m[id]
	}
	if id >= 0 && id < int64(len(tt.dense)) {
		return tt.dense[id]
	}
	return nil
}

// reserve makes room for n more entries with ids up to maxID.
func (tt *targetTable) reserve(maxID int64, n int) {
	if tt.m == nil && denseFits(maxID, tt.n+n) && maxID >= int64(len(tt.dense)) {
		tt.dense = slices.Grow(tt.dense, int(maxID)+1-len(tt.dense))
	}
}

// set sets the Target of id (t is not nil).
func (tt *targetTable) set(id int64, t *Target) {
	if tt.m == nil && !denseFits(id, tt.n+1) {
		tt.m = make(map[int64]*Target, tt.n+1)
		for i, x := range tt.dense {
			if x != nil {
				tt.m[int64(i)] = x
			}
		}
		tt.dense = nil
	}
	if tt.m != nil {
		if _, ok := tt.m[id]; !ok {
			tt.n++
		}
		tt.m[id] = t
		return
	}
	if id >= int64(len(tt.dense)) {
		tt.dense = append(tt.dense, make([]*Target, int(id)+1-len(tt.dense))...)
	}
	if tt.dense[id] == nil {
		tt.n++
	}
	tt.dense[id] = t
}

func (tt *targetTable) del(id int64) {
	if tt.get(id) == nil {
		return
	}
	tt.n--
	if tt.m != nil {
		delete(tt.m, id)
		return
	}
	tt.dense[id] = nil
}
