package cowmap

import "slices"

// Map is a persistent map from int64 keys: a fixed array of shards, each a small
// open-addressing hash table (linear probing) that is never modified once published.
// An edit copies only the shards it touches, so a write costs O(shard size), and a
// read is one shard pick plus, usually, one cache line: the key and the value sit
// side by side in the slot. A Map value is immutable; edits go through a Edit.
type Map[V any] struct {
	shards *[cowShards]cowShard[V]
	n      int
	// special holds the value of the key specialKey (nil: absent), which no slot
	// can hold (see cowSlot).
	special *V
}

const cowShards = 1024

// cowShard is one open-addressing table; len(slots) is zero or a power of two.
type cowShard[V any] struct {
	slots []cowSlot[V]
	n     int
}

// cowSlot is one slot: ek is the key xor specialKey, so that a zero ek marks an
// empty slot and a slot needs no flag (16 bytes with a pointer value, not 24).
// The key specialKey itself is kept beside the shards (Map.special).
type cowSlot[V any] struct {
	ek int64
	v  V
}

// specialKey is the one key that no slot holds (an arbitrary odd constant).
const specialKey int64 = -0x61c8864680b583eb

func (s *cowSlot[V]) used() bool { return s.ek != 0 }
func (s *cowSlot[V]) key() int64 { return s.ek ^ specialKey }

func hashOf(k int64) uint64 {
	// Fibonacci hashing spreads dense ids; the top bits pick the shard, the mixed
	// rest the slot.
	h := uint64(k) * 0x9E3779B97F4A7C15
	return h
}

func shardOf(h uint64) int { return int(h >> (64 - 10)) }

func slotOf(h uint64, mask int) int { return int((h ^ (h >> 29)) & uint64(mask)) }

func (sh *cowShard[V]) find(k int64, h uint64) int {
	if len(sh.slots) == 0 {
		return -1
	}
	mask := len(sh.slots) - 1
	ek := k ^ specialKey
	for i := slotOf(h, mask); ; i = (i + 1) & mask {
		s := &sh.slots[i]
		if s.ek == ek {
			return i
		}
		if s.ek == 0 {
			return -1
		}
	}
}

// Ref returns a pointer to the value for k, or nil when k is absent, without
// copying the value. The value must not be modified: the map shares it with every
// map it was edited from or into.
func (m Map[V]) Ref(k int64) *V {
	if k == specialKey {
		return m.special
	}
	if m.shards != nil {
		h := hashOf(k)
		sh := &m.shards[shardOf(h)]
		if i := sh.find(k, h); i >= 0 {
			return &sh.slots[i].v
		}
	}
	return nil
}

// Get returns the value for k.
func (m Map[V]) Get(k int64) (V, bool) {
	if k == specialKey {
		return deref(m.special)
	}
	if m.shards != nil {
		h := hashOf(k)
		sh := &m.shards[shardOf(h)]
		if i := sh.find(k, h); i >= 0 {
			return sh.slots[i].v, true
		}
	}
	var zero V
	return zero, false
}

// deref returns *p, or the zero value and false for a nil p.
func deref[V any](p *V) (V, bool) {
	if p == nil {
		var zero V
		return zero, false
	}
	return *p, true
}

// len returns the number of entries.
func (m Map[V]) Len() int { return m.n }

// each calls f for every entry, in no particular order, until f returns false.
func (m Map[V]) Each(f func(k int64, v V) bool) {
	if m.special != nil && !f(specialKey, *m.special) {
		return
	}
	if m.shards == nil {
		return
	}
	for i := range m.shards {
		for _, s := range m.shards[i].slots {
			if s.used() && !f(s.key(), s.v) {
				return
			}
		}
	}
}

// keys returns every key, in no particular order.
func (m Map[V]) Keys() []int64 {
	out := make([]int64, 0, m.n)
	m.Each(func(k int64, _ V) bool { out = append(out, k); return true })
	return out
}

// Edit is a pending edit of a Map: it copies each shard the first time it is
// written. The base map is never changed.
type Edit[V any] struct {
	base    Map[V]
	shards  *[cowShards]cowShard[V]
	copied  *[cowShards]bool
	n       int
	special *V // the value of specialKey, as the edit has it (never written through)
	// touched holds every key set or deleted (the store's change log compares their
	// values before and after the edit), with repeats; the first sorted of them are
	// sorted and without repeats.
	touched []int64
	sorted  int
	writes  int // Set and Del calls that changed or may have changed the map
}

// Edit starts an edit of m; m itself never changes.
func (m Map[V]) Edit() *Edit[V] {
	return &Edit[V]{base: m, n: m.n, special: m.special}
}

// ownShards gives the edit its own shard array (the shards still shared).
func (e *Edit[V]) ownShards() {
	if e.shards == nil {
		e.shards = new([cowShards]cowShard[V])
		e.copied = new([cowShards]bool)
		if e.base.shards != nil {
			*e.shards = *e.base.shards
		}
	}
}

// own returns shard i, copied for this edit, with room for one more entry.
func (e *Edit[V]) own(i int) *cowShard[V] {
	e.ownShards()
	sh := &e.shards[i]
	need := (sh.n + 1) * 4 / 3
	if !e.copied[i] || need >= len(sh.slots) {
		size := len(sh.slots)
		if size < 8 {
			size = 8
		}
		for size <= need {
			size *= 2
		}
		old := sh.slots
		if size == len(old) {
			if !e.copied[i] {
				// The first copy at the same size keeps every slot where it is.
				sh.slots = slices.Clone(old)
				e.copied[i] = true
			}
			return sh
		}
		sh.slots = make([]cowSlot[V], size)
		mask := size - 1
		for _, s := range old {
			if !s.used() {
				continue
			}
			j := slotOf(hashOf(s.key()), mask)
			for sh.slots[j].used() {
				j = (j + 1) & mask
			}
			sh.slots[j] = s
		}
		e.copied[i] = true
	}
	return sh
}

// Get returns the value for k as the edit has it.
func (e *Edit[V]) Get(k int64) (V, bool) {
	if k == specialKey {
		return deref(e.special)
	}
	if e.shards == nil {
		return e.base.Get(k)
	}
	h := hashOf(k)
	sh := &e.shards[shardOf(h)]
	if i := sh.find(k, h); i >= 0 {
		return sh.slots[i].v, true
	}
	var zero V
	return zero, false
}

// Set sets the value for k.
func (e *Edit[V]) Set(k int64, v V) {
	e.touch(k)
	e.n += e.set(k, v)
}

// set sets the value for k in its shard and returns 1 when k is new, else 0. It
// writes nothing but the shard (and the edit's copy of the shard array, once).
func (e *Edit[V]) set(k int64, v V) int {
	if k == specialKey {
		return e.setSpecial(v)
	}
	h := hashOf(k)
	sh := e.own(shardOf(h))
	mask := len(sh.slots) - 1
	i := slotOf(h, mask)
	ek := k ^ specialKey
	for ; sh.slots[i].used(); i = (i + 1) & mask {
		if sh.slots[i].ek == ek {
			sh.slots[i].v = v
			return 0
		}
	}
	sh.slots[i] = cowSlot[V]{ek: ek, v: v}
	sh.n++
	return 1
}

// setSpecial is set for specialKey (apart, so that set's v stays off the heap).
func (e *Edit[V]) setSpecial(v V) int {
	added := 0
	if e.special == nil {
		added = 1
	}
	e.special = &v
	return added
}

// SetParts is how many parts SetMany splits the shards into.
const SetParts = 8

// SetMany sets vals[i] for keys[i], as Set does for each in turn. The shards are
// split into SetParts parts, each set by one call part(p) of the function run
// passes to its argument; run must make the call for every p in [0, SetParts),
// possibly concurrently, and return once all have returned.
func (e *Edit[V]) SetMany(keys []int64, vals []V, run func(part func(p int))) {
	if len(keys) == 0 {
		return
	}
	e.ownShards() // before the parts share the array
	var added [SetParts]int
	special := -1 // the last index of specialKey in keys
	run(func(p int) {
		lo, hi := p*cowShards/SetParts, (p+1)*cowShards/SetParts
		for i, k := range keys {
			if k == specialKey {
				if p == 0 {
					special = i
				}
				continue
			}
			if s := shardOf(hashOf(k)); s >= lo && s < hi {
				added[p] += e.set(k, vals[i])
			}
		}
	})
	for _, a := range added {
		e.n += a
	}
	if special >= 0 {
		e.n += e.set(specialKey, vals[special])
	}
	e.writes += len(keys)
	e.touched = append(e.touched, keys...)
	e.compactTouched()
}

// Del deletes k; deleting an absent key does nothing.
func (e *Edit[V]) Del(k int64) {
	if _, ok := e.Get(k); !ok {
		return
	}
	e.touch(k)
	if k == specialKey {
		e.special = nil
		e.n--
		return
	}
	h := hashOf(k)
	sh := e.own(shardOf(h))
	mask := len(sh.slots) - 1
	i := sh.find(k, h)
	// Backward-shift deletion keeps every probe sequence unbroken.
	for j := (i + 1) & mask; sh.slots[j].used(); j = (j + 1) & mask {
		home := slotOf(hashOf(sh.slots[j].key()), mask)
		// Move j into the hole at i when its home is not in (i, j].
		if (j > i && (home <= i || home > j)) || (j < i && home <= i && home > j) {
			sh.slots[i] = sh.slots[j]
			i = j
		}
	}
	sh.slots[i] = cowSlot[V]{}
	sh.n--
	e.n--
}

func (e *Edit[V]) touch(k int64) {
	e.writes++
	e.touched = append(e.touched, k)
	e.compactTouched()
}

// compactTouched sorts touched and drops its repeats once it has grown to twice its
// last compacted length (at least 1024), so that repeated writes of the same keys
// keep it small.
func (e *Edit[V]) compactTouched() {
	if len(e.touched) < max(1024, 2*e.sorted) {
		return
	}
	e.sortTouched()
}

func (e *Edit[V]) sortTouched() {
	if len(e.touched) > e.sorted {
		if !slices.IsSorted(e.touched) {
			slices.Sort(e.touched)
		}
		e.touched = slices.Compact(e.touched)
		e.sorted = len(e.touched)
	}
}

// Writes returns how many Set and Del calls (of present keys) the edit has had: a
// caller can tell that nothing was written between two readings.
func (e *Edit[V]) Writes() int { return e.writes }

// TouchedKeys returns every key set or deleted by the edit, ascending.
func (e *Edit[V]) TouchedKeys() []int64 {
	e.sortTouched()
	return slices.Clone(e.touched)
}

// Done returns the edited map; the edit must not be used afterwards.
func (e *Edit[V]) Done() Map[V] {
	if e.shards == nil {
		return Map[V]{shards: e.base.shards, n: e.n, special: e.special}
	}
	return Map[V]{shards: e.shards, n: e.n, special: e.special}
}

// strEntry is one entry of a Str bucket.
type strEntry[V any] struct {
	k string
	v V
}

// Str is a persistent map from strings, built on Map with hashed keys and
// small collision buckets.
type Str[V any] struct {
	m Map[[]strEntry[V]]
	n int
}

// Get returns the value for k.
func (c Str[V]) Get(k string) (V, bool) {
	b, _ := c.m.Get(StrKey(k))
	for _, e := range b {
		if e.k == k {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// Len returns the number of entries.
func (c Str[V]) Len() int { return c.n }

// Edit starts an edit of c; c itself never changes.
func (c Str[V]) Edit() *StrEdit[V] { return &StrEdit[V]{e: c.m.Edit(), n: c.n} }

// StrEdit is a pending edit of a Str.
type StrEdit[V any] struct {
	e *Edit[[]strEntry[V]]
	n int
}

// Get returns the value for k as the edit has it.
func (c *StrEdit[V]) Get(k string) (V, bool) {
	b, _ := c.e.Get(StrKey(k))
	for _, e := range b {
		if e.k == k {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

// Set sets the value for k.
func (c *StrEdit[V]) Set(k string, v V) {
	h := StrKey(k)
	b, _ := c.e.Get(h)
	out := make([]strEntry[V], 0, len(b)+1)
	found := false
	for _, e := range b {
		if e.k == k {
			e.v, found = v, true
		}
		out = append(out, e)
	}
	if !found {
		out = append(out, strEntry[V]{k: k, v: v})
		c.n++
	}
	c.e.Set(h, out)
}

// Del deletes k; deleting an absent key does nothing.
func (c *StrEdit[V]) Del(k string) {
	h := StrKey(k)
	b, _ := c.e.Get(h)
	out := make([]strEntry[V], 0, len(b))
	for _, e := range b {
		if e.k != k {
			out = append(out, e)
		}
	}
	if len(out) == len(b) {
		return
	}
	c.n--
	if len(out) == 0 {
		c.e.Del(h)
	} else {
		c.e.Set(h, out)
	}
}

// Done returns the edited map; the edit must not be used afterwards.
func (c *StrEdit[V]) Done() Str[V] { return Str[V]{m: c.e.Done(), n: c.n} }

// StrKey hashes s (FNV-1a) into the int64 key Str stores it under.
func StrKey(s string) int64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return int64(h)
}
