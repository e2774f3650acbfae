package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestServeKill9 kills `tollgate serve` with SIGKILL while clients write, starts it
// again on the same file store and checks that every acknowledged write answers.
func TestServeKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := writeFile(t, dir, "org.yaml", storeBundle)
	db := filepath.Join(dir, "state.db")
	args := []string{bundle, "--store", "sqlite:" + db}
	acked := map[string]int64{} // policy key -> id
	var mu sync.Mutex
	for round := 0; round < 3; round++ {
		p := startProc(t, args...)
		cmd, base := p.cmd, p.base
		var wg sync.WaitGroup
		var n sync.WaitGroup
		n.Add(30)
		counted := 0
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for i := 0; ; i++ {
					key := fmt.Sprintf("r%d-w%d-%d", round, w, i)
					body := strings.Replace(anyonePolicy, `"anyone"`, `"`+key+`"`, 1)
					req, _ := http.NewRequest("POST", base+"/api/v2/policy", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "k-gov")
					resp, err := http.DefaultClient.Do(req)
					if err != nil {
						return // killed
					}
					var p struct {
						ID int64 `json:"id"`
					}
					err = json.NewDecoder(resp.Body).Decode(&p)
					resp.Body.Close()
					if err != nil || resp.StatusCode != 200 {
						return
					}
					mu.Lock()
					acked[key] = p.ID
					if counted < 30 {
						counted++
						n.Done()
					}
					mu.Unlock()
				}
			}(w)
		}
		n.Wait()
		require.NoError(t, cmd.Process.Kill())
		_ = cmd.Wait() // killed
		wg.Wait()
	}
	base := startProc(t, args...).base
	require.GreaterOrEqual(t, len(acked), 90)
	for key, id := range acked {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/policy/global/%d", base, id), nil)
		req.Header.Set("Authorization", "k-gov")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var p struct {
			PolicyKey string `json:"policyKey"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&p))
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode, "acknowledged policy %s (id %d)", key, id)
		assert.Equal(t, key, p.PolicyKey, "policy %d", id)
	}
}
