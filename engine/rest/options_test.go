package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
)

// WithLimits sets the decoders' limits: a policy name longer than MaxStringLen is a
// 400 naming the field, and the policy is not stored; the default limits take it.
func TestWithLimitsBoundsBodies(t *testing.T) {
	t.Parallel()
	body := `{"name": "` + strings.Repeat("n", 64) + `", "policyKey": "long", "type": "subscription",
	  "actions": {"type": "anyone"}, "circumstances": [{"type": "tags", "tag": "Discovered"}]}`
	post := call{method: http.MethodPost, path: "/api/v2/policy", key: seedKey, contentType: jsonCT, body: body}

	e := newEngine(t)
	small := rest.NewHandler(e, rest.EngineKeys(e), rest.WithLimits(model.Limits{MaxStringLen: 32}))
	a := do(t, small, post)
	assert.Equal(t, http.StatusBadRequest, a.status, a.raw)
	assert.Contains(t, a.message(), "name")
	assert.False(t, hasPolicy(e, 3))

	def, e2 := newHandler(t)
	a = do(t, def, post)
	assert.Equal(t, http.StatusOK, a.status, a.raw)
	assert.True(t, hasPolicy(e2, 3))
}
