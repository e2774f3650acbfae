package engine

// cowMap is a persistent map from int64 keys: a fixed array of shards, each a small
// open-addressing hash table (linear probing) that is never modified once published.
// An edit copies only the shards it touches, so a write costs O(shard size), and a
// read is one shard pick plus, usually, one cache line: the key and the value sit
// side by side in the slot. A cowMap value is immutable; edits go through a cowEdit.
type cowMap[V any] struct {
	shards *[cowShards]cowShard[V]
	n      int
}

const cowShards = 1024

// cowShard is one open-addressing table; len(slots) is zero or a power of two.
type cowShard[V any] struct {
	slots []cowSlot[V]
	n     int
}

type cowSlot[V any] struct {
	k    int64
	v    V
	used bool
}

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
	for i := slotOf(h, mask); ; i = (i + 1) & mask {
		s := &sh.slots[i]
		if !s.used {
			return -1
		}
		if s.k == k {
			return i
		}
	}
}

// get returns the value for k.
func (m cowMap[V]) get(k int64) (V, bool) {
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

// len returns the number of entries.
func (m cowMap[V]) len() int { return m.n }

// each calls f for every entry, in no particular order, until f returns false.
func (m cowMap[V]) each(f func(k int64, v V) bool) {
	if m.shards == nil {
		return
	}
	for i := range m.shards {
		for _, s := range m.shards[i].slots {
			if s.used && !f(s.k, s.v) {
				return
			}
		}
	}
}

// keys returns every key, in no particular order.
func (m cowMap[V]) keys() []int64 {
	out := make([]int64, 0, m.n)
	m.each(func(k int64, _ V) bool { out = append(out, k); return true })
	return out
}

// cowEdit is a pending edit of a cowMap: it copies each shard the first time it is
// written. The base map is never changed.
type cowEdit[V any] struct {
	base   cowMap[V]
	shards *[cowShards]cowShard[V]
	copied *[cowShards]bool
	n      int
	// touched holds every key set or deleted (the store's change log compares their
	// values before and after the edit).
	touched map[int64]struct{}
}

func (m cowMap[V]) edit() *cowEdit[V] {
	return &cowEdit[V]{base: m, n: m.n}
}

// own returns shard i, copied for this edit, with room for one more entry.
func (e *cowEdit[V]) own(i int) *cowShard[V] {
	if e.shards == nil {
		e.shards = new([cowShards]cowShard[V])
		e.copied = new([cowShards]bool)
		if e.base.shards != nil {
			*e.shards = *e.base.shards
		}
	}
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
		if e.copied[i] && size == len(old) {
			return sh
		}
		sh.slots = make([]cowSlot[V], size)
		mask := size - 1
		for _, s := range old {
			if !s.used {
				continue
			}
			j := slotOf(hashOf(s.k), mask)
			for sh.slots[j].used {
				j = (j + 1) & mask
			}
			sh.slots[j] = s
		}
		e.copied[i] = true
	}
	return sh
}

func (e *cowEdit[V]) get(k int64) (V, bool) {
	if e.shards == nil {
		return e.base.get(k)
	}
	h := hashOf(k)
	sh := &e.shards[shardOf(h)]
	if i := sh.find(k, h); i >= 0 {
		return sh.slots[i].v, true
	}
	var zero V
	return zero, false
}

func (e *cowEdit[V]) set(k int64, v V) {
	e.touch(k)
	h := hashOf(k)
	sh := e.own(shardOf(h))
	mask := len(sh.slots) - 1
	i := slotOf(h, mask)
	for ; sh.slots[i].used; i = (i + 1) & mask {
		if sh.slots[i].k == k {
			sh.slots[i].v = v
			return
		}
	}
	sh.slots[i] = cowSlot[V]{k: k, v: v, used: true}
	sh.n++
	e.n++
}

func (e *cowEdit[V]) del(k int64) {
	if _, ok := e.get(k); !ok {
		return
	}
	e.touch(k)
	h := hashOf(k)
	sh := e.own(shardOf(h))
	mask := len(sh.slots) - 1
	i := sh.find(k, h)
	// Backward-shift deletion keeps every probe sequence unbroken.
	for j := (i + 1) & mask; sh.slots[j].used; j = (j + 1) & mask {
		home := slotOf(hashOf(sh.slots[j].k), mask)
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

func (e *cowEdit[V]) touch(k int64) {
	if e.touched == nil {
		e.touched = map[int64]struct{}{}
	}
	e.touched[k] = struct{}{}
}

// touchedKeys returns every key set or deleted by the edit, ascending.
func (e *cowEdit[V]) touchedKeys() []int64 { return sortedSet(e.touched) }

// done returns the edited map; the edit must not be used afterwards.
func (e *cowEdit[V]) done() cowMap[V] {
	if e.shards == nil {
		return e.base
	}
	return cowMap[V]{shards: e.shards, n: e.n}
}

// strEntry is one entry of a cowStr bucket.
type strEntry[V any] struct {
	k string
	v V
}

// cowStr is a persistent map from strings, built on cowMap with hashed keys and
// small collision buckets.
type cowStr[V any] struct {
	m cowMap[[]strEntry[V]]
	n int
}

func (c cowStr[V]) get(k string) (V, bool) {
	b, _ := c.m.get(strKey(k))
	for _, e := range b {
		if e.k == k {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

func (c cowStr[V]) len() int { return c.n }

func (c cowStr[V]) edit() *cowStrEdit[V] { return &cowStrEdit[V]{e: c.m.edit(), n: c.n} }

// cowStrEdit is a pending edit of a cowStr.
type cowStrEdit[V any] struct {
	e *cowEdit[[]strEntry[V]]
	n int
}

func (c *cowStrEdit[V]) get(k string) (V, bool) {
	b, _ := c.e.get(strKey(k))
	for _, e := range b {
		if e.k == k {
			return e.v, true
		}
	}
	var zero V
	return zero, false
}

func (c *cowStrEdit[V]) set(k string, v V) {
	h := strKey(k)
	b, _ := c.e.get(h)
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
	c.e.set(h, out)
}

func (c *cowStrEdit[V]) del(k string) {
	h := strKey(k)
	b, _ := c.e.get(h)
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
		c.e.del(h)
	} else {
		c.e.set(h, out)
	}
}

func (c *cowStrEdit[V]) done() cowStr[V] { return cowStr[V]{m: c.e.done(), n: c.n} }
