package rest_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
)

// An Authenticator that answers user id 0 authenticates nobody: id 0 is never the
// system actor, so every call is a 401 and nothing is written.
func TestAuthenticatorUserZeroIsRejected(t *testing.T) {
	t.Parallel()
	e := newEngine(t)
	zero := rest.AuthenticatorFunc(func(string) (int64, bool) { return 0, true })
	h := rest.NewHandler(e, zero)
	before := len(e.Snapshot().Policies())

	for _, c := range []call{
		{method: http.MethodPost, path: "/api/v2/policy", key: "anything", contentType: yamlCT, body: seedV2Anyone},
		{method: http.MethodGet, path: "/policy/global/1", key: "anything"},
	} {
		a := do(t, h, c)
		assert.Equal(t, http.StatusUnauthorized, a.status, "%s %s: %s", c.method, c.path, a.raw)
	}
	assert.Len(t, e.Snapshot().Policies(), before)
}

// hasPolicy reports whether a live policy id is stored.
func hasPolicy(e *engine.Engine, id int64) bool {
	_, ok := e.Snapshot().Policy(id)
	return ok
}
