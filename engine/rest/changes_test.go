package rest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/store/memory"
)

func TestChangesFeed(t *testing.T) {
	t.Parallel()
	h, e := newHandler(t)
	a := do(t, h, call{method: "GET", path: "/tollgate/v1/changes", key: seedKey})
	require.Equal(t, 200, a.status, a.raw)
	assert.EqualValues(t, 1, a.body["revision"])
	list := a.body["changes"].([]any)
	require.Len(t, list, 1)
	first := list[0].(map[string]any)
	assert.Equal(t, "load", first["op"])
	assert.EqualValues(t, 0, first["actor"])
	assert.Equal(t, "2026-01-01T00:00:00Z", first["time"])

	// A write appears after since.
	_, _, err := e.CreatePolicy(engine.As(1), &model.Policy{Key: "k", Name: "k", Type: model.PolicySubscription,
		Action: model.Action{Type: model.ActionAnyone, AccessGrant: model.Read}}, engine.WriteOptions{})
	require.NoError(t, err)
	a = do(t, h, call{method: "GET", path: "/tollgate/v1/changes?since=1&limit=5", key: seedKey})
	require.Equal(t, 200, a.status, a.raw)
	list = a.body["changes"].([]any)
	require.Len(t, list, 1)
	c := list[0].(map[string]any)
	assert.EqualValues(t, 2, c["revision"])
	assert.EqualValues(t, 1, c["actor"])
	assert.Equal(t, "createPolicy", c["op"])
	m := c["changes"].([]any)[0].(map[string]any)
	assert.Equal(t, "policy", m["kind"])
	assert.Equal(t, "3", m["id"])
	assert.NotContains(t, m, "before")
	assert.Equal(t, "k", m["after"].(map[string]any)["policyKey"])

	// Nothing newer: an empty list, also after a short wait.
	a = do(t, h, call{method: "GET", path: "/tollgate/v1/changes?since=2&wait=1ms", key: seedKey})
	require.Equal(t, 200, a.status, a.raw)
	assert.Empty(t, a.body["changes"])
	assert.EqualValues(t, 2, a.body["revision"])
}

func TestChangesLongPollWakesOnWrite(t *testing.T) {
	t.Parallel()
	h, e := newHandler(t)
	got := make(chan answer, 1)
	go func() {
		got <- do(t, h, call{method: "GET", path: "/tollgate/v1/changes?since=1&wait=30s", key: seedKey})
	}()
	require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: 9, Name: "late"}))
	a := <-got
	require.Equal(t, 200, a.status, a.raw)
	list := a.body["changes"].([]any)
	require.Len(t, list, 1)
	assert.Equal(t, "putGroup", list[0].(map[string]any)["op"])
}

func TestChangesRefusals(t *testing.T) {
	t.Parallel()
	h, _ := newHandler(t)
	for _, tc := range []struct {
		name, path, key string
		status          int
		message         string
	}{
		{"no credentials", "/tollgate/v1/changes", "", 401, ""},
		{"not GOVERNANCE or AUDIT", "/tollgate/v1/changes", "key-4", 403, "GOVERNANCE or AUDIT"},
		{"USER_ADMIN is not enough", "/tollgate/v1/changes", "key-5", 403, "GOVERNANCE or AUDIT"},
		{"negative since", "/tollgate/v1/changes?since=-1", seedKey, 400, "query.since"},
		{"zero limit", "/tollgate/v1/changes?limit=0", seedKey, 400, "query.limit"},
		{"limit too large", "/tollgate/v1/changes?limit=1001", seedKey, 400, "query.limit"},
		{"bad wait", "/tollgate/v1/changes?wait=soon", seedKey, 400, "query.wait"},
		{"wait too long", "/tollgate/v1/changes?wait=1h", seedKey, 400, "query.wait"},
		{"since twice", "/tollgate/v1/changes?since=1&since=2", seedKey, 400, "query.since"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, h, call{method: "GET", path: tc.path, key: tc.key})
			assert.Equal(t, tc.status, a.status, a.raw)
			assert.Contains(t, a.message(), tc.message)
		})
	}
}

func TestChangesFellBehindIsGone(t *testing.T) {
	t.Parallel()
	e := engine.New(engine.WithRetention(2))
	require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 1, Name: "a", APIKeyHash: model.HashAPIKey("k"), Permissions: []model.Permission{model.Audit}}))
	for i := int64(1); i <= 5; i++ {
		require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: i, Name: fmt.Sprint("g", i)}))
	}
	h := rest.NewHandler(e, rest.EngineKeys(e))
	a := do(t, h, call{method: "GET", path: "/tollgate/v1/changes?since=0", key: "k"})
	assert.Equal(t, 410, a.status, a.raw)
	assert.Contains(t, a.message(), "export")
	a = do(t, h, call{method: "GET", path: "/tollgate/v1/changes?since=4", key: "k"})
	assert.Equal(t, 200, a.status, a.raw)
}

// brokenStore refuses every commit.
type brokenStore struct{ engine.Store }

func (brokenStore) Commit(context.Context, int64, []*engine.Change) error {
	return errors.New("disk on fire")
}

func TestStoreFailureIs503AndChangesNothing(t *testing.T) {
	t.Parallel()
	st := memory.New()
	e, err := engine.Open(context.Background(), st, engine.WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	b, err := model.DecodeBundle([]byte(fixture), model.DefaultLimits())
	require.NoError(t, err)
	require.NoError(t, e.ApplyBundle(b))
	require.NoError(t, e.Close())
	e, err = engine.Open(context.Background(), brokenStore{st.Reopen()}, engine.WithClock(func() time.Time { return now }))
	require.NoError(t, err)
	before, err := e.Export()
	require.NoError(t, err)
	h := rest.NewHandler(e, rest.EngineKeys(e))
	a := do(t, h, call{method: "POST", path: "/api/v2/policy", key: seedKey, contentType: yamlCT, body: seedV2Anyone})
	assert.Equal(t, 503, a.status, a.raw)
	assert.Equal(t, "Service Unavailable", a.body["error"])
	after, err := e.Export()
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
	// Reads keep answering.
	a = do(t, h, call{method: "GET", path: "/policy/global/1", key: seedKey})
	assert.Equal(t, 200, a.status, a.raw)
}
