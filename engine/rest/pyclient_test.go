package rest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine/rest"
)

// pyClient replays, byte for byte, the traffic of an open-source Python client of
// the vendor's API (built on requests) that syncs global subscription policies
// from YAML files: the headers requests sends, bodies as json.dumps writes them
// (", " and ": " separators), query strings as requests encodes Python values
// (False), and the token handshake on a 401.
type pyClient struct {
	t      *testing.T
	base   string
	apiKey string
	token  string
	log    []string // "METHOD target -> status"
}

func (c *pyClient) send(method, target, body string) (int, []byte) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+target, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("User-Agent", "python-requests/2.32.3")
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Connection", "keep-alive")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	c.log = append(c.log, method+" "+target+" -> "+http.StatusText(resp.StatusCode))
	return resp.StatusCode, data
}

// call is the client's request method: on a 401 it authenticates with its API key
// and retries once with the token.
func (c *pyClient) call(method, target, body string) (int, []byte) {
	c.t.Helper()
	status, data := c.send(method, target, body)
	if status != http.StatusUnauthorized {
		return status, data
	}
	c.token = ""
	hs, hdata := c.send("POST", "/bim/apikey/authenticate", `{"apikey": "`+c.apiKey+`"}`)
	require.Equal(c.t, http.StatusOK, hs, "the handshake: %s", hdata)
	var tok struct {
		Authenticated bool   `json:"authenticated"`
		Token         string `json:"token"`
	}
	require.NoError(c.t, json.Unmarshal(hdata, &tok))
	require.True(c.t, tok.Authenticated)
	c.token = tok.Token
	return c.send(method, target, body)
}

// The policies of the client's YAML files, as json.dumps renders them.
const (
	pyGroupPolicy = `{"name": "group01 read", "type": "subscription", "template": false, "staged": false, ` +
		`"actions": [{"type": "subscription", "subscriptionType": "policy", "accessGrant": "READ", ` +
		`"allowDiscovery": false, "automaticSubscription": true, "shareResponsibility": false, "description": null, ` +
		`"exceptions": {"operator": "or", "conditions": [{"type": "groups", "group": {"name": "group01", "iam": "okta"}}]}}], ` +
		`"circumstances": [{"operator": "or", "type": "tags", "tag": {"name": "Discovered", "source": "curated"}}]}`
	// The vendor documentation's own v1 example (column tag with source).
	pyDocExample = `{"type": "subscription", "name": "Manual global write policy", "template": true, ` +
		`"actions": [{"type": "subscription", "subscriptionType": "manual", "description": "Write access on request.", "accessGrant": "WRITE"}], ` +
		`"staged": false, "circumstances": [{"operator": "or", "type": "columnTags", "columnTag": ` +
		`{"name": "Discovered.Healthcare NPI", "displayName": "Discovered . Healthcare NPI", "hasLeafNodes": false, "source": "curated"}}]}`
)

func TestPythonClientTraffic(t *testing.T) {
	t.Parallel()
	h, e := newHandler(t)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &pyClient{t: t, base: srv.URL, apiKey: seedKey}

	// Sync flow 1: find the existing policies; the first call has no token yet.
	status, data := c.call("GET", "/policy/global?nameOnly=False", "")
	require.Equal(t, http.StatusOK, status, "%s", data)
	var existing []map[string]any
	require.NoError(t, json.Unmarshal(data, &existing), "a JSON array: %s", data)
	assert.Len(t, existing, 2)
	assert.Equal(t, []string{
		"GET /policy/global?nameOnly=False -> Unauthorized",
		"POST /bim/apikey/authenticate -> OK",
		"GET /policy/global?nameOnly=False -> OK",
	}, c.log, "a 401, the handshake, the retry")

	// Sync flow 2: search by name, create what is missing.
	status, data = c.call("GET", "/policy/global?nameOnly=False&searchText=group01+read", "")
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `[]`, string(data))
	status, data = c.call("POST", "/policy/global", pyGroupPolicy)
	require.Equal(t, http.StatusOK, status, "%s", data)
	var created map[string]any
	require.NoError(t, json.Unmarshal(data, &created))
	id := created["id"].(float64)
	assert.Equal(t, 3.0, id)
	cond := created["actions"].([]any)[0].(map[string]any)["exceptions"].(map[string]any)["conditions"].([]any)[0]
	assert.Equal(t, map[string]any{"type": "groups", "group": map[string]any{"name": "group01", "iam": "okta"}}, cond)

	// Creating it again is the vendor's 422 with validation[0].code "unique".
	status, data = c.call("POST", "/policy/global", pyGroupPolicy)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%s", data)
	var dup struct {
		Validation []struct{ Code, Path string } `json:"validation"`
	}
	require.NoError(t, json.Unmarshal(data, &dup))
	require.NotEmpty(t, dup.Validation)
	assert.Equal(t, "unique", dup.Validation[0].Code)
	assert.Equal(t, "policyKey", dup.Validation[0].Path)

	// The client then finds it by name and updates it in place.
	status, data = c.call("GET", "/policy/global?nameOnly=False&searchText=group01+read", "")
	require.Equal(t, http.StatusOK, status)
	require.NoError(t, json.Unmarshal(data, &existing))
	require.Len(t, existing, 1)
	assert.Equal(t, id, existing[0]["id"])
	status, data = c.call("PUT", "/policy/global/3", pyGroupPolicy)
	require.Equal(t, http.StatusOK, status, "%s", data)

	// The documentation's example with column-tag source.
	status, data = c.call("POST", "/policy/global", pyDocExample)
	require.Equal(t, http.StatusOK, status, "%s", data)

	// Deleting what the YAML no longer has, with the client's redundant query.
	status, data = c.call("DELETE", "/policy/global/1?policyId=1", "")
	require.Equal(t, http.StatusOK, status, "%s", data)
	_, ok := e.Snapshot().Policy(1)
	assert.False(t, ok, "the policy is gone")

	// A restart loses the tokens: the client gets a 401 and authenticates again.
	srv2 := httptest.NewServer(rest.NewHandler(e, nil))
	t.Cleanup(srv2.Close)
	c.base, c.log = srv2.URL, nil
	status, _ = c.call("GET", "/policy/global?nameOnly=False", "")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, []string{
		"GET /policy/global?nameOnly=False -> Unauthorized",
		"POST /bim/apikey/authenticate -> OK",
		"GET /policy/global?nameOnly=False -> OK",
	}, c.log)

	// A wrong key: the handshake fails with 401, as the client expects.
	bad := &pyClient{t: t, base: srv2.URL, apiKey: "not-the-key"}
	status, _ = bad.send("POST", "/bim/apikey/authenticate", `{"apikey": "not-the-key"}`)
	assert.Equal(t, http.StatusUnauthorized, status)
}
