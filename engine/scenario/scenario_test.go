package scenario

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/memory"
)

// memoryStores runs each scenario on a fresh in-process store (restart steps work).
func memoryStores() (func() (engine.Store, error), func(), error) {
	st := memory.New()
	return func() (engine.Store, error) { return st.Reopen(), nil }, func() {}, nil
}

// TestScenarios runs every conformance scenario under testdata/scenarios.
func TestScenarios(t *testing.T) {
	t.Parallel()
	files, err := Files(filepath.Join("..", "..", "testdata", "scenarios"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			t.Parallel()
			r := RunFileOn(f, memoryStores)
			assert.True(t, r.Passed, "%s (%s):\n  %s", r.Name, f, strings.Join(r.Failures, "\n  "))
		})
	}
}

// base is a small valid scenario the runner tests extend.
const base = `
name: runner test
users:
  - {id: 1, name: Gov, permissions: [GOVERNANCE]}
  - {id: 2, name: Ann, attributes: {has: [write]}}
  - {id: 3, name: Bob, apiKey: bobs-key}
dataSources:
  - {id: 1, name: one, owners: [1], tags: [Open]}
  - {id: 2, name: two}
policies:
  - name: open
    policyKey: open
    type: subscription
    actions: {type: anyone, automaticSubscription: true}
    circumstances: [{type: tags, tag: Open}]
`

func runText(t *testing.T, text string) Result {
	t.Helper()
	s, err := Parse([]byte(text))
	if err != nil {
		return Result{Name: "?", Failures: []string{"malformed: " + err.Error()}}
	}
	return s.Run()
}

func TestRunnerPasses(t *testing.T) {
	t.Parallel()
	r := runText(t, base+`
steps:
  - as: 2
    call: POST /dataSource/1/access
    body: {}
    expect: {status: 200, body: {state: subscribed, modelId: "1", profile: 2.0, approvals: []}}
  - as: 3
    call: get /policy/global/1
    expect: {body: {policyKey: open, actions: [{subscriptionType: automatic}]}}
  - call: GET /policy/global/1
    expect: {status: 401, error: "Authorization"}
  - as: 99
    call: GET /policy/global/1
    expect: {error: "API key"}
  - as: 1
    call: POST /api/v2/policy
    bodyText: |
      name: w
      policyKey: w
      type: subscription
      actions: {type: entitlements, accessGrant: WRITE, automaticSubscription: true, entitlements: {operator: all, attributes: [{name: has, value: write}]}}
    contentType: application/yaml
expect:
  applies:
    1: [w, open]
    2: [w]
  decisions:
    - {user: 2, dataSource: 1, grant: WRITE, read: subscribed, write: subscribed, discoverable: true}
    - {user: 3, dataSource: 2, grant: NONE, read: none, write: none, discoverable: false}
  records:
    - {id: 1, state: subscribed, profile: 2}
`)
	assert.True(t, r.Passed, strings.Join(r.Failures, "\n"))
	assert.Equal(t, "runner test", r.Name)
}

func TestRunnerFailures(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		text string
		want []string // each must be a substring of some failure
		n    int      // exact number of failures (0: not checked)
	}{
		{name: "wrong grant", text: base + `
expect:
  decisions:
    - {user: 3, dataSource: 1, grant: WRITE, read: subscribed}
`, want: []string{"expect.decisions[0] (user 3, dataSource 1): grant: want WRITE, got READ", "reasons:"}, n: 1},
		{name: "wrong state", text: base + `
expect:
  decisions:
    - {user: 3, dataSource: 2, grant: NONE, read: eligible, discoverable: true}
`, want: []string{"read: want eligible, got none", "discoverable: want true, got false"}, n: 1},
		{name: "wrong header", text: base + `
steps:
  - as: 3
    call: GET /policy/global/1
    headers: {Authorization: "Bearer bobs-key"}
    expect: {headers: {Content-Type: text/plain, X-Absent: ""}}
`, want: []string{`step 0 (GET /policy/global/1): headers.Content-Type: want "text/plain", got "application/json"`}, n: 1},
		{name: "headers replace the Authorization of as", text: base + `
steps:
  - as: 3
    call: GET /policy/global/1
    headers: {Authorization: nope}
`, want: []string{"step 0 (GET /policy/global/1): status: want 2xx, got 401"}, n: 1},
		{name: "missing key in body", text: base + `
steps:
  - as: 3
    call: GET /policy/global/1
    expect: {body: {policyKey: open, colour: blue}}
`, want: []string{`step 0 (GET /policy/global/1): body.colour: want "blue", got no such key`}, n: 1},
		{name: "wrong value deep in body", text: base + `
steps:
  - as: 3
    call: GET /policy/global/1
    expect: {body: {actions: [{subscriptionType: manual}]}}
`, want: []string{`body.actions[0].subscriptionType: want "manual", got "automatic"`}, n: 1},
		{name: "list length", text: base + `
steps:
  - as: 3
    call: GET /policy/global/1
    expect: {body: {actions: [{}, {}]}}
`, want: []string{"body.actions: want 2 elements"}, n: 1},
		{name: "status", text: base + `
steps:
  - as: 3
    call: POST /api/v2/policy
    body: {name: x}
    expect: {status: 200}
`, want: []string{"step 0 (POST /api/v2/policy): status: want 200, got 403", "message:"}, n: 1},
		{name: "no expect needs 2xx", text: base + `
steps:
  - call: GET /policy/global/1
`, want: []string{"step 0 (GET /policy/global/1): status: want 2xx, got 401"}, n: 1},
		{name: "error needs non-2xx", text: base + `
steps:
  - as: 3
    call: GET /policy/global/1
    expect: {error: nothing}
`, want: []string{"status: want an error (non-2xx), got 200", `error: want a message containing "nothing"`}, n: 2},
		{name: "error text", text: base + `
steps:
  - as: 3
    call: GET /policy/global/7
    expect: {error: "no such thing at all"}
`, want: []string{`error: want a message containing "no such thing at all", got "`}, n: 1},
		{name: "applies", text: base + `
expect:
  applies:
    1: []
    2: [open]
`, want: []string{`expect.applies[1]: want [], got ["open"]`, `expect.applies[2]: want ["open"], got []`}, n: 2},
		{name: "record count and match", text: base + `
steps:
  - {as: 2, call: POST /dataSource/1/access, body: {}}
expect:
  records:
    - {id: 1, state: pending}
    - {id: 2}
`, want: []string{"expect.records: want 2 records, got 1", `expect.records[0]: want {"id":1,"state":"pending"}, got no matching record (closest record 1: state: want "pending", got "subscribed")`}},
		{name: "records none expected", text: base + `
steps:
  - {as: 2, call: POST /dataSource/1/access, body: {}}
expect:
  records: []
`, want: []string{"expect.records: want 0 records, got 1"}, n: 1},
		{name: "setup failure", text: `
name: bad setup
users: [{id: 1, name: A}]
policies:
  - {name: x, type: subscription, actions: {type: anyone}}
`, want: []string{"setup: policies[0]", "policyKey"}, n: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runText(t, tc.text)
			assert.False(t, r.Passed)
			all := strings.Join(r.Failures, "\n")
			for _, w := range tc.want {
				assert.Contains(t, all, w)
			}
			if tc.n > 0 {
				assert.Len(t, r.Failures, tc.n, all)
			}
		})
	}
}

// A greedy matcher would give the first expected entry record 1 and then find
// nothing for the second; the maximum matching pairs them the other way.
func TestRecordsBipartite(t *testing.T) {
	t.Parallel()
	r := runText(t, base+`
steps:
  - {as: 1, call: POST /dataSource/2/access, body: {profileId: 2, state: subscribed, accessGrant: WRITE}}
  - {as: 1, call: POST /dataSource/2/access, body: {profileId: 3, state: subscribed}}
expect:
  records:
    - {state: subscribed}
    - {state: subscribed, accessGrant: WRITE}
`)
	assert.True(t, r.Passed, strings.Join(r.Failures, "\n"))

	r = runText(t, base+`
steps:
  - {as: 1, call: POST /dataSource/2/access, body: {profileId: 2, state: subscribed, accessGrant: WRITE}}
  - {as: 1, call: POST /dataSource/2/access, body: {profileId: 3, state: subscribed}}
expect:
  records:
    - {accessGrant: WRITE}
    - {accessGrant: WRITE}
`)
	require.False(t, r.Passed)
	assert.Contains(t, strings.Join(r.Failures, "\n"), "expect.records[1]")
	assert.Contains(t, strings.Join(r.Failures, "\n"), "which another expected entry takes")
}

func TestBipartite(t *testing.T) {
	t.Parallel()
	ok := [][]bool{
		{true, true, false},
		{true, false, false},
		{false, true, true},
	}
	m := bipartite(ok, 3)
	assert.Equal(t, []int{1, 0, 2}, m)
	assert.Equal(t, []int{0, -1}, bipartite([][]bool{{true}, {true}}, 1))
}

func TestMalformed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, text string
		want       []string
	}{
		{"not yaml", "name: [unclosed\n", []string{"not valid YAML"}},
		{"duplicate key", base + "name: again\n", []string{"already set"}},
		{"not a mapping", "- a\n- b\n", []string{"must be a mapping"}},
		{"no name", "users: []\n", []string{"name: is required"}},
		{"unknown top-level key", base + "stepz: []\n", []string{"stepz: unknown key"}},
		{"unknown user key", "name: x\nusers: [{id: 1, name: A, role: admin}]\n", []string{"users[0].role: unknown key"}},
		{"unknown column key", "name: x\ndataSources: [{id: 1, name: A, columns: [{name: c, type: int}]}]\n", []string{"dataSources[0].columns[0].type: unknown key"}},
		{"unknown step key", base + "steps: [{call: GET /x, expected: {status: 200}}]\n", []string{"steps[0].expected: unknown key"}},
		{"unknown step expect key", base + "steps: [{call: GET /x, expect: {code: 200}}]\n", []string{"steps[0].expect.code: unknown key"}},
		{"unknown expect key", base + "expect: {grants: []}\n", []string{"expect.grants: unknown key"}},
		{"unknown decision key", base + "expect: {decisions: [{user: 1, dataSource: 1, grant: READ, level: READ}]}\n", []string{"expect.decisions[0].level: unknown key"}},
		{"decision needs grant", base + "expect: {decisions: [{user: 1, dataSource: 1}]}\n", []string{"expect.decisions[0].grant: is required"}},
		{"bad grant", base + "expect: {decisions: [{user: 1, dataSource: 1, grant: ALL}]}\n", []string{`expect.decisions[0].grant: "ALL" is not one of`}},
		{"bad state", base + "expect: {decisions: [{user: 1, dataSource: 1, grant: READ, read: reading}]}\n", []string{`expect.decisions[0].read: "reading" is not one of`}},
		{"bad call", base + "steps: [{call: /x}]\n", []string{`steps[0].call: "/x" is not "METHOD /path"`}},
		{"call without path", base + "steps: [{call: GET x}]\n", []string{"steps[0].call"}},
		{"call with a bad method", base + "steps: [{call: G3T /x}]\n", []string{"does not start with an HTTP method"}},
		{"missing call", base + "steps: [{as: 1}]\n", []string{"steps[0].call: is required"}},
		{"body and bodyText", base + "steps: [{call: POST /x, body: {}, bodyText: '{}'}]\n", []string{"steps[0].bodyText: give body or bodyText, not both"}},
		{"bad status", base + "steps: [{call: GET /x, expect: {status: 42}}]\n", []string{"steps[0].expect.status"}},
		{"headers not a mapping", base + "steps: [{call: GET /x, headers: [a]}]\n", []string{"steps[0].headers: must be a mapping"}},
		{"header value a list", base + "steps: [{call: GET /x, headers: {X-A: [1]}}]\n", []string{`steps[0].headers["X-A"]: must be a string`}},
		{"expect headers not a mapping", base + "steps: [{call: GET /x, expect: {headers: 3}}]\n", []string{"steps[0].expect.headers: must be a mapping"}},
		{"as not an integer", base + "steps: [{as: one, call: GET /x}]\n", []string{"steps[0].as: must be an integer"}},
		{"applies key", base + "expect: {applies: {one: []}}\n", []string{`expect.applies["one"]`}},
		{"bundle problem", "name: x\nusers: [{id: 0, name: A}]\n", []string{"users[0].id"}},
		{"every problem", base + "stepz: 1\nexpect: {grants: []}\n", []string{"stepz: unknown key", "expect.grants: unknown key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.text))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestRunFileAndDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
		return p
	}
	write("b.yaml", base)
	write("a/z.yml", strings.Replace(base, "runner test", "nested", 1))
	write("c.json", `{"name": "json one", "users": [{"id": 1, "name": "A"}]}`)
	write("d.yaml", "name: broken\nbogus: 1\n")
	write("notes.txt", "not a scenario")
	write(".hidden/x.yaml", "name: hidden\n")

	files, err := Files(dir)
	require.NoError(t, err)
	var rel []string
	for _, f := range files {
		r, _ := filepath.Rel(dir, f)
		rel = append(rel, filepath.ToSlash(r))
	}
	assert.Equal(t, []string{"a/z.yml", "b.yaml", "c.json", "d.yaml"}, rel)

	results := RunDir(dir, filepath.Join(dir, "missing"))
	require.Len(t, results, 5)
	assert.Equal(t, "nested", results[0].Name)
	assert.True(t, results[0].Passed)
	assert.Equal(t, "runner test", results[1].Name)
	assert.Equal(t, "json one", results[2].Name)
	assert.True(t, results[2].Passed, results[2].Failures)
	assert.Equal(t, "broken", results[3].Name, "a malformed scenario keeps its name when it has one")
	assert.False(t, results[3].Passed)
	assert.Contains(t, results[3].Failures[0], "malformed: bogus: unknown key")
	assert.False(t, results[4].Passed)
	assert.Contains(t, results[4].Failures[0], "cannot read")
}

func TestLoadBundleFragments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "1-directory.yaml"), []byte(`
name: fragments
users: [{id: 1, name: Gov, permissions: [GOVERNANCE]}]
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "2-catalog.yaml"), []byte(`
dataSources: [{id: 1, name: one, tags: [Open]}]
users: [{id: 2, name: Ann}]
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "3-policies.json"), []byte(`
{"policies": [{"name": "open", "policyKey": "open", "type": "subscription", "actions": {"type": "anyone", "automaticSubscription": true}}]}
`), 0o644))
	s, err := LoadBundle(dir)
	require.NoError(t, err)
	assert.Equal(t, "fragments", s.Name)
	require.Len(t, s.Bundle.Users, 2)
	require.Len(t, s.Bundle.Policies, 1)
	e, _, err := s.Setup()
	require.NoError(t, err)
	assert.Equal(t, "READ", e.Decide(2, 1).Grant.String())

	require.NoError(t, os.WriteFile(filepath.Join(dir, "4-other.yaml"), []byte("name: other\n"), 0o644))
	_, err = LoadBundle(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "name differs")

	unnamed := filepath.Join(t.TempDir(), "org.yaml")
	require.NoError(t, os.WriteFile(unnamed, []byte("users: [{id: 1, name: A}]\n"), 0o644))
	s, err = LoadBundle(unnamed)
	require.NoError(t, err)
	assert.Equal(t, "org.yaml", s.Name)
}

func TestSubset(t *testing.T) {
	t.Parallel()
	dec := func(s string) any {
		j, err := toJSON([]byte(s))
		require.NoError(t, err)
		v, err := decodeAny(j)
		require.NoError(t, err)
		return v
	}
	cases := []struct {
		want, got string
		diffs     []string
	}{
		{`{"a": 1}`, `{"a": 1.0, "b": 2}`, nil},
		{`{"a": 1e2}`, `{"a": 100}`, nil},
		{`{"a": 1}`, `{"a": "1"}`, []string{`a: want 1, got "1"`}},
		{`{"a": null}`, `{}`, []string{"a: want null, got no such key"}},
		{`{"a": null}`, `{"a": null}`, nil},
		{`{"a": [1, {"b": true}]}`, `{"a": [1, {"b": true, "c": 0}]}`, nil},
		{`{"a": [1]}`, `{"a": [1, 2]}`, []string{"a: want 1 elements [1], got 2 elements [1,2]"}},
		{`{"a": {"b": {"c": "x"}}}`, `{"a": {"b": {"c": "y"}}}`, []string{`a.b.c: want "x", got "y"`}},
		{`{"a": {}}`, `{"a": []}`, []string{"a: want {}, got []"}},
		{`[]`, `[]`, nil},
		{`"s"`, `"s"`, nil},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.diffs, subset("", dec(tc.want), dec(tc.got)), "%s vs %s", tc.want, tc.got)
	}
}

func runOnMemory(t *testing.T, text string) Result {
	t.Helper()
	s, err := Parse([]byte(text))
	require.NoError(t, err)
	return s.RunOn(memoryStores)
}

func TestRunnerRestartAndNow(t *testing.T) {
	t.Parallel()
	steps := base + `
steps:
  - {as: 1, call: POST /api/v2/policy, body: {name: two, policyKey: two, type: subscription, actions: {type: anyone}, circumstances: [{type: tags, tag: Two}]}}
  - restart: true
  - {as: 1, call: GET /policy/global/2, expect: {body: {policyKey: two}}}
  - now: 2026-02-01T00:00:00Z
  - {as: 1, call: POST /dataSource/2/access, body: {profileId: 2, state: subscribed, expiration: "2026-03-01T00:00:00Z"}}
  - now: 2026-03-02T00:00:00Z
  - restart: true
expect:
  decisions:
    - {user: 2, dataSource: 2, grant: NONE}
`
	r := runOnMemory(t, steps)
	assert.True(t, r.Passed, strings.Join(r.Failures, "\n"))

	// Without a store a restart fails the scenario.
	r = runText(t, steps)
	assert.False(t, r.Passed)
	assert.Contains(t, strings.Join(r.Failures, "\n"), "step 1 (restart): a restart needs a store")

	// The clock only moves forward.
	r = runOnMemory(t, base+`
steps:
  - now: 2025-01-01T00:00:00Z
`)
	assert.False(t, r.Passed)
	assert.Contains(t, strings.Join(r.Failures, "\n"), "step 0 (now): the clock only moves forward: it is at 2026-01-01T00:00:00Z")
}

func TestRunnerRestartAndNowMalformed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ step, want string }{
		{"{restart: false}", "steps[0].restart"},
		{"{restart: yes please}", "steps[0].restart"},
		{"{restart: true, as: 1}", "steps[0].as"},
		{"{now: tomorrow}", "steps[0].now"},
		{"{now: 2026-02-01T00:00:00Z, call: GET /policy/global}", "steps[0].call"},
	} {
		_, err := Parse([]byte(base + "steps:\n  - " + tc.step + "\n"))
		require.Error(t, err, tc.step)
		assert.Contains(t, err.Error(), tc.want, tc.step)
	}
}
