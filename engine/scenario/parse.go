package scenario

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/model"
)

// Scenario is one parsed scenario file: a bundle, the steps and the expectations.
type Scenario struct {
	// Name is the scenario's name.
	Name string
	// Description is free text.
	Description string
	// File is the path it was read from ("" when parsed from bytes).
	File string
	// Bundle is the setup: everything but steps and expect.
	Bundle *model.Bundle
	// Steps are the API calls, in order.
	Steps []Step
	// Expect is what must hold after the last step; nil when absent.
	Expect *Expect

	// keys is the Authorization header each user's as: sends: the user's apiKey,
	// or key-<id> for a user given neither apiKey nor apiKeyHash (the runner's
	// default, accepted only by the steps' handler).
	keys map[int64]string
	// defaults are the key-<id> keys of users without credentials.
	defaults map[string]int64
}

// Step is one API call of a scenario.
type Step struct {
	// As is the caller's user id; nil sends no Authorization header.
	As *int64
	// Call is the step's call line as written, e.g. "POST /api/v2/policy?dryRun=true".
	Call string
	// Method and Target (path and query) split Call.
	Method, Target string
	// Body is the request body (nil: none).
	Body []byte
	// ContentType is the Content-Type header ("" sends none).
	ContentType string
	// Headers are raw request headers, set after the others: an Authorization
	// here replaces the one As gives.
	Headers map[string]string
	// Expect is the step's expectation; nil means any 2xx.
	Expect *StepExpect
	// Restart, on a step of its own (restart: true), closes the engine and opens
	// it again from its store; no call is made.
	Restart bool
	// Now, when not zero, is a step of its own (now: TIME) that moves the clock
	// forward to Now; no call is made.
	Now time.Time
}

// StepExpect is what one step's answer must be.
type StepExpect struct {
	// Status is the exact status; 0 means not given.
	Status int
	// Body, when HasBody, must be a subset of the response body.
	Body    any
	HasBody bool
	// Error, when non-nil, must be a substring of the error body's message.
	Error *string
	// Headers are response headers that must have exactly these values.
	Headers map[string]string
}

// Expect is what must hold after the last step.
type Expect struct {
	// Applies maps a data source id to the exact set of applied policy keys.
	Applies map[int64][]string
	// Decisions are expected decisions.
	Decisions []DecisionExpect
	// Records, when HasRecords, are ALL access records (subset match, any order).
	Records    []any
	HasRecords bool
}

// DecisionExpect is one expected decision.
type DecisionExpect struct {
	// User and DataSource name the decision.
	User, DataSource int64
	// Grant is NONE, READ or WRITE.
	Grant string
	// Read and Write are expected states ("" means not checked).
	Read, Write string
	// Discoverable is checked when non-nil.
	Discoverable *bool
}

// Key sets of the document (docs/scenarios.md, Scenarios).
var (
	topKeys        = []string{"name", "description", "now", "groups", "users", "dataSources", "policies", "grants", "state", "steps", "expect"}
	groupKeys      = []string{"id", "name", "attributes"}
	userKeys       = []string{"id", "name", "apiKey", "apiKeyHash", "permissions", "groups", "attributes"}
	dataSourceKeys = []string{"id", "name", "owners", "tags", "columns", "domains", "server", "database", "schema", "table", "createdAt", "selectedPolicies", "disabledPolicies"}
	columnKeys     = []string{"name", "tags"}
	domainKeys     = []string{"id", "name"}
	disabledKeys   = []string{"policyKey", "reason"}
	grantKeys      = []string{"dataSourceId", "profileId", "groupId", "state", "accessGrant", "expiration"}
	stepKeys       = []string{"as", "call", "body", "bodyText", "contentType", "headers", "expect"}
	restartKeys    = []string{"restart"}
	nowKeys        = []string{"now"}
	stepExpectKeys = []string{"status", "body", "error", "headers"}
	expectKeys     = []string{"applies", "decisions", "records"}
	decisionKeys   = []string{"user", "dataSource", "grant", "read", "write", "discoverable"}
	grants         = []string{"NONE", "READ", "WRITE"}
	states         = []string{"owner", "subscribed", "pending", "eligible", "requestable", "none"}
)

// bundleLimits are generous: a bundle is a trusted local file, not a request.
func bundleLimits(n int) model.Limits {
	l := model.DefaultLimits()
	l.MaxPayloadBytes = max(l.MaxPayloadBytes, 2*n+1024)
	l.MaxListLen = max(l.MaxListLen, 1<<20)
	l.MaxStringLen = max(l.MaxStringLen, 1<<20)
	return l
}

// ParseFile reads and parses a scenario file.
func ParseFile(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := Parse(data)
	if err != nil {
		return nil, err
	}
	s.File = path
	return s, nil
}

// toJSON converts a YAML or JSON document to JSON. A document starting with { or [
// is JSON; anything else is one YAML document, which may expand (through aliases)
// to at most model.BundleBudget of its size (see docs/security.md, Limits).
func toJSON(data []byte) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		var v any
		if err := json.Unmarshal(trimmed, &v); err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		return trimmed, nil
	}
	return model.YAMLToJSON(data, model.BundleBudget(len(data))) // a duplicate key is an error
}

// decodeAny decodes JSON keeping numbers as json.Number.
func decodeAny(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// Parse parses a scenario (YAML or JSON). It is strict: a key the scenario format
// does not define is an error; policy payloads, step bodies and the state section
// are passed through untouched. The error is a model.ErrorList naming every problem.
func Parse(data []byte) (*Scenario, error) {
	j, err := toJSON(data)
	if err != nil {
		return nil, err
	}
	doc, err := decodeAny(j)
	if err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	top, ok := doc.(map[string]any)
	if !ok {
		return nil, model.ErrorList{model.WrongType(model.Path(""), "a mapping", doc)}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(j, &raw); err != nil {
		return nil, err
	}
	p := &parser{}
	p.keys(model.Path(""), top, topKeys)
	name, hasName := top["name"].(string)
	if !hasName || strings.TrimSpace(name) == "" {
		p.add(model.Required(model.NewPath("name"), "is required (a non-empty string)"))
	}
	if v, ok := top["description"]; ok && v != nil {
		if _, ok := v.(string); !ok {
			p.add(model.WrongType(model.NewPath("description"), "a string", v))
		}
	}
	p.listOf(top, "groups", groupKeys, nil)
	p.listOf(top, "users", userKeys, nil)
	p.listOf(top, "dataSources", dataSourceKeys, func(path model.Path, m map[string]any) {
		p.subList(path, m, "columns", columnKeys)
		p.subList(path, m, "domains", domainKeys)
		p.subList(path, m, "disabledPolicies", disabledKeys)
	})
	p.listOf(top, "grants", grantKeys, nil)
	if v, ok := top["policies"]; ok && v != nil {
		if _, ok := v.([]any); !ok {
			p.add(model.WrongType(model.NewPath("policies"), "a list", v))
		}
	}

	s := &Scenario{Name: name}
	s.Description, _ = top["description"].(string)
	if v, ok := top["steps"]; ok && v != nil {
		list, ok := v.([]any)
		if !ok {
			p.add(model.WrongType(model.NewPath("steps"), "a list", v))
		}
		for i, item := range list {
			if st := p.step(model.NewPath("steps").Index(i), item); st != nil {
				s.Steps = append(s.Steps, *st)
			}
		}
	}
	if v, ok := top["expect"]; ok && v != nil {
		s.Expect = p.expect(model.NewPath("expect"), v)
	}
	if len(p.errs) > 0 {
		return nil, p.errs
	}

	// The rest is the bundle.
	delete(raw, "steps")
	delete(raw, "expect")
	bj, err := json.Marshal(raw)
	if err != nil {
		return nil, err
	}
	b, err := model.DecodeBundle(bj, bundleLimits(len(bj)))
	if err != nil {
		return nil, err
	}
	if b.Name == "" {
		b.Name = s.Name
	}
	if b.Now.IsZero() {
		b.Now = model.DefaultBundleNow()
	}
	s.Bundle = b
	s.stepKeys(top)
	if err := s.checkKeys(); err != nil {
		return nil, err
	}
	return s, nil
}

// stepKeys records the key each user's as: sends: the plain apiKey of the
// document (the bundle keeps only its hash), or the default key-<id>.
func (s *Scenario) stepKeys(top map[string]any) {
	s.keys, s.defaults = map[int64]string{}, map[string]int64{}
	raw, _ := top["users"].([]any)
	for i := range s.Bundle.Users {
		u := &s.Bundle.Users[i]
		var m map[string]any
		if i < len(raw) {
			m, _ = raw[i].(map[string]any)
		}
		if k, ok := m["apiKey"].(string); ok {
			s.keys[u.ID] = k
			continue
		}
		if u.APIKeyHash == "" {
			k := defaultKey(u.ID)
			s.keys[u.ID] = k
			if _, dup := s.defaults[k]; !dup {
				s.defaults[k] = u.ID
			}
		}
	}
}

// checkKeys rejects API keys that would authenticate two users.
func (s *Scenario) checkKeys() error {
	seen := map[string]int64{}
	var errs model.ErrorList
	for i, u := range s.Bundle.Users {
		k, ok := s.keys[u.ID]
		if !ok {
			continue
		}
		if other, dup := seen[k]; dup && other != u.ID {
			errs = append(errs, model.Invalid(model.NewPath("users").Index(i).Child("apiKey"), nil,
				fmt.Sprintf("authenticates users %d and %d", other, u.ID)))
		}
		seen[k] = u.ID
	}
	return errs.Err()
}

// defaultKey is the key a scenario step's as: sends for a user without
// credentials, and for an id that is no user (authenticating nobody).
func defaultKey(id int64) string { return fmt.Sprintf("key-%d", id) }

type parser struct{ errs model.ErrorList }

func (p *parser) add(e *model.FieldError) { p.errs = append(p.errs, e) }

// keys reports every key of m not in allowed, in sorted order.
func (p *parser) keys(path model.Path, m map[string]any, allowed []string) {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		if !slices.Contains(allowed, k) {
			p.add(&model.FieldError{Path: path.Child(k), Code: model.CodeUnknownField,
				Detail: "unknown key (allowed: " + strings.Join(allowed, ", ") + ")"})
		}
	}
}

// listOf checks that top[key] is a list of mappings with the allowed keys.
func (p *parser) listOf(top map[string]any, key string, allowed []string, each func(model.Path, map[string]any)) {
	v, ok := top[key]
	if !ok || v == nil {
		return
	}
	path := model.NewPath(key)
	list, ok := v.([]any)
	if !ok {
		p.add(model.WrongType(path, "a list", v))
		return
	}
	for i, item := range list {
		ip := path.Index(i)
		m, ok := item.(map[string]any)
		if !ok {
			p.add(model.WrongType(ip, "a mapping", item))
			continue
		}
		p.keys(ip, m, allowed)
		if each != nil {
			each(ip, m)
		}
	}
}

func (p *parser) subList(path model.Path, m map[string]any, key string, allowed []string) {
	v, ok := m[key]
	if !ok || v == nil {
		return
	}
	list, ok := v.([]any)
	if !ok {
		return // the bundle decoder reports the type
	}
	for i, item := range list {
		if im, ok := item.(map[string]any); ok {
			p.keys(path.Child(key).Index(i), im, allowed)
		}
	}
}

func (p *parser) int64(path model.Path, v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		p.add(model.WrongType(path, "an integer", v))
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		p.add(model.Invalid(path, n.String(), "is not an integer"))
		return 0, false
	}
	return i, true
}

func (p *parser) str(path model.Path, v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		p.add(model.WrongType(path, "a string", v))
	}
	return s, ok
}

func (p *parser) step(path model.Path, v any) *Step {
	m, ok := v.(map[string]any)
	if !ok {
		p.add(model.WrongType(path, "a mapping", v))
		return nil
	}
	if r, ok := m["restart"]; ok {
		p.keys(path, m, restartKeys)
		if r != true {
			p.add(model.Invalid(path.Child("restart"), r, "must be true"))
		}
		return &Step{Call: "restart", Restart: true}
	}
	if n, ok := m["now"]; ok {
		p.keys(path, m, nowKeys)
		st := &Step{Call: "now"}
		if text, ok := p.str(path.Child("now"), n); ok {
			t, err := model.ParseDate(text)
			if err != nil {
				p.add(model.Invalid(path.Child("now"), text, "is not an RFC 3339 time"))
			}
			st.Now = t
		}
		return st
	}
	p.keys(path, m, stepKeys)
	st := &Step{}
	if a, ok := m["as"]; ok && a != nil {
		if id, ok := p.int64(path.Child("as"), a); ok {
			st.As = &id
		}
	}
	call, ok := m["call"]
	if !ok {
		p.add(model.Required(path.Child("call"), `is required ("METHOD /path")`))
	} else if c, ok := p.str(path.Child("call"), call); ok {
		st.Call = strings.TrimSpace(c)
		method, target, found := strings.Cut(st.Call, " ")
		method, target = strings.ToUpper(method), strings.TrimSpace(target)
		switch {
		case !found || method == "" || target == "":
			p.add(model.Invalid(path.Child("call"), c, `is not "METHOD /path"`))
		case !validMethod(method):
			p.add(model.Invalid(path.Child("call"), c, "does not start with an HTTP method"))
		case !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \t#"):
			p.add(model.Invalid(path.Child("call"), c, "has no path starting with / (and no spaces)"))
		default:
			if _, err := url.ParseRequestURI(target); err != nil {
				p.add(model.Invalid(path.Child("call"), c, "has a malformed path: "+err.Error()))
			}
			st.Method, st.Target = method, target
		}
	}
	body, hasBody := m["body"]
	text, hasText := m["bodyText"]
	switch {
	case hasBody && hasText:
		p.add(model.Forbidden(path.Child("bodyText"), "give body or bodyText, not both"))
	case hasBody:
		data, err := json.Marshal(body)
		if err != nil {
			p.add(model.Invalid(path.Child("body"), nil, err.Error()))
		}
		st.Body = data
	case hasText:
		if t, ok := p.str(path.Child("bodyText"), text); ok {
			st.Body = []byte(t)
		}
	}
	if ct, ok := m["contentType"]; ok {
		if c, ok := p.str(path.Child("contentType"), ct); ok {
			st.ContentType = c
		}
	} else if st.Body != nil {
		st.ContentType = "application/json"
	}
	if hv, ok := m["headers"]; ok {
		st.Headers = p.headers(path.Child("headers"), hv)
	}
	if e, ok := m["expect"]; ok && e != nil {
		st.Expect = p.stepExpect(path.Child("expect"), e)
	}
	return st
}

// headers reads a mapping of header names to values (strings, or numbers and
// booleans taken as written).
func (p *parser) headers(path model.Path, v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok {
		p.add(model.WrongType(path, "a mapping of header names to values", v))
		return nil
	}
	out := make(map[string]string, len(m))
	for k, hv := range m {
		switch x := hv.(type) {
		case string:
			out[k] = x
		case json.Number:
			out[k] = x.String()
		case bool:
			out[k] = fmt.Sprint(x)
		default:
			p.add(model.WrongType(path.Key(k), "a string", hv))
		}
	}
	return out
}

func validMethod(m string) bool {
	for _, r := range m {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return m != "" && m != http.MethodConnect
}

func (p *parser) stepExpect(path model.Path, v any) *StepExpect {
	m, ok := v.(map[string]any)
	if !ok {
		p.add(model.WrongType(path, "a mapping", v))
		return nil
	}
	p.keys(path, m, stepExpectKeys)
	se := &StepExpect{}
	if s, ok := m["status"]; ok {
		if n, ok := p.int64(path.Child("status"), s); ok {
			if n < 100 || n > 599 {
				p.add(model.Invalid(path.Child("status"), n, "is not an HTTP status (100-599)"))
			} else {
				se.Status = int(n)
			}
		}
	}
	if b, ok := m["body"]; ok {
		se.Body, se.HasBody = b, true
	}
	if e, ok := m["error"]; ok {
		if s, ok := p.str(path.Child("error"), e); ok {
			se.Error = &s
		}
	}
	if hv, ok := m["headers"]; ok {
		se.Headers = p.headers(path.Child("headers"), hv)
	}
	return se
}

func (p *parser) expect(path model.Path, v any) *Expect {
	m, ok := v.(map[string]any)
	if !ok {
		p.add(model.WrongType(path, "a mapping", v))
		return nil
	}
	p.keys(path, m, expectKeys)
	ex := &Expect{}
	if a, ok := m["applies"]; ok && a != nil {
		am, ok := a.(map[string]any)
		if !ok {
			p.add(model.WrongType(path.Child("applies"), "a mapping of data source id to policy keys", a))
		}
		ex.Applies = make(map[int64][]string, len(am))
		for k, keys := range am {
			kp := path.Child("applies").Key(k)
			id, err := json.Number(k).Int64()
			if err != nil {
				p.add(model.Invalid(kp, k, "is not a data source id (an integer)"))
				continue
			}
			ks := []string{}
			if keys != nil {
				list, ok := keys.([]any)
				if !ok {
					p.add(model.WrongType(kp, "a list of policy keys", keys))
					continue
				}
				for i, item := range list {
					if s, ok := p.str(kp.Index(i), item); ok {
						ks = append(ks, s)
					}
				}
			}
			ex.Applies[id] = ks
		}
	}
	if d, ok := m["decisions"]; ok && d != nil {
		list, ok := d.([]any)
		if !ok {
			p.add(model.WrongType(path.Child("decisions"), "a list", d))
		}
		for i, item := range list {
			if de := p.decision(path.Child("decisions").Index(i), item); de != nil {
				ex.Decisions = append(ex.Decisions, *de)
			}
		}
	}
	if r, ok := m["records"]; ok {
		ex.HasRecords = true
		if r != nil {
			list, ok := r.([]any)
			if !ok {
				p.add(model.WrongType(path.Child("records"), "a list", r))
			}
			for i, item := range list {
				if _, ok := item.(map[string]any); !ok {
					p.add(model.WrongType(path.Child("records").Index(i), "a mapping", item))
				}
			}
			ex.Records = list
		}
	}
	return ex
}

func (p *parser) decision(path model.Path, v any) *DecisionExpect {
	m, ok := v.(map[string]any)
	if !ok {
		p.add(model.WrongType(path, "a mapping", v))
		return nil
	}
	p.keys(path, m, decisionKeys)
	de := &DecisionExpect{}
	for _, k := range []string{"user", "dataSource", "grant"} {
		if _, ok := m[k]; !ok {
			p.add(model.Required(path.Child(k), ""))
		}
	}
	if u, ok := m["user"]; ok {
		de.User, _ = p.int64(path.Child("user"), u)
	}
	if d, ok := m["dataSource"]; ok {
		de.DataSource, _ = p.int64(path.Child("dataSource"), d)
	}
	enum := func(key string, valid []string) string {
		v, ok := m[key]
		if !ok {
			return ""
		}
		s, ok := p.str(path.Child(key), v)
		if ok && !slices.Contains(valid, s) {
			p.add(model.NotSupported(path.Child(key), s, valid))
			return ""
		}
		return s
	}
	de.Grant = enum("grant", grants)
	de.Read = enum("read", states)
	de.Write = enum("write", states)
	if d, ok := m["discoverable"]; ok {
		b, ok := d.(bool)
		if !ok {
			p.add(model.WrongType(path.Child("discoverable"), "a boolean", d))
		} else {
			de.Discoverable = &b
		}
	}
	return de
}
