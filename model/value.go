package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Limits bound the size of inputs. The zero value of a field (or a negative one)
// means its default.
type Limits struct {
	// MaxPayloadBytes bounds one payload (default 1 MiB).
	MaxPayloadBytes int
	// MaxListLen bounds every list (default 1000).
	MaxListLen int
	// MaxStringLen bounds every string and object key, in bytes (default 64 KiB).
	MaxStringLen int
	// MaxDepth bounds nesting of lists and objects (default 32).
	MaxDepth int
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	return Limits{MaxPayloadBytes: 1 << 20, MaxListLen: 1000, MaxStringLen: 64 << 10, MaxDepth: 32}
}

// withDefaults replaces zero or negative fields by their defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxPayloadBytes <= 0 {
		l.MaxPayloadBytes = d.MaxPayloadBytes
	}
	if l.MaxListLen <= 0 {
		l.MaxListLen = d.MaxListLen
	}
	if l.MaxStringLen <= 0 {
		l.MaxStringLen = d.MaxStringLen
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	return l
}

// document is a parsed payload.
type document struct {
	// value is the generic value: map[string]any, []any, string, json.Number, bool, nil.
	value any
	// json is the payload as JSON (the input itself, or its YAML converted).
	json []byte
	// order maps the path of every value to its position (when tracked).
	order map[Path]int
}

// parseDocument turns JSON or YAML bytes into generic values, enforcing lim.
// Every limit violation and duplicate key is reported with its path; any problem
// makes the result nil.
func parseDocument(data []byte, lim Limits) (any, ErrorList) {
	doc, errs := parseDocumentOrder(data, lim, false)
	if errs != nil {
		return nil, errs
	}
	return doc.value, nil
}

// parseDocumentOrder is parseDocument that returns the whole document and, when
// track is set, the document position of every value by path (see sortByDocument).
// A payload that starts with { or [ is JSON and must parse as JSON (it is never
// retried as YAML: a broken JSON body must not decode as something else); any
// other payload is one YAML document, expanded under the payload limit (see
// YAMLToJSON).
func parseDocumentOrder(data []byte, lim Limits, track bool) (*document, ErrorList) {
	lim = lim.withDefaults()
	return parseDocumentBudget(data, lim, track, lim.MaxPayloadBytes)
}

// parseDocumentBudget is parseDocumentOrder with lim defaulted and the budget of
// what a YAML payload may expand to.
func parseDocumentBudget(data []byte, lim Limits, track bool, budget int) (*document, ErrorList) {
	if len(data) > lim.MaxPayloadBytes {
		return nil, ErrorList{TooLarge(len(data), lim.MaxPayloadBytes, "bytes")}
	}
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		v, order, errs, err := parseJSON(trimmed, lim, track)
		if err != nil {
			return nil, ErrorList{Invalid("", nil, "is not valid JSON: "+ClipInput(err.Error()))}
		}
		if len(errs) > 0 {
			return nil, errs
		}
		return &document{value: v, json: trimmed, order: order}, nil
	}
	js, err := YAMLToJSON(data, budget)
	if err != nil {
		return nil, Errors(err)
	}
	v, order, errs, err := parseJSON(js, lim, track)
	if err != nil {
		return nil, ErrorList{Invalid("", nil, "is not valid YAML: "+ClipInput(err.Error()))}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &document{value: v, json: js, order: order}, nil
}

// rawFields returns the named top-level fields of a JSON object as compact JSON,
// byte for byte as written (key order kept). into must be a pointer to a struct of
// json.RawMessage fields.
func rawFields(js []byte, into any) error {
	return json.Unmarshal(js, into)
}

// compactRaw compacts a raw JSON value in place of a copy.
func compactRaw(m json.RawMessage) json.RawMessage {
	if m == nil {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, m); err != nil {
		return m
	}
	return buf.Bytes()
}

// errTooDeep aborts parsing when the nesting limit is exceeded.
var errTooDeep = errors.New("too deep")

// jsonParser builds generic values from a token stream, tracking the path of the
// current value so that limit violations can name it.
type jsonParser struct {
	dec   *json.Decoder
	lim   Limits
	errs  ErrorList
	stack []string // path elements: ".key" or "[i]" (built into a Path on error only)
	order map[Path]int
}

// parseJSON parses one JSON document. A syntax error is returned as err; limit
// violations and duplicate keys as errs.
func parseJSON(data []byte, lim Limits, track bool) (v any, order map[Path]int, errs ErrorList, err error) {
	p := &jsonParser{dec: json.NewDecoder(bytes.NewReader(data)), lim: lim}
	if track {
		p.order = map[Path]int{}
	}
	p.dec.UseNumber()
	v, err = p.value(0)
	if errors.Is(err, errTooDeep) {
		return nil, nil, p.errs, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if _, terr := p.dec.Token(); terr != io.EOF {
		if terr == nil {
			return nil, nil, nil, fmt.Errorf("unexpected data after the top-level value at offset %d", p.dec.InputOffset())
		}
		return nil, nil, nil, terr
	}
	return v, p.order, p.errs, nil
}

func (p *jsonParser) path() Path {
	var b strings.Builder
	for _, e := range p.stack {
		b.WriteString(e)
	}
	return Path(strings.TrimPrefix(b.String(), "."))
}

func (p *jsonParser) value(depth int) (any, error) {
	if p.order != nil {
		p.order[p.path()] = len(p.order)
	}
	tok, err := p.dec.Token()
	if err != nil {
		if err == io.EOF {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= p.lim.MaxDepth {
			p.errs = append(p.errs, &FieldError{Path: p.path(), Code: CodeTooLong,
				Detail: fmt.Sprintf("is nested deeper than the limit of %d", p.lim.MaxDepth)})
			return nil, errTooDeep
		}
		if t == '{' {
			return p.object(depth + 1)
		}
		return p.list(depth + 1)
	case string:
		if len(t) > p.lim.MaxStringLen {
			p.errs = append(p.errs, TooLong(p.path(), len(t), p.lim.MaxStringLen, "bytes"))
			return "", nil
		}
		return t, nil
	default:
		return t, nil
	}
}

func (p *jsonParser) object(depth int) (any, error) {
	m := map[string]any{}
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is not a string at offset %d", p.dec.InputOffset())
		}
		p.stack = append(p.stack, pathElem(key))
		if len(key) > p.lim.MaxStringLen {
			p.errs = append(p.errs, &FieldError{Path: Path(strings.TrimPrefix(strings.Join(p.stack[:len(p.stack)-1], ""), ".")),
				Code: CodeTooLong, Detail: fmt.Sprintf("has a key of %d bytes, more than the limit of %d", len(key), p.lim.MaxStringLen)})
		}
		if _, dup := m[key]; dup {
			p.errs = append(p.errs, &FieldError{Path: p.path(), Code: CodeDuplicate, Detail: "duplicate key"})
		}
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		m[key] = v
		p.stack = p.stack[:len(p.stack)-1]
	}
	if _, err := p.dec.Token(); err != nil { // '}'
		return nil, err
	}
	return m, nil
}

func (p *jsonParser) list(depth int) (any, error) {
	l := []any{}
	n := 0
	for p.dec.More() {
		p.stack = append(p.stack, "["+strconv.Itoa(n)+"]")
		v, err := p.value(depth)
		if err != nil {
			return nil, err
		}
		p.stack = p.stack[:len(p.stack)-1]
		if n < p.lim.MaxListLen {
			l = append(l, v)
		}
		n++
	}
	if _, err := p.dec.Token(); err != nil { // ']'
		return nil, err
	}
	if n > p.lim.MaxListLen {
		p.errs = append(p.errs, TooLong(p.path(), n, p.lim.MaxListLen, "elements"))
	}
	return l, nil
}

// pathElem renders an object key as a path element the way Path.Child does.
func pathElem(key string) string { return "." + key }

// walker collects the problems found while reading generic values.
type walker struct {
	errs ErrorList
}

func (w *walker) add(e *FieldError) { w.errs = append(w.errs, e) }

// object is a JSON object being read field by field; finish reports the fields
// that were never read as unknown.
type object struct {
	w    *walker
	path Path
	m    map[string]any
	used map[string]bool
}

// asObject returns v as an object, or reports a type error.
func (w *walker) asObject(p Path, v any) (*object, bool) {
	m, ok := v.(map[string]any)
	if !ok {
		w.add(WrongType(p, "an object", v))
		return nil, false
	}
	return &object{w: w, path: p, m: m, used: make(map[string]bool, len(m))}, true
}

// at returns the path of field key.
func (o *object) at(key string) Path { return o.path.Child(key) }

// raw returns the value of key and whether the key is present (even as null).
func (o *object) raw(key string) (any, bool) {
	v, ok := o.m[key]
	if ok {
		o.used[key] = true
	}
	return v, ok
}

// get returns the value of key; absent and null both return ok false.
func (o *object) get(key string) (any, bool) {
	v, ok := o.raw(key)
	return v, ok && v != nil
}

// ignore marks keys as read.
func (o *object) ignore(keys ...string) {
	for _, k := range keys {
		if _, ok := o.m[k]; ok {
			o.used[k] = true
		}
	}
}

// str reads an optional string; wrong types are reported.
func (o *object) str(key string) (string, bool) {
	v, ok := o.get(key)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		o.w.add(WrongType(o.at(key), "a string", v))
		return "", false
	}
	return s, true
}

// boolean reads an optional boolean.
func (o *object) boolean(key string) bool {
	v, ok := o.get(key)
	if !ok {
		return false
	}
	b, isBool := v.(bool)
	if !isBool {
		o.w.add(WrongType(o.at(key), "a boolean", v))
		return false
	}
	return b
}

// integer reads an optional integer.
func (o *object) integer(key string) (int64, bool) {
	v, ok := o.get(key)
	if !ok {
		return 0, false
	}
	return o.w.integer(o.at(key), v)
}

// integer converts v to an int64, reporting non-numbers and non-integers.
func (w *walker) integer(p Path, v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		w.add(WrongType(p, "an integer", v))
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		w.add(Invalid(p, n.String(), "is not an integer"))
		return 0, false
	}
	return i, true
}

// list reads an optional list.
func (o *object) list(key string) ([]any, bool) {
	v, ok := o.get(key)
	if !ok {
		return nil, false
	}
	l, isList := v.([]any)
	if !isList {
		o.w.add(WrongType(o.at(key), "a list", v))
		return nil, false
	}
	return l, true
}

// obj reads an optional nested object.
func (o *object) obj(key string) (*object, bool) {
	v, ok := o.get(key)
	if !ok {
		return nil, false
	}
	return o.w.asObject(o.at(key), v)
}

// strings reads an optional list of strings; a wrong element is reported and kept
// as "" so that indices stay aligned.
func (o *object) strings(key string) ([]string, bool) {
	l, ok := o.list(key)
	if !ok {
		return nil, false
	}
	out := make([]string, len(l))
	for i, v := range l {
		s, isStr := v.(string)
		if !isStr {
			o.w.add(WrongType(o.at(key).Index(i), "a string", v))
			continue
		}
		out[i] = s
	}
	return out, true
}

// date reads an optional date (YYYY-MM-DD or RFC 3339).
func (o *object) date(key string) (time.Time, bool) {
	s, ok := o.str(key)
	if !ok {
		return time.Time{}, false
	}
	t, err := ParseDate(s)
	if err != nil {
		o.w.add(Invalid(o.at(key), s, dateDetail))
		return time.Time{}, false
	}
	return t, true
}

// finish reports every field that was not read, in key order.
func (o *object) finish() {
	var unknown []string
	for k := range o.m {
		if !o.used[k] {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	for _, k := range unknown {
		o.w.add(UnknownField(o.at(k)))
	}
}

// canonicalJSON renders a generic value as compact JSON (keys sorted).
func canonicalJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil { // generic values from parseDocument always marshal
		return nil
	}
	return b
}

// sortByDocument orders errs by the document position of their paths (a path that
// is not in the document, such as a missing required field, takes the position of
// its nearest ancestor that is). The sort is stable: problems of one field keep the
// order they were found in.
func sortByDocument(errs ErrorList, order map[Path]int) {
	if order == nil {
		return
	}
	pos := func(p Path) int {
		for {
			if n, ok := order[p]; ok {
				return n
			}
			if p == "" {
				return 0
			}
			p = parentPath(p)
		}
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return pos(a.Path) - pos(b.Path) })
}

// parentPath strips the last element of p.
func parentPath(p Path) Path {
	s := string(p)
	i := strings.LastIndexAny(s, ".[")
	if i < 0 {
		return ""
	}
	return Path(s[:i])
}
