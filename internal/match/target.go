package match

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/model"
)

// Target is the matchable, precomputed view of one data source: the dot-segment
// prefixes of its tags and of its columns' tags (sorted, deduplicated), its
// case-folded server, its domain ids and names, its column names and its creation
// time. A Target is immutable once built and safe for concurrent use by multiple
// goroutines; it shares no mutable state with the model.DataSource it was built
// from. It is kept small (one backing list of strings cut into sections) because a
// CatalogIndex holds one per data source.
type Target struct {
	id int64
	// strs holds, in order, the sections tags | columnTags | domainIDs |
	// domainNames | columns; ends[i] is the end of section i (the last section
	// ends at len(strs)). Every section but columns is a sorted set.
	strs       []string
	ends       [4]uint32
	server     string // case-folded (normServer)
	createdSec int64  // createdAt as Unix seconds and nanoseconds, so that
	createdNs  int32  // the Target holds no *time.Location
}

// NewTarget builds the Target of ds. A nil ds yields an empty Target with id 0.
func NewTarget(ds *model.DataSource) *Target {
	t := &Target{}
	if ds == nil {
		t.createdSec, t.createdNs = splitTime(time.Time{})
		return t
	}
	t.id = ds.ID
	tags := sortedSet(appendPrefixes(nil, ds.Tags))
	var colTags []string
	for i := range ds.Columns {
		colTags = appendPrefixes(colTags, ds.Columns[i].Tags)
	}
	colTags = sortedSet(colTags)
	var ids, names []string
	for _, d := range ds.Domains {
		if d.ID != "" {
			ids = append(ids, d.ID)
		}
		names = append(names, d.Name)
	}
	ids, names = sortedSet(ids), sortedSet(names)
	n := len(tags) + len(colTags) + len(ids) + len(names) + len(ds.Columns)
	if n > 0 {
		t.strs = make([]string, 0, n)
		for i, sec := range [][]string{tags, colTags, ids, names} {
			t.strs = append(t.strs, sec...)
			t.ends[i] = uint32(len(t.strs))
		}
		for i := range ds.Columns {
			t.strs = append(t.strs, ds.Columns[i].Name)
		}
	}
	t.server = normServer(ds.Server)
	t.createdSec, t.createdNs = splitTime(ds.CreatedAt)
	return t
}

func (t *Target) tags() []string        { return t.strs[:t.ends[0]] }
func (t *Target) columnTags() []string  { return t.strs[t.ends[0]:t.ends[1]] }
func (t *Target) domainIDs() []string   { return t.strs[t.ends[1]:t.ends[2]] }
func (t *Target) domainNames() []string { return t.strs[t.ends[2]:t.ends[3]] }
func (t *Target) columns() []string     { return t.strs[t.ends[3]:] }

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

// sortedSet sorts s in place and removes duplicates.
func sortedSet(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// contains reports whether the sorted set s holds v.
func contains(s []string, v string) bool {
	_, ok := slices.BinarySearch(s, v)
	return ok
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
