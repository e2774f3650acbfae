package model

import "math"

// RowDecoder decodes data sources and users one JSON object at a time, each of
// the shape of a bundle's dataSources and users entries, with the fast decoder of
// DecodeBundle. It is meant for many trusted objects, such as the rows of a store:
// the data sources and users it decodes share repeated strings (tags, column
// names, servers, group names) and list memory. A decode it does not handle (any
// key, value or layout the fast decoder leaves to the generic one) reports false,
// and the caller decodes that object generically. Lists and strings are not
// bounded by Limits (the objects are trusted); the nesting depth is. A RowDecoder
// is not safe for concurrent use: use one per goroutine.
type RowDecoder struct {
	s fastScanner
}

// NewRowDecoder returns a RowDecoder.
func NewRowDecoder() *RowDecoder {
	lim := Limits{MaxListLen: math.MaxInt32, MaxStringLen: math.MaxInt32, MaxDepth: DefaultLimits().MaxDepth}
	return &RowDecoder{s: fastScanner{lim: lim, intern: map[string]string{}}}
}

// DataSource decodes data into ds (overwriting it); false when the fast decoder
// does not handle data (ds is then unspecified).
func (d *RowDecoder) DataSource(data []byte, ds *DataSource) bool {
	*ds = DataSource{}
	return d.decode(data, func() { d.s.dataSource(ds) })
}

// User decodes data into u (overwriting it); false when the fast decoder does not
// handle data (u is then unspecified).
func (d *RowDecoder) User(data []byte, u *User) bool {
	*u = User{}
	return d.decode(data, func() { d.s.user(u) })
}

// decode reads one object of data with read.
func (d *RowDecoder) decode(data []byte, read func()) bool {
	s := &d.s
	s.d, s.i, s.depth, s.bad, s.mask = data, 0, 0, false, 0
	s.keys = s.keys[:0]
	if s.peek() != '{' {
		return false
	}
	read()
	s.ws()
	ok := !s.bad && s.i == len(s.d)
	s.d = nil
	return ok
}
