package rest_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
)

// authBundle: user 1 has a key, user 2 a key hash only, user 3 no credentials.
// The hash of "hashed-key" was computed with `printf hashed-key | sha256sum`.
const authBundle = `
name: credentials
users:
  - {id: 1, name: Keyed, apiKey: plain-key-1, permissions: [GOVERNANCE]}
  - {id: 2, name: Hashed, apiKeyHash: a4ae87b73fa5645e6aee415a6f72be4dcbd99d057a7b40cb1b867c181d179260}
  - {id: 3, name: Keyless}
dataSources:
  - {id: 6, name: six}
`

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func authEngine(t *testing.T) *engine.Engine {
	t.Helper()
	b, err := model.DecodeBundle([]byte(authBundle), model.DefaultLimits())
	require.NoError(t, err)
	e := engine.New(engine.WithClock(func() time.Time { return now }))
	require.NoError(t, e.ApplyBundle(b))
	return e
}

// send makes one request with raw headers and returns status and body.
func send(t *testing.T, h http.Handler, method, path, body string, headers ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func handshake(t *testing.T, h http.Handler, key string) (int, string) {
	t.Helper()
	status, body := send(t, h, "POST", "/bim/apikey/authenticate", `{"apikey": "`+key+`"}`, "Content-Type", "application/json")
	if status != 200 {
		return status, body
	}
	var got struct {
		Authenticated bool   `json:"authenticated"`
		Token         string `json:"token"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	require.True(t, got.Authenticated, body)
	return status, got.Token
}

func TestCredentialForms(t *testing.T) {
	t.Parallel()
	e := authEngine(t)
	h := rest.NewHandler(e, nil)
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"key as sent by the seeds' curl calls", "plain-key-1", 200},
		{"Bearer and a key", "Bearer plain-key-1", 200},
		{"bearer in any case", "bEaReR plain-key-1", 200},
		{"a user given only its hash, by key", "hashed-key", 200},
		{"no default key-<id> for a keyless user", "key-3", 401},
		{"no default key-<id> for a keyed user", "key-1", 401},
		{"Bearer and an unknown credential", "Bearer nope", 401},
		{"the hash is not a key", "a4ae87b73fa5645e6aee415a6f72be4dcbd99d057a7b40cb1b867c181d179260", 401},
		{"Bearer alone", "Bearer", 401},
		{"empty", "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := send(t, h, "GET", "/policy/global/1", "", "Authorization", tc.header)
			if tc.status == 200 {
				// Authenticated: no policy 1 exists, so 404 proves the credential passed.
				assert.Equal(t, 404, status, body)
				return
			}
			assert.Equal(t, tc.status, status, body)
			if tc.header != "" {
				assert.NotContains(t, body, strings.TrimPrefix(tc.header, "Bearer "), "an error never quotes a credential")
			}
		})
	}
}

func TestHandshake(t *testing.T) {
	t.Parallel()
	e := authEngine(t)
	clock := &fakeClock{t: now}
	var logs bytes.Buffer
	h := rest.NewHandler(e, nil, rest.WithClock(clock.now), rest.WithTokenTTL(10*time.Minute),
		rest.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))

	status, tok := handshake(t, h, "plain-key-1")
	require.Equal(t, 200, status, tok)
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(raw)*8, 128, "tokens carry at least 128 random bits")
	_, tok2 := handshake(t, h, "plain-key-1")
	assert.NotEqual(t, tok, tok2, "every token is new")

	status, body := send(t, h, "GET", "/policy/global/1", "", "Authorization", "Bearer "+tok)
	assert.Equal(t, 404, status, "the token authenticates: %s", body)
	status, _ = send(t, h, "GET", "/policy/global/1", "", "Authorization", tok)
	assert.Equal(t, 401, status, "a token is sent as Bearer")

	// Errors of the handshake.
	status, body = handshake(t, h, "wrong-key")
	assert.Equal(t, 401, status)
	assert.NotContains(t, body, "wrong-key")
	status, _ = handshake(t, h, "key-3")
	assert.Equal(t, 401, status, "a keyless user has no key")
	status, body = send(t, h, "POST", "/bim/apikey/authenticate", `{}`, "Content-Type", "application/json")
	assert.Equal(t, 400, status)
	assert.Contains(t, body, "apikey")
	status, body = send(t, h, "POST", "/bim/apikey/authenticate", `{"apikey": 12345}`, "Content-Type", "application/json")
	assert.Equal(t, 400, status)
	assert.NotContains(t, body, "12345", "a key of the wrong type is not quoted")

	// Expiry by the handler's clock.
	clock.add(10*time.Minute - time.Second)
	status, _ = send(t, h, "GET", "/policy/global/1", "", "Authorization", "Bearer "+tok)
	assert.Equal(t, 404, status, "valid until its TTL")
	clock.add(time.Second)
	status, _ = send(t, h, "GET", "/policy/global/1", "", "Authorization", "Bearer "+tok)
	assert.Equal(t, 401, status, "expired at its TTL")

	// A key change or the user's deletion ends the user's tokens.
	_, tok3 := handshake(t, h, "plain-key-1")
	require.NoError(t, e.PutUser(engine.As(1), &model.User{ID: 1, Name: "Keyed", APIKeyHash: model.HashAPIKey("rotated"),
		Permissions: []model.Permission{model.Governance}}))
	status, _ = send(t, h, "GET", "/policy/global/1", "", "Authorization", "Bearer "+tok3)
	assert.Equal(t, 401, status, "a rotated key ends its tokens")
	status, _ = send(t, h, "GET", "/policy/global/1", "", "Authorization", "plain-key-1")
	assert.Equal(t, 401, status, "the old key is gone")
	_, tok4 := handshake(t, h, "rotated")
	require.NoError(t, e.DeleteUser(engine.As(1), 2))
	status, _ = send(t, h, "GET", "/policy/global/1", "", "Authorization", "hashed-key")
	assert.Equal(t, 401, status, "a deleted user's key authenticates nobody")
	require.NoError(t, e.DeleteUser(engine.SystemActor(), 1))
	status, _ = send(t, h, "GET", "/policy/global/1", "", "Authorization", "Bearer "+tok4)
	assert.Equal(t, 401, status, "a deleted user's tokens end")

	for _, secret := range []string{"plain-key-1", "rotated", "hashed-key", tok, tok2, tok3, tok4} {
		assert.NotContains(t, logs.String(), secret, "credentials are never logged")
	}
	assert.Contains(t, logs.String(), "/bim/apikey/authenticate", "requests are logged")
}

func TestKeysAreStoredAndExportedAsHashes(t *testing.T) {
	t.Parallel()
	e := authEngine(t)
	out, err := e.Export()
	require.NoError(t, err)
	assert.NotContains(t, string(out), "plain-key-1")
	assert.Contains(t, string(out), `"apiKeyHash": "`+model.HashAPIKey("plain-key-1")+`"`)
	u, ok := e.Snapshot().User(3)
	require.True(t, ok)
	assert.Empty(t, u.APIKeyHash)

	// The export restores an engine whose keys authenticate the same users.
	e2 := engine.New()
	require.NoError(t, e2.Import(out))
	h := rest.NewHandler(e2, nil)
	for key, want := range map[string]int{"plain-key-1": 404, "hashed-key": 404, "key-3": 401} {
		status, body := send(t, h, "GET", "/policy/global/1", "", "Authorization", key)
		assert.Equal(t, want, status, "%s: %s", key, body)
	}
}

func TestAmbiguousKeyAuthenticatesNobody(t *testing.T) {
	t.Parallel()
	e := authEngine(t)
	require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 4, Name: "Copy", APIKeyHash: model.HashAPIKey("plain-key-1")}))
	id, ok := rest.EngineKeys(e).Authenticate("plain-key-1")
	assert.False(t, ok, "got %d", id)
	require.NoError(t, e.DeleteUser(engine.SystemActor(), 4))
	id, ok = rest.EngineKeys(e).Authenticate("plain-key-1")
	assert.True(t, ok)
	assert.Equal(t, int64(1), id)
}
