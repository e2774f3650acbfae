package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/store/postgres/pgtest"
)

// TestServeChild is `tollgate serve` in a child process of the tests below (the
// test binary run again): it serves with the arguments in TOLLGATE_SERVE_CHILD and
// prints "listening ADDR" once it accepts connections.
func TestServeChild(t *testing.T) {
	raw := os.Getenv("TOLLGATE_SERVE_CHILD")
	if raw == "" {
		t.Skip("runs only as a child process of the serve tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &cli{ctx: ctx, stdout: os.Stderr, stderr: os.Stderr, ready: func(a string) { fmt.Printf("listening %s\n", a) }}
	os.Exit(c.run(append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)))
}

// proc is one `tollgate serve` process.
type proc struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
}

func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestServeChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TOLLGATE_SERVE_CHILD="+string(raw))
	p := &proc{t: t, cmd: cmd, logs: &syncBuffer{}}
	cmd.Stderr = p.logs
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				addr <- a
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		require.True(t, ok, "serve exited: %s", p.logs.String())
		p.base = "http://" + a
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not start: %s", p.logs.String())
	}
	return p
}

// do sends a request; it returns the status (0 when the process does not answer),
// the body and the X-Tollgate-Revision.
func (p *proc) do(method, path, body string, header ...string) (int, string, int64) {
	req, err := http.NewRequest(method, p.base+path, strings.NewReader(body))
	require.NoError(p.t, err)
	req.Header.Set("Authorization", "k-gov")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error(), 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	rev, _ := strconv.ParseInt(resp.Header.Get("X-Tollgate-Revision"), 10, 64)
	return resp.StatusCode, string(b), rev
}

func bundleFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bundle.yaml")
	require.NoError(t, os.WriteFile(path, []byte(storeBundle), 0o600))
	return path
}

func TestTwoServeProcessesOnPostgres(t *testing.T) {
	dsn := pgtest.Schema(t)
	bundle := bundleFile(t)
	a := startProc(t, bundle, "--store", dsn)
	b := startProc(t, bundle, "--store", dsn)
	for i := 0; i < 5; i++ {
		body := fmt.Sprintf(`{"id": %d, "name": "group-%d"}`, 10+i, i)
		status, out, rev := a.do(http.MethodPut, fmt.Sprintf("/tollgate/v1/groups/%d", 10+i), body)
		require.Equal(t, http.StatusOK, status, out)
		require.Positive(t, rev)
		// Read your write on the other instance at once.
		status, out, got := b.do(http.MethodGet, "/tollgate/v1/export", "", "X-Tollgate-Min-Revision", fmt.Sprint(rev))
		require.Equal(t, http.StatusOK, status, out)
		require.GreaterOrEqual(t, got, rev)
		require.Contains(t, out, fmt.Sprintf(`"group-%d"`, i))
	}
	// Without the header the write shows within 1.5 s (LISTEN/NOTIFY, else polling).
	status, out, rev := b.do(http.MethodPut, "/tollgate/v1/groups/20", `{"id": 20, "name": "from-b"}`)
	require.Equal(t, http.StatusOK, status, out)
	start := time.Now()
	for {
		_, out, got := a.do(http.MethodGet, "/tollgate/v1/export", "")
		if got >= rev {
			require.Contains(t, out, `"from-b"`)
			break
		}
		require.Less(t, time.Since(start), 1500*time.Millisecond, "b's write not visible on a after 1.5 s")
		time.Sleep(20 * time.Millisecond) // polling the other process; the bound is what is tested
	}
	t.Logf("b's write visible on a after %v", time.Since(start))
	for _, p := range []*proc{a, b} {
		status, out, _ := p.do(http.MethodGet, "/readyz", "")
		assert.Equal(t, http.StatusOK, status, out)
	}
}
