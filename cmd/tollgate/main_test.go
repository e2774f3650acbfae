package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine/scenario"
)

// runCLI runs the command line with args and returns the exit status and outputs.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	c := &cli{ctx: context.Background(), stdout: &out, stderr: &errb}
	code := c.run(args)
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

const smallBundle = `
name: small org
users:
  - {id: 1, name: Gov, permissions: [GOVERNANCE]}
  - {id: 2, name: Ann, groups: [G]}
  - {id: 3, name: Bob, attributes: {has: [write]}}
dataSources:
  - {id: 1, name: open, tags: [Open]}
  - {id: 2, name: closed}
policies:
  - {name: open, policyKey: open, type: subscription, actions: {type: entitlements, automaticSubscription: true, entitlements: {operator: any, groups: [G]}}, circumstances: [{type: tags, tag: Open}]}
`

func TestUsage(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "Usage:")

	code, _, stderr = runCLI(t, "frobnicate")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, `unknown command "frobnicate"`)

	code, stdout, _ := runCLI(t, "help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "Commands:")

	for _, cmd := range []string{"demo", "eval", "check", "serve", "impact", "decide"} {
		code, stdout, _ := runCLI(t, cmd, "--help")
		assert.Equal(t, exitOK, code, cmd)
		assert.Contains(t, stdout, "Usage: tollgate "+cmd, cmd)
		code, _, stderr := runCLI(t, cmd, "--no-such-flag")
		assert.Equal(t, exitUsage, code, cmd)
		assert.Contains(t, stderr, "no-such-flag", cmd)
	}
}

func TestCheckScenarios(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, "check", filepath.Join("..", "..", "testdata", "scenarios"))
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.NotEmpty(t, lines)
	last := lines[len(lines)-1]
	assert.Regexp(t, `^\d+ passed, 0 failed$`, last, stdout+stderr)
	assert.Equal(t, exitOK, code, stdout)
	for _, l := range lines[:len(lines)-1] {
		assert.True(t, strings.HasPrefix(l, "PASS "), l)
	}
}

func TestCheckOutput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "a-pass.yaml", smallBundle+`
expect:
  decisions: [{user: 2, dataSource: 1, grant: READ}]
`)
	writeFile(t, dir, "b-fail.yaml", strings.Replace(smallBundle, "small org", "wrong grant", 1)+`
steps:
  - {as: 2, call: GET /policy/global/1, expect: {status: 404}}
expect:
  decisions: [{user: 2, dataSource: 2, grant: WRITE}]
`)
	writeFile(t, dir, "c-malformed.yaml", "name: typo\nuserz: []\n")

	code, stdout, _ := runCLI(t, "check", dir, filepath.Join(dir, "missing.yaml"))
	assert.Equal(t, exitFail, code)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	assert.Equal(t, "PASS small org", lines[0])
	assert.Equal(t, "FAIL wrong grant", lines[1])
	assert.Contains(t, stdout, "    step 0 (GET /policy/global/1): status: want 404, got 200\n")
	assert.Contains(t, stdout, "    expect.decisions[0] (user 2, dataSource 2): grant: want WRITE, got NONE")
	assert.Contains(t, stdout, "FAIL typo\n")
	assert.Contains(t, stdout, "    malformed: userz: unknown key")
	assert.Contains(t, stdout, "cannot read")
	assert.Equal(t, "1 passed, 3 failed", lines[len(lines)-1])

	code, _, stderr := runCLI(t, "check")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "at least one")

	code, _, stderr = runCLI(t, "check", t.TempDir())
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "no scenarios found")
}

func TestDemo(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := runCLI(t, "demo")
	require.Equal(t, exitOK, code, stderr)
	for _, want := range []string{
		"Acme Health demo",
		"Policies applied to each data source",
		"Effective grants",
		"Why (a few interesting cells)",
		"subscription anyone",
		"Allow users with specific entitlements to have write access",
		"mask-pii (data)",
		"3 Casey",
		"WRITE",
		"NONE*", // a pending request
		"NONE?", // requestable
		"READo", // an owner
		"record 1 at WRITE",
	} {
		assert.Contains(t, stdout, want)
	}

	code, stdout, _ = runCLI(t, "demo", "-o", "json")
	require.Equal(t, exitOK, code)
	var r struct {
		DataSources []struct {
			ID      int64 `json:"id"`
			Applied []struct {
				Key string `json:"policyKey"`
			} `json:"applied"`
		} `json:"dataSources"`
		Users     []json.RawMessage `json:"users"`
		Decisions []struct {
			User       int64  `json:"user"`
			DataSource int64  `json:"dataSource"`
			Grant      string `json:"grant"`
			Read       string `json:"read"`
		} `json:"decisions"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &r))
	assert.Len(t, r.DataSources, 15)
	assert.Len(t, r.Users, 10)
	assert.Len(t, r.Decisions, 150)
	for _, d := range r.Decisions {
		if d.User == 3 && d.DataSource == 6 {
			assert.Equal(t, "WRITE", d.Grant, "the seed's manual WRITE grant")
		}
		if d.User == 6 && d.DataSource == 13 {
			assert.Equal(t, "pending", d.Read)
		}
	}

	code, _, _ = runCLI(t, "demo", "extra")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, "demo", "-o", "xml")
	assert.Equal(t, exitUsage, code)
}

// The demo bundle's own expectations (worked out by hand) hold.
func TestDemoBundleExpectations(t *testing.T) {
	t.Parallel()
	s, err := scenario.Parse(demoBundle)
	require.NoError(t, err)
	r := s.Run()
	assert.True(t, r.Passed, strings.Join(r.Failures, "\n"))
}

func TestEval(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := writeFile(t, dir, "org.yaml", smallBundle)
	code, stdout, stderr := runCLI(t, "eval", file)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "small org")
	assert.Contains(t, stdout, "2 Ann")

	code, stdout, _ = runCLI(t, "eval", "-o", "json", file)
	require.Equal(t, exitOK, code)
	assert.True(t, json.Valid([]byte(stdout)))

	// flags after the argument too
	code, _, _ = runCLI(t, "eval", file, "-o", "json")
	assert.Equal(t, exitOK, code)

	frag := t.TempDir()
	writeFile(t, frag, "a.yaml", "name: fragments\nusers: [{id: 1, name: A, groups: [G]}]\n")
	writeFile(t, frag, "b/c.yaml", "dataSources: [{id: 1, name: d, tags: [Open]}]\npolicies: [{name: open, policyKey: open, type: subscription, actions: {type: entitlements, automaticSubscription: true, entitlements: {operator: any, groups: [G]}}}]\n")
	code, stdout, stderr = runCLI(t, "eval", frag)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "fragments")

	code, _, stderr = runCLI(t, "eval", filepath.Join(dir, "missing.yaml"))
	assert.Equal(t, exitUsage, code)
	assert.NotEmpty(t, stderr)
	code, _, _ = runCLI(t, "eval")
	assert.Equal(t, exitUsage, code)
	bad := writeFile(t, dir, "bad.yaml", "name: bad\npolicies: [{name: x, type: subscription, actions: {type: anyone}}]\n")
	code, _, stderr = runCLI(t, "eval", bad)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "policyKey")
}

func TestDecide(t *testing.T) {
	t.Parallel()
	file := writeFile(t, t.TempDir(), "org.yaml", smallBundle)
	code, stdout, _ := runCLI(t, "decide", file, "--user", "2", "--data-source", "1")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "READ (read subscribed")
	code, _, _ = runCLI(t, "decide", file, "--user", "2", "--data-source", "1", "--level", "WRITE")
	assert.Equal(t, exitFail, code)
	code, stdout, _ = runCLI(t, "decide", file, "--user=3", "--data-source=1", "-o", "json")
	assert.Equal(t, exitFail, code)
	assert.Contains(t, stdout, `"grant": "NONE"`)
	code, _, _ = runCLI(t, "decide", file, "--user", "9", "--data-source", "1")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runCLI(t, "decide", file)
	assert.Equal(t, exitUsage, code)
}

func TestImpact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := writeFile(t, dir, "org.yaml", smallBundle)
	policy := writeFile(t, dir, "write.json", `{
    "type": "subscription",
    "name": "Allow users with specific entitlements to have write access",
    "actions": [{"type": "subscription", "subscriptionType": "policy", "accessGrant": "WRITE", "automaticSubscription": true,
      "exceptions": {"operator": "and", "conditions": [{"type": "authorizations", "authorization": {"auth": "has", "value": "write"}}]}}]
}`)
	code, stdout, stderr := runCLI(t, "impact", policy, "--bundle", bundle)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "Data sources added (2):   1 open, 2 closed")
	assert.Contains(t, stdout, "user 3 Bob on data source 1 open: NONE -> WRITE")
	assert.Contains(t, stdout, "user 3 Bob on data source 2 closed: NONE -> WRITE")

	code, stdout, _ = runCLI(t, "impact", "--bundle", bundle, policy, "-o", "json")
	require.Equal(t, exitOK, code)
	assert.JSONEq(t, `{"dataSourcesAdded":[1,2],"dataSourcesRemoved":[],"users":[
		{"profileId":3,"dataSourceId":1,"before":"NONE","after":"WRITE"},
		{"profileId":3,"dataSourceId":2,"before":"NONE","after":"WRITE"}]}`, stdout)

	// Replacing policy 1 (Open only) by a policy on nothing removes data source 1.
	nowhere := writeFile(t, dir, "nowhere.yaml", "name: open\npolicyKey: open\ntype: subscription\nactions: {type: anyone}\ncircumstances: [{type: tags, tag: Nowhere}]\n")
	code, stdout, stderr = runCLI(t, "impact", nowhere, "--bundle", bundle, "--replace", "1")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, "Data sources removed (1): 1 open")
	assert.Contains(t, stdout, "user 2 Ann on data source 1 open: READ -> NONE")

	invalid := writeFile(t, dir, "invalid.yaml", "name: x\ntype: subscription\nactions: {type: approval}\n")
	code, _, stderr = runCLI(t, "impact", invalid, "--bundle", bundle)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "approvals")
	code, _, _ = runCLI(t, "impact", policy)
	assert.Equal(t, exitUsage, code)
}

// syncBuffer is a goroutine-safe writer for the server's logs.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const seedKey = "846e9e43c86a4ct1be14290d95127d13f"

// TestServeSeeds runs the seeds' curl calls (method, path, headers, body as
// documented) against `tollgate serve` on a loopback port and checks the documented
// response fields; then stops the server as SIGINT would.
func TestServeSeeds(t *testing.T) {
	t.Parallel()
	bundle := writeFile(t, t.TempDir(), "org.yaml", `
name: seeds
users:
  - {id: 2, name: Taylor, apiKey: `+seedKey+`, permissions: [GOVERNANCE]}
  - {id: 3, name: Casey, attributes: {has: [write]}}
dataSources:
  - {id: 6, name: claims, columns: [{name: npi, tags: [Discovered.Healthcare NPI]}]}
`)
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	var out, logs syncBuffer
	c := &cli{ctx: ctx, stdout: &out, stderr: &logs, ready: func(a string) { addr <- a }}
	done := make(chan int, 1)
	db := filepath.Join(t.TempDir(), "state.db")
	go func() { done <- c.run([]string{"serve", bundle, "--addr", "127.0.0.1:0", "--store", "sqlite:" + db}) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case code := <-done:
		t.Fatalf("serve exited with %d: %s", code, logs.String())
	}

	curl := func(method, path, contentType, body string) (int, map[string]any) {
		t.Helper()
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, base+path, r)
		require.NoError(t, err)
		req.Header.Set("accept", "application/json")
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", seedKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&m))
		return resp.StatusCode, m
	}

	// POST /dataSource/{dataSourceId}/access: the manual WRITE grant.
	status, rec := curl("POST", "/dataSource/6/access", "application/json", `{
    "profileId": 3,
    "state": "subscribed",
    "accessGrant": "WRITE"
}`)
	require.Equal(t, 200, status, rec)
	for k, v := range map[string]any{"isSubscriptionOverride": true, "id": 1.0, "modelId": "6", "modelType": "datasource",
		"state": "subscribed", "metadata": map[string]any{}, "admin": 2.0, "denialReasoning": nil, "profile": 3.0, "group": nil,
		"policy": false, "expiration": nil, "acknowledgeRequired": false, "accessGrant": "WRITE", "approved": true} {
		assert.Equal(t, v, rec[k], k)
	}
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`, rec["createdAt"])
	assert.Equal(t, rec["createdAt"], rec["updatedAt"])

	// POST /policy/global: the write policy with authorizations has.write.
	status, pol := curl("POST", "/policy/global", "application/json", `{
    "type": "subscription",
    "name": "Allow users with specific entitlements to have write access",
    "actions": [{
      "type": "subscription",
      "subscriptionType": "policy",
      "accessGrant": "WRITE",
      "exceptions": {
        "operator": "and",
        "conditions": [{
          "type": "authorizations",
          "authorization": {
            "auth": "has",
            "value": "write"
          }
        }]
      }
    }],
    "staged": false
}`)
	require.Equal(t, 200, status, pol)
	assert.Equal(t, "Allow users with specific entitlements to have write access", pol["policyKey"])
	assert.Equal(t, 1.0, pol["id"])
	assert.Equal(t, 2.0, pol["createdBy"])
	assert.Equal(t, "Taylor", pol["createdByName"])
	for _, k := range []string{"template", "staged", "systemGenerated", "deleted"} {
		assert.Equal(t, false, pol[k], k)
	}
	for _, k := range []string{"certification", "metadata", "clonedFrom", "ownerRestrictions"} {
		assert.Contains(t, pol, k)
		assert.Nil(t, pol[k], k)
	}
	act := pol["actions"].([]any)[0].(map[string]any)
	assert.Equal(t, "policy", act["subscriptionType"])
	assert.Equal(t, "WRITE", act["accessGrant"])
	assert.Nil(t, act["description"])

	// PUT /policy/global/{policyId}: the columnTag update.
	status, put := curl("PUT", "/policy/global/1", "application/json", `{
    "type": "subscription",
    "name": "Manual global write policy",
    "template": true,
    "actions": [{
      "type": "subscription",
      "subscriptionType": "manual",
      "description": "This updated policy only applies to data sources tagged Discovered.Healthcare NPI.",
      "accessGrant": "WRITE"
    }],
    "staged": false,
    "circumstances": [{
      "operator": "or",
      "type": "columnTags",
      "columnTag": {
        "name": "Discovered.Healthcare NPI",
        "displayName": "Discovered . Healthcare NPI",
        "hasLeafNodes": false
      }
    }]
}`)
	require.Equal(t, 200, status, put)
	assert.Equal(t, "Manual global write policy", put["name"])
	assert.Equal(t, true, put["template"])
	act = put["actions"].([]any)[0].(map[string]any)
	assert.Equal(t, "manual", act["subscriptionType"])
	assert.Equal(t, "This updated policy only applies to data sources tagged Discovered.Healthcare NPI.", act["description"])
	circ := put["circumstances"].([]any)[0].(map[string]any)
	assert.Equal(t, "columnTags", circ["type"])
	assert.Equal(t, "Discovered.Healthcare NPI", circ["columnTag"].(map[string]any)["name"])

	// GET /policy/global/{policyId}
	status, got := curl("GET", "/policy/global/1", "application/json", "")
	require.Equal(t, 200, status)
	assert.Equal(t, put["name"], got["name"])
	assert.Equal(t, put["circumstances"], got["circumstances"])

	// POST /api/v2/policy: the Anyone policy as YAML.
	status, v2 := curl("POST", "/api/v2/policy", "application/yaml", `name: Anyone
policyKey: subscription anyone
type: subscription
actions:
  type: anyone
  automaticSubscription: false
  description: Rationale
circumstances:
  - type: tags
    tag: Discovered
`)
	require.Equal(t, 200, status, v2)
	assert.Equal(t, "subscription anyone", v2["policyKey"])
	assert.Equal(t, "anyone", v2["actions"].(map[string]any)["type"])

	// DELETE /policy/global/{policyId}
	status, del := curl("DELETE", "/policy/global/1", "application/json", "")
	require.Equal(t, 200, status)
	assert.Equal(t, true, del["deleted"])
	status, _ = curl("GET", "/policy/global/1", "application/json", "")
	assert.Equal(t, 404, status)

	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Contains(t, out.String(), "serving \"seeds\" on http://127.0.0.1:")
	assert.Contains(t, logs.String(), "msg=request method=POST path=/dataSource/6/access")
	assert.Contains(t, logs.String(), "status=200")
	assert.Contains(t, logs.String(), "shutting down")
}

func TestServeErrors(t *testing.T) {
	t.Parallel()
	code, _, stderr := runCLI(t, "serve")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "bundle")
	file := writeFile(t, t.TempDir(), "org.yaml", smallBundle)
	code, _, stderr = runCLI(t, "serve", file, "--clock", "sundial")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--clock")
	code, _, stderr = runCLI(t, "serve", file, "--store", "nowhere")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "--store must be memory, sqlite:PATH or postgres://")
	code, _, stderr = runCLI(t, "serve", file, "--addr", "not-an-address", "--store", "memory")
	assert.Equal(t, exitUsage, code)
	assert.NotEmpty(t, stderr)
}
