package scenario

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
)

// Result is the outcome of one scenario.
type Result struct {
	// Name is the scenario's name (the file name when it could not be read).
	Name string
	// File is the scenario's path.
	File string
	// Passed is true when every step and expectation held.
	Passed bool
	// Failures lists every mismatch, each naming the step or expectation with the
	// wanted and got values, or why the scenario could not run.
	Failures []string
}

// Stores makes the store one scenario runs on: open opens it (and opens it again
// after a restart step, once the engine closed it); remove deletes it after the
// scenario.
type Stores func() (open func() (engine.Store, error), remove func(), err error)

// RunFile is RunFileOn without a store (a restart step fails).
func RunFile(path string) Result { return RunFileOn(path, nil) }

// RunFileOn reads, parses and runs one scenario file on a fresh engine on a fresh
// store from st (nil: none; a restart step then fails). A file that cannot be read
// or is malformed fails with the reason.
func RunFileOn(path string, st Stores) Result {
	res := Result{Name: filepath.Base(path), File: path}
	s, err := ParseFile(path)
	if err != nil {
		res.Failures = []string{"malformed: " + err.Error()}
		if name := nameOf(path); name != "" {
			res.Name = name
		}
		return res
	}
	r := s.RunOn(st)
	r.File = path
	return r
}

// nameOf tries to read the name of a malformed scenario, for the report.
func nameOf(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	j, err := toJSON(data)
	if err != nil {
		return ""
	}
	var top struct {
		Name any `json:"name"`
	}
	if json.Unmarshal(j, &top) != nil {
		return ""
	}
	s, _ := top.Name.(string)
	return s
}

// RunDir runs the scenarios at paths, in order, without a store: a file is run as it
// is; a directory is searched recursively for *.yaml, *.yml and *.json files (hidden
// entries are skipped), which run in name order. A path that cannot be read yields a
// failed Result.
func RunDir(paths ...string) []Result { return RunDirOn(nil, paths...) }

// RunDirOn is RunDir with each scenario on a fresh store from st (nil: none).
func RunDirOn(st Stores, paths ...string) []Result {
	var out []Result
	for _, p := range paths {
		files, err := Files(p)
		if err != nil {
			out = append(out, Result{Name: p, File: p, Failures: []string{"cannot read: " + err.Error()}})
			continue
		}
		for _, f := range files {
			out = append(out, RunFileOn(f, st))
		}
	}
	return out
}

// Files lists the scenario files at path: path itself when it is a file, else the
// *.yaml, *.yml and *.json files below it, recursively, in name order.
func Files(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

// Now returns the scenario's clock.
func (s *Scenario) Now() time.Time {
	if s.Bundle != nil && !s.Bundle.Now.IsZero() {
		return s.Bundle.Now
	}
	return model.DefaultBundleNow()
}

// auth is the authenticator of the steps: the engine's keys, then the runner's
// default key-<id> of each bundle user given no credentials who still has none.
func (s *Scenario) auth(e *engine.Engine) rest.Authenticator {
	keys := rest.EngineKeys(e)
	return rest.AuthenticatorFunc(func(k string) (int64, bool) {
		if id, ok := keys.Authenticate(k); ok {
			return id, true
		}
		id, ok := s.defaults[k]
		if !ok {
			return 0, false
		}
		u, ok := e.Snapshot().User(id)
		return id, ok && u.APIKeyHash == ""
	})
}

// key is the Authorization header a step's as: sends.
func (s *Scenario) key(id int64) string {
	if k, ok := s.keys[id]; ok {
		return k
	}
	return defaultKey(id)
}

// Setup builds a fresh engine on the scenario clock, loads the bundle and returns
// it with the REST handler the steps run through. Only that handler accepts the
// runner's default keys (key-<id> for a user given neither apiKey nor apiKeyHash);
// a handler built with rest.NewHandler over the engine does not.
func (s *Scenario) Setup(opts ...engine.Option) (*engine.Engine, http.Handler, error) {
	now := s.Now()
	e := engine.New(append([]engine.Option{engine.WithClock(func() time.Time { return now })}, opts...)...)
	if err := e.ApplyBundle(s.Bundle); err != nil {
		return nil, nil, err
	}
	return e, rest.NewHandler(e, s.auth(e)), nil
}

// Run runs the scenario on a fresh engine without a store (a restart step fails)
// and checks every expectation.
func (s *Scenario) Run() Result { return s.RunOn(nil) }

// RunOn runs the scenario on a fresh engine on a fresh store from st (nil: none)
// and checks every expectation; the store is removed afterwards.
func (s *Scenario) RunOn(st Stores) Result {
	res := Result{Name: s.Name, File: s.File}
	ss, err := s.start(st)
	defer ss.close()
	if err != nil {
		res.Failures = []string{"setup: " + err.Error()}
		return res
	}
	res.Failures = append(res.Failures, ss.runSteps()...)
	if ss.e != nil {
		res.Failures = append(res.Failures, s.Check(ss.e)...)
	}
	res.Passed = len(res.Failures) == 0
	return res
}

// session is one run of a scenario: its engine and the steps' handler, with what
// restart and now steps need.
type session struct {
	s      *Scenario
	e      *engine.Engine
	h      http.Handler
	clk    *clock                       // nil: the clock cannot move
	open   func() (engine.Store, error) // nil: no store
	remove func()
}

// clock is the runner's clock: now steps move it forward.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (s *Scenario) start(st Stores) (*session, error) {
	ss := &session{s: s, clk: &clock{t: s.Now()}}
	var err error
	if st == nil {
		ss.e = engine.New(engine.WithClock(ss.clk.now))
	} else {
		if ss.open, ss.remove, err = st(); err != nil {
			return ss, fmt.Errorf("creating the store: %w", err)
		}
		if ss.e, err = ss.openEngine(); err != nil {
			return ss, err
		}
	}
	if err := ss.e.ApplyBundle(s.Bundle); err != nil {
		return ss, err
	}
	ss.h = rest.NewHandler(ss.e, s.auth(ss.e))
	return ss, nil
}

func (ss *session) openEngine() (*engine.Engine, error) {
	st, err := ss.open()
	if err != nil {
		return nil, fmt.Errorf("opening the store: %w", err)
	}
	e, err := engine.Open(context.Background(), st, engine.WithClock(ss.clk.now))
	if err != nil {
		_ = st.Close() // opening failed already
		return nil, fmt.Errorf("opening the engine on its store: %w", err)
	}
	return e, nil
}

func (ss *session) close() {
	if ss.e != nil {
		_ = ss.e.Close() // the scenario is over; its store is removed next
	}
	if ss.remove != nil {
		ss.remove()
	}
}

// restart closes the engine and opens it again from its store; the state must be
// the same (tokens, which live in the handler, do not survive).
func (ss *session) restart() error {
	if ss.open == nil {
		return fmt.Errorf("a restart needs a store, and this run has none")
	}
	before, err := ss.e.Export()
	if err != nil {
		return err
	}
	if err := ss.e.Close(); err != nil {
		return fmt.Errorf("closing the engine: %w", err)
	}
	ss.e = nil
	e, err := ss.openEngine()
	if err != nil {
		return err
	}
	ss.e, ss.h = e, rest.NewHandler(e, ss.s.auth(e))
	after, err := e.Export()
	if err != nil {
		return err
	}
	if !bytes.Equal(before, after) {
		return fmt.Errorf("the engine reopened from its store exports another state than before the restart")
	}
	return nil
}

// setNow moves the clock forward to t.
func (ss *session) setNow(t time.Time) error {
	if ss.clk == nil {
		return fmt.Errorf("a now step needs the runner's clock")
	}
	ss.clk.mu.Lock()
	defer ss.clk.mu.Unlock()
	if t.Before(ss.clk.t) {
		return fmt.Errorf("the clock only moves forward: it is at %s", ss.clk.t.UTC().Format(time.RFC3339))
	}
	ss.clk.t = t
	return nil
}

// StepResponse is one step's answer.
type StepResponse struct {
	// Status, Body and Header are the HTTP answer's.
	Status int
	Body   []byte
	Header http.Header
}

// Do sends step st to h and returns the answer.
func (s *Scenario) Do(h http.Handler, st *Step) (StepResponse, error) {
	var body *bytes.Reader
	if st.Body != nil {
		body = bytes.NewReader(st.Body)
	} else {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(st.Method, "http://tollgate.test"+st.Target, body)
	if err != nil {
		return StepResponse{}, err
	}
	req.RequestURI = st.Target
	if st.ContentType != "" {
		req.Header.Set("Content-Type", st.ContentType)
	}
	if st.As != nil {
		req.Header.Set("Authorization", s.key(*st.As))
	}
	for k, v := range st.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return StepResponse{Status: rec.Code, Body: rec.Body.Bytes(), Header: rec.Header()}, nil
}

// RunSteps runs every step through h and returns the mismatches (restart and now
// steps fail: they need the runner, Run or RunOn).
func (s *Scenario) RunSteps(h http.Handler) []string { return (&session{s: s, h: h}).runSteps() }

func (ss *session) runSteps() []string {
	var out []string
	s := ss.s
	for i := range s.Steps {
		st := &s.Steps[i]
		label := fmt.Sprintf("step %d (%s)", i, st.Call)
		switch {
		case st.Restart:
			if err := ss.restart(); err != nil {
				// Without an engine the rest cannot run.
				return append(out, label+": "+err.Error())
			}
			continue
		case !st.Now.IsZero():
			if err := ss.setNow(st.Now); err != nil {
				out = append(out, label+": "+err.Error())
			}
			continue
		}
		resp, err := s.Do(ss.h, st)
		if err != nil {
			out = append(out, fmt.Sprintf("%s: cannot send: %v", label, err))
			continue
		}
		for _, f := range checkStep(st.Expect, resp) {
			out = append(out, label+": "+f)
		}
	}
	return out
}

func is2xx(status int) bool { return status >= 200 && status < 300 }

// checkStep applies the step expectation rules of docs/scenarios.md, Expectations.
func checkStep(ex *StepExpect, resp StepResponse) []string {
	got, jsonErr := decodeAny(resp.Body)
	msg, hasMsg := "", false
	if m, ok := got.(map[string]any); ok {
		msg, hasMsg = m["message"].(string)
	}
	detail := func() string {
		if hasMsg {
			return fmt.Sprintf(" (message: %q)", msg)
		}
		return ""
	}
	if ex == nil {
		if !is2xx(resp.Status) {
			return []string{fmt.Sprintf("status: want 2xx, got %d%s", resp.Status, detail())}
		}
		return nil
	}
	var out []string
	switch {
	case ex.Status != 0:
		if resp.Status != ex.Status {
			out = append(out, fmt.Sprintf("status: want %d, got %d%s", ex.Status, resp.Status, detail()))
		}
	case ex.Error != nil:
		if is2xx(resp.Status) {
			out = append(out, fmt.Sprintf("status: want an error (non-2xx), got %d", resp.Status))
		}
	default:
		if !is2xx(resp.Status) {
			out = append(out, fmt.Sprintf("status: want 2xx, got %d%s", resp.Status, detail()))
		}
	}
	if ex.Error != nil {
		switch {
		case !hasMsg:
			out = append(out, fmt.Sprintf("error: want a message containing %q, got no message in body %s", *ex.Error, clip(string(resp.Body))))
		case !strings.Contains(msg, *ex.Error):
			out = append(out, fmt.Sprintf("error: want a message containing %q, got %q", *ex.Error, msg))
		}
	}
	names := make([]string, 0, len(ex.Headers))
	for k := range ex.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if got := resp.Header.Get(k); got != ex.Headers[k] {
			out = append(out, fmt.Sprintf("headers.%s: want %q, got %q", k, ex.Headers[k], got))
		}
	}
	if ex.HasBody {
		if jsonErr != nil {
			out = append(out, fmt.Sprintf("body: want %s, got a body that is not JSON: %s", show(ex.Body), clip(string(resp.Body))))
		} else {
			out = append(out, subset("body", ex.Body, got)...)
		}
	}
	return out
}

// Check checks the scenario's final expectations against e.
func (s *Scenario) Check(e *engine.Engine) []string {
	ex := s.Expect
	if ex == nil {
		return nil
	}
	var out []string
	ids := make([]int64, 0, len(ex.Applies))
	for id := range ex.Applies {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		want := uniqSorted(ex.Applies[id])
		ps, err := e.AppliedPolicies(id)
		if err != nil {
			out = append(out, fmt.Sprintf("expect.applies[%d]: want %s, got error: %v", id, showKeys(want), err))
			continue
		}
		got := make([]string, 0, len(ps))
		for _, p := range ps {
			got = append(got, p.Key)
		}
		got = uniqSorted(got)
		if !slices.Equal(want, got) {
			out = append(out, fmt.Sprintf("expect.applies[%d]: want %s, got %s", id, showKeys(want), showKeys(got)))
		}
	}
	for i, de := range ex.Decisions {
		d := e.Decide(de.User, de.DataSource)
		label := fmt.Sprintf("expect.decisions[%d] (user %d, dataSource %d)", i, de.User, de.DataSource)
		var diffs []string
		if got := d.Grant.String(); got != de.Grant {
			diffs = append(diffs, fmt.Sprintf("grant: want %s, got %s", de.Grant, got))
		}
		if de.Read != "" && d.Read.String() != de.Read {
			diffs = append(diffs, fmt.Sprintf("read: want %s, got %s", de.Read, d.Read))
		}
		if de.Write != "" && d.Write.String() != de.Write {
			diffs = append(diffs, fmt.Sprintf("write: want %s, got %s", de.Write, d.Write))
		}
		if de.Discoverable != nil && d.Discoverable != *de.Discoverable {
			diffs = append(diffs, fmt.Sprintf("discoverable: want %t, got %t", *de.Discoverable, d.Discoverable))
		}
		if len(diffs) > 0 {
			out = append(out, fmt.Sprintf("%s: %s [reasons: %s]", label, strings.Join(diffs, "; "), FormatReasons(d.Reasons())))
		}
	}
	if ex.HasRecords {
		out = append(out, checkRecords(ex.Records, e.Records())...)
	}
	return out
}

// FormatReasons renders decision reasons on one line.
func FormatReasons(rs []engine.Reason) string {
	if len(rs) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, FormatReason(r))
	}
	return strings.Join(parts, "; ")
}

// FormatReason renders one decision reason.
func FormatReason(r engine.Reason) string {
	var b strings.Builder
	switch r.Kind {
	case engine.ReasonPolicy:
		fmt.Fprintf(&b, "policy %d %q", r.PolicyID, r.PolicyKey)
	case engine.ReasonRecord:
		fmt.Fprintf(&b, "record %d", r.RecordID)
	case engine.ReasonOwner:
		b.WriteString("owner")
	case engine.ReasonIndeterminate:
		b.WriteString("indeterminate")
	case engine.ReasonNoPolicy:
		b.WriteString("no policy")
	case engine.ReasonUnknown:
		b.WriteString("unknown")
	default:
		fmt.Fprintf(&b, "reason(%d)", r.Kind)
	}
	if r.Level != "" {
		fmt.Fprintf(&b, " at %s", r.Level)
	}
	if r.Detail != "" {
		fmt.Fprintf(&b, ": %s", r.Detail)
	}
	if r.Err != nil {
		fmt.Fprintf(&b, " (%v)", r.Err)
	}
	return b.String()
}

// checkRecords matches every expected record to a distinct actual record (maximum
// bipartite matching), and requires the same count.
func checkRecords(want []any, recs []*model.AccessRecord) []string {
	got := make([]any, 0, len(recs))
	ids := make([]string, 0, len(recs))
	for _, r := range recs {
		data, err := json.Marshal(model.AccessRecordResponse(r))
		if err != nil {
			return []string{fmt.Sprintf("expect.records: cannot encode record %d: %v", r.ID, err)}
		}
		v, err := decodeAny(data)
		if err != nil {
			return []string{fmt.Sprintf("expect.records: cannot decode record %d: %v", r.ID, err)}
		}
		got = append(got, v)
		ids = append(ids, fmt.Sprint(r.ID))
	}
	var out []string
	if len(want) != len(got) {
		out = append(out, fmt.Sprintf("expect.records: want %d records, got %d (ids %s)", len(want), len(got), "["+strings.Join(ids, ", ")+"]"))
	}
	ok := make([][]bool, len(want))
	for i := range want {
		ok[i] = make([]bool, len(got))
		for j := range got {
			ok[i][j] = len(subset("", want[i], got[j])) == 0
		}
	}
	match := bipartite(ok, len(got))
	for i, j := range match {
		if j >= 0 {
			continue
		}
		// Explain with the closest record (fewest mismatches).
		best, bestDiffs := -1, []string(nil)
		for k := range got {
			d := subset("", want[i], got[k])
			if best < 0 || len(d) < len(bestDiffs) {
				best, bestDiffs = k, d
			}
		}
		switch {
		case best < 0:
			out = append(out, fmt.Sprintf("expect.records[%d]: want %s, got no records", i, show(want[i])))
		case len(bestDiffs) == 0:
			out = append(out, fmt.Sprintf("expect.records[%d]: want %s, got no distinct record left (it matches record %s, which another expected entry takes)", i, show(want[i]), ids[best]))
		default:
			out = append(out, fmt.Sprintf("expect.records[%d]: want %s, got no matching record (closest record %s: %s)", i, show(want[i]), ids[best], strings.Join(bestDiffs, "; ")))
		}
	}
	return out
}

// bipartite returns, for each left vertex, the right vertex it is matched to in a
// maximum matching (-1 when unmatched), by augmenting paths (Kuhn's algorithm).
func bipartite(ok [][]bool, nRight int) []int {
	matchR := make([]int, nRight)
	for j := range matchR {
		matchR[j] = -1
	}
	var try func(i int, seen []bool) bool
	try = func(i int, seen []bool) bool {
		for j := 0; j < nRight; j++ {
			if !ok[i][j] || seen[j] {
				continue
			}
			seen[j] = true
			if matchR[j] < 0 || try(matchR[j], seen) {
				matchR[j] = i
				return true
			}
		}
		return false
	}
	for i := range ok {
		try(i, make([]bool, nRight))
	}
	matchL := make([]int, len(ok))
	for i := range matchL {
		matchL[i] = -1
	}
	for j, i := range matchR {
		if i >= 0 {
			matchL[i] = j
		}
	}
	return matchL
}

func uniqSorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

func showKeys(ks []string) string {
	data, _ := json.Marshal(ks)
	return string(data)
}
