package engine_test

// One answer lists every problem of a policy body: structural problems found by the
// decoder do not hide regex or advanced-expression errors of the same body
// (docs/semantics.md, Validation). Expected problems are worked out by hand.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

type fieldProblem struct {
	Path string
	Code model.ErrorCode
}

func fieldProblems(err error) []fieldProblem {
	var out []fieldProblem
	for _, e := range model.Errors(err) {
		out = append(out, fieldProblem{string(e.Path), e.Code})
	}
	return out
}

func TestDecodePolicyReportsStructuralAndCompileProblems(t *testing.T) {
	t.Parallel()
	const (
		unk  = model.CodeUnknownField
		comp = model.CodeCompile
		typ  = model.CodeType
		req  = model.CodeRequired
		forb = model.CodeForbidden
	)
	cases := []struct {
		name string
		body string
		want []fieldProblem
	}{
		{"v2: unknown field and an invalid regex",
			`{"name": "p", "policyKey": "p", "type": "subscription", "bogus": 1, "actions": {"type": "anyone"},
			  "circumstances": [{"type": "columnRegex", "regex": "("}]}`,
			[]fieldProblem{{"bogus", unk}, {"circumstances[0].regex", comp}}},
		{"v2: unknown field in the same circumstance as the invalid regex",
			`{"name": "p", "policyKey": "p", "type": "subscription", "actions": {"type": "anyone"},
			  "circumstances": [{"type": "columnRegex", "regex": "[a-", "tag": "x"}]}`,
			[]fieldProblem{{"circumstances[0].tag", unk}, {"circumstances[0].regex", comp}}},
		{"v2: unknown field and an invalid advanced expression",
			`{"name": "p", "policyKey": "p", "type": "subscription", "bogus": 1,
			  "actions": {"type": "entitlements", "advanced": "@isInGroups("}}`,
			[]fieldProblem{{"bogus", unk}, {"actions.advanced", comp}}},
		{"v2: both compile errors beside a structural one",
			`{"name": "p", "policyKey": "p", "type": "subscription", "staged": "yes",
			  "actions": {"type": "entitlements", "advanced": "@nope()"},
			  "circumstances": [{"type": "columnRegex", "regex": "(?<"}]}`,
			[]fieldProblem{{"staged", typ}, {"circumstances[0].regex", comp}, {"actions.advanced", comp}}},
		{"v1: unknown field and an invalid advanced expression",
			`{"name": "p", "type": "subscription", "bogus": true,
			  "actions": [{"type": "subscription", "subscriptionType": "policy", "advanced": "@hasAttribute("}]}`,
			[]fieldProblem{{"bogus", unk}, {"actions[0].advanced", comp}}},
		{"data policy: missing name and an invalid regex",
			`{"policyKey": "d", "type": "data", "actions": {"rules": []},
			  "circumstances": [{"type": "columnRegex", "regex": "("}]}`,
			[]fieldProblem{{"name", req}, {"circumstances[0].regex", comp}}},
		{"an advanced that is not a string is reported once, as a type error",
			`{"name": "p", "policyKey": "p", "type": "subscription", "actions": {"type": "entitlements", "advanced": 3}}`,
			[]fieldProblem{{"actions.advanced", typ}}},
		{"advanced where the type forbids it is not compiled",
			`{"name": "p", "policyKey": "p", "type": "subscription", "actions": {"type": "anyone", "advanced": "@bad("}}`,
			[]fieldProblem{{"actions.advanced", forb}}},
	}
	e := engine.New()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := e.DecodePolicy([]byte(tc.body), model.DefaultLimits())
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, model.ErrInvalid)
			assert.ElementsMatch(t, tc.want, fieldProblems(err))
		})
	}

	t.Run("a valid body decodes as model.DecodePolicy does", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"name": "p", "policyKey": "p", "type": "subscription", "actions": {"type": "anyone"},
			"circumstances": [{"type": "columnRegex", "regex": "^a"}]}`)
		got, err := e.DecodePolicy(body, model.DefaultLimits())
		require.NoError(t, err)
		want, err := model.DecodePolicy(body, model.DefaultLimits())
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})
	t.Run("alone, a compile error is left to CreatePolicy", func(t *testing.T) {
		t.Parallel()
		body := []byte(`{"name": "p", "policyKey": "p", "type": "subscription", "actions": {"type": "anyone"},
			"circumstances": [{"type": "columnRegex", "regex": "("}]}`)
		p, err := e.DecodePolicy(body, model.DefaultLimits())
		require.NoError(t, err)
		_, _, err = engine.New().CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{})
		assert.Equal(t, []fieldProblem{{"circumstances[0].regex", comp}}, fieldProblems(err))
	})
}
