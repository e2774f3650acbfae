package model

import (
	"bytes"
	"encoding/json"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The fast bundle decoder reads a JSON bundle straight into the model, without
// generic values. It handles exactly the bundles that decode without a problem:
// anything else (an unknown or duplicate key, a wrong type, a null where the
// generic decoder reports one, an escaped key, a limit exceeded, a validation
// problem, a syntax error) makes it give up, and DecodeBundle reads the payload
// again through the generic decoder, which reports every problem with its path.
// So a bundle the fast decoder accepts equals the generic decoder's, and every
// error comes from the generic decoder.

// fastScanner reads JSON from d at i. A failure is sticky: bad is set, i moves to
// the end, and every later read returns a zero value.
type fastScanner struct {
	d     []byte
	i     int
	lim   Limits
	depth int
	bad   bool
	// mask holds the keys seen in the object being read (see object).
	mask uint32
	// intern shares repeated strings (tags, column names, servers, ...).
	intern map[string]string
	// keys is a stack of the keys of the open objects (duplicate detection while
	// skipping generic values).
	keys [][]byte
	// The lists of the elements are cut from larger chunks (fewer allocations).
	strs []string
	ints []int64
	cols []Column
	doms []Domain
}

// slabChunk is the number of values of one chunk that lists are cut from.
const slabChunk = 1024

// take returns a copy of l cut from the chunk at *slab (a full slice: appending to
// it never writes into the chunk).
func take[T any](slab *[]T, l []T) []T {
	n := len(l)
	if n > len(*slab) {
		if n > slabChunk/4 {
			return slices.Clone(l)
		}
		*slab = make([]T, slabChunk)
	}
	out := (*slab)[:n:n]
	*slab = (*slab)[n:]
	copy(out, l)
	return out
}

// maxInterned bounds the strings one decode shares.
const maxInterned = 1 << 16

func (s *fastScanner) fail() {
	s.bad = true
	s.i = len(s.d)
}

// ws skips JSON whitespace.
func (s *fastScanner) ws() {
	for s.i < len(s.d) {
		switch s.d[s.i] {
		case ' ', '\n', '\t', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the next byte after whitespace (0 at the end).
func (s *fastScanner) peek() byte {
	s.ws()
	if s.i < len(s.d) {
		return s.d[s.i]
	}
	return 0
}

// open reads the start of an object ('{') or a list ('['); it returns whether the
// container has an element (false for an empty one, which it reads whole).
func (s *fastScanner) open(c byte) bool {
	if s.peek() != c {
		s.fail()
		return false
	}
	s.i++
	s.depth++
	if s.depth > s.lim.MaxDepth {
		s.fail()
		return false
	}
	if s.peek() == c+2 { // '}' is '{'+2, ']' is '['+2
		s.i++
		s.depth--
		return false
	}
	return true
}

// next reads what follows an element: a comma (true: another element follows) or
// the end of the container (false).
func (s *fastScanner) next(c byte) bool {
	switch s.peek() {
	case ',':
		s.i++
		return true
	case c:
		s.i++
		s.depth--
		return false
	}
	s.fail()
	return false
}

// key reads an object key written without escapes and its colon.
func (s *fastScanner) key() []byte {
	if s.peek() != '"' {
		s.fail()
		return nil
	}
	start := s.i + 1
	j := start
	for j < len(s.d) && plainByte[s.d[j]] {
		j++
	}
	if j >= len(s.d) || s.d[j] != '"' || j-start > s.lim.MaxStringLen {
		s.fail()
		return nil
	}
	s.i = j + 1
	s.colon()
	return s.d[start:j]
}

func (s *fastScanner) colon() {
	if s.peek() != ':' {
		s.fail()
		return
	}
	s.i++
}

// null reads a null if one is next.
func (s *fastScanner) null() bool {
	if s.peek() == 'n' && bytes.HasPrefix(s.d[s.i:], []byte("null")) {
		s.i += 4
		return true
	}
	return false
}

// rawString reads a string and returns its text between the quotes; plain is
// false when that text holds an escape or a non-ASCII byte (and so must be decoded).
func (s *fastScanner) rawString() (raw []byte, plain bool) {
	if s.peek() != '"' {
		s.fail()
		return nil, false
	}
	start := s.i + 1
	j := start
	for j < len(s.d) && plainByte[s.d[j]] {
		j++
	}
	if j < len(s.d) && s.d[j] == '"' {
		s.i = j + 1
		return s.d[start:j], true
	}
	escaped := false
	for j < len(s.d) {
		switch c := s.d[j]; {
		case c == '"':
			s.i = j + 1
			raw := s.d[start:j]
			return raw, !escaped && utf8.Valid(raw)
		case c == '\\':
			escaped = true
			j += 2
		case c < 0x20:
			s.fail()
			return nil, false
		default:
			j++
		}
	}
	s.fail()
	return nil, false
}

// unquote decodes the text of a string as encoding/json does (escapes, invalid
// UTF-8 replaced).
func (s *fastScanner) unquote(raw []byte) string {
	var v string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if err := json.Unmarshal(quoted, &v); err != nil {
		s.fail()
		return ""
	}
	return v
}

// str reads a string value.
func (s *fastScanner) str() string {
	raw, plain := s.rawString()
	if s.bad {
		return ""
	}
	v := ""
	if plain {
		v = string(raw)
	} else {
		v = s.unquote(raw)
	}
	if len(v) > s.lim.MaxStringLen {
		s.fail()
	}
	return v
}

// shared reads a string value, sharing it with the equal strings read before.
func (s *fastScanner) shared() string {
	raw, plain := s.rawString()
	if s.bad || !plain {
		if s.bad {
			return ""
		}
		v := s.unquote(raw)
		if len(v) > s.lim.MaxStringLen {
			s.fail()
		}
		return v
	}
	if v, ok := s.intern[string(raw)]; ok {
		return v
	}
	if len(raw) > s.lim.MaxStringLen {
		s.fail()
		return ""
	}
	v := string(raw)
	if len(s.intern) < maxInterned {
		s.intern[v] = v
	}
	return v
}

// integer reads a number that must be an integer of at least 0 (a negative one
// is always a problem where the bundle has integers, and is left to the generic
// decoder).
func (s *fastScanner) integer() int64 {
	s.ws()
	j := s.i
	var n uint64
	for j < len(s.d) && s.d[j] >= '0' && s.d[j] <= '9' {
		n = n*10 + uint64(s.d[j]-'0')
		j++
	}
	digits := j - s.i
	if digits == 0 || digits > 18 || (digits > 1 && s.d[s.i] == '0') {
		s.fail() // no digits, possibly out of range, or a leading zero
		return 0
	}
	if j < len(s.d) && (s.d[j] == '.' || s.d[j] == 'e' || s.d[j] == 'E') {
		s.fail()
		return 0
	}
	s.i = j
	return int64(n)
}

// date reads a date; the zero time is left to the generic decoder (it stands for
// "absent" here).
func (s *fastScanner) date() time.Time {
	v := s.str()
	if s.bad {
		return time.Time{}
	}
	t, err := ParseDate(v)
	if err != nil || t.IsZero() {
		s.fail()
	}
	return t
}

// seen marks field bit of an object as read; a second time is a duplicate key.
func (s *fastScanner) seen(mask *uint32, bit uint32) {
	if s.mask&bit != 0 {
		s.fail()
	}
	*mask |= bit
}

// strList reads a list of strings (nil when empty, as the generic decoder keeps it).
func (s *fastScanner) strList(shared bool) []string {
	var buf [8]string
	out := buf[:0]
	n := 0
	for more := s.open('['); more; more = s.next(']') {
		if n++; n > s.lim.MaxListLen {
			s.fail()
			return nil
		}
		if shared {
			out = append(out, s.shared())
		} else {
			out = append(out, s.str())
		}
	}
	if len(out) == 0 {
		return nil
	}
	return take(&s.strs, out)
}

// count counts an element of a list against MaxListLen.
func (s *fastScanner) count(n *int) {
	if *n++; *n > s.lim.MaxListLen {
		s.fail()
	}
}

// attributes reads an attribute map (nil when empty; an empty list of values
// stays an empty, non-nil list, as the generic decoder keeps it).
func (s *fastScanner) attributes() map[string][]string {
	var m map[string][]string
	for more := s.open('{'); more; more = s.next('}') {
		k := s.str()
		s.colon()
		if s.bad {
			return nil
		}
		if m == nil {
			m = map[string][]string{}
		}
		if _, dup := m[k]; dup {
			s.fail()
			return nil
		}
		vals := s.strList(true)
		if vals == nil {
			vals = []string{}
		}
		m[k] = vals
	}
	return m
}

// Field bits of the objects the fast decoder reads.
const (
	fID = 1 << iota
	fName
	fOwners
	fTags
	fColumns
	fDomains
	fServer
	fDatabase
	fSchema
	fTable
	fCreatedAt
	fSelected
	fDisabled
	fAttributes
	fAPIKey
	fAPIKeyHash
	fPermissions
	fGroups
	fReason
	fState
	fAccessGrant
	fExpiration
	fDataSourceID
	fProfileID
	fGroupID
	fPolicyKey
)

func (s *fastScanner) group(g *Group) {
	s.object(fID|fName|fAttributes, func(k []byte) {
		switch string(k) {
		case "id":
			s.seen(&s.mask, fID)
			g.ID = s.integer()
		case "name":
			s.seen(&s.mask, fName)
			g.Name = s.str()
		case "attributes":
			s.seen(&s.mask, fAttributes)
			g.Attributes = s.attributes()
		default:
			s.fail()
		}
	})
}

// object reads one object: a key given as null counts as seen when its bit is in
// nullable (null reads as absent) and fails otherwise; every other key is read by
// field, which marks it seen in s.mask (a key seen twice fails) and fails on a key
// it does not know. s.mask is the object's own while it is read (objects nest).
func (s *fastScanner) object(nullable uint32, field func(k []byte)) {
	outer := s.mask
	s.mask = 0
	for more := s.open('{'); more; more = s.next('}') {
		k := s.key()
		if s.null() {
			if b := fieldBit(k); b&nullable != 0 {
				s.seen(&s.mask, b)
			} else {
				s.fail()
			}
			continue
		}
		field(k)
	}
	s.mask = outer
}

// fieldBit returns the bit of a key given as null: null reads as absent, but the
// key still counts for duplicates. A key whose null the generic decoder reports
// (apiKey, apiKeyHash) or does not know fails.
func fieldBit(k []byte) uint32 {
	switch string(k) {
	case "id":
		return fID
	case "name":
		return fName
	case "owners":
		return fOwners
	case "tags":
		return fTags
	case "columns":
		return fColumns
	case "domains":
		return fDomains
	case "server":
		return fServer
	case "database":
		return fDatabase
	case "schema":
		return fSchema
	case "table":
		return fTable
	case "createdAt":
		return fCreatedAt
	case "selectedPolicies":
		return fSelected
	case "disabledPolicies":
		return fDisabled
	case "attributes":
		return fAttributes
	case "permissions":
		return fPermissions
	case "groups":
		return fGroups
	case "reason":
		return fReason
	case "policyKey":
		return fPolicyKey
	case "state":
		return fState
	case "accessGrant":
		return fAccessGrant
	case "expiration":
		return fExpiration
	case "dataSourceId":
		return fDataSourceID
	case "profileId":
		return fProfileID
	case "groupId":
		return fGroupID
	}
	return 0
}

func (s *fastScanner) user(u *User) {
	s.object(fID|fName|fPermissions|fGroups|fAttributes, func(k []byte) {
		switch string(k) {
		case "id":
			s.seen(&s.mask, fID)
			u.ID = s.integer()
		case "name":
			s.seen(&s.mask, fName)
			u.Name = s.str()
		case "apiKey":
			s.seen(&s.mask, fAPIKey)
			key := s.str()
			if key == "" || s.mask&fAPIKeyHash != 0 {
				s.fail()
			}
			u.APIKeyHash = HashAPIKey(key)
		case "apiKeyHash":
			s.seen(&s.mask, fAPIKeyHash)
			if s.mask&fAPIKey != 0 {
				s.fail()
			}
			u.APIKeyHash = s.str()
		case "permissions":
			s.seen(&s.mask, fPermissions)
			if l := s.strList(true); len(l) > 0 {
				u.Permissions = make([]Permission, len(l))
				for i, p := range l {
					u.Permissions[i] = Permission(p)
				}
			}
		case "groups":
			s.seen(&s.mask, fGroups)
			u.Groups = s.strList(true)
		case "attributes":
			s.seen(&s.mask, fAttributes)
			u.Attributes = s.attributes()
		default:
			s.fail()
		}
	})
}

func (s *fastScanner) dataSource(ds *DataSource) {
	s.object(fID|fName|fOwners|fTags|fColumns|fDomains|fServer|fDatabase|fSchema|fTable|fCreatedAt|fSelected|fDisabled,
		func(k []byte) {
			switch string(k) {
			case "id":
				s.seen(&s.mask, fID)
				ds.ID = s.integer()
			case "name":
				s.seen(&s.mask, fName)
				ds.Name = s.str()
			case "owners":
				s.seen(&s.mask, fOwners)
				ds.Owners = s.owners()
			case "tags":
				s.seen(&s.mask, fTags)
				ds.Tags = s.strList(true)
			case "columns":
				s.seen(&s.mask, fColumns)
				ds.Columns = s.columns()
			case "domains":
				s.seen(&s.mask, fDomains)
				ds.Domains = s.domains()
			case "server":
				s.seen(&s.mask, fServer)
				ds.Server = s.shared()
			case "database":
				s.seen(&s.mask, fDatabase)
				ds.Database = s.shared()
			case "schema":
				s.seen(&s.mask, fSchema)
				ds.Schema = s.shared()
			case "table":
				s.seen(&s.mask, fTable)
				ds.Table = s.str()
				if ds.Table == ds.Name {
					ds.Table = ds.Name // one string for both
				}
			case "createdAt":
				s.seen(&s.mask, fCreatedAt)
				ds.CreatedAt = s.date()
			case "selectedPolicies":
				s.seen(&s.mask, fSelected)
				ds.SelectedPolicies = s.strList(true)
			case "disabledPolicies":
				s.seen(&s.mask, fDisabled)
				ds.DisabledPolicies = s.disabled()
			default:
				s.fail()
			}
		})
}

func (s *fastScanner) owners() []int64 {
	var buf [8]int64
	out := buf[:0]
	n := 0
	for more := s.open('['); more; more = s.next(']') {
		s.count(&n)
		out = append(out, s.integer())
	}
	if len(out) == 0 {
		return nil
	}
	return take(&s.ints, out)
}

func (s *fastScanner) columns() []Column {
	var buf [8]Column
	out := buf[:0]
	n := 0
	for more := s.open('['); more; more = s.next(']') {
		s.count(&n)
		var c Column
		s.object(fName|fTags, func(k []byte) {
			switch string(k) {
			case "name":
				s.seen(&s.mask, fName)
				c.Name = s.shared()
			case "tags":
				s.seen(&s.mask, fTags)
				c.Tags = s.strList(true)
			default:
				s.fail()
			}
		})
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil
	}
	return take(&s.cols, out)
}

func (s *fastScanner) domains() []Domain {
	var buf [8]Domain
	out := buf[:0]
	n := 0
	for more := s.open('['); more; more = s.next(']') {
		s.count(&n)
		var d Domain
		s.object(fID|fName, func(k []byte) {
			switch string(k) {
			case "id":
				s.seen(&s.mask, fID)
				d.ID = s.idString()
			case "name":
				s.seen(&s.mask, fName)
				d.Name = s.shared()
			default:
				s.fail()
			}
		})
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil
	}
	return take(&s.doms, out)
}

// idString reads an id given as a string or an integer (kept as written).
func (s *fastScanner) idString() string {
	if s.peek() == '"' {
		return s.shared()
	}
	j := s.i
	for j < len(s.d) && (s.d[j] == '-' || s.d[j] >= '0' && s.d[j] <= '9') {
		j++
	}
	text := string(s.d[s.i:j])
	if _, err := strconv.ParseInt(text, 10, 64); err != nil || !json.Valid(s.d[s.i:j]) ||
		j < len(s.d) && (s.d[j] == '.' || s.d[j] == 'e' || s.d[j] == 'E') {
		s.fail()
		return ""
	}
	s.i = j
	return text
}

func (s *fastScanner) disabled() []DisabledPolicy {
	var buf [8]DisabledPolicy
	out := buf[:0]
	n := 0
	for more := s.open('['); more; more = s.next(']') {
		s.count(&n)
		var d DisabledPolicy
		s.object(fPolicyKey|fReason, func(k []byte) {
			switch string(k) {
			case "policyKey":
				s.seen(&s.mask, fPolicyKey)
				d.PolicyKey = s.shared()
			case "reason":
				s.seen(&s.mask, fReason)
				d.Reason = s.str()
			default:
				s.fail()
			}
		})
		out = append(out, d)
	}
	if len(out) == 0 {
		return nil
	}
	return slices.Clone(out)
}

func (s *fastScanner) grant(g *Grant) {
	g.AccessGrant = Read
	s.object(fDataSourceID|fProfileID|fGroupID|fState|fAccessGrant|fExpiration, func(k []byte) {
		switch string(k) {
		case "dataSourceId":
			s.seen(&s.mask, fDataSourceID)
			g.DataSourceID = s.integer()
		case "profileId":
			s.seen(&s.mask, fProfileID)
			g.ProfileID = s.integer()
		case "groupId":
			s.seen(&s.mask, fGroupID)
			g.GroupID = s.integer()
		case "state":
			s.seen(&s.mask, fState)
			g.State = RecordState(s.str())
		case "accessGrant":
			s.seen(&s.mask, fAccessGrant)
			g.AccessGrant = AccessGrant(s.str())
		case "expiration":
			s.seen(&s.mask, fExpiration)
			g.Expiration = s.date()
		default:
			s.fail()
		}
	})
}

// section reads the list of a bundle section, each element by read.
// Once a few elements are read, the list is sized for as many more as the rest of
// the payload can hold at their average size (one allocation for a large section,
// no copying).
func section[T any](s *fastScanner, read func(*T)) []T {
	var out []T
	start := s.i
	n := 0
	for more := s.open('['); more; more = s.next(']') {
		s.count(&n)
		sizeSection(s, &out, n, start)
		out = append(out, *new(T))
		read(&out[len(out)-1])
	}
	if n == 0 || s.bad {
		return nil
	}
	return out
}

// sizeSection gives *out, once n-1 elements read from start are in it, the
// capacity for as many more as the rest of the payload holds at their average size.
func sizeSection[T any](s *fastScanner, out *[]T, n, start int) {
	if n != sizingSample+1 || s.i <= start {
		return
	}
	avg := (s.i - start) / sizingSample
	est := min(n+(len(s.d)-s.i)/max(avg, 1)+1, s.lim.MaxListLen)
	if est > cap(*out) {
		*out = append(make([]T, 0, est), *out...)
	}
}

// parallelMin is the size of the rest of the payload from which the dataSources
// section is read by two goroutines.
const parallelMin = 1 << 20

// dataSources reads the dataSources section. A large one is read by two
// goroutines: a helper reads from an element start guessed in the middle (where the
// text looks like the start of the first element after a "},"), while this one
// reads from the beginning. When this one arrives exactly at the guessed start
// (so it is an element start of this list), the helper's elements are the rest of
// the list; otherwise the helper's work is dropped and this one reads on.
func (s *fastScanner) dataSources() []DataSource {
	split := s.splitPoint()
	if split < 0 {
		return section(s, s.dataSource)
	}
	var stop atomic.Bool
	done := make(chan bool, 1)
	var rest []DataSource
	t := &fastScanner{d: s.d, i: split, lim: s.lim, depth: s.depth + 1, intern: map[string]string{}}
	go func() {
		start, n := t.i, 0
		for more := true; more && !t.bad; more = t.next(']') {
			if stop.Load() {
				t.fail()
				break
			}
			t.count(&n)
			sizeSection(t, &rest, n, start)
			rest = append(rest, DataSource{})
			t.dataSource(&rest[len(rest)-1])
		}
		done <- true
	}()
	joined := false
	defer func() {
		if !joined { // the helper stops at its next element; it must not outlive the call (data is the caller's)
			stop.Store(true)
			<-done
		}
	}()
	var out []DataSource
	start := s.i
	n := 0
	for more := s.open('['); more; more = s.next(']') {
		if s.ws(); s.i == split {
			<-done
			joined = true
			if t.bad {
				s.fail()
				return nil
			}
			s.i, s.depth = t.i, t.depth
			if n += len(rest); n > s.lim.MaxListLen {
				s.fail()
				return nil
			}
			return append(out, rest...)
		}
		s.count(&n)
		sizeSection(s, &out, n, start)
		out = append(out, DataSource{})
		s.dataSource(&out[len(out)-1])
	}
	if n == 0 || s.bad {
		return nil
	}
	return out
}

// splitPoint guesses the start of an element of the list that starts next, in the
// middle of the rest of the payload; -1 for none (a small rest, or one core).
func (s *fastScanner) splitPoint() int {
	if runtime.GOMAXPROCS(0) < 2 || len(s.d)-s.i < parallelMin || s.peek() != '[' {
		return -1
	}
	// the text of the first element up to its first key's colon, preceded by
	// "}," and the space written before the first element
	j := s.i + 1
	for j < len(s.d) && j-s.i < 64 && (s.d[j] == ' ' || s.d[j] == '\n' || s.d[j] == '\t' || s.d[j] == '\r') {
		j++
	}
	colon := bytes.IndexByte(s.d[j:min(len(s.d), j+64)], ':')
	if j >= len(s.d) || s.d[j] != '{' || colon < 0 {
		return -1
	}
	pattern := slices.Concat([]byte("},"), s.d[s.i+1:j], s.d[j:j+colon+1])
	mid := s.i + (len(s.d)-s.i)/2
	k := bytes.Index(s.d[mid:], pattern)
	if k < 0 {
		return -1
	}
	return mid + k + 2 + (j - s.i - 1)
}

// sizingSample is the number of elements of a section read before the section is sized.
const sizingSample = 32

// skip reads any value, enforcing the limits and refusing duplicate keys as the
// generic decoder does.
func (s *fastScanner) skip() {
	switch s.peek() {
	case '{':
		base := len(s.keys)
		var set map[string]struct{}
		for more := s.open('{'); more; more = s.next('}') {
			raw, plain := s.rawString()
			if s.bad {
				break
			}
			k := raw
			if !plain {
				k = []byte(s.unquote(raw))
			}
			if len(k) > s.lim.MaxStringLen {
				s.fail()
				break
			}
			if set != nil {
				if _, dup := set[string(k)]; dup {
					s.fail()
				}
				set[string(k)] = struct{}{}
			} else {
				for _, o := range s.keys[base:] {
					if bytes.Equal(o, k) {
						s.fail()
					}
				}
				s.keys = append(s.keys, k)
				if len(s.keys)-base > 16 { // many keys: a set from here on
					set = make(map[string]struct{}, 64)
					for _, o := range s.keys[base:] {
						set[string(o)] = struct{}{}
					}
				}
			}
			s.colon()
			s.skip()
		}
		s.keys = s.keys[:base]
	case '[':
		n := 0
		for more := s.open('['); more; more = s.next(']') {
			s.count(&n)
			s.skip()
		}
	case '"':
		raw, plain := s.rawString()
		if !plain && !s.bad {
			raw = []byte(s.unquote(raw))
		}
		if len(raw) > s.lim.MaxStringLen {
			s.fail()
		}
	case 't':
		s.literal("true")
	case 'f':
		s.literal("false")
	case 'n':
		s.literal("null")
	default:
		s.number()
	}
}

func (s *fastScanner) literal(lit string) {
	if !bytes.HasPrefix(s.d[s.i:], []byte(lit)) {
		s.fail()
		return
	}
	s.i += len(lit)
}

// number reads a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *fastScanner) number() {
	d, j := s.d, s.i
	digits := func() int {
		k := j
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		return j - k
	}
	if j < len(d) && d[j] == '-' {
		j++
	}
	switch {
	case j < len(d) && d[j] == '0':
		j++
	case digits() == 0:
		s.fail()
		return
	}
	if j < len(d) && d[j] == '.' {
		j++
		if digits() == 0 {
			s.fail()
			return
		}
	}
	if j < len(d) && (d[j] == 'e' || d[j] == 'E') {
		j++
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		if digits() == 0 {
			s.fail()
			return
		}
	}
	s.i = j
}

// rawValue reads any value and returns it compacted.
func (s *fastScanner) rawValue() json.RawMessage {
	s.ws()
	start := s.i
	s.skip()
	if s.bad {
		return nil
	}
	return compactJSON(s.d[start:s.i])
}

// compactJSON returns valid JSON without its insignificant whitespace.
func compactJSON(v []byte) json.RawMessage {
	out := make([]byte, 0, len(v))
	inString := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case inString:
			if c == '\\' {
				out = append(out, c, v[i+1])
				i++
				continue
			}
			inString = c != '"'
		case c == ' ', c == '\n', c == '\t', c == '\r':
			continue
		case c == '"':
			inString = true
		}
		out = append(out, c)
	}
	return out
}

// decodeBundleFast decodes a JSON bundle that has no problem (lim defaulted,
// data within the payload limit); ok is false for anything it leaves to the
// generic decoder.
func decodeBundleFast(data []byte, lim Limits) (*Bundle, bool) {
	s := &fastScanner{d: data, lim: lim, intern: map[string]string{}}
	if s.peek() != '{' {
		return nil, false
	}
	b := &Bundle{Now: DefaultBundleNow()}
	var mask uint32
	const (
		bName = 1 << iota
		bDescription
		bNow
		bGroups
		bUsers
		bDataSources
		bPolicies
		bGrants
		bState
	)
	for more := s.open('{'); more; more = s.next('}') {
		k := s.key()
		var bit uint32
		switch string(k) {
		case "name":
			bit = bName
		case "description":
			bit = bDescription
		case "now":
			bit = bNow
		case "groups":
			bit = bGroups
		case "users":
			bit = bUsers
		case "dataSources":
			bit = bDataSources
		case "policies":
			bit = bPolicies
		case "grants":
			bit = bGrants
		case "state":
			bit = bState
		default:
			s.fail()
		}
		s.seen(&mask, bit)
		if s.null() || s.bad {
			continue
		}
		switch bit {
		case bName:
			b.Name = s.str()
		case bDescription:
			b.Description = s.str()
		case bNow:
			b.Now = s.date()
		case bGroups:
			b.Groups = section(s, s.group)
		case bUsers:
			b.Users = section(s, s.user)
		case bDataSources:
			b.DataSources = s.dataSources()
		case bPolicies:
			n := 0
			for more := s.open('['); more; more = s.next(']') {
				s.count(&n)
				b.Policies = append(b.Policies, s.rawValue())
			}
		case bGrants:
			b.Grants = section(s, s.grant)
		case bState:
			b.State = s.rawValue()
		}
	}
	if s.ws(); s.i != len(s.d) || s.bad {
		return nil, false
	}
	for i := range b.DataSources {
		if b.DataSources[i].CreatedAt.IsZero() {
			b.DataSources[i].CreatedAt = b.Now
		}
	}
	if !bundleValid(b) {
		return nil, false
	}
	return b, true
}

// bundleValid reports whether the checks of the generic decoder find nothing in b.
func bundleValid(b *Bundle) bool {
	if b.Name == "" {
		return false
	}
	gids, names := map[int64]bool{}, map[string]bool{}
	for i := range b.Groups {
		g := &b.Groups[i]
		if ValidateGroup(g, "") != nil || gids[g.ID] || names[g.Name] {
			return false
		}
		gids[g.ID], names[g.Name] = true, true
	}
	uids, keys := map[int64]bool{}, map[string]bool{}
	for i := range b.Users {
		u := &b.Users[i]
		if ValidateUser(u, "") != nil || uids[u.ID] || (u.APIKeyHash != "" && keys[u.APIKeyHash]) {
			return false
		}
		uids[u.ID], keys[u.APIKeyHash] = true, true
	}
	if !uniqueIDs(b.DataSources) {
		return false
	}
	for i := range b.DataSources {
		if ValidateDataSource(&b.DataSources[i], "") != nil {
			return false
		}
	}
	for i := range b.Grants {
		if validateGrant(&b.Grants[i], "") != nil {
			return false
		}
	}
	return true
}

// uniqueIDs reports whether no two data sources share an id: at once when the ids
// are ascending (as an export writes them).
func uniqueIDs(l []DataSource) bool {
	ascending := true
	for i := 1; i < len(l) && ascending; i++ {
		ascending = l[i-1].ID < l[i].ID
	}
	if ascending {
		return true
	}
	seen := make(map[int64]bool, len(l))
	for i := range l {
		if seen[l[i].ID] {
			return false
		}
		seen[l[i].ID] = true
	}
	return true
}
