package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clockBundle: user 3's owner grant on data source 6 expired in 2021 by the wall
// clock, but not at the bundle's now (2020).
const clockBundle = `
name: clock
now: 2020-06-01T00:00:00Z
users:
  - {id: 2, name: Gov, apiKey: k-gov, permissions: [GOVERNANCE]}
  - {id: 3, name: Former owner, apiKey: k-3}
dataSources:
  - {id: 6, name: claims}
grants:
  - {dataSourceId: 6, profileId: 3, state: owner, expiration: "2021-01-01"}
`

// serveStatus serves bundle with args, sends one call as key and returns its
// status, then stops the server.
func serveStatus(t *testing.T, bundle string, args []string, method, path, key, body string) int {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr := make(chan string, 1)
	var out, logs syncBuffer
	c := &cli{ctx: ctx, stdout: &out, stderr: &logs, ready: func(a string) { addr <- a }}
	done := make(chan int, 1)
	go func() {
		done <- c.run(append([]string{"serve", bundle, "--addr", "127.0.0.1:0", "--store", "memory"}, args...))
	}()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case code := <-done:
		t.Fatalf("serve exited with %d: %s", code, logs.String())
	}
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code)
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	return resp.StatusCode
}

// TestServeUsesTheWallClock (issue 12 item 8): serve runs on the wall clock by
// default, so an owner grant that expired in 2021 no longer lets its holder grant
// themselves WRITE; --clock bundle (opt-in) freezes the clock at the bundle's now,
// where the grant still holds.
func TestServeUsesTheWallClock(t *testing.T) {
	t.Parallel()
	file := writeFile(t, t.TempDir(), "clock.yaml", clockBundle)
	const grant = `{"profileId": 3, "state": "subscribed", "accessGrant": "WRITE"}`
	assert.Equal(t, 403, serveStatus(t, file, nil, "POST", "/dataSource/6/access", "k-3", grant),
		"by default the wall clock ends the owner grant")
	assert.Equal(t, 403, serveStatus(t, file, []string{"--clock", "system"}, "POST", "/dataSource/6/access", "k-3", grant))
	assert.Equal(t, 200, serveStatus(t, file, []string{"--clock", "bundle"}, "POST", "/dataSource/6/access", "k-3", grant),
		"--clock bundle: at the bundle's now the grant holds")
}
