package sqlite_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/sqlite"
	"github.com/tollgate-dev/tollgate/store/storetest"
)

// The crash test's child process: the test binary run again with these variables.
const (
	envChildDB   = "TOLLGATE_CRASH_CHILD_DB"
	envChildSeed = "TOLLGATE_CRASH_CHILD_SEED"
	envKills     = "TOLLGATE_CRASH_KILLS"
	crashWorkers = 4
)

func fixedClock() engine.Option {
	return engine.WithClock(func() time.Time { return storetest.T0 })
}

// TestCrashChild is the child process of TestCrashKill9 (it does nothing when run
// directly): it opens the store and runs random writes from several goroutines
// until it is killed, reporting on stdout "B g COMMAND" before each write of worker
// g and "A g REVISION" once it was acknowledged (or "N g" when it was refused or
// changed nothing).
func TestCrashChild(t *testing.T) {
	db := os.Getenv(envChildDB)
	if db == "" {
		t.Skip("the crash test's child process")
	}
	seed, _ := strconv.ParseInt(os.Getenv(envChildSeed), 10, 64)
	var mu sync.Mutex
	report := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
	var last [storetest.Workers]atomic.Int64
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		report("E %v", err)
		os.Exit(2)
	}
	e, err := engine.Open(context.Background(), st, fixedClock(), engine.WithChangeCallback(func(c engine.Change) {
		if g := storetest.WorkerOf(c.Actor); g >= 0 {
			last[g].Store(c.Revision)
		}
	}))
	if err != nil {
		report("E %v", err)
		os.Exit(2)
	}
	report("R %d", e.Snapshot().Revision())
	var wg sync.WaitGroup
	for g := 0; g < crashWorkers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed*100 + int64(g)))
			for i := 0; ; i++ {
				c := storetest.Random(r, e.Snapshot(), g, int(seed)*100000+i)
				raw, _ := json.Marshal(c)
				last[g].Store(0)
				report("B %d %s", g, raw)
				if err := storetest.Apply(e, c); err == nil && last[g].Load() > 0 {
					report("A %d %d", g, last[g].Load())
				} else {
					report("N %d", g)
				}
			}
		}(g)
	}
	wg.Wait()
}

// TestCrashKill9 runs the child process on one store file and kills it with
// SIGKILL at random moments (after a random number of its reports), at least 50
// times. After each kill it reopens the store and checks that every acknowledged
// write is there, that a write in flight at the kill is wholly present or wholly
// absent, and that the state equals a reference engine that applied exactly those
// writes, in revision order (comparing Export()).
func TestCrashKill9(t *testing.T) {
	if os.Getenv(envChildDB) != "" {
		t.Skip("in the child process")
	}
	t.Parallel()
	kills := 50
	if s := os.Getenv(envKills); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err)
		kills = n
	}
	ctx := context.Background()
	db := filepath.Join(t.TempDir(), "crash.db")
	ref := engine.New(fixedClock())
	require.NoError(t, ref.ApplyBundle(storetest.Seed()))
	{
		st, err := sqlite.Open(ctx, db)
		require.NoError(t, err)
		e, err := engine.Open(ctx, st, fixedClock())
		require.NoError(t, err)
		require.NoError(t, e.ApplyBundle(storetest.Seed()))
		require.NoError(t, e.Close())
	}
	r := rand.New(rand.NewSource(42))
	acked, inflightSeen := 0, 0
	for k := 0; k < kills; k++ {
		acks, inflight := runAndKill(t, db, int64(k), 1+r.Intn(120))
		acked += len(acks)
		st, err := sqlite.Open(ctx, db)
		require.NoError(t, err)
		e, err := engine.Open(ctx, st, fixedClock())
		require.NoError(t, err, "kill %d: reopening", k)
		// What the store holds beyond the reference: each entry is an acknowledged
		// write, or the write that worker was making when it was killed.
		var entries []engine.Change
		for since := ref.Snapshot().Revision(); ; {
			page, err := e.Changes(since, 0)
			require.NoError(t, err)
			if len(page) == 0 {
				break
			}
			entries = append(entries, page...)
			since = page[len(page)-1].Revision
		}
		used := map[int]bool{}
		for _, c := range entries {
			cmd, ok := acks[c.Revision]
			if !ok {
				g := storetest.WorkerOf(c.Actor)
				in, found := inflight[g]
				require.True(t, found && !used[g], "kill %d: revision %d (actor %d) is neither acknowledged nor in flight", k, c.Revision, c.Actor.ID)
				used[g] = true
				cmd = in
				inflightSeen++
			}
			delete(acks, c.Revision)
			require.NoError(t, storetest.Apply(ref, cmd), "kill %d: the reference refused %+v", k, cmd)
			require.Equal(t, c.Revision, ref.Snapshot().Revision(), "kill %d: %+v made another revision", k, cmd)
		}
		require.Empty(t, acks, "kill %d: acknowledged writes are missing", k)
		want, err := ref.Export()
		require.NoError(t, err)
		got, err := e.Export()
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "kill %d: the reopened state differs from the reference", k)
		require.NoError(t, e.Close())
	}
	t.Logf("%d kills, %d acknowledged writes, %d writes in flight found committed, final revision %d",
		kills, acked, inflightSeen, ref.Snapshot().Revision())
	require.Greater(t, acked, kills, "the children acknowledged too few writes to test anything")
}

// runAndKill starts the child on db, kills it after it reported `after` lines (or
// when it ends) and returns the acknowledged writes by revision and the write each
// worker had in flight.
func runAndKill(t *testing.T, db string, seed int64, after int) (map[int64]storetest.Command, map[int]storetest.Command) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), envChildDB+"="+db, fmt.Sprintf("%s=%d", envChildSeed, seed))
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	acks := map[int64]storetest.Command{}
	inflight := map[int]storetest.Command{}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n, killed := 0, false
	for sc.Scan() {
		line := sc.Text()
		n++
		if !killed && n >= after && strings.HasPrefix(line, "B ") {
			require.NoError(t, cmd.Process.Kill())
			killed = true
		}
		f := strings.SplitN(line, " ", 3)
		switch f[0] {
		case "R":
		case "E":
			t.Fatalf("child: %s", line)
		case "B":
			g, _ := strconv.Atoi(f[1])
			var c storetest.Command
			require.NoError(t, json.Unmarshal([]byte(f[2]), &c))
			inflight[g] = c
		case "A":
			g, _ := strconv.Atoi(f[1])
			rev, _ := strconv.ParseInt(f[2], 10, 64)
			acks[rev] = inflight[g]
			delete(inflight, g)
		case "N":
			g, _ := strconv.Atoi(f[1])
			delete(inflight, g)
		case "PASS", "ok", "---", "===":
		default:
			if !strings.HasPrefix(line, "testing:") {
				t.Logf("child: %s", line)
			}
		}
	}
	if !killed {
		require.NoError(t, cmd.Process.Kill())
	}
	_ = cmd.Wait() // killed: the error says so
	return acks, inflight
}
