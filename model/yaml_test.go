package model_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

const policyYAML = "name: pol\npolicyKey: k\ntype: subscription\nactions: {type: anyone}\n"

// nestedBomb is a billion-laughs document: levels of fan references to the level
// below, the bottom a list of fan short strings, under an otherwise valid policy.
func nestedBomb(levels, fan int) string {
	var b strings.Builder
	refs := func(name string) string {
		return strings.TrimSuffix(strings.Repeat(name+",", fan), ",")
	}
	fmt.Fprintf(&b, "x0: &x0 [%s]\n", refs(`"lol"`))
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "x%d: &x%d [%s]\n", i, i, refs(fmt.Sprintf("*x%d", i-1)))
	}
	return b.String() + policyYAML
}

// wideBomb is one long anchored string referenced n times: about size*n bytes
// expanded from about size bytes.
func wideBomb(size, n int) string {
	return "s: &s \"" + strings.Repeat("x", size) + "\"\nl: [" +
		strings.TrimSuffix(strings.Repeat("*s,", n), ",") + "]\n" + policyYAML
}

// TestYAMLExpansionBudget: what a YAML payload becomes is bounded while it is read
// (issue 12 item 1): an alias bomb, nested or wide, is refused with CodeTooLarge by
// YAMLToJSON, DecodePolicy, DecodeBundle and every request decoder, before it is
// expanded, however large its expansion.
func TestYAMLExpansionBudget(t *testing.T) {
	t.Parallel()
	bombs := map[string]string{
		"nested 9x9":           nestedBomb(9, 9),
		"nested 30x2":          nestedBomb(30, 2), // 2^30 strings: never expanded
		"wide 400 KB x 100":    wideBomb(400<<10, 100),
		"wide 10 KB x 200":     wideBomb(10<<10, 200),
		"merge keys":           "a: &a {k0: " + strings.Repeat("v", 100<<10) + "}\nl: [" + strings.TrimSuffix(strings.Repeat("{<<: *a},", 20), ",") + "]\n",
		"alias of an alias":    "a: &a [" + strings.Repeat("y", 300<<10) + "]\nb: &b [*a, *a]\nc: [*b, *b]\n",
		"map keys are counted": "a: &a " + strings.Repeat("k", 600<<10) + "\n*a : 1\n",
	}
	decoders := map[string]func([]byte) error{
		"DecodePolicy": func(b []byte) error { _, err := model.DecodePolicy(b, model.DefaultLimits()); return err },
		"DecodeBundle": func(b []byte) error { _, err := model.DecodeBundle(b, model.DefaultLimits()); return err },
		"DecodeAccessRequest": func(b []byte) error {
			_, err := model.DecodeAccessRequest(b, model.DefaultLimits())
			return err
		},
		"DecodeDeny": func(b []byte) error { _, err := model.DecodeDeny(b, model.DefaultLimits()); return err },
		"YAMLToJSON": func(b []byte) error { _, err := model.YAMLToJSON(b, 0); return err },
	}
	for name, bomb := range bombs {
		for dname, decode := range decoders {
			t.Run(name+"/"+dname, func(t *testing.T) {
				t.Parallel()
				err := decode([]byte(bomb))
				require.Error(t, err)
				assert.Equal(t, []problem{{"", model.CodeTooLarge}}, problems(err), "%v", err)
				assert.Contains(t, err.Error(), "more than the limit of 1048576 bytes")
			})
		}
	}
}

// TestYAMLExpansionWithinBudget: anchors and aliases within the budget are expanded
// as YAML says, and the budget is the payload limit.
func TestYAMLExpansionWithinBudget(t *testing.T) {
	t.Parallel()
	withAliases := "g: &g [a, b]\nname: pol\npolicyKey: k\ntype: subscription\n" +
		"actions: {type: entitlements, entitlements: {operator: any, groups: *g}}\n"
	p, err := model.DecodePolicy([]byte(strings.Replace(withAliases, "g: &g [a, b]\n", "", 1)), model.DefaultLimits())
	require.Error(t, err, "the alias names no anchor")
	p, err = model.DecodePolicy([]byte("metadata: &g [a, b]\n"+strings.Replace(withAliases, "g: &g [a, b]\n", "", 1)), model.DefaultLimits())
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, p.Action.Entitlements.Groups)

	// 10 aliases of a 1000-byte string: about 10 KB expanded.
	js, err := model.YAMLToJSON([]byte(wideBomb(1000, 10)), 20000)
	require.NoError(t, err)
	assert.Equal(t, 11, strings.Count(string(js), strings.Repeat("x", 1000)), "the anchor and its 10 aliases")
	_, err = model.YAMLToJSON([]byte(wideBomb(1000, 10)), 9000)
	assert.Equal(t, []problem{{"", model.CodeTooLarge}}, problems(err), "a smaller budget refuses it")

	// A document without aliases counts about its own size.
	plain := []byte(strings.Repeat("- abcdefgh\n", 1000))
	_, err = model.YAMLToJSON(plain, len(plain))
	assert.NoError(t, err)
}

// TestBundleExpansionBudget: a bundle file may expand to 16 times its size (at
// least the default payload limit), even under large limits.
func TestBundleExpansionBudget(t *testing.T) {
	t.Parallel()
	big := model.Limits{MaxPayloadBytes: 1 << 30, MaxListLen: 1 << 20, MaxStringLen: 1 << 20}
	bundle := func(n int) string {
		return "name: b\nusers: []\ndescription: &d \"" + strings.Repeat("d", 100<<10) + "\"\n" +
			"dataSources:\n" + strings.Repeat("  - {id: 1, name: x, description: *d}\n", n)
	}
	_, err := model.DecodeBundle([]byte(bundle(30)), big)
	assert.Equal(t, []problem{{"", model.CodeTooLarge}}, problems(err), "30 copies of 100 KB from a 101 KB file: over 16x")
	_, err = model.DecodeBundle([]byte(bundle(8)), big)
	require.Error(t, err, "8 copies are within the budget; the bundle is refused for other reasons")
	assert.NotContains(t, problems(err), problem{"", model.CodeTooLarge})
	assert.Equal(t, 16*(100<<10), model.BundleBudget(100<<10))
	assert.Equal(t, 1<<20, model.BundleBudget(10), "at least the default payload limit")
}

// TestJSONNeverReadAsYAML (issue 12 item 3): a payload starting with { or [ that is
// not valid JSON is refused; it is never read as YAML, where a '#' would comment
// out the rest of a line (here: every circumstance, making the policy apply
// everywhere).
func TestJSONNeverReadAsYAML(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"comment hides circumstances": "{\"name\": \"n\", \"policyKey\": \"k\", \"type\": \"subscription\", \"actions\": {\"type\": \"anyone\"}, \"staged\": false #, \"circumstances\": [{\"type\": \"tags\", \"tag\": \"A\"}]\n}",
		"unquoted keys":               `{name: n, policyKey: k, type: subscription, actions: {type: anyone}}`,
		"single quotes":               `{'name': 'n', 'policyKey': 'k', 'type': 'subscription', 'actions': {'type': 'anyone'}}`,
		"list":                        `[a, b]`,
		"leading whitespace":          "\n  {name: n}",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := model.DecodePolicy([]byte(in), model.DefaultLimits())
			require.Nil(t, p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "is not valid JSON")
			assert.NotContains(t, err.Error(), "YAML")
			b, err := model.DecodeBundle([]byte(in), model.DefaultLimits())
			require.Nil(t, b)
			assert.Contains(t, err.Error(), "is not valid JSON")
		})
	}
}

// TestYAMLOneDocumentNoTags (issue 12 item 3): a YAML payload is one document (a
// second one is refused, not dropped) and carries no explicit tags.
func TestYAMLOneDocumentNoTags(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ in, msg string }{
		"second document":       {policyYAML + "---\nname: other\n", "more than one document"},
		"second empty document": {policyYAML + "---\n", "more than one document"},
		"document after end":    {policyYAML + "...\n---\n" + policyYAML, "more than one document"},
		"binary tag":            {policyYAML + "description: !!binary aGVsbG8=\n", "explicit tags"},
		"python tag":            {policyYAML + "description: !!python/object:os.system [ls]\n", "explicit tags"},
		"str tag":               {"name: !!str 5\npolicyKey: k\ntype: subscription\nactions: {type: anyone}\n", "explicit tags"},
		"local tag":             {policyYAML + "metadata: !mine {a: 1}\n", "explicit tags"},
		"tag on a key":          {policyYAML + "!!str metadata: 1\n", "explicit tags"},
		"alias cycle":           {policyYAML + "metadata: &m [*m]\n", "contains it"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := model.DecodePolicy([]byte(tc.in), model.DefaultLimits())
			require.Nil(t, p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
			_, err = model.YAMLToJSON([]byte(tc.in), 0)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
	// one document, with or without markers, is fine
	for _, in := range []string{policyYAML, "---\n" + policyYAML, "---\n" + policyYAML + "...\n", "# only a comment\n" + policyYAML} {
		_, err := model.DecodePolicy([]byte(in), model.DefaultLimits())
		assert.NoError(t, err, "%q", in)
	}
}

// TestNamesAndKeysRefuseNULAndBidi (issue 12 item 12): NUL and bidirectional
// override, embedding and isolate characters are refused in the names and keys of
// a bundle (users, groups, data sources, columns, tags, attribute names).
func TestNamesAndKeysRefuseNULAndBidi(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ in, path string }{
		{`{"name":"b","users":[{"id":1,"name":"a\u0000"}]}`, "users[0].name"},
		{`{"name":"b","groups":[{"id":1,"name":"\u202Eg"}]}`, "groups[0].name"},
		{`{"name":"b","dataSources":[{"id":1,"name":"d\u2067"}]}`, "dataSources[0].name"},
		{`{"name":"b","dataSources":[{"id":1,"name":"d","columns":[{"name":"c\u202A"}]}]}`, "dataSources[0].columns[0].name"},
		{`{"name":"b","dataSources":[{"id":1,"name":"d","tags":["t\u0000"]}]}`, "dataSources[0].tags[0]"},
		{`{"name":"b","users":[{"id":1,"name":"u","attributes":{"a\u202Db":["x"]}}]}`, `users[0].attributes["a\u202db"]`},
	} {
		_, err := model.DecodeBundle([]byte(c.in), model.DefaultLimits())
		require.Error(t, err, c.in)
		assert.Contains(t, problems(err), problem{c.path, model.CodeInvalid}, "%s: %v", c.in, err)
	}
	_, err := model.DecodeBundle([]byte(`{"name":"b","users":[{"id":1,"name":"Zoë \u05e9\u05dc\u05d5\u05dd"}]}`), model.DefaultLimits())
	assert.NoError(t, err, "other characters, right-to-left scripts included, are fine")
}

// FuzzYAMLAliases: YAML bodies built from anchors and aliases (the fuzzer mutates
// the anchored value, the number of aliases per level and the nesting) never
// panic, never take more than the budget to expand, and either convert to valid
// JSON no larger than a small multiple of the budget or fail with an ErrorList
// (CodeTooLarge when the budget is what they broke).
func FuzzYAMLAliases(f *testing.F) {
	f.Add("lol", uint8(9), uint8(9), "")
	f.Add(strings.Repeat("x", 1000), uint8(2), uint8(30), "")
	f.Add("v", uint8(3), uint8(2), "<<: *a0\n")
	f.Add("{k: v}", uint8(4), uint8(4), "m: &m [*m]\n")
	f.Add("[a, b]", uint8(1), uint8(1), "---\nx: 1\n")
	f.Add("!!binary aGVsbG8=", uint8(1), uint8(1), "")
	f.Fuzz(func(t *testing.T, leaf string, fan, levels uint8, extra string) {
		if len(leaf) > 4096 || len(extra) > 4096 {
			return
		}
		var b strings.Builder
		fmt.Fprintf(&b, "a0: &a0 %s\n", leaf)
		for i := 1; i <= int(levels%40); i++ {
			refs := strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d,", i-1), int(fan%20)+1), ",")
			fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, refs)
		}
		b.WriteString(extra)
		const budget = 64 << 10
		js, err := model.YAMLToJSON([]byte(b.String()), budget)
		if err != nil {
			if len(model.Errors(err)) == 0 {
				t.Fatalf("error %v is not an ErrorList", err)
			}
			return
		}
		if len(js) > 8*budget {
			t.Fatalf("%d bytes of JSON from a budget of %d", len(js), budget)
		}
		if !json.Valid(js) {
			t.Fatalf("invalid JSON %.200s", js)
		}
		_, _ = model.DecodePolicy([]byte(b.String()), model.Limits{MaxPayloadBytes: budget})
	})
}
