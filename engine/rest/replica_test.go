package rest_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/store/memory"
)

// replicas returns handlers on two engines sharing one store; neither follows it
// unless the test starts Follow.
func replicas(t *testing.T) (ha, hb http.Handler, a, b *engine.Engine, st *memory.Store) {
	t.Helper()
	st = memory.New()
	ctx := context.Background()
	a, err := engine.Open(ctx, st)
	require.NoError(t, err)
	b, err = engine.Open(ctx, st)
	require.NoError(t, err)
	require.NoError(t, a.ApplyBundle(&model.Bundle{Name: "replicas",
		Users: []model.User{{ID: 1, Name: "gov", Permissions: []model.Permission{model.Governance}}}}))
	require.NoError(t, b.Sync(ctx))
	gov := rest.AuthenticatorFunc(func(string) (int64, bool) { return 1, true })
	return rest.NewHandler(a, gov), rest.NewHandler(b, gov), a, b, st
}

func sendTo(h http.Handler, method, path, body string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Authorization", "key")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func revisionOf(t *testing.T, rec *httptest.ResponseRecorder) int64 {
	t.Helper()
	n, err := strconv.ParseInt(rec.Header().Get("X-Tollgate-Revision"), 10, 64)
	require.NoError(t, err, "X-Tollgate-Revision %q", rec.Header().Get("X-Tollgate-Revision"))
	return n
}

const groupBody = `{"id": 7, "name": "seven"}`

func TestMinRevisionReadsYourWritesOnAnotherInstance(t *testing.T) {
	t.Parallel()
	ha, hb, _, _, _ := replicas(t)
	w := sendTo(ha, http.MethodPut, "/tollgate/v1/groups/7", groupBody)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	rev := revisionOf(t, w)
	// Without the header b answers from its own (older) state.
	r := sendTo(hb, http.MethodGet, "/tollgate/v1/export", "")
	require.Equal(t, http.StatusOK, r.Code)
	assert.Less(t, revisionOf(t, r), rev)
	assert.NotContains(t, r.Body.String(), `"seven"`)
	// With it, b catches up first.
	r = sendTo(hb, http.MethodGet, "/tollgate/v1/export", "", "X-Tollgate-Min-Revision", fmt.Sprint(rev))
	require.Equal(t, http.StatusOK, r.Code, r.Body.String())
	assert.GreaterOrEqual(t, revisionOf(t, r), rev)
	assert.Contains(t, r.Body.String(), `"seven"`)
}

func TestMinRevisionRefusals(t *testing.T) {
	t.Parallel()
	ha, _, a, _, _ := replicas(t)
	for _, bad := range []string{"x", "-1", "1.5", ""} {
		r := sendTo(ha, http.MethodGet, "/tollgate/v1/export", "", "X-Tollgate-Min-Revision", bad)
		assert.Equal(t, http.StatusBadRequest, r.Code, "%q: %s", bad, r.Body.String())
		assert.Contains(t, r.Body.String(), "X-Tollgate-Min-Revision")
	}
	r := sendTo(ha, http.MethodGet, "/tollgate/v1/export", "", "X-Tollgate-Min-Revision", "1", "X-Tollgate-Min-Revision", "1")
	assert.Equal(t, http.StatusBadRequest, r.Code, r.Body.String())
	// A revision no instance wrote: 503 after the wait, state unchanged.
	before := a.Snapshot().Revision()
	start := time.Now()
	r = sendTo(ha, http.MethodPut, "/tollgate/v1/groups/7", groupBody, "X-Tollgate-Min-Revision", fmt.Sprint(before+5))
	assert.Equal(t, http.StatusServiceUnavailable, r.Code, r.Body.String())
	assert.GreaterOrEqual(t, time.Since(start), rest.MinRevisionWait)
	assert.Equal(t, "1", r.Header().Get("Retry-After"))
	assert.Equal(t, before, revisionOf(t, r))
	assert.Equal(t, before, a.Snapshot().Revision(), "the refused write changed nothing")
}

func TestReadyzFollowsTheStore(t *testing.T) {
	t.Parallel()
	_, hb, _, b, st := replicas(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); _ = b.Follow(ctx, 20*time.Millisecond) }()
	_, err := b.WaitRevision(ctx, 1)
	require.NoError(t, err)
	ready := func() bool { return sendTo(hb, http.MethodGet, "/readyz", "").Code == http.StatusOK }
	require.Eventually(t, ready, 10*time.Second, 10*time.Millisecond, "a follower that synced is ready")
	// The store goes away: reads keep answering, writes are 503, readyz is not ready.
	require.NoError(t, st.Close())
	require.Eventually(t, func() bool { return !ready() }, 10*time.Second, 10*time.Millisecond)
	r := sendTo(hb, http.MethodGet, "/readyz", "")
	assert.Contains(t, r.Body.String(), "store is unreachable")
	assert.Equal(t, http.StatusOK, sendTo(hb, http.MethodGet, "/tollgate/v1/export", "").Code)
	assert.Equal(t, http.StatusServiceUnavailable, sendTo(hb, http.MethodPut, "/tollgate/v1/groups/8", `{"id": 8, "name": "eight"}`).Code)
	// It comes back: ready again, writes resume.
	st.Reopen()
	require.Eventually(t, ready, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, http.StatusOK, sendTo(hb, http.MethodPut, "/tollgate/v1/groups/8", `{"id": 8, "name": "eight"}`).Code)
	cancel()
	<-done
}
