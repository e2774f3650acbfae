package rule

import (
	"slices"
	"strings"
)

// This file holds the semantics of the advanced DSL's special functions (see
// docs/semantics.md, The advanced DSL), independent of CEL.

// tags returns the tags of scope: the data source's own (dataSource) or those of
// its columns (column).
func (r *Resource) tags(scope string) []string {
	if r == nil {
		return nil
	}
	if scope == scopeColumn {
		return r.ColumnTags
	}
	return r.Tags
}

// variable returns the value of the DSL variable name (without @) and whether the
// data source has it.
func (r *Resource) variable(name string) (string, bool) {
	if r == nil {
		return "", false
	}
	var v string
	switch name {
	case "hostname":
		v = r.Server
	case "database":
		v = r.Database
	case "schema":
		v = r.Schema
	case "table":
		v = r.Table
	default:
		return "", false
	}
	return v, v != ""
}

// usesVariable reports whether the expected value tmpl contains one of the four
// variables (an @ followed by a word that is exactly hostname, database, schema or
// table; any other @word is literal text).
func usesVariable(tmpl string) bool {
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] == '@' {
			w := wordAt(tmpl, i+1)
			if isVariable(w) {
				return true
			}
		}
	}
	return false
}

// wordAt returns the run of word characters starting at s[i].
func wordAt(s string, i int) string {
	j := i
	for j < len(s) && isWordRune(rune(s[j])) {
		j++
	}
	return s[i:j]
}

// expand appends tmpl with its variables replaced by the data source's values to
// buf. It returns false when the data source lacks a variable tmpl uses.
func expand(buf []byte, tmpl string, r *Resource) ([]byte, bool) {
	for i := 0; i < len(tmpl); {
		if tmpl[i] != '@' {
			buf = append(buf, tmpl[i])
			i++
			continue
		}
		w := wordAt(tmpl, i+1)
		if !isVariable(w) {
			buf = append(buf, tmpl[i:i+1+len(w)]...)
			i += 1 + len(w)
			continue
		}
		v, ok := r.variable(w)
		if !ok {
			return buf, false
		}
		buf = append(buf, v...)
		i += 1 + len(w)
	}
	return buf, true
}

// hasAttributeExpanded is @hasAttribute(name, tmpl) where tmpl uses a variable: tmpl
// is expanded and compared with each of the subject's values of name, in which a
// whole dot segment "*" matches one non-empty segment.
func hasAttributeExpanded(s *Subject, r *Resource, name, tmpl string) bool {
	if s == nil {
		return false
	}
	var arr [256]byte
	exp, ok := expand(arr[:0], tmpl, r)
	if !ok {
		return false
	}
	for _, v := range s.attributeValues(name) {
		if wildcardMatch(v, exp) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether the user's attribute value pattern matches the
// expanded value target. Both are split into dot segments, which must be as many; a
// pattern segment "*" matches any non-empty target segment (one run of characters
// without a dot); a segment containing "*" with other characters (a partial
// wildcard such as db*) makes the pattern match nothing; other segments compare
// exactly.
func wildcardMatch(pattern string, target []byte) bool {
	if strings.IndexByte(pattern, '*') < 0 {
		return pattern == string(target)
	}
	for {
		pseg, prest, pmore := strings.Cut(pattern, ".")
		ti := indexByte(target, '.')
		tseg, trest, tmore := target, []byte(nil), false
		if ti >= 0 {
			tseg, trest, tmore = target[:ti], target[ti+1:], true
		}
		switch {
		case pseg == "*":
			if len(tseg) == 0 {
				return false
			}
		case strings.IndexByte(pseg, '*') >= 0:
			return false
		case pseg != string(tseg):
			return false
		}
		if pmore != tmore {
			return false
		}
		if !pmore {
			return true
		}
		pattern, target = prest, trest
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// coveredBy reports whether tag t, or one of its ancestors on whole dot segments
// (Discovered for Discovered.Healthcare NPI), is in set.
// coveredBySorted is coveredBy for a sorted set of strings.
func coveredBySorted(t string, set []string) bool {
	if len(set) == 0 {
		return false
	}
	has := func(v string) bool {
		_, ok := slices.BinarySearch(set, v)
		return ok
	}
	if has(t) {
		return true
	}
	for i := 0; i < len(t); i++ {
		if t[i] == '.' && has(t[:i]) {
			return true
		}
	}
	return false
}

func coveredBy[V any](t string, set map[string]V) bool {
	if len(set) == 0 {
		return false
	}
	if _, ok := set[t]; ok {
		return true
	}
	for i := 0; i < len(t); i++ {
		if t[i] == '.' {
			if _, ok := set[t[:i]]; ok {
				return true
			}
		}
	}
	return false
}

// hasTagAsAttribute is @hasTagAsAttribute(name, scope): some value of the subject's
// attribute name equals a tag in scope or one of its ancestors.
func hasTagAsAttribute(s *Subject, r *Resource, name, scope string) bool {
	if s == nil {
		return false
	}
	if s.compact {
		vals := s.attr(name)
		for _, t := range r.tags(scope) {
			if coveredBySorted(t, vals) {
				return true
			}
		}
		return false
	}
	set := s.Attributes[name]
	for _, t := range r.tags(scope) {
		if coveredBy(t, set) {
			return true
		}
	}
	return false
}

// hasTagAsGroup is @hasTagAsGroup(scope): the name of one of the subject's groups
// equals a tag in scope or one of its ancestors.
func hasTagAsGroup(s *Subject, r *Resource, scope string) bool {
	if s == nil {
		return false
	}
	for _, t := range r.tags(scope) {
		if s.compact && coveredBySorted(t, s.groupList) || !s.compact && coveredBy(t, s.Groups) {
			return true
		}
	}
	return false
}
