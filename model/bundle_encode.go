package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// The bundle encoder appends JSON directly to a byte slice. It writes exactly what
// encoding/json (with SetEscapeHTML(false), and SetIndent("", "  ") for a whole
// bundle) writes for the JSON shapes of bundle.go; model tests check the two agree.

// jsonWriter appends JSON values, indented by two spaces per level or compact.
type jsonWriter struct {
	b      []byte
	indent bool
	depth  int
	first  bool // the current container has no element yet
}

// newline starts a line at the current depth (indented output only).
func (w *jsonWriter) newline() {
	if !w.indent {
		return
	}
	if n := 1 + 2*w.depth; n <= len(newlineIndent) {
		w.b = append(w.b, newlineIndent[:n]...)
		return
	}
	w.b = append(w.b, '\n')
	for range w.depth {
		w.b = append(w.b, ' ', ' ')
	}
}

// newlineIndent starts a line indented up to 15 levels.
const newlineIndent = "\n                              "

// open starts an object ('{') or a list ('[').
func (w *jsonWriter) open(c byte) {
	w.b = append(w.b, c)
	w.depth++
	w.first = true
}

// close ends the current object ('}') or list (']'); an empty one stays {} or [].
func (w *jsonWriter) close(c byte) {
	w.depth--
	if !w.first {
		w.newline()
	}
	w.b = append(w.b, c)
	w.first = false
}

// elem starts an element of the current list (or a member of the current object).
func (w *jsonWriter) elem() {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.newline()
	w.first = false
}

// key starts the member named k of the current object.
func (w *jsonWriter) key(k string) {
	w.elem()
	w.b = appendJSONString(w.b, k)
	w.b = append(w.b, ':')
	if w.indent {
		w.b = append(w.b, ' ')
	}
}

func (w *jsonWriter) str(k, v string) {
	w.key(k)
	w.b = appendJSONString(w.b, v)
}

func (w *jsonWriter) strOmit(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *jsonWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *jsonWriter) date(k string, t time.Time) {
	if t.IsZero() {
		return
	}
	w.key(k)
	w.b = append(w.b, '"')
	w.b = t.UTC().AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
}

// strings writes a list of strings (omitted when empty; null for a nil element
// of a map, as encoding/json writes it, is the caller's).
func stringsOmit[S ~string](w *jsonWriter, k string, l []S) {
	if len(l) == 0 {
		return
	}
	w.key(k)
	writeStrings(w, l)
}

func writeStrings[S ~string](w *jsonWriter, l []S) {
	if l == nil {
		w.b = append(w.b, "null"...)
		return
	}
	w.open('[')
	for _, s := range l {
		w.elem()
		w.b = appendJSONString(w.b, string(s))
	}
	w.close(']')
}

// attributes writes an attribute map, keys sorted (omitted when empty).
func (w *jsonWriter) attributes(m map[string][]string) {
	if len(m) == 0 {
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.key("attributes")
	w.open('{')
	for _, k := range keys {
		w.key(k)
		writeStrings(w, m[k])
	}
	w.close('}')
}

func (w *jsonWriter) group(g *Group) {
	w.open('{')
	w.int("id", g.ID)
	w.str("name", g.Name)
	w.attributes(g.Attributes)
	w.close('}')
}

func (w *jsonWriter) user(u *User) {
	w.open('{')
	w.int("id", u.ID)
	w.str("name", u.Name)
	w.strOmit("apiKeyHash", u.APIKeyHash)
	stringsOmit(w, "permissions", u.Permissions)
	stringsOmit(w, "groups", u.Groups)
	w.attributes(u.Attributes)
	w.close('}')
}

func (w *jsonWriter) dataSource(ds *DataSource) {
	w.open('{')
	w.int("id", ds.ID)
	w.str("name", ds.Name)
	writeList(w, "owners", ds.Owners, func(o *int64) { w.b = strconv.AppendInt(w.b, *o, 10) })
	stringsOmit(w, "tags", ds.Tags)
	writeList(w, "columns", ds.Columns, func(c *Column) {
		w.open('{')
		w.str("name", c.Name)
		stringsOmit(w, "tags", c.Tags)
		w.close('}')
	})
	writeList(w, "domains", ds.Domains, func(d *Domain) {
		w.open('{')
		w.strOmit("id", d.ID)
		w.strOmit("name", d.Name)
		w.close('}')
	})
	w.strOmit("server", ds.Server)
	w.strOmit("database", ds.Database)
	w.strOmit("schema", ds.Schema)
	w.strOmit("table", ds.Table)
	w.date("createdAt", ds.CreatedAt)
	stringsOmit(w, "selectedPolicies", ds.SelectedPolicies)
	writeList(w, "disabledPolicies", ds.DisabledPolicies, func(d *DisabledPolicy) {
		w.open('{')
		w.str("policyKey", d.PolicyKey)
		w.strOmit("reason", d.Reason)
		w.close('}')
	})
	w.close('}')
}

func (w *jsonWriter) grant(g *Grant) {
	w.open('{')
	w.int("dataSourceId", g.DataSourceID)
	if g.ProfileID != 0 {
		w.int("profileId", g.ProfileID)
	}
	if g.GroupID != 0 {
		w.int("groupId", g.GroupID)
	}
	w.str("state", string(g.State))
	w.strOmit("accessGrant", string(g.AccessGrant))
	w.date("expiration", g.Expiration)
	w.close('}')
}

// raw writes a JSON value (already checked valid) compacted, then indented at the
// current depth as encoding/json writes a json.RawMessage.
func (w *jsonWriter) raw(v json.RawMessage) error {
	var c bytes.Buffer
	if err := json.Compact(&c, v); err != nil {
		return err
	}
	if !w.indent {
		w.b = append(w.b, c.Bytes()...)
		return nil
	}
	out := bytes.NewBuffer(w.b)
	prefix := make([]byte, 2*w.depth)
	for i := range prefix {
		prefix[i] = ' '
	}
	if err := json.Indent(out, c.Bytes(), string(prefix), "  "); err != nil {
		return err
	}
	w.b = out.Bytes()
	return nil
}

// appendJSONString appends s as a JSON string the way encoding/json writes it
// without HTML escaping: ", \ and control characters escaped (\b, \f, \n, \r, \t
// or \u00XX), invalid UTF-8 replaced by \ufffd, and U+2028 and U+2029 escaped.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	i := 0
	for i < len(s) && plainByte[s[i]] {
		i++
	}
	if i == len(s) {
		dst = append(dst, s...)
		return append(dst, '"')
	}
	start := 0
	for i < len(s) {
		b := s[i]
		if b < utf8.RuneSelf {
			if plainByte[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// plainByte marks the bytes a JSON string holds as they are: ASCII but control
// characters, " and \.
var plainByte = func() (t [256]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\'
	}
	return t
}()

// EncodeBundleElements returns the groups, users and data sources of b, each
// element encoded as compact JSON: the bytes EncodeBundle writes for it, without
// the indentation. It is what stores keep as rows.
func EncodeBundleElements(b *Bundle) (groups, users, dataSources []json.RawMessage, err error) {
	w := &jsonWriter{}
	one := func(encode func()) json.RawMessage {
		w.b = w.b[:0]
		encode()
		return bytes.Clone(w.b)
	}
	groups = make([]json.RawMessage, len(b.Groups))
	for i := range b.Groups {
		groups[i] = one(func() { w.group(&b.Groups[i]) })
	}
	users = make([]json.RawMessage, len(b.Users))
	for i := range b.Users {
		users[i] = one(func() { w.user(&b.Users[i]) })
	}
	dataSources = make([]json.RawMessage, len(b.DataSources))
	for i := range b.DataSources {
		dataSources[i] = one(func() { w.dataSource(&b.DataSources[i]) })
	}
	return groups, users, dataSources, nil
}

// EncodeBundle renders b as deterministic, indented JSON, keys in the order of
// docs/scenarios.md (Export format) and empty optional fields left out, that DecodeBundle reads
// back to an equal Bundle (given the defaults DecodeBundle fills: a Go-built bundle
// with a zero Now, data source createdAt or grant accessGrant reads back with the
// default). Policies and state must be valid JSON.
func EncodeBundle(b *Bundle) ([]byte, error) {
	if b == nil {
		return nil, errors.New("model: EncodeBundle of a nil bundle")
	}
	for i, p := range b.Policies {
		if !json.Valid(p) {
			return nil, fmt.Errorf("model: EncodeBundle: policies[%d] is not valid JSON", i)
		}
	}
	if len(b.State) > 0 && !json.Valid(b.State) {
		return nil, errors.New("model: EncodeBundle: state is not valid JSON")
	}
	w := &jsonWriter{indent: true, b: make([]byte, 0, bundleSizeHint(b))}
	w.open('{')
	w.str("name", b.Name)
	w.strOmit("description", b.Description)
	w.date("now", b.Now)
	writeList(w, "groups", b.Groups, w.group)
	writeList(w, "users", b.Users, w.user)
	writeList(w, "dataSources", b.DataSources, w.dataSource)
	if len(b.Policies) > 0 {
		w.key("policies")
		w.open('[')
		for _, p := range b.Policies {
			w.elem()
			if err := w.raw(p); err != nil {
				return nil, err
			}
		}
		w.close(']')
	}
	writeList(w, "grants", b.Grants, w.grant)
	if len(b.State) > 0 {
		w.key("state")
		if err := w.raw(b.State); err != nil {
			return nil, err
		}
	}
	w.close('}')
	return append(w.b, '\n'), nil
}

// writeList writes the list l under key, each element by write; an empty list is
// left out.
func writeList[T any](w *jsonWriter, key string, l []T, write func(*T)) {
	if len(l) == 0 {
		return
	}
	w.key(key)
	w.open('[')
	for i := range l {
		w.elem()
		write(&l[i])
	}
	w.close(']')
}

// bundleSizeHint guesses the size of b's encoding, to allocate the buffer once
// in the common case.
func bundleSizeHint(b *Bundle) int {
	n := 1024 + 4*len(b.State) + 64*len(b.Groups) + 256*len(b.Users) + 128*len(b.Grants)
	for _, p := range b.Policies {
		n += 4 * len(p)
	}
	// a data source: its strings, and per field about a line of indentation and
	// punctuation (keys of at most 16 bytes, at depth 3 to 6)
	const line = 22
	for i := range b.DataSources {
		ds := &b.DataSources[i]
		n += 4*line + len(ds.Name) + len(ds.Server) + len(ds.Database) + len(ds.Schema) + len(ds.Table) +
			len(ds.Owners)*(line-8) + len(ds.DisabledPolicies)*4*line
		for _, t := range ds.Tags {
			n += line + len(t)
		}
		for _, t := range ds.SelectedPolicies {
			n += line + len(t)
		}
		for _, c := range ds.Columns {
			n += 3*line + len(c.Name)
			for _, t := range c.Tags {
				n += line + len(t)
			}
		}
		for _, d := range ds.Domains {
			n += 4*line + len(d.ID) + len(d.Name)
		}
		n += 8 * line // id, name, server, database, schema, table, createdAt
	}
	return n
}
