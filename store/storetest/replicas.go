package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
)

// ReplicaConfig shapes the convergence run of Replicas.
type ReplicaConfig struct {
	// Engines is how many engines share the store (default 3).
	Engines int
	// Writers is how many concurrent writers there are, spread over the engines
	// round robin (default Workers).
	Writers int
	// Duration is how long the writers run.
	Duration time.Duration
	// Seed seeds the writers' command mix.
	Seed int64
	// FullLog says the store retains the whole run's log: then every entry must
	// apply one by one (no reload from the rows but after the seed).
	FullLog bool
}

// Replicas checks that several engines on one store converge: cfg.Writers writers
// spread over cfg.Engines engines opened on stores open returns (all on the same
// state) run the workload's random command mix for cfg.Duration while every engine
// follows the store. Afterwards every engine's Export is identical, and identical
// to an engine opened fresh on the store; every acknowledged policy creation is in
// the change log exactly once and no refused one is; policy and record ids are
// created in log order without gaps; the log's revisions are gap-free.
func Replicas(t *testing.T, open func() engine.Store, cfg ReplicaConfig) {
	if cfg.Engines <= 0 {
		cfg.Engines = 3
	}
	if cfg.Writers <= 0 {
		cfg.Writers = Workers
	}
	require.LessOrEqual(t, cfg.Writers, Workers, "the workload has room for %d writers", Workers)
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	engines := make([]*engine.Engine, cfg.Engines)
	for i := range engines {
		engines[i] = OpenEngine(t, open())
	}
	defer func() {
		for _, e := range engines {
			_ = e.Close()
		}
	}()
	require.NoError(t, engines[0].ApplyBundle(Seed()))
	start := engines[0].Snapshot().Revision()
	startPolicy, startRecord := nextIDs(t, engines[0])
	var follow sync.WaitGroup
	for _, e := range engines {
		follow.Add(1)
		go func() { defer follow.Done(); _ = e.Follow(ctx, 50*time.Millisecond) }()
	}
	for _, e := range engines {
		_, err := e.WaitRevision(ctx, start)
		require.NoError(t, err)
	}

	type outcome struct {
		cmd Command
		err error
	}
	results := make([][]outcome, cfg.Writers)
	deadline := time.Now().Add(cfg.Duration)
	var wg sync.WaitGroup
	for g := 0; g < cfg.Writers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			e := engines[g%len(engines)]
			r := rand.New(rand.NewSource(cfg.Seed*100 + int64(g)))
			for seq := 0; time.Now().Before(deadline); seq++ {
				c := Random(r, e.Snapshot(), g, seq)
				results[g] = append(results[g], outcome{c, Apply(e, c)})
			}
		}(g)
	}
	wg.Wait()

	// Everyone catches up with the last revision any engine wrote.
	var last int64
	for _, e := range engines {
		last = max(last, e.Snapshot().Revision())
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for i, e := range engines {
		_, err := e.WaitRevision(wctx, last)
		require.NoError(t, err, "engine %d catching up to %d", i, last)
	}
	stop()
	follow.Wait()

	for i, e := range engines {
		st := e.ReplicaStatus()
		t.Logf("engine %d: %d entries applied, %d reloads", i, st.Applied, st.Reloads)
		if cfg.FullLog {
			require.LessOrEqual(t, st.Reloads, int64(1), "engine %d reloaded more than once (the seed is a load)", i)
		}
	}
	want := export(t, engines[0])
	for i, e := range engines[1:] {
		require.Equal(t, want, export(t, e), "engine %d differs from engine 0", i+1)
	}
	// The log: gap-free revisions, ids created in order, creations exactly once.
	var log []engine.Change
	for since := start; ; {
		list, err := engines[0].Changes(since, 0)
		if errors.Is(err, engine.ErrFellBehind) {
			t.Logf("the store no longer holds the log from revision %d: its checks are skipped", since)
			log = nil
			break
		}
		require.NoError(t, err)
		if len(list) == 0 {
			break
		}
		log = append(log, list...)
		since = list[len(list)-1].Revision
	}
	if log != nil {
		require.Equal(t, last-start, int64(len(log)), "the log holds every revision after the seed")
	}
	created := map[string]int{}
	nextPolicy, nextRecord := startPolicy, startRecord
	for i, c := range log {
		require.Equal(t, start+int64(i)+1, c.Revision, "revisions are gap-free")
		for _, m := range c.Changes {
			if m.Before != nil || m.After == nil {
				continue
			}
			switch m.Kind {
			case engine.KindPolicy:
				require.Equal(t, fmt.Sprint(nextPolicy), m.ID, "revision %d: policy ids are created in order", c.Revision)
				nextPolicy++
				var p struct {
					Key string `json:"policyKey"`
				}
				require.NoError(t, json.Unmarshal(m.After, &p))
				created[p.Key]++
			case engine.KindRecord:
				require.Equal(t, fmt.Sprint(nextRecord), m.ID, "revision %d: record ids are created in order", c.Revision)
				nextRecord++
			}
		}
	}
	acked, total, lost := 0, 0, 0
	for g := range results {
		for _, o := range results[g] {
			total++
			if o.err == nil {
				acked++
			}
			if errors.Is(o.err, engine.ErrRevisionConflict) {
				// It lost the race engine.ConflictRetries times (every writer of
				// every instance writes flat out here): a 503 that changed
				// nothing, so it must be absent from the log like any refusal.
				lost++
			} else {
				require.False(t, errors.Is(o.err, engine.ErrStore), "writer %d: %+v: %v", g, o.cmd, o.err)
			}
			if o.cmd.Op != "createPolicy" {
				continue
			}
			if log == nil {
				continue
			}
			if o.err == nil {
				require.Equal(t, 1, created[o.cmd.Key], "acknowledged creation of %q in the log", o.cmd.Key)
			} else {
				require.Zero(t, created[o.cmd.Key], "refused creation of %q in the log", o.cmd.Key)
			}
		}
	}
	t.Logf("%d engines, %d writers, %v: %d commands, %d acknowledged, %d lost every race, %d revisions", cfg.Engines, cfg.Writers,
		cfg.Duration, total, acked, lost, len(log))
	require.LessOrEqual(t, lost*20, total, "at most one command in 20 loses every race (a livelock would lose them all)")
	require.Greater(t, acked, cfg.Writers, "the run wrote something")
	// Last: an engine opened on the store (closing it may close a shared store).
	fresh := OpenEngine(t, open())
	require.Equal(t, want, export(t, fresh), "an engine opened on the store differs")
	require.NoError(t, fresh.Close())
}

// nextIDs reads the next policy and record ids from e's export.
func nextIDs(t testing.TB, e *engine.Engine) (policy, record int64) {
	var b struct {
		State struct {
			NextPolicyID int64 `json:"nextPolicyId"`
			NextRecordID int64 `json:"nextRecordId"`
		} `json:"state"`
	}
	require.NoError(t, json.Unmarshal([]byte(export(t, e)), &b))
	return b.State.NextPolicyID, b.State.NextRecordID
}

// ReplicasAreSerial is the law of replication, checked with gopter: commands run
// one at a time, each on an engine picked at random among engines sharing the store
// (none of them syncing between commands, so most run on a stale state, conflict
// and run again), answer and end exactly as the same commands run in the same order
// on one engine: the same refusals, then the same Export on every engine.
// fresh makes a new empty store location for each run and returns its opener (each
// call of which opens the same location).
func ReplicasAreSerial(t *testing.T, fresh func() (open func() engine.Store), engines int) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 20
	props := gopter.NewProperties(params)
	props.Property("replicated commands = the same commands on one engine", prop.ForAll(
		func(seed int64, picks []int) bool {
			open := fresh()
			es := make([]*engine.Engine, engines)
			for i := range es {
				es[i] = OpenEngine(t, open())
			}
			defer func() {
				for _, e := range es {
					_ = e.Close()
				}
			}()
			ref := engine.New(clock())
			require.NoError(t, ref.ApplyBundle(Seed()))
			require.NoError(t, es[0].ApplyBundle(Seed()))
			r := rand.New(rand.NewSource(seed))
			for i, pick := range picks {
				c := Random(r, ref.Snapshot(), i%Workers, i)
				want := Apply(ref, c)
				got := Apply(es[pick%engines], c)
				if (want == nil) != (got == nil) {
					t.Logf("command %d %+v on engine %d: %v, one engine: %v", i, c, pick%engines, got, want)
					return false
				}
			}
			exp := export(t, ref)
			for i, e := range es {
				require.NoError(t, e.Sync(context.Background()))
				if got := export(t, e); got != exp {
					t.Logf("engine %d differs from the serial run", i)
					return false
				}
			}
			return true
		},
		gen.Int64(), gen.SliceOfN(40, gen.IntRange(0, 1000)),
	))
	props.TestingRun(t)
}
