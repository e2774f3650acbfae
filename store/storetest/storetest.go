package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// NewStore makes a fresh, empty store location keeping the last retention log
// entries and returns a function that opens it; after an engine closed the store
// that function returned, calling it again must return a store holding everything
// committed before.
type NewStore func(t *testing.T, retention int) (open func() engine.Store)

// Run runs the conformance suite on the stores newStore makes.
func Run(t *testing.T, newStore NewStore) {
	t.Run("RoundTripEveryKind", func(t *testing.T) { roundTripEveryKind(t, newStore) })
	t.Run("RevisionsInOrder", func(t *testing.T) { revisionsInOrder(t, newStore) })
	t.Run("Retention", func(t *testing.T) { retention(t, newStore) })
	t.Run("ReopenSameState", func(t *testing.T) { reopenSameState(t, newStore) })
	t.Run("ConcurrentWriters", func(t *testing.T) { concurrentWriters(t, newStore) })
	t.Run("InjectedFailures", func(t *testing.T) { injectedFailures(t, newStore) })
	t.Run("ConcurrentFailures", func(t *testing.T) { concurrentFailures(t, newStore) })
	t.Run("RevisionConflict", func(t *testing.T) { revisionConflict(t, newStore) })
}

func clock() engine.Option { return engine.WithClock(func() time.Time { return T0 }) }

// OpenEngine opens an engine with the workload's clock on st.
func OpenEngine(t testing.TB, st engine.Store) *engine.Engine {
	t.Helper()
	e, err := engine.Open(context.Background(), st, clock())
	require.NoError(t, err)
	return e
}

func export(t testing.TB, e *engine.Engine) string {
	t.Helper()
	b, err := e.Export()
	require.NoError(t, err)
	return string(b)
}

// reopen closes e and opens its store again, checking the state survived.
func reopen(t testing.TB, e *engine.Engine, open func() engine.Store) *engine.Engine {
	t.Helper()
	before := export(t, e)
	rev := e.Snapshot().Revision()
	require.NoError(t, e.Close())
	n := OpenEngine(t, open())
	require.Equal(t, rev, n.Snapshot().Revision(), "reopened at another revision")
	require.Equal(t, before, export(t, n), "reopened with another state")
	return n
}

func seeded(t testing.TB, open func() engine.Store) *engine.Engine {
	t.Helper()
	e := OpenEngine(t, open())
	require.Equal(t, int64(0), e.Snapshot().Revision(), "a new store is empty")
	require.NoError(t, e.ApplyBundle(Seed()))
	return e
}

func roundTripEveryKind(t *testing.T, newStore NewStore) {
	open := newStore(t, engine.DefaultRetention)
	e := seeded(t, open)
	e = reopen(t, e, open)
	gov := Governor(0)
	must := func(c Command) {
		t.Helper()
		require.NoError(t, Apply(e, c), "%+v", c)
		e = reopen(t, e, open)
	}
	must(Command{Op: "createPolicy", Actor: gov, Key: "k1", N: 12}) // with a certification
	must(Command{Op: "recertify", Actor: gov, ID: 3, Key: "k1", N: 12})
	must(Command{Op: "putGroup", Actor: gov, ID: 4, N: 1})
	must(Command{Op: "putUser", Actor: gov, ID: 510, N: 2})
	must(Command{Op: "putDataSource", Actor: gov, ID: 21, N: 3})
	must(Command{Op: "disable", Actor: gov, ID: 1, DS: 5})
	must(Command{Op: "grant", Actor: gov, DS: 21, User: 510, N: 4})
	must(Command{Op: "request", Actor: Requester(0, 0), DS: 6, N: 1}) // T1: approval, pending
	recs := e.Snapshot().Records()
	pending := recs[len(recs)-1]
	require.Equal(t, model.RecordPending, pending.State)
	must(Command{Op: "approve", Actor: gov, ID: pending.ID})
	must(Command{Op: "request", Actor: Requester(0, 1), DS: 6, N: 1})
	recs = e.Snapshot().Records()
	must(Command{Op: "deny", Actor: gov, ID: recs[len(recs)-1].ID})
	must(Command{Op: "changeRecord", Actor: gov, ID: pending.ID, DS: 6, N: 1})
	must(Command{Op: "enable", Actor: gov, ID: 1, DS: 5})
	must(Command{Op: "deleteUser", Actor: gov, ID: 510})
	must(Command{Op: "deleteGroup", Actor: gov, ID: 4})
	must(Command{Op: "deleteDataSource", Actor: gov, ID: 21})
	must(Command{Op: "deletePolicy", Actor: gov, ID: 3})
	// Every kind went through the store.
	seen := map[engine.Kind]bool{}
	all, err := e.Changes(0, 0)
	require.NoError(t, err)
	for _, c := range all {
		for _, m := range c.Changes {
			seen[m.Kind] = true
		}
	}
	for _, k := range []engine.Kind{engine.KindPolicy, engine.KindDataSource, engine.KindUser, engine.KindGroup,
		engine.KindRecord, engine.KindDisable, engine.KindCertification, engine.KindCounter} {
		assert.True(t, seen[k], "no %s mutation", k)
	}
	require.NoError(t, e.Close())
}

// run applies count random commands of worker 0 to e, returning how many wrote.
func run(t testing.TB, e *engine.Engine, r *rand.Rand, count int) int {
	wrote := 0
	for i := 0; i < count; i++ {
		rev := e.Snapshot().Revision()
		c := Random(r, e.Snapshot(), 0, i)
		if err := Apply(e, c); err != nil {
			require.False(t, errors.Is(err, engine.ErrStore), "%+v: %v", c, err)
			require.Equal(t, rev, e.Snapshot().Revision(), "a refused write moved the revision")
			continue
		}
		if e.Snapshot().Revision() > rev {
			wrote++
		}
	}
	return wrote
}

func revisionsInOrder(t *testing.T, newStore NewStore) {
	open := newStore(t, engine.DefaultRetention)
	e := seeded(t, open)
	run(t, e, rand.New(rand.NewSource(1)), 150)
	want, err := e.Changes(0, 0)
	require.NoError(t, err)
	e = reopen(t, e, open)
	// After a reopen the log comes from the store: the same entries, in order,
	// revisions 1, 2, ... with no gap.
	var got []engine.Change
	for since := int64(0); ; {
		page, err := e.Changes(since, 7)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		got = append(got, page...)
		since = page[len(page)-1].Revision
	}
	require.Equal(t, len(want), len(got))
	for i := range got {
		require.Equal(t, int64(i+1), got[i].Revision)
		a, _ := json.Marshal(want[i])
		b, _ := json.Marshal(got[i])
		require.JSONEq(t, string(a), string(b), "entry %d", i+1)
	}
	require.Equal(t, e.Snapshot().Revision(), got[len(got)-1].Revision)
	require.NoError(t, e.Close())
}

func retention(t *testing.T, newStore NewStore) {
	open := newStore(t, 10)
	e := seeded(t, open)
	run(t, e, rand.New(rand.NewSource(2)), 80)
	e = reopen(t, e, open)
	rev := e.Snapshot().Revision()
	require.Greater(t, rev, int64(20))
	_, err := e.Changes(0, 0)
	require.ErrorIs(t, err, engine.ErrFellBehind)
	_, err = e.Changes(rev-11, 0)
	require.ErrorIs(t, err, engine.ErrFellBehind)
	got, err := e.Changes(rev-10, 0)
	require.NoError(t, err)
	require.Len(t, got, 10)
	assert.Equal(t, rev-9, got[0].Revision)
	assert.Equal(t, rev, got[9].Revision)
	require.NoError(t, e.Close())
}

func reopenSameState(t *testing.T, newStore NewStore) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 12
	if testing.Short() {
		params.MinSuccessfulTests = 5
	}
	props := gopter.NewProperties(params)
	props.Property("any write sequence reopens to the identical export", prop.ForAll(
		func(seed int64, n int, reopens []int) bool {
			open := newStore(t, engine.DefaultRetention)
			e := seeded(t, open)
			r := rand.New(rand.NewSource(seed))
			done := 0
			for _, k := range reopens {
				run(t, e, r, k)
				done += k
				e = reopen(t, e, open)
			}
			run(t, e, r, n)
			e = reopen(t, e, open)
			return e.Close() == nil
		},
		gen.Int64(), gen.IntRange(0, 60), gen.SliceOfN(3, gen.IntRange(0, 30)),
	))
	props.TestingRun(t)
}

func concurrentWriters(t *testing.T, newStore NewStore) {
	open := newStore(t, engine.DefaultRetention)
	e := seeded(t, open)
	start := e.Snapshot().Revision()
	var wrote atomic.Int64
	var wg sync.WaitGroup
	per := 40
	if testing.Short() {
		per = 15
	}
	for g := 0; g < Workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			for i := 0; i < per; i++ {
				if err := Apply(e, Random(r, e.Snapshot(), g, i)); err != nil {
					if errors.Is(err, engine.ErrStore) {
						t.Errorf("worker %d: %v", g, err)
						return
					}
					continue
				}
				wrote.Add(1)
			}
		}(g)
	}
	wg.Wait()
	all, err := e.Changes(start, 0)
	require.NoError(t, err)
	for i, c := range all {
		require.Equal(t, start+int64(i)+1, c.Revision, "revisions are gap-free")
	}
	require.LessOrEqual(t, int64(len(all)), wrote.Load())
	require.Equal(t, e.Snapshot().Revision(), start+int64(len(all)))
	e = reopen(t, e, open)
	require.NoError(t, e.Close())
}

// failing wraps a store and fails the commits fail picks.
type failing struct {
	engine.Store
	fail func(*engine.Change) bool
}

var errInjected = errors.New("injected commit failure")

func (f *failing) Commit(ctx context.Context, expected int64, entries []*engine.Change) error {
	for _, c := range entries {
		if f.fail(c) {
			return errInjected
		}
	}
	return f.Store.Commit(ctx, expected, entries)
}

func injectedFailures(t *testing.T, newStore NewStore) {
	open := newStore(t, engine.DefaultRetention)
	r := rand.New(rand.NewSource(3))
	var failNext atomic.Bool
	e := OpenEngine(t, &failing{Store: open(), fail: func(*engine.Change) bool { return failNext.Load() }})
	require.NoError(t, e.ApplyBundle(Seed()))
	failures := 0
	for i := 0; i < 200; i++ {
		before := export(t, e)
		rev := e.Snapshot().Revision()
		fail := r.Intn(3) == 0
		failNext.Store(fail)
		c := Random(r, e.Snapshot(), 0, i)
		err := Apply(e, c)
		failNext.Store(false)
		if err == nil {
			continue
		}
		if errors.Is(err, engine.ErrStore) {
			require.True(t, fail, "%+v: %v", c, err)
			require.ErrorIs(t, err, errInjected)
			failures++
		}
		require.Equal(t, rev, e.Snapshot().Revision(), "a failed write moved the revision")
		require.Equal(t, before, export(t, e), "a failed write changed the state")
		// The same write succeeds once the store works again.
		if errors.Is(err, engine.ErrStore) {
			require.NoError(t, Apply(e, c), "%+v after the store recovered", c)
		}
	}
	require.Greater(t, failures, 10)
	want := export(t, e)
	require.NoError(t, e.Close())
	n := OpenEngine(t, open())
	require.Equal(t, want, export(t, n))
	require.NoError(t, n.Close())
}

// concurrentFailures runs concurrent writers while commits fail at random: writes
// queued behind a failed one fail too, and afterwards the published state, the
// store and the log agree.
func concurrentFailures(t *testing.T, newStore NewStore) {
	open := newStore(t, engine.DefaultRetention)
	var mu sync.Mutex
	fr := rand.New(rand.NewSource(9))
	e := OpenEngine(t, &failing{Store: open(), fail: func(*engine.Change) bool {
		mu.Lock()
		defer mu.Unlock()
		return fr.Intn(5) == 0
	}})
	for e.ApplyBundle(Seed()) != nil {
	}
	start := e.Snapshot().Revision()
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := 0; g < Workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(100 + g)))
			for i := 0; i < 25; i++ {
				if err := Apply(e, Random(r, e.Snapshot(), g, i)); errors.Is(err, engine.ErrStore) {
					failed.Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	require.Greater(t, failed.Load(), int64(0))
	all, err := e.Changes(start, 0)
	require.NoError(t, err)
	for i, c := range all {
		require.Equal(t, start+int64(i)+1, c.Revision, "revisions are gap-free")
	}
	want := export(t, e)
	require.NoError(t, e.Close())
	n := OpenEngine(t, open())
	require.Equal(t, want, export(t, n), "the store holds what was published")
	require.NoError(t, Apply(n, Command{Op: "putGroup", Actor: Governor(0), ID: 4, N: 1}))
	require.NoError(t, n.Close())
}

func revisionConflict(t *testing.T, newStore NewStore) {
	open := newStore(t, engine.DefaultRetention)
	st := open()
	ctx := context.Background()
	c := &engine.Change{Revision: 1, Time: T0, Op: "putGroup",
		Changes: []engine.Mutation{{Kind: engine.KindGroup, ID: "1", After: json.RawMessage(`{"id":1,"name":"a"}`)}}}
	require.NoError(t, st.Commit(ctx, 0, []*engine.Change{c}))
	c2 := &engine.Change{Revision: 2, Time: T0, Op: "putGroup",
		Changes: []engine.Mutation{{Kind: engine.KindGroup, ID: "1", After: json.RawMessage(`{"id":1,"name":"b"}`)}}}
	err := st.Commit(ctx, 0, []*engine.Change{c2})
	require.ErrorIs(t, err, engine.ErrRevisionConflict)
	loaded, err := st.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), loaded.Revision)
	require.Len(t, loaded.Rows, 1)
	require.JSONEq(t, `{"id":1,"name":"a"}`, string(loaded.Rows[0].Value))
	require.NoError(t, st.Commit(ctx, 1, []*engine.Change{c2}))
	got, err := st.ChangesSince(ctx, 0, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, fmt.Sprint(c2.Changes), fmt.Sprint(got[1].Changes))
	require.NoError(t, st.Close())
}
