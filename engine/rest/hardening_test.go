package rest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// yamlBomb500K is a 500 KB YAML alias bomb: one 500 KB string named 100 times,
// 50 MB once expanded.
func yamlBomb500K() []byte {
	return []byte("s: &s \"" + strings.Repeat("x", 500<<10) + "\"\nl: [" +
		strings.TrimSuffix(strings.Repeat("*s,", 100), ",") + "]\n")
}

// everyBodyEndpoint lists a call of every endpoint that takes a body, each by a
// caller allowed to make it.
func everyBodyEndpoint() []advReq {
	return []advReq{
		{method: "POST", path: "/api/v2/policy", key: kGov},
		{method: "POST", path: "/policy/global", key: kGov},
		{method: "PUT", path: "/policy/global/3", key: kGov},
		{method: "POST", path: "/policy/global/applyPolicy", key: kOwn},
		{method: "POST", path: "/dataSource/10/access", key: kOwn},
		{method: "PUT", path: "/dataSource/10/access/1", key: kOwn},
		{method: "POST", path: "/subscription/approve", key: kAppr},
		{method: "POST", path: "/subscription/deny", key: kAppr},
	}
}

// TestYAMLAliasBombIs413 (issue 12 item 1): a YAML body whose aliases expand past
// the body limit is answered 413 on every endpoint, before it is expanded, and
// changes nothing; the same bomb as a billion-laughs nest too.
func TestYAMLAliasBombIs413(t *testing.T) {
	t.Parallel()
	bombs := map[string][]byte{"wide 500 KB": yamlBomb500K(), "nested": []byte(billionLaughs())}
	for name, bomb := range bombs {
		for _, r := range everyBodyEndpoint() {
			r.ct, r.body = ctYAML, bomb
			t.Run(name+" "+r.method+" "+r.path, func(t *testing.T) {
				t.Parallel()
				e := advEngine(t)
				before, err := e.Export()
				require.NoError(t, err)
				a := advSend(t, advHandler(e), r)
				assert.Equal(t, 413, a.status, a.raw)
				assert.Equal(t, "Payload Too Large", a.body["error"])
				assert.Contains(t, a.message(), "expands (YAML aliases) to more than the limit of 1048576 bytes")
				after, err := e.Export()
				require.NoError(t, err)
				assert.Equal(t, string(before), string(after), "nothing changed")
			})
		}
	}
}

// TestBodyFormatStrictness (issue 12 item 3): a body that is declared JSON, or
// undeclared and starts with { or [, must be JSON; an undeclared body that is not
// JSON is 415; a YAML body is one document without explicit tags.
func TestBodyFormatStrictness(t *testing.T) {
	t.Parallel()
	failOpen := "{\"name\": \"open\", \"policyKey\": \"open\", \"type\": \"subscription\", \"actions\": {\"type\": \"anyone\"}, \"staged\": false #,\n \"circumstances\": [{\"type\": \"tags\", \"tag\": \"Marketing\"}]}"
	cases := []struct {
		name   string
		ct     string
		body   string
		status int
		msg    string
	}{
		{"undeclared broken JSON", "", failOpen, 400, "not valid JSON"},
		{"declared broken JSON", ctJSON, failOpen, 400, "not valid JSON"},
		{"undeclared YAML", "", "name: y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\n", 415, "Content-Type"},
		{"undeclared list start", "", "[name: y]", 400, "not valid JSON"},
		{"YAML second document", ctYAML, "name: y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\n---\nname: z\n", 400, "more than one document"},
		{"YAML binary tag", ctYAML, "name: y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\ndescription: !!binary /w==\n", 400, "explicit tags"},
		{"YAML python tag", "text/yaml", "name: !!python/name:os.system y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\n", 400, "explicit tags"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := advEngine(t)
			before, err := e.Export()
			require.NoError(t, err)
			a := advSend(t, advHandler(e), advReq{method: "POST", path: "/api/v2/policy", key: kGov, ct: tc.ct, body: []byte(tc.body)})
			assert.Equal(t, tc.status, a.status, a.raw)
			assert.Contains(t, a.message(), tc.msg)
			after, err := e.Export()
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "nothing changed")
		})
	}
	// undeclared valid JSON is JSON
	e := advEngine(t)
	a := advSend(t, advHandler(e), advReq{method: "POST", path: "/api/v2/policy", key: kGov, body: []byte(v2Body("fine", ""))})
	assert.Equal(t, 200, a.status, a.raw)
}
