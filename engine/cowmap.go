package engine

// cowMap is a persistent map from int64 keys: a fixed array of shards, each a plain
// Go map that is never modified once published. An edit copies only the shards it
// touches, so a write costs O(shard size) and a read is one shard pick plus one map
// lookup. A cowMap value is immutable; edits go through a cowEdit.
type cowMap[V any] struct {
	shards *[cowShards]map[int64]V
	n      int
}

const cowShards = 1024

func shardOf(k int64) int {
	// Fibonacci hashing spreads dense ids over the shards.
	return int((uint64(k) * 0x9E3779B97F4A7C15) >> (64 - 10))
}

// get returns the value for k.
func (m cowMap[V]) get(k int64) (V, bool) {
	if m.shards == nil {
		var zero V
		return zero, false
	}
	s := m.shards[shardOf(k)]
	v, ok := s[k]
	return v, ok
}

// len returns the number of entries.
func (m cowMap[V]) len() int { return m.n }

// each calls f for every entry, in no particular order, until f returns false.
func (m cowMap[V]) each(f func(k int64, v V) bool) {
	if m.shards == nil {
		return
	}
	for _, s := range m.shards {
		for k, v := range s {
			if !f(k, v) {
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
	shards *[cowShards]map[int64]V
	copied *[cowShards]bool
	n      int
}

func (m cowMap[V]) edit() *cowEdit[V] {
	e := &cowEdit[V]{base: m, n: m.n}
	return e
}

func (e *cowEdit[V]) ensure(i int) map[int64]V {
	if e.shards == nil {
		e.shards = new([cowShards]map[int64]V)
		e.copied = new([cowShards]bool)
		if e.base.shards != nil {
			*e.shards = *e.base.shards
		}
	}
	if !e.copied[i] {
		old := e.shards[i]
		nm := make(map[int64]V, len(old)+1)
		for k, v := range old {
			nm[k] = v
		}
		e.shards[i] = nm
		e.copied[i] = true
	}
	return e.shards[i]
}

func (e *cowEdit[V]) get(k int64) (V, bool) {
	if e.shards == nil {
		return e.base.get(k)
	}
	v, ok := e.shards[shardOf(k)][k]
	return v, ok
}

func (e *cowEdit[V]) set(k int64, v V) {
	s := e.ensure(shardOf(k))
	if _, ok := s[k]; !ok {
		e.n++
	}
	s[k] = v
}

func (e *cowEdit[V]) del(k int64) {
	if _, ok := e.get(k); !ok {
		return
	}
	s := e.ensure(shardOf(k))
	delete(s, k)
	e.n--
}

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
