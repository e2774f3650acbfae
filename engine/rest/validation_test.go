package rest_test

// One answer lists every problem of a policy body: a structural error does not hide
// a regex or advanced-expression error of the same body (docs/semantics.md,
// Validation).

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEveryProblemInOneAnswer(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, method, path, body string
		want                     []string // each a substring of the message
	}{
		{"v2 create: unknown field and a bad regex", "POST", "/api/v2/policy",
			`{"name": "r", "policyKey": "r", "type": "subscription", "bogus": 1, "actions": {"type": "anyone"},
			  "circumstances": [{"type": "columnRegex", "regex": "("}]}`,
			[]string{"bogus: unknown field", "circumstances[0].regex: "}},
		{"v1 create: unknown field and a bad advanced", "POST", "/policy/global",
			`{"name": "a", "type": "subscription", "bogus": true,
			  "actions": [{"type": "subscription", "subscriptionType": "policy", "advanced": "@isInGroups("}]}`,
			[]string{"bogus: unknown field", "actions[0].advanced: "}},
		{"PUT: a wrong type, a bad regex and a bad advanced", "PUT", "/policy/global/1",
			`{"name": "k", "type": "subscription", "staged": "no",
			  "actions": [{"type": "subscription", "subscriptionType": "policy", "advanced": "@nope()"}],
			  "circumstances": [{"operator": "or", "type": "columnRegex", "regex": "[a-"}]}`,
			[]string{"staged: ", "circumstances[0].regex: ", "actions[0].advanced: "}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, e := newHandler(t)
			before, err := e.Export()
			assert.NoError(t, err)
			a := do(t, h, call{method: tc.method, path: tc.path, key: govKey, contentType: jsonCT, body: tc.body})
			assert.Equal(t, 400, a.status)
			for _, w := range tc.want {
				assert.Contains(t, a.message(), w)
			}
			after, err := e.Export()
			assert.NoError(t, err)
			assert.Equal(t, string(before), string(after), "nothing changed")
		})
	}
}
