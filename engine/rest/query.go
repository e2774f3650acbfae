package rest

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/model"
)

// params is the validated query string of one call (see docs/api.md, Query
// parameters): the endpoint's known parameters, each given at most once. Unknown
// parameters are ignored, as the vendor does; a parameter that equals a known one
// ignoring letter case is a 400 naming the right spelling, and so is dryRun (in any
// case) on a write that takes none: a misspelt or misplaced dry run must not write. The typed getters record every bad value; err reports them all.
type params struct {
	v    map[string]string
	errs model.ErrorList
}

// query reads r's query string against the endpoint's known parameter names.
func query(r *http.Request, known ...string) (*params, error) {
	values, err := urlQuery(r)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	q := &params{v: map[string]string{}}
	for _, k := range keys {
		p := model.NewPath("query").Child(k)
		if !slices.Contains(known, k) {
			if r.Method != http.MethodGet && strings.EqualFold(k, "dryRun") && !slices.Contains(known, "dryRun") {
				// A dry run asked of an endpoint that has none must not write.
				q.errs = append(q.errs, model.Invalid(p, nil, "is not supported here: only POST /api/v2/policy takes a dry run"))
				continue
			}
			for _, want := range known {
				if strings.EqualFold(k, want) {
					q.errs = append(q.errs, model.Invalid(p, nil, fmt.Sprintf("is not a parameter of this endpoint; the parameter is spelt %s", want)))
				}
			}
			continue
		}
		if vs := values[k]; len(vs) != 1 {
			q.errs = append(q.errs, model.Invalid(p, nil, fmt.Sprintf("is given %d times; give it once", len(vs))))
			continue
		}
		q.v[k] = values[k][0]
	}
	if len(q.errs) > 0 {
		return nil, q.errs
	}
	return q, nil
}

// boolean reads a boolean parameter: true or false in any letter case (default
// false).
func (q *params) boolean(name string) bool {
	s, ok := q.v[name]
	if !ok {
		return false
	}
	switch strings.ToLower(s) {
	case "true":
		return true
	case "false":
		return false
	}
	q.errs = append(q.errs, model.NotSupported(model.NewPath("query").Child(name), s, []string{"true", "false"}))
	return false
}

// optBoolean reads a boolean parameter that filters only when given.
func (q *params) optBoolean(name string) (value, given bool) {
	if _, ok := q.v[name]; !ok {
		return false, false
	}
	return q.boolean(name), true
}

// list reads a comma-separated list whose elements are each one of allowed.
func (q *params) list(name string, allowed []string) []string {
	s, ok := q.v[name]
	if !ok {
		return nil
	}
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if !slices.Contains(allowed, e) {
			q.errs = append(q.errs, model.NotSupported(model.NewPath("query").Child(name), e, allowed))
			continue
		}
		out = append(out, e)
	}
	return out
}

// integer reads a non-negative integer parameter; ok is false when it is absent
// or bad.
func (q *params) integer(name string) (int, bool) {
	s, ok := q.v[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		q.errs = append(q.errs, model.Invalid(model.NewPath("query").Child(name), s, "must be a non-negative integer"))
		return 0, false
	}
	return n, true
}

// id reads a positive integer id parameter; ok is false when it is absent or bad.
func (q *params) id(name string) (int64, bool) {
	s, ok := q.v[name]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		q.errs = append(q.errs, model.Invalid(model.NewPath("query").Child(name), s, "must be a positive integer"))
		return 0, false
	}
	return n, true
}

// enum reads a parameter with a fixed set of values (matched exactly); def when
// absent.
func (q *params) enum(name string, allowed []string, def string) string {
	s, ok := q.v[name]
	if !ok {
		return def
	}
	if !slices.Contains(allowed, s) {
		q.errs = append(q.errs, model.NotSupported(model.NewPath("query").Child(name), s, allowed))
		return def
	}
	return s
}

// str reads a free-text parameter.
func (q *params) str(name string) (string, bool) {
	s, ok := q.v[name]
	return s, ok
}

// err reports every bad value the getters met.
func (q *params) err() error { return q.errs.Err() }

// page applies offset and size to n sorted items: the half-open range [lo, hi).
// No size means every item from offset on.
func (q *params) page(n int) (lo, hi int) {
	off, _ := q.integer("offset")
	lo, hi = min(off, n), n
	if size, ok := q.integer("size"); ok {
		hi = min(lo+size, n)
	}
	return lo, hi
}
