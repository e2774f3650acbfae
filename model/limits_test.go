package model_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

func TestLimits(t *testing.T) {
	t.Parallel()
	groups := func(n int) string {
		g := make([]string, n)
		for i := range g {
			g[i] = fmt.Sprintf("%q", fmt.Sprint("g", i))
		}
		return v2(`{"type": "entitlements", "entitlements": {"operator": "any", "groups": [` + strings.Join(g, ",") + `]}}`)
	}
	nested := func(depth int) string {
		return v2(anyone2, `"metadata": `+strings.Repeat("[", depth)+strings.Repeat("]", depth))
	}
	cases := []struct {
		name   string
		in     string
		lim    model.Limits
		want   []problem
		detail string
	}{
		{"payload", v2(anyone2), model.Limits{MaxPayloadBytes: 20}, []problem{{"", model.CodeTooLarge}}, "more than the limit of 20"},
		{"default payload", v2(anyone2, `"metadata": "`+strings.Repeat("x", 1<<20)+`"`), model.Limits{},
			[]problem{{"", model.CodeTooLarge}}, "more than the limit of 1048576"},
		{"list", groups(11), model.Limits{MaxListLen: 10}, []problem{{"actions.entitlements.groups", tlong}}, "has 11 elements, more than the limit of 10"},
		{"default list", groups(1001), model.Limits{}, []problem{{"actions.entitlements.groups", tlong}}, "limit of 1000"},
		{"string", v2(`{"type": "anyone", "description": "` + strings.Repeat("d", 65) + `"}`), model.Limits{MaxStringLen: 64},
			[]problem{{"actions.description", tlong}}, "has 65 bytes"},
		{"key", v2(anyone2, `"`+strings.Repeat("k", 65)+`": 1`), model.Limits{MaxStringLen: 64}, []problem{{"", tlong}}, "key of 65 bytes"},
		{"depth", nested(40), model.Limits{}, []problem{{"metadata" + strings.Repeat("[0]", 31), tlong}}, "nested deeper than the limit of 32"},
		{"depth set", nested(5), model.Limits{MaxDepth: 4}, []problem{{"metadata[0][0][0]", tlong}}, "limit of 4"},
		{"yaml list", "name: n\ngroups:\n" + strings.Repeat("  - a\n", 6), model.Limits{MaxListLen: 5}, []problem{{"groups", tlong}}, "has 6 elements"},
		{"several", `{"a": [1,2,3], "b": "xxxxxx", "c": [[1,2,3]]}`, model.Limits{MaxListLen: 2, MaxStringLen: 5},
			[]problem{{"a", tlong}, {"b", tlong}, {"c[0]", tlong}}, "limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := model.DecodePolicy([]byte(tc.in), tc.lim)
			require.Nil(t, p)
			assert.Equal(t, tc.want, problems(err))
			assert.Contains(t, err.Error(), tc.detail)
			b, err := model.DecodeBundle([]byte(tc.in), tc.lim)
			require.Nil(t, b)
			assert.Equal(t, tc.want, problems(err), "bundles enforce the same limits")
		})
	}
	// within limits
	_, err := model.DecodePolicy([]byte(groups(10)), model.Limits{MaxListLen: 10})
	assert.NoError(t, err)
	_, err = model.DecodePolicy([]byte(nested(31)), model.Limits{})
	assert.NoError(t, err)
	assert.Equal(t, model.Limits{MaxPayloadBytes: 1 << 20, MaxListLen: 1000, MaxStringLen: 64 << 10, MaxDepth: 32}, model.DefaultLimits())
}
