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
	targets  map[int64]*Target
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
	return &CatalogIndex{keys: k, targets: map[int64]*Target{}}
}

// Len returns the number of data sources.
func (c *CatalogIndex) Len() int { return len(c.targets) }

// Get returns the Target of data source dataSourceID, or nil.
func (c *CatalogIndex) Get(dataSourceID int64) *Target { return c.targets[dataSourceID] }

// Put inserts t, or replaces the Target with the same id. A nil t does nothing.
func (c *CatalogIndex) Put(t *Target) {
	if t == nil {
		return
	}
	t = t.on(c.keys)
	if old := c.targets[t.id]; old != nil {
		c.forKeys(old, c.unpost)
	}
	c.all.add(t) // replaces an old Target with the same id
	c.targets[t.id] = t
	c.forKeys(t, c.post)
}

// PutAll is Put of each Target of ts in order. When the ids of ts ascend and are
// all above every id the index holds, and the Targets are built on the index's
// table, it counts the postings of each key first and fills each list once, which
// is much faster than Put one by one for a large catalog.
func (c *CatalogIndex) PutAll(ts []*Target) {
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
	if len(c.targets) == 0 {
		c.targets = make(map[int64]*Target, len(ts))
	}
	for _, t := range ts {
		c.targets[t.id] = t
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
	t := c.targets[dataSourceID]
	if t == nil {
		return
	}
	delete(c.targets, dataSourceID)
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
		if t := c.targets[id]; t != nil {
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
