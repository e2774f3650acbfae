package match

import (
	"slices"
	"sync"
)

// sym is the symbol of one exact-match key in a Keys table: a small dense integer,
// so that Targets hold 4 bytes per key and the indexes find a key's postings by
// position, without hashing strings.
type sym = uint32

// Keys interns the exact-match keys of Targets and Matchers (tag and column-tag
// prefixes, domain ids and names, case-folded servers) as dense symbols. A
// PolicyIndex, a CatalogIndex and the Targets and Matchers they hold share one
// table: then a Target's keys and a policy's keys compare as integers. A Target
// or Matcher built on another table still works everywhere, through a slower path
// that translates its keys by name.
//
// The table only grows: it holds every distinct key it was asked to intern (the
// vocabulary of the catalog and of the policies), for as long as it lives. It is
// safe for concurrent use.
type Keys struct {
	mu    sync.RWMutex
	syms  map[key]sym
	names []key // by symbol
	// prefixes caches, per tag or column tag, the symbols of its dot-segment
	// prefixes (see appendPrefixes), sorted.
	prefixes map[key][]sym
}

// NewKeys returns an empty table.
func NewKeys() *Keys {
	return &Keys{syms: map[key]sym{}, prefixes: map[key][]sym{}}
}

// Len returns the number of interned keys.
func (k *Keys) Len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.names)
}

// intern returns the symbol of kk, adding it if it is new.
func (k *Keys) intern(kk key) sym {
	k.mu.RLock()
	s, ok := k.syms[kk]
	k.mu.RUnlock()
	if ok {
		return s
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.internLocked(kk)
}

func (k *Keys) internLocked(kk key) sym {
	if s, ok := k.syms[kk]; ok {
		return s
	}
	s := sym(len(k.names))
	k.syms[kk] = s
	k.names = append(k.names, kk)
	return s
}

// lookup returns the symbol of kk, or false when kk was never interned (then no
// Target or Matcher of this table has it).
func (k *Keys) lookup(kk key) (sym, bool) {
	k.mu.RLock()
	s, ok := k.syms[kk]
	k.mu.RUnlock()
	return s, ok
}

// name returns the key of symbol s.
func (k *Keys) name(s sym) key {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.names[s]
}

// tagPrefixes returns the sorted symbols of every dot-segment prefix of tag (of
// kind keyTag or keyColumnTag), interning them. The slice is shared: callers must
// not modify it.
func (k *Keys) tagPrefixes(kind keyKind, tag string) []sym {
	kk := key{kind, tag}
	k.mu.RLock()
	p, ok := k.prefixes[kk]
	k.mu.RUnlock()
	if ok {
		return p
	}
	var buf [8]string
	strs := appendPrefixes(buf[:0], []string{tag})
	k.mu.Lock()
	defer k.mu.Unlock()
	if p, ok := k.prefixes[kk]; ok {
		return p
	}
	p = make([]sym, len(strs))
	for i, s := range strs {
		p[i] = k.internLocked(key{kind, s})
	}
	p = sortedSyms(p)
	k.prefixes[kk] = p
	return p
}

// A Builder builds Targets on one Keys table for one goroutine, remembering the
// keys it has seen so that most lookups take no lock. Builders of one table may be
// used concurrently, each by one goroutine.
type Builder struct {
	k        *Keys
	prefixes map[key][]sym
	syms     map[key]sym
	buf      []sym
}

// Builder returns a new Builder on k.
func (k *Keys) Builder() *Builder {
	return &Builder{k: k, prefixes: map[key][]sym{}, syms: map[key]sym{}}
}

func (b *Builder) tagPrefixes(kind keyKind, tag string) []sym {
	kk := key{kind, tag}
	if p, ok := b.prefixes[kk]; ok {
		return p
	}
	p := b.k.tagPrefixes(kind, tag)
	b.prefixes[kk] = p
	return p
}

func (b *Builder) intern(kk key) sym {
	if s, ok := b.syms[kk]; ok {
		return s
	}
	s := b.k.intern(kk)
	b.syms[kk] = s
	return s
}

// sortedSyms sorts s in place and removes duplicates.
func sortedSyms(s []sym) []sym {
	if len(s) < 2 {
		return s
	}
	if len(s) > 16 {
		slices.Sort(s)
	}
	for i := 1; i < len(s); i++ { // insertion sort: most sections are short
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	out := s[:1]
	for _, v := range s[1:] {
		if v != out[len(out)-1] {
			out = append(out, v)
		}
	}
	return out
}

// containsSym reports whether the sorted set s holds v.
func containsSym(s []sym, v sym) bool {
	lo, hi := 0, len(s)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch {
		case s[m] == v:
			return true
		case s[m] < v:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}
