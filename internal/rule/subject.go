package rule

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/tollgate-dev/tollgate/model"
)

// Subject is a user as rules see it: the user's groups, attributes (the user's own
// merged with those of every group the user is in; groups do not nest) and
// permissions. Build it once per change of the user or of the user's groups with
// NewSubject; it is never modified afterwards and is safe for concurrent reads. The
// exported maps must be treated as read-only.
type Subject struct {
	// ID is the user's profile id.
	ID int64
	// Groups is the set of the names of the user's groups.
	Groups map[string]struct{}
	// Attributes maps an attribute name to its set of values, the user's own and
	// those inherited from the user's groups.
	Attributes map[string]map[string]struct{}
	// Permissions is the set of the user's permissions. They grant no data access
	// by themselves; approval slots use them.
	Permissions map[model.Permission]struct{}

	// values holds the values of each attribute as a sorted slice, for the
	// advanced DSL's wildcard matching (iteration in a fixed order).
	values map[string][]string
	// pairs holds every attribute name=value pair under pairKey, so that a rule's
	// attribute condition costs one map lookup.
	pairs map[string]struct{}
	// syms holds the symbols (of in) of every group and attribute pair, sorted, so
	// that a rule's condition is a search in one small array (no hashing, no string
	// compare); in is nil when the subject was built without an Interner.
	syms []uint32
	in   *Interner

	// A subject built with an Interner keeps its groups, attributes and
	// permissions in sorted slices instead of the exported maps (then nil), which
	// cost several times more memory per user; compact says so.
	compact   bool
	groupList []string
	attrList  []attrValues
	permList  []model.Permission
}

// attrValues is one attribute of a compact subject: its name and sorted values.
type attrValues struct {
	name   string
	values []string
}

// Interner assigns small integer symbols to group names and attribute pairs, so
// that the rules and subjects built with the same Interner compare integers. It
// only grows, with the distinct names it is given, so its owner bounds it: an
// engine owns one and drops it with itself (there is no process-wide table). It
// is written when rules are compiled and subjects built, never when a rule is
// evaluated, and is safe for concurrent use.
type Interner struct {
	mu  sync.Mutex
	ids map[string]uint32
}

// NewInterner returns an empty Interner.
func NewInterner() *Interner { return &Interner{ids: map[string]uint32{}} }

// Len returns how many symbols in holds.
func (in *Interner) Len() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.ids)
}

func (in *Interner) symbol(s string) uint32 {
	in.mu.Lock()
	defer in.mu.Unlock()
	id, ok := in.ids[s]
	if !ok {
		id = uint32(len(in.ids) + 1)
		in.ids[s] = id
	}
	return id
}

func (in *Interner) groupSymbol(name string) uint32 { return in.symbol("g" + name) }

func (in *Interner) pairSymbol(key string) uint32 { return in.symbol("a" + key) }

// hasSym reports whether the subject holds the interned symbol id.
func (s *Subject) hasSym(id uint32) bool { return holds(s.syms, id) }

// pairKey is the key of the attribute pair name=value in Subject.pairs; the length
// prefix keeps it unambiguous whatever the strings hold.
func pairKey(name, value string) string {
	return strconv.Itoa(len(name)) + ":" + name + value
}

// NewSubject builds the Subject of u. groupsByName resolves the user's group names to
// directory groups, whose attributes the user inherits; a group name missing from it
// still counts as a membership but contributes no attributes. A nil u yields an empty
// subject (member of nothing, holding nothing). Rules evaluate it by name; Subject
// builds one that rules compiled with the same Interner evaluate faster.
func NewSubject(u *model.User, groupsByName map[string]*model.Group) *Subject {
	return newSubject(nil, u, groupsByName)
}

// Subject is NewSubject with the groups and attribute pairs of the subject
// interned in in, for the rules compiled WithInterner(in).
func (in *Interner) Subject(u *model.User, groupsByName map[string]*model.Group) *Subject {
	return newSubject(in, u, groupsByName)
}

func newSubject(in *Interner, u *model.User, groupsByName map[string]*model.Group) *Subject {
	s := &Subject{
		Groups:      map[string]struct{}{},
		Attributes:  map[string]map[string]struct{}{},
		Permissions: map[model.Permission]struct{}{},
		values:      map[string][]string{},
	}
	if in == nil {
		// With an Interner, attribute conditions compare symbols; the pairs are only
		// the name-keyed fallback (a subject of another Interner reads Attributes).
		s.pairs = map[string]struct{}{}
	}
	if u == nil {
		return s
	}
	s.ID = u.ID
	if len(u.Permissions) == 0 {
		s.Permissions = nil // reads of a nil set find nothing
	}
	for _, p := range u.Permissions {
		s.Permissions[p] = struct{}{}
	}
	add := func(attrs map[string][]string) {
		for name, vals := range attrs {
			set := s.Attributes[name]
			if set == nil {
				set = make(map[string]struct{}, len(vals))
				s.Attributes[name] = set
			}
			for _, v := range vals {
				set[v] = struct{}{}
			}
		}
	}
	add(u.Attributes)
	for _, g := range u.Groups {
		if _, dup := s.Groups[g]; dup {
			continue
		}
		s.Groups[g] = struct{}{}
		if grp := groupsByName[g]; grp != nil {
			add(grp.Attributes)
		}
	}
	for name, set := range s.Attributes {
		vals := make([]string, 0, len(set))
		for v := range set {
			vals = append(vals, v)
		}
		slices.Sort(vals)
		s.values[name] = vals
		for _, v := range vals {
			k := pairKey(name, v)
			if s.pairs != nil {
				s.pairs[k] = struct{}{}
			}
			if in != nil {
				s.syms = append(s.syms, in.pairSymbol(k))
			}
		}
	}
	if in == nil {
		return s
	}
	for g := range s.Groups {
		s.syms = append(s.syms, in.groupSymbol(g))
	}
	slices.Sort(s.syms)
	s.in = in
	s.compactMaps()
	return s
}

// compactMaps moves the subject's groups, attributes and permissions from the
// exported maps to sorted slices.
func (s *Subject) compactMaps() {
	s.compact = true
	if len(s.Groups) > 0 {
		s.groupList = make([]string, 0, len(s.Groups))
		for g := range s.Groups {
			s.groupList = append(s.groupList, g)
		}
		slices.Sort(s.groupList)
	}
	if len(s.values) > 0 {
		s.attrList = make([]attrValues, 0, len(s.values))
		for name, vals := range s.values {
			s.attrList = append(s.attrList, attrValues{name: name, values: vals})
		}
		slices.SortFunc(s.attrList, func(a, b attrValues) int { return strings.Compare(a.name, b.name) })
	}
	if len(s.Permissions) > 0 {
		s.permList = make([]model.Permission, 0, len(s.Permissions))
		for p := range s.Permissions {
			s.permList = append(s.permList, p)
		}
		slices.Sort(s.permList)
	}
	s.Groups, s.Attributes, s.Permissions, s.values = nil, nil, nil, nil
}

// attr returns the sorted values of the attribute name of a compact subject.
func (s *Subject) attr(name string) []string {
	i, ok := slices.BinarySearchFunc(s.attrList, name, func(a attrValues, n string) int { return strings.Compare(a.name, n) })
	if !ok {
		return nil
	}
	return s.attrList[i].values
}

// InGroup reports whether the subject is a member of the named group.
func (s *Subject) InGroup(name string) bool {
	if s == nil {
		return false
	}
	if s.compact {
		_, ok := slices.BinarySearch(s.groupList, name)
		return ok
	}
	_, ok := s.Groups[name]
	return ok
}

// HasAttribute reports whether the subject holds value for the attribute name (its
// own or inherited from a group). The comparison is exact.
func (s *Subject) HasAttribute(name, value string) bool {
	if s == nil {
		return false
	}
	if s.compact {
		_, ok := slices.BinarySearch(s.attr(name), value)
		return ok
	}
	_, ok := s.Attributes[name][value]
	return ok
}

// HasPermission reports whether the subject holds permission p.
func (s *Subject) HasPermission(p model.Permission) bool {
	if s == nil {
		return false
	}
	if s.compact {
		return slices.Contains(s.permList, p)
	}
	_, ok := s.Permissions[p]
	return ok
}

// hasPair is HasAttribute(name, value) given key = pairKey(name, value).
func (s *Subject) hasPair(key, name, value string) bool {
	if s == nil {
		return false
	}
	if s.pairs != nil {
		_, ok := s.pairs[key]
		return ok
	}
	return s.HasAttribute(name, value)
}

// attributeValues returns the subject's values of the attribute name, sorted. A
// Subject built without NewSubject falls back to its Attributes map.
func (s *Subject) attributeValues(name string) []string {
	if s.compact {
		return s.attr(name)
	}
	if s.values != nil {
		return s.values[name]
	}
	set := s.Attributes[name]
	vals := make([]string, 0, len(set))
	for v := range set {
		vals = append(vals, v)
	}
	slices.Sort(vals)
	return vals
}
