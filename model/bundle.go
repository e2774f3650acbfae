package model

import (
	"encoding/json"
	"slices"
	"time"
)

// DefaultBundleNow returns the clock of a bundle that names none:
// 2026-01-01T00:00:00Z.
func DefaultBundleNow() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

// Bundle is a catalog, a directory, policies and grants: the scenario format of
// docs/scenarios.md (Bundles) without steps and expect, and what an engine exports.
// DecodeBundle fills every default (Now, user API keys, data source createdAt,
// grant accessGrant), so a decoded bundle needs no further defaulting.
type Bundle struct {
	// Name names the bundle (required).
	Name string
	// Description is free text.
	Description string
	// Now is the clock; zero means DefaultBundleNow().
	Now time.Time
	// Groups are the directory's groups.
	Groups []Group
	// Users are the directory's users.
	Users []User
	// DataSources are the catalog.
	DataSources []DataSource
	// Policies are policy payloads kept verbatim (v1 or v2, as compact JSON; an
	// explicit circumstances: null stays null), decoded by DecodePolicy.
	Policies []json.RawMessage
	// Grants are manual grants made during setup, in order.
	Grants []Grant
	// State is the engine's versioned export state, verbatim; nil when absent.
	State json.RawMessage
}

// Grant is a manual grant made during bundle setup.
type Grant struct {
	// DataSourceID is the data source granted on.
	DataSourceID int64
	// ProfileID or GroupID (exactly one is non-zero).
	ProfileID int64
	// GroupID is the group granted to (0 for a grant to a profile).
	GroupID int64
	// State is subscribed, expert or owner.
	State RecordState
	// AccessGrant is READ (the default) or WRITE.
	AccessGrant AccessGrant
	// Expiration is zero for none.
	Expiration time.Time
}

// Bundle keys, in the order of docs/scenarios.md, Bundles.
var bundleKeys = []string{"name", "description", "now", "groups", "users", "dataSources", "policies", "grants", "state"}

// DecodeBundle decodes and validates a bundle (JSON or YAML) as docs/scenarios.md,
// Bundles, describes it; steps and expect are unknown keys here (a scenario runner strips
// them first). Policies and state are kept verbatim and not validated. Every
// problem is returned, with its path, as an ErrorList. Large bundles need larger
// limits than DefaultLimits. A YAML bundle may expand (through aliases) to at most
// BundleBudget(len(data)) bytes, and never more than lim.MaxPayloadBytes.
//
// A JSON bundle is read by a fast decoder straight into the model; whatever that
// decoder does not handle exactly (a problem of any kind included) is read again by
// the generic decoder, which reports every problem.
func DecodeBundle(data []byte, lim Limits) (*Bundle, error) {
	lim = lim.withDefaults()
	if len(data) <= lim.MaxPayloadBytes {
		if b, ok := decodeBundleFast(data, lim); ok {
			return b, nil
		}
	}
	return decodeBundleGeneric(data, lim)
}

// decodeBundleGeneric is DecodeBundle through generic values (lim defaulted).
func decodeBundleGeneric(data []byte, lim Limits) (*Bundle, error) {
	doc, errs := parseDocumentBudget(data, lim, false, min(lim.MaxPayloadBytes, BundleBudget(len(data))))
	if errs != nil {
		return nil, errs
	}
	w := &walker{}
	o, ok := w.asObject("", doc.value)
	if !ok {
		return nil, w.errs
	}
	b := &Bundle{Now: DefaultBundleNow()}
	// Each section's structural problems go to w as it is walked; what the
	// validators find afterwards (later) is merged in path order.
	var later ErrorList
	later = append(later, decodeBundleHead(o, b)...)
	later = append(later, decodeBundleGroups(o, b)...)
	later = append(later, decodeBundleUsers(o, b)...)
	later = append(later, decodeBundleDataSources(o, b)...)
	if list, ok := o.list("policies"); ok && len(list) > 0 {
		b.Policies = make([]json.RawMessage, len(list))
		for i, pv := range list {
			b.Policies[i] = canonicalJSON(pv)
		}
	}
	later = append(later, decodeBundleGrants(o, b)...)
	if sv, ok := o.get("state"); ok {
		b.State = canonicalJSON(sv)
	}
	o.finish()
	if errs := mergeErrors(w.errs, later); len(errs) > 0 {
		return nil, errs
	}
	keepVerbatim(doc.json, b)
	return b, nil
}

// decodeBundleHead reads name, description and now.
func decodeBundleHead(o *object, b *Bundle) ErrorList {
	var later ErrorList
	b.Name, _ = o.str("name")
	if b.Name == "" {
		later = append(later, Required("name", ""))
	}
	b.Description, _ = o.str("description")
	if s, ok := o.str("now"); ok {
		if t, err := ParseDate(s); err == nil {
			b.Now = t
		} else {
			o.w.add(Invalid("now", s, dateDetail))
		}
	}
	return later
}

// decodeSection reads the list at key of a bundle: each element is decoded by
// decode (which reports what it finds while reading), then checked by check (the
// validator and the uniqueness rules). It returns the list (nil when absent or
// empty) and what check found.
func decodeSection[T any](o *object, key string, decode func(eo *object, v *T, p Path) ErrorList,
	check func(v *T, p Path) ErrorList) ([]T, ErrorList) {
	list, ok := o.list(key)
	if !ok || len(list) == 0 {
		return nil, nil
	}
	var later ErrorList
	out := make([]T, len(list))
	for i, ev := range list {
		p := Path(key).Index(i)
		if eo, ok := o.w.asObject(p, ev); ok {
			later = append(later, decode(eo, &out[i], p)...)
			eo.finish()
		}
		later = append(later, check(&out[i], p)...)
	}
	return out, later
}

// decodeBundleGroups reads and validates groups: ids and names are unique.
func decodeBundleGroups(o *object, b *Bundle) ErrorList {
	ids, names := map[int64]bool{}, map[string]bool{}
	var later ErrorList
	b.Groups, later = decodeSection(o, "groups", func(eo *object, g *Group, _ Path) ErrorList {
		decodeGroup(eo, g)
		return nil
	}, func(g *Group, p Path) ErrorList {
		errs := ValidateGroup(g, p)
		if g.ID != 0 && ids[g.ID] {
			errs = append(errs, Duplicate(p.Child("id"), g.ID))
		}
		if g.Name != "" && names[g.Name] {
			errs = append(errs, Duplicate(p.Child("name"), g.Name))
		}
		ids[g.ID], names[g.Name] = true, true
		return errs
	})
	return later
}

// decodeBundleUsers reads and validates users: ids are unique and no API key
// authenticates two users.
func decodeBundleUsers(o *object, b *Bundle) ErrorList {
	ids, keys := map[int64]bool{}, map[string]bool{}
	var later ErrorList
	b.Users, later = decodeSection(o, "users", decodeUser, func(u *User, p Path) ErrorList {
		errs := ValidateUser(u, p)
		if u.ID != 0 && ids[u.ID] {
			errs = append(errs, Duplicate(p.Child("id"), u.ID))
		}
		if u.APIKeyHash != "" && keys[u.APIKeyHash] {
			errs = append(errs, Invalid(p.Child("apiKey"), nil, "authenticates another user of this bundle too"))
		}
		ids[u.ID], keys[u.APIKeyHash] = true, true
		return errs
	})
	return later
}

// decodeBundleDataSources reads and validates data sources (createdAt defaults to
// the bundle's now): ids are unique.
func decodeBundleDataSources(o *object, b *Bundle) ErrorList {
	ids := map[int64]bool{}
	var later ErrorList
	b.DataSources, later = decodeSection(o, "dataSources", func(eo *object, ds *DataSource, _ Path) ErrorList {
		decodeDataSource(eo, ds, b.Now)
		return nil
	}, func(ds *DataSource, p Path) ErrorList {
		errs := ValidateDataSource(ds, p)
		if ds.ID != 0 && ids[ds.ID] {
			errs = append(errs, Duplicate(p.Child("id"), ds.ID))
		}
		ids[ds.ID] = true
		return errs
	})
	return later
}

// decodeBundleGrants reads and validates the manual grants (accessGrant defaults
// to READ).
func decodeBundleGrants(o *object, b *Bundle) ErrorList {
	var later ErrorList
	b.Grants, later = decodeSection(o, "grants", func(eo *object, g *Grant, _ Path) ErrorList {
		g.DataSourceID, _ = eo.integer("dataSourceId")
		g.ProfileID, _ = eo.integer("profileId")
		g.GroupID, _ = eo.integer("groupId")
		st, _ := eo.str("state")
		g.State = RecordState(st)
		g.AccessGrant = Read
		if ag, ok := eo.str("accessGrant"); ok {
			g.AccessGrant = AccessGrant(ag)
		}
		g.Expiration, _ = eo.date("expiration")
		return nil
	}, validateGrant)
	return later
}

// keepVerbatim replaces the policies and the state section of b by their text as
// written in the document (key order kept), compacted.
func keepVerbatim(docJSON []byte, b *Bundle) {
	var raw struct {
		Policies []json.RawMessage `json:"policies"`
		State    json.RawMessage   `json:"state"`
	}
	if rawFields(docJSON, &raw) != nil {
		return
	}
	if len(raw.Policies) == len(b.Policies) {
		for i := range raw.Policies {
			b.Policies[i] = compactRaw(raw.Policies[i])
		}
	}
	if b.State != nil {
		b.State = compactRaw(raw.State)
	}
}

// decodeAttributes reads an optional attributes map: name -> [values].
func decodeAttributes(o *object) map[string][]string {
	ao, ok := o.obj("attributes")
	if !ok || len(ao.m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(ao.m))
	for k := range ao.m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string][]string, len(keys))
	for _, k := range keys {
		p := ao.path.Key(k)
		v, _ := ao.raw(k)
		list, isList := v.([]any)
		if !isList {
			ao.w.add(WrongType(p, "a list", v))
			continue
		}
		vals := make([]string, len(list))
		for i, e := range list {
			s, isStr := e.(string)
			if !isStr {
				ao.w.add(WrongType(p.Index(i), "a string", e))
				continue
			}
			vals[i] = s
		}
		out[k] = vals
	}
	return out
}

// decodeDataSource reads the fields of one data source.
func decodeDataSource(o *object, ds *DataSource, now time.Time) {
	ds.ID, _ = o.integer("id")
	ds.Name, _ = o.str("name")
	if owners, ok := o.list("owners"); ok && len(owners) > 0 {
		ds.Owners = make([]int64, len(owners))
		for i, v := range owners {
			ds.Owners[i], _ = o.w.integer(o.at("owners").Index(i), v)
		}
	}
	if tags, ok := o.strings("tags"); ok && len(tags) > 0 {
		ds.Tags = tags
	}
	ds.Columns = objectList(o, "columns", func(co *object, c *Column) {
		c.Name, _ = co.str("name")
		if tags, ok := co.strings("tags"); ok && len(tags) > 0 {
			c.Tags = tags
		}
	})
	ds.Domains = objectList(o, "domains", func(do *object, d *Domain) {
		d.ID, _ = idString(do, "id")
		d.Name, _ = do.str("name")
	})
	ds.Server, _ = o.str("server")
	ds.Database, _ = o.str("database")
	ds.Schema, _ = o.str("schema")
	ds.Table, _ = o.str("table")
	ds.CreatedAt = now
	if t, ok := o.date("createdAt"); ok {
		ds.CreatedAt = t
	}
	if sel, ok := o.strings("selectedPolicies"); ok && len(sel) > 0 {
		ds.SelectedPolicies = sel
	}
	ds.DisabledPolicies = objectList(o, "disabledPolicies", func(do *object, d *DisabledPolicy) {
		d.PolicyKey, _ = do.str("policyKey")
		d.Reason, _ = do.str("reason")
	})
}

// objectList decodes the list at key, each element an object that f decodes into
// its slot (then finished: its unknown fields reported); nil when the list is
// absent or empty. An element that is not an object is reported and left zero.
func objectList[T any](o *object, key string, f func(e *object, v *T)) []T {
	l, ok := o.list(key)
	if !ok || len(l) == 0 {
		return nil
	}
	out := make([]T, len(l))
	for i, v := range l {
		e, ok := o.w.asObject(o.at(key).Index(i), v)
		if !ok {
			continue
		}
		f(e, &out[i])
		e.finish()
	}
	return out
}

// validID reports an id that must be at least 1.
func validID(p Path, id int64) *FieldError {
	switch {
	case id == 0:
		return Required(p, "")
	case id < 0:
		return Invalid(p, id, "must be at least 1")
	}
	return nil
}

func appendIf(l ErrorList, e *FieldError) ErrorList {
	if e != nil {
		return append(l, e)
	}
	return l
}

// textOK reports whether s is a non-empty name holding no unsafe character
// (requiredText and validateStrings find nothing in it).
func textOK(s string) bool { return s != "" && unsafeText("", s) == nil }

// stringsOK reports whether validateStrings finds nothing in values.
func stringsOK(values []string) bool {
	for _, s := range values {
		if !textOK(s) {
			return false
		}
	}
	return true
}

// validateStrings adds to l the empty or unsafe strings of values (paths below p
// are built only for a problem).
func validateStrings(l ErrorList, p Path, values []string) ErrorList {
	if stringsOK(values) {
		return l
	}
	for i, s := range values {
		if s == "" {
			l = append(l, Required(p.Index(i), "must not be empty"))
		}
		l = appendIf(l, unsafeText(p.Index(i), s))
	}
	return l
}

func validateAttributes(l ErrorList, p Path, attrs map[string][]string) ErrorList {
	ok := true
	for k, vals := range attrs {
		ok = ok && textOK(k) && stringsOK(vals)
	}
	if ok {
		return l
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "" {
			l = append(l, Required(p.Key(k), "attribute name must not be empty"))
		}
		l = appendIf(l, unsafeText(p.Key(k), k))
		l = validateStrings(l, p.Key(k), attrs[k])
	}
	return l
}

// requiredText adds to l a missing s, and unsafe characters in s, at path p.
func requiredText(l ErrorList, p Path, s string) ErrorList {
	if s == "" {
		l = append(l, Required(p, ""))
	}
	return appendIf(l, unsafeText(p, s))
}

// ValidateDataSource checks a data source built in Go (p prefixes every path):
// id >= 1, name, owner ids >= 1, non-empty tags, column names, an id or a name for
// each domain, non-empty selected policy keys and disabled policy keys. It does not
// check that owners exist.
func ValidateDataSource(ds *DataSource, p Path) ErrorList {
	if p != "" && validateDataSource(ds, "") == nil {
		return nil // valid: no path built (paths below the root allocate)
	}
	return validateDataSource(ds, p)
}

func validateDataSource(ds *DataSource, p Path) ErrorList {
	if ds == nil {
		return ErrorList{Required(p, "data source is nil")}
	}
	var l ErrorList
	l = appendIf(l, validID(p.Child("id"), ds.ID))
	l = requiredText(l, p.Child("name"), ds.Name)
	for i, o := range ds.Owners {
		if o < 1 {
			l = append(l, Invalid(p.Child("owners").Index(i), o, "must be at least 1"))
		}
	}
	l = validateStrings(l, p.Child("tags"), ds.Tags)
	for i, c := range ds.Columns {
		if textOK(c.Name) && stringsOK(c.Tags) {
			continue
		}
		cp := p.Child("columns").Index(i)
		l = requiredText(l, cp.Child("name"), c.Name)
		l = validateStrings(l, cp.Child("tags"), c.Tags)
	}
	for i, d := range ds.Domains {
		if d.ID == "" && d.Name == "" {
			l = append(l, Required(p.Child("domains").Index(i), "needs id or name"))
		}
	}
	l = validateStrings(l, p.Child("selectedPolicies"), ds.SelectedPolicies)
	for i, d := range ds.DisabledPolicies {
		if textOK(d.PolicyKey) {
			continue
		}
		l = requiredText(l, p.Child("disabledPolicies").Index(i).Child("policyKey"), d.PolicyKey)
	}
	return l
}

// ValidateUser checks a user built in Go (p prefixes every path): id >= 1, name,
// an optional apiKeyHash (64 lowercase hex digits), permissions from GOVERNANCE,
// USER_ADMIN, AUDIT, CREATE_DATA_SOURCE, non-empty group names and attributes.
func ValidateUser(u *User, p Path) ErrorList {
	if p != "" && validateUser(u, "") == nil {
		return nil // valid: no path built (paths below the root allocate)
	}
	return validateUser(u, p)
}

func validateUser(u *User, p Path) ErrorList {
	if u == nil {
		return ErrorList{Required(p, "user is nil")}
	}
	var l ErrorList
	l = appendIf(l, validID(p.Child("id"), u.ID))
	l = requiredText(l, p.Child("name"), u.Name)
	if u.APIKeyHash != "" && !validKeyHash(u.APIKeyHash) {
		l = append(l, Invalid(p.Child("apiKeyHash"), nil, "must be the lowercase hex SHA-256 of the key (64 characters 0-9, a-f)"))
	}
	for i, perm := range u.Permissions {
		if !oneOf(perm, userPerms) {
			l = append(l, NotSupported(p.Child("permissions").Index(i), string(perm), userPerms))
		}
	}
	l = validateStrings(l, p.Child("groups"), u.Groups)
	return validateAttributes(l, p.Child("attributes"), u.Attributes)
}

// ValidateGroup checks a group built in Go (p prefixes every path): id >= 1, name,
// non-empty attribute names and values.
func ValidateGroup(g *Group, p Path) ErrorList {
	if g == nil {
		return ErrorList{Required(p, "group is nil")}
	}
	var l ErrorList
	l = appendIf(l, validID(p.Child("id"), g.ID))
	l = requiredText(l, p.Child("name"), g.Name)
	return validateAttributes(l, p.Child("attributes"), g.Attributes)
}

// validateGrant checks one bundle grant.
func validateGrant(g *Grant, p Path) ErrorList {
	var l ErrorList
	l = appendIf(l, validID(p.Child("dataSourceId"), g.DataSourceID))
	switch {
	case g.ProfileID == 0 && g.GroupID == 0:
		l = append(l, Required(p.Child("profileId"), "profileId or groupId is required"))
	case g.ProfileID != 0 && g.GroupID != 0:
		l = append(l, Forbidden(p.Child("groupId"), "only one of profileId and groupId may be given"))
	case g.ProfileID < 0:
		l = append(l, Invalid(p.Child("profileId"), g.ProfileID, "must be at least 1"))
	case g.GroupID < 0:
		l = append(l, Invalid(p.Child("groupId"), g.GroupID, "must be at least 1"))
	}
	switch {
	case g.State == "":
		l = append(l, Required(p.Child("state"), ""))
	case !oneOf(g.State, grantStates):
		l = append(l, NotSupported(p.Child("state"), string(g.State), grantStates))
	}
	switch {
	case g.AccessGrant == "":
		l = append(l, Required(p.Child("accessGrant"), ""))
	case !oneOf(g.AccessGrant, accessGrants):
		l = append(l, NotSupported(p.Child("accessGrant"), string(g.AccessGrant), accessGrants))
	}
	return l
}

// JSON shapes of a bundle's elements, keys in the order of docs/scenarios.md, Bundles.
type groupJSON struct {
	ID         int64               `json:"id"`
	Name       string              `json:"name"`
	Attributes map[string][]string `json:"attributes,omitempty"`
}

type userJSON struct {
	ID          int64               `json:"id"`
	Name        string              `json:"name"`
	APIKeyHash  string              `json:"apiKeyHash,omitempty"`
	Permissions []Permission        `json:"permissions,omitempty"`
	Groups      []string            `json:"groups,omitempty"`
	Attributes  map[string][]string `json:"attributes,omitempty"`
}

type columnJSON struct {
	Name string   `json:"name"`
	Tags []string `json:"tags,omitempty"`
}

type disabledJSON struct {
	PolicyKey string `json:"policyKey"`
	Reason    string `json:"reason,omitempty"`
}

type dataSourceJSON struct {
	ID               int64          `json:"id"`
	Name             string         `json:"name"`
	Owners           []int64        `json:"owners,omitempty"`
	Tags             []string       `json:"tags,omitempty"`
	Columns          []columnJSON   `json:"columns,omitempty"`
	Domains          []domainJSON   `json:"domains,omitempty"`
	Server           string         `json:"server,omitempty"`
	Database         string         `json:"database,omitempty"`
	Schema           string         `json:"schema,omitempty"`
	Table            string         `json:"table,omitempty"`
	CreatedAt        string         `json:"createdAt,omitempty"`
	SelectedPolicies []string       `json:"selectedPolicies,omitempty"`
	DisabledPolicies []disabledJSON `json:"disabledPolicies,omitempty"`
}

func dateOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return FormatDate(t)
}
