package match

import (
	"cmp"
	"slices"
)

// pentry is one indexed policy.
type pentry struct {
	id int64
	m  *Matcher
	// keys are the symbols of the keys the policy is posted under (when not
	// residual).
	keys     []sym
	residual bool
}

func byEntryID(a, b *pentry) int { return cmp.Compare(a.id, b.id) }

// PolicyIndex answers which policies apply to a data source without evaluating the
// policies that cannot match. Exact-match keys select candidates: the tag and
// column-tag prefixes, domain ids and names and case-folded server of the data
// source. A policy with the operator any is posted under every key of every
// circumstance; one with the operator all under the keys of its single most
// selective exact circumstance (the one whose keys have the fewest postings when
// it is added). Policies that keys cannot select — no circumstances, or (any) a
// regex, time or owner-selected circumstance, or (all) only such circumstances —
// form a residual set evaluated on every lookup.
//
// Add and Remove are incremental. A PolicyIndex is not safe for concurrent use,
// lookups included: Applicable reuses scratch memory held by the index so that the
// key path does not allocate. One owner (the engine's writer) serialises all calls.
// The zero value is not usable; call NewPolicyIndex.
type PolicyIndex struct {
	keys     *Keys
	entries  map[int64]*pentry
	postings [][]*pentry // by key symbol, each sorted by id
	residual []*pentry   // sorted by id
	// unselected is residual without the policies that need an owner's selection
	// to apply (sorted by id): the residual set of a data source that selected none.
	unselected []*pentry
	scratch    Scratch
}

// NewPolicyIndex returns an empty index on table k (nil: a table of its own).
// Lookups of Targets built on k compare keys as integers; others are translated.
func NewPolicyIndex(k *Keys) *PolicyIndex {
	if k == nil {
		k = NewKeys()
	}
	return &PolicyIndex{keys: k, entries: map[int64]*pentry{}}
}

// Len returns the number of indexed policies.
func (ix *PolicyIndex) Len() int { return len(ix.entries) }

// Add indexes policy policyID with matcher m, replacing an existing entry with the
// same id. Add with a nil m is Remove.
func (ix *PolicyIndex) Add(policyID int64, m *Matcher) {
	ix.Remove(policyID)
	if m == nil {
		return
	}
	e := &pentry{id: policyID, m: m}
	e.keys, e.residual = ix.plan(m)
	ix.entries[policyID] = e
	if e.residual {
		ix.residual = insertEntry(ix.residual, e)
		if !m.needsSelection() {
			ix.unselected = insertEntry(ix.unselected, e)
		}
		return
	}
	for _, k := range e.keys {
		if int(k) >= len(ix.postings) {
			ix.postings = append(ix.postings, make([][]*pentry, int(k)+1-len(ix.postings))...)
		}
		ix.postings[k] = insertEntry(ix.postings[k], e)
	}
}

// posted returns the entries posted under symbol k.
func (ix *PolicyIndex) posted(k sym) []*pentry {
	if int(k) < len(ix.postings) {
		return ix.postings[k]
	}
	return nil
}

// plan chooses the keys a matcher is posted under, or residual.
func (ix *PolicyIndex) plan(m *Matcher) ([]sym, bool) {
	if len(m.conds) == 0 {
		return nil, true
	}
	if !m.all {
		var keys []sym
		for i := range m.conds {
			c := &m.conds[i]
			if !c.exact() {
				return nil, true
			}
			for _, k := range c.keys {
				if s := ix.keys.intern(k); !slices.Contains(keys, s) {
					keys = append(keys, s)
				}
			}
		}
		return keys, false
	}
	best, bestCost := -1, 0
	for i := range m.conds {
		c := &m.conds[i]
		if !c.exact() {
			continue
		}
		cost := 0
		for _, k := range c.keys {
			cost += len(ix.posted(ix.keys.intern(k)))
		}
		if best < 0 || cost < bestCost || cost == bestCost && len(c.keys) < len(m.conds[best].keys) {
			best, bestCost = i, cost
		}
	}
	if best < 0 {
		return nil, true
	}
	keys := make([]sym, len(m.conds[best].keys))
	for i, k := range m.conds[best].keys {
		keys[i] = ix.keys.intern(k)
	}
	return keys, false
}

// Remove removes policy policyID; removing an absent id does nothing.
func (ix *PolicyIndex) Remove(policyID int64) {
	e, ok := ix.entries[policyID]
	if !ok {
		return
	}
	delete(ix.entries, policyID)
	if e.residual {
		ix.residual = removeEntry(ix.residual, e)
		ix.unselected = removeEntry(ix.unselected, e)
		return
	}
	for _, k := range e.keys {
		if p := removeEntry(ix.postings[k], e); len(p) > 0 {
			ix.postings[k] = p
		} else {
			ix.postings[k] = nil
		}
	}
}

func insertEntry(s []*pentry, e *pentry) []*pentry {
	i, _ := slices.BinarySearchFunc(s, e, byEntryID)
	return slices.Insert(s, i, e)
}

func removeEntry(s []*pentry, e *pentry) []*pentry {
	if i, ok := slices.BinarySearchFunc(s, e, byEntryID); ok {
		s = slices.Delete(s, i, i+1)
	}
	return s
}

// Applicable calls visit for every indexed policy whose result on t is Applies or
// Indeterminate, in ascending policy id order, and returns how many candidate
// policies it evaluated (the key-selected candidates plus the residual set; a
// policy whose circumstances are all decided by keys — any of tags, column tags,
// domains and servers — is decided by being found, without Match).
// selected(policyID) tells whether an owner applied that policy on t's data
// source; it is asked only about owner-selected policies, and a nil selected means
// none (the policies that cannot apply without a selection are then not
// evaluated, nor counted). Apart from what Match and visit do (column regexes allocate), Applicable
// does not allocate once its scratch has grown. visit must not call back into the
// index.
func (ix *PolicyIndex) Applicable(t *Target, selected func(policyID int64) bool, visit func(policyID int64, r Result, err error)) (evaluated int) {
	return ix.ApplicableWith(&ix.scratch, t, selected, visit)
}

// Scratch is the reusable memory of one ApplicableWith caller.
type Scratch struct{ s []*pentry }

// ApplicableWith is Applicable with the caller's scratch memory: calls with
// distinct scratches may run concurrently with each other (not with Add or
// Remove), so that loading many data sources can use every core.
func (ix *PolicyIndex) ApplicableWith(sc *Scratch, t *Target, selected func(policyID int64) bool, visit func(policyID int64, r Result, err error)) (evaluated int) {
	if t == nil {
		t = emptyTarget
	}
	t = t.on(ix.keys)
	s := sc.s[:0]
	for _, k := range t.syms {
		s = append(s, ix.posted(k)...)
	}
	s = append(s, ix.posted(t.server)...)
	if len(s) > 1 {
		slices.SortFunc(s, byEntryID)
		s = slices.Compact(s)
	}
	res := ix.residual
	if selected == nil {
		res = ix.unselected // the others cannot apply without a selection
	}
	i, j := 0, 0
	for i < len(s) || j < len(res) {
		var e *pentry
		if j == len(res) || i < len(s) && s[i].id < res[j].id {
			e = s[i]
			i++
		} else {
			e = res[j]
			j++
		}
		evaluated++
		if e.m.byKeys && !e.residual {
			visit(e.id, Applies, nil) // found through one of its keys
			continue
		}
		sel := e.m.ownerSelected && selected != nil && selected(e.id)
		if r, err := e.m.Match(t, sel); r != NotApplies {
			visit(e.id, r, err)
		}
	}
	clear(s) // drop references to matchers that may be removed later
	sc.s = s[:0]
	return evaluated
}
