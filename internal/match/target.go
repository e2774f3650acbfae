package match

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/model"
)

// Target is the matchable, precomputed view of one data source: the symbols (see
// Keys) of the dot-segment prefixes of its tags and of its columns' tags, of its
// domain ids and names and of its case-folded server, its columns and its creation
// time. A Target is immutable once built and safe for concurrent use by multiple
// goroutines. It reads the data source's columns from the data source, which must
// not be modified afterwards (the engine never modifies a stored data source); it
// copies nothing else. It is kept small because a CatalogIndex holds one per data source.
type Target struct {
	keys *Keys
	id   int64
	// syms holds, in order, the sections tags | columnTags | domainIDs |
	// domainNames, each a sorted set; ends[i] is the end of section i (the last
	// section ends at len(syms)).
	syms       []sym
	ds         *model.DataSource // for its columns (nil: none)
	ends       [3]uint32
	server     sym
	createdNs  int32 // createdAt as Unix seconds and nanoseconds, so that
	createdSec int64 // the Target holds no *time.Location
}

// NewTarget builds the Target of ds on a table of its own. Matching it against a
// Matcher or an index of another table translates its keys by name; Keys.Target
// builds Targets that compare as integers. A nil ds yields an empty Target with id 0.
func NewTarget(ds *model.DataSource) *Target { return NewKeys().Target(ds) }

// Target builds the Target of ds on k, interning its keys. A nil ds yields an
// empty Target with id 0.
func (k *Keys) Target(ds *model.DataSource) *Target {
	t, _ := build(k, ds, k.tagPrefixes, k.intern, nil)
	return t
}

// Target builds the Target of ds on the Builder's table.
func (b *Builder) Target(ds *model.DataSource) *Target {
	t, buf := build(b.k, ds, b.tagPrefixes, b.intern, b.buf[:0])
	b.buf = buf[:0]
	return t
}

// build builds the Target of ds on k through the given interning functions; buf
// is scratch memory (or nil), returned grown.
func build(k *Keys, ds *model.DataSource, prefixes func(keyKind, string) []sym, intern func(key) sym, buf []sym) (*Target, []sym) {
	t := &Target{keys: k}
	if ds == nil {
		t.createdSec, t.createdNs = splitTime(time.Time{})
		t.server = intern(key{keyServer, ""})
		return t, buf
	}
	t.id = ds.ID
	// Sections are built one after the other at the end of buf, each then sorted
	// and deduplicated in place.
	section := func(start int) int {
		sec := sortedSyms(buf[start:])
		buf = buf[:start+len(sec)]
		return len(buf)
	}
	for _, tag := range ds.Tags {
		buf = append(buf, prefixes(keyTag, tag)...)
	}
	t.ends[0] = uint32(section(0))
	for i := range ds.Columns {
		for _, tag := range ds.Columns[i].Tags {
			buf = append(buf, prefixes(keyColumnTag, tag)...)
		}
	}
	t.ends[1] = uint32(section(int(t.ends[0])))
	for _, d := range ds.Domains {
		if d.ID != "" {
			buf = append(buf, intern(key{keyDomainID, d.ID}))
		}
	}
	t.ends[2] = uint32(section(int(t.ends[1])))
	for _, d := range ds.Domains {
		buf = append(buf, intern(key{keyDomainName, d.Name}))
	}
	section(int(t.ends[2]))
	if len(buf) > 0 {
		t.syms = slices.Clone(buf)
	}
	if len(ds.Columns) > 0 {
		t.ds = ds
	}
	t.server = intern(key{keyServer, normServer(ds.Server)})
	t.createdSec, t.createdNs = splitTime(ds.CreatedAt)
	return t, buf
}

// columns returns the data source's columns.
func (t *Target) columns() []model.Column {
	if t.ds == nil {
		return nil
	}
	return t.ds.Columns
}

func (t *Target) tags() []sym        { return t.syms[:t.ends[0]] }
func (t *Target) columnTags() []sym  { return t.syms[t.ends[0]:t.ends[1]] }
func (t *Target) domainIDs() []sym   { return t.syms[t.ends[1]:t.ends[2]] }
func (t *Target) domainNames() []sym { return t.syms[t.ends[2]:] }

// on returns t with its keys on table k: t itself when it is built on k, else a
// copy whose keys are interned in k by name.
func (t *Target) on(k *Keys) *Target {
	if t.keys == k {
		return t
	}
	c := *t
	c.keys = k
	c.syms = make([]sym, len(t.syms))
	start := 0
	for _, end := range [4]int{int(t.ends[0]), int(t.ends[1]), int(t.ends[2]), len(t.syms)} {
		for j := start; j < end; j++ {
			c.syms[j] = k.intern(t.keys.name(t.syms[j]))
		}
		sortedSyms(c.syms[start:end]) // distinct names have distinct symbols: no duplicates
		start = end
	}
	c.server = k.intern(t.keys.name(t.server))
	return &c
}

// splitTime returns tm as Unix seconds and nanoseconds.
func splitTime(tm time.Time) (int64, int32) { return tm.Unix(), int32(tm.Nanosecond()) }

// compareTime compares (sec, ns) with (sec2, ns2) like cmp.Compare.
func compareTime(sec int64, ns int32, sec2 int64, ns2 int32) int {
	switch {
	case sec < sec2:
		return -1
	case sec > sec2:
		return 1
	case ns < ns2:
		return -1
	case ns > ns2:
		return 1
	}
	return 0
}

// ID returns the id of the data source.
func (t *Target) ID() int64 { return t.id }

// appendPrefixes appends to dst every dot-segment prefix of every tag: the tag
// itself and each part of it before a '.'. A policy tag P covers a data-source tag T
// exactly when P is one of T's prefixes (T == P or T begins with P + ".").
// The prefixes are substrings of the tags and share their memory.
func appendPrefixes(dst []string, tags []string) []string {
	for _, tag := range tags {
		for i := 0; i < len(tag); i++ {
			if tag[i] == '.' {
				dst = append(dst, tag[:i])
			}
		}
		dst = append(dst, tag)
	}
	return dst
}

// normServer is the server comparison key: every rune replaced by one fixed
// representative of its Unicode simple case-folding orbit, so that
// normServer(a) == normServer(b) exactly when strings.EqualFold(a, b). ASCII
// letters become lower case; a lower-case ASCII server is returned as is.
func normServer(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= utf8.RuneSelf {
			return strings.Map(foldRune, s)
		}
	}
	return s
}

// foldRune returns the representative of r's case-folding orbit: its lower-case
// ASCII letter if it has one (the orbits of k and s hold non-ASCII runes too),
// else its smallest rune.
func foldRune(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	if m >= 'A' && m <= 'Z' {
		m += 'a' - 'A'
	}
	return m
}
