package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// server is one run of serve in the test process.
type server struct {
	t      *testing.T
	base   string
	cancel context.CancelFunc
	done   chan int
	out    *syncBuffer
	logs   *syncBuffer
}

func startServe(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	s := &server{t: t, cancel: cancel, done: make(chan int, 1), out: &syncBuffer{}, logs: &syncBuffer{}}
	c := &cli{ctx: ctx, stdout: s.out, stderr: s.logs, ready: func(a string) { addr <- a }}
	go func() { s.done <- c.run(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()
	select {
	case a := <-addr:
		s.base = "http://" + a
	case code := <-s.done:
		cancel()
		t.Fatalf("serve exited with %d: %s", code, s.logs.String())
	}
	return s
}

func (s *server) call(method, path, key, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	require.NoError(s.t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(s.t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(s.t, err)
	return resp.StatusCode, string(b)
}

func (s *server) stop() {
	s.t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		assert.Equal(s.t, exitOK, code)
	case <-time.After(15 * time.Second):
		s.t.Fatal("serve did not stop")
	}
}

const storeBundle = `
name: durable org
users:
  - {id: 1, name: Gov, apiKey: k-gov, permissions: [GOVERNANCE]}
dataSources:
  - {id: 1, name: open, tags: [Open]}
`

const anyonePolicy = `{"name": "Anyone", "policyKey": "anyone", "type": "subscription", "actions": {"type": "anyone"}, "circumstances": [{"type": "tags", "tag": "Open"}]}`

func TestServeStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := writeFile(t, dir, "org.yaml", storeBundle)
	db := filepath.Join(dir, "state.db")

	s := startServe(t, bundle, "--store", "sqlite:"+db)
	status, body := s.call("POST", "/api/v2/policy", "k-gov", anyonePolicy)
	require.Equal(t, 200, status, body)
	status, body = s.call("GET", "/tollgate/v1/changes?since=1", "k-gov", "")
	require.Equal(t, 200, status, body)
	assert.Contains(t, body, `"op":"createPolicy"`)
	s.stop()
	assert.Contains(t, s.out.String(), "tollgate: state in sqlite:"+db+" (revision 1)")
	assert.Contains(t, s.logs.String(), "seeded it from the bundle")

	// Restarted: the store wins over the bundle and says so.
	s = startServe(t, bundle, "--store", "sqlite:"+db)
	status, body = s.call("GET", "/policy/global/1", "k-gov", "")
	assert.Equal(t, 200, status, body)
	assert.Contains(t, body, `"name":"Anyone"`)
	s.stop()
	assert.Contains(t, s.out.String(), "(revision 2)")
	assert.Contains(t, s.logs.String(), "the store holds state: it wins over the bundle")

	// --reset reloads the bundle, as one more write.
	s = startServe(t, bundle, "--store", "sqlite:"+db, "--reset")
	status, _ = s.call("GET", "/policy/global/1", "k-gov", "")
	assert.Equal(t, 404, status)
	s.stop()
	assert.Contains(t, s.out.String(), "(revision 3)")
	assert.Contains(t, s.logs.String(), "--reset: replaced the store's state with the bundle")
}

func TestServeMemoryStore(t *testing.T) {
	t.Parallel()
	bundle := writeFile(t, t.TempDir(), "org.yaml", storeBundle)
	s := startServe(t, bundle, "--store", "memory")
	status, body := s.call("POST", "/api/v2/policy", "k-gov", anyonePolicy)
	require.Equal(t, 200, status, body)
	s.stop()
	assert.Contains(t, s.out.String(), "tollgate: state in memory (lost when the process stops)")
}

func TestServeRestoresAnExport(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := writeFile(t, dir, "org.yaml", storeBundle)
	s := startServe(t, bundle, "--store", "sqlite:"+filepath.Join(dir, "a.db"))
	status, body := s.call("POST", "/api/v2/policy", "k-gov", anyonePolicy)
	require.Equal(t, 200, status, body)
	status, _ = s.call("DELETE", "/policy/global/1", "k-gov", "")
	require.Equal(t, 200, status)
	status, body = s.call("POST", "/api/v2/policy", "k-gov", anyonePolicy)
	require.Equal(t, 200, status, body)
	status, export := s.call("GET", "/tollgate/v1/export", "k-gov", "")
	require.Equal(t, 200, status, export)
	s.stop()

	// A new store seeded from the export: ids, keys and the revision come back.
	file := writeFile(t, dir, "export.json", export)
	s = startServe(t, file, "--store", "sqlite:"+filepath.Join(dir, "b.db"))
	status, body = s.call("GET", "/policy/global/2", "k-gov", "")
	assert.Equal(t, 200, status, body)
	status, _ = s.call("GET", "/policy/global/1", "k-gov", "")
	assert.Equal(t, 404, status)
	status, again := s.call("GET", "/tollgate/v1/export", "k-gov", "")
	require.Equal(t, 200, status)
	assert.Equal(t, export, again, "the restored state exports identically")
	s.stop()
	assert.Contains(t, s.out.String(), "(revision 4)")
}
