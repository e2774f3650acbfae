package engine

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

var lzTime = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

var lzTags = []string{"A", "A.B", "B", "C"}

func lzDataSource(r *rand.Rand, id int64, keys []string) *model.DataSource {
	ds := &model.DataSource{ID: id, Name: fmt.Sprint("ds", id, "-", r.Intn(2)), CreatedAt: lzTime.AddDate(0, -r.Intn(3), 0)}
	for i := r.Intn(3); i > 0; i-- {
		ds.Tags = append(ds.Tags, lzTags[r.Intn(len(lzTags))])
	}
	if r.Intn(3) == 0 {
		ds.Owners = []int64{int64(1 + r.Intn(4))}
	}
	if len(keys) > 0 && r.Intn(3) == 0 {
		ds.SelectedPolicies = []string{keys[r.Intn(len(keys))]}
	}
	if len(keys) > 0 && r.Intn(3) == 0 {
		ds.DisabledPolicies = []model.DisabledPolicy{{PolicyKey: keys[r.Intn(len(keys))], Reason: fmt.Sprint("r", r.Intn(2))}}
	}
	return ds
}

func lzPolicy(r *rand.Rand, key string) *model.Policy {
	a := model.Action{Type: model.ActionAnyone, AccessGrant: model.Read, AutomaticSubscription: r.Intn(2) == 0}
	if r.Intn(3) == 0 {
		a.Type = model.ActionApproval
		a.Approvals = []model.Approval{{RequiredPermission: model.Governance}}
	}
	p := &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, Action: a, CircumstanceOperator: model.Any,
		Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: lzTags[r.Intn(len(lzTags))]}}}
	if r.Intn(2) == 0 {
		p.Certification = &model.Certification{Text: "check", Label: fmt.Sprint("ok", r.Intn(2))}
	}
	return p
}

func lzUsers(r *rand.Rand) []*model.User {
	var out []*model.User
	for id := int64(1); id <= 4; id++ {
		if id > 1 && r.Intn(2) == 0 {
			continue
		}
		u := &model.User{ID: id, Name: fmt.Sprint("u", id)}
		if id == 1 {
			u.Permissions = []model.Permission{model.Governance}
		}
		if r.Intn(2) == 0 {
			u.Groups = []string{fmt.Sprint("g", r.Intn(2))}
		}
		out = append(out, u)
	}
	return out
}

// lzWrite makes one random write (refused ones included) of every kind the change
// log records, writes that change nothing (a value put again as it is) and loads.
func lzWrite(r *rand.Rand, e *Engine, i int) {
	a := SystemActor()
	s := e.Snapshot()
	pols := s.Policies()
	var keys []string
	for _, p := range pols {
		keys = append(keys, p.Key)
	}
	keys = append(keys, "later")
	pick := func() *model.Policy { return pols[r.Intn(len(pols))] }
	ds := func() int64 { return int64(1 + r.Intn(6)) }
	switch op := r.Intn(17); {
	case op < 2:
		_, _, _ = e.CreatePolicy(a, lzPolicy(r, fmt.Sprint("p", i)), WriteOptions{})
	case op < 3 && len(pols) > 0:
		p := pick()
		_, _, _ = e.UpdatePolicy(a, p.ID, lzPolicy(r, p.Key), WriteOptions{ReCertify: r.Intn(2) == 0})
	case op < 4 && len(pols) > 0:
		_, _ = e.DeletePolicy(a, pick().ID)
	case op < 6:
		_ = e.PutDataSource(a, lzDataSource(r, ds(), keys))
	case op < 7:
		_ = e.PutDataSources(a, []*model.DataSource{lzDataSource(r, ds(), keys), lzDataSource(r, 6+ds(), keys)})
	case op < 8:
		_ = e.DeleteDataSource(a, ds())
	case op < 9:
		_ = e.PutUsers(a, lzUsers(r))
	case op < 10:
		if r.Intn(2) == 0 {
			_ = e.DeleteUser(a, int64(2+r.Intn(3)))
		} else {
			_ = e.DeleteGroup(a, int64(1+r.Intn(2)))
		}
	case op < 11:
		id := int64(1 + r.Intn(2))
		g := &model.Group{ID: id, Name: fmt.Sprint("g", id-1, []string{"", "x"}[r.Intn(2)])} // names never taken by the other id
		if r.Intn(2) == 0 {
			g.Attributes = map[string][]string{"team": {fmt.Sprint("t", r.Intn(2))}}
		}
		_ = e.PutGroup(a, g)
	case op < 12 && len(pols) > 0:
		switch r.Intn(3) {
		case 0:
			_ = e.ApplyPolicy(a, pick().ID, ds())
		case 1:
			_ = e.DisablePolicy(a, ds(), pick().ID, fmt.Sprint("why", r.Intn(2)))
		default:
			_ = e.EnablePolicy(a, ds(), pick().ID)
		}
	case op < 13:
		if r.Intn(2) == 0 {
			_, _ = e.Access(As(int64(1+r.Intn(4))), ds(), AccessRequest{})
		} else {
			_, _ = e.Access(a, ds(), AccessRequest{State: model.RecordState("subscribed"), ProfileID: int64(1 + r.Intn(4))})
		}
	case op < 14:
		_, _ = e.Unsubscribe(As(int64(1+r.Intn(4))), ds())
	case op < 15:
		// Put again as stored: changes nothing.
		if list := s.DataSources(); len(list) > 0 {
			c := *list[r.Intn(len(list))]
			_ = e.PutDataSource(a, &c)
		} else {
			_ = e.PutUsers(a, nil)
		}
	default:
		// A load: the exported state, with a data source renamed and one left out.
		data, err := e.Export()
		if err != nil {
			panic(err)
		}
		b, err := model.DecodeBundle(data, model.DefaultLimits())
		if err != nil {
			panic(err)
		}
		if n := len(b.DataSources); n > 0 && r.Intn(2) == 0 {
			b.DataSources[r.Intn(n)].Name = fmt.Sprint("renamed", i)
			if r.Intn(2) == 0 {
				j := r.Intn(len(b.DataSources))
				b.DataSources = append(b.DataSources[:j], b.DataSources[j+1:]...)
			}
		}
		_ = e.ApplyBundle(b)
	}
}

// recordingStore is a store that keeps the entries committed to it.
type recordingStore struct {
	mu      sync.Mutex
	rev     int64
	entries []Change
}

func (s *recordingStore) Load(context.Context) (*StoredState, error) { return &StoredState{}, nil }

func (s *recordingStore) Commit(_ context.Context, expected int64, entries []*Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if expected != s.rev {
		return fmt.Errorf("%w: at %d, not %d", ErrRevisionConflict, s.rev, expected)
	}
	for _, c := range entries {
		s.entries = append(s.entries, *c)
		s.rev = c.Revision
	}
	return nil
}

func (s *recordingStore) ChangesSince(context.Context, int64, int) ([]Change, error) {
	return nil, fmt.Errorf("%w: not kept", ErrFellBehind)
}

func (s *recordingStore) Close() error { return nil }

// renderChanges writes changes one line each: revision, op, then each mutation.
func renderChanges(list []Change) string {
	var b strings.Builder
	for _, c := range list {
		fmt.Fprintf(&b, "%d %s %s:", c.Revision, c.Op, c.Time.Format(time.RFC3339))
		for _, m := range c.Changes {
			fmt.Fprintf(&b, " %s/%s %q->%q", m.Kind, m.ID, m.Before, m.After)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// lzRun makes steps random writes and returns, for each write that made a new
// revision, its change as the eager encoding computes it from the snapshots right
// before and after the write. It fails when a write that changed no stored value
// made a revision, or one that changed some kept the revision.
func lzRun(t *testing.T, e *Engine, seed int64, steps int) ([]Change, string) {
	r := rand.New(rand.NewSource(seed))
	var want []Change
	for i := range steps {
		before := e.Snapshot()
		lzWrite(r, e, i)
		after := e.Snapshot()
		muts, err := eagerMutations(before, after, allKeys(before, after))
		require.NoError(t, err)
		switch {
		case after.revision == before.revision && len(muts) > 0:
			return nil, fmt.Sprintf("write %d changed %d values and kept revision %d", i, len(muts), after.revision)
		case after.revision != before.revision && len(muts) == 0:
			return nil, fmt.Sprintf("write %d changed nothing and made revision %d", i, after.revision)
		case after.revision != before.revision:
			got, err := e.Changes(after.revision-1, 1)
			require.NoError(t, err)
			require.NotEmpty(t, got)
			c := got[len(got)-1]
			c.Changes = muts
			want = append(want, c)
		}
	}
	return want, ""
}

// TestPropertyLazyLogEqualsEagerEncoding: the change log, holding the changed
// values and encoding them when read, reads back exactly the entries encoding every
// write's changes at commit gives (the eager encoding, kept as a reference), for an
// engine without a store, one with a change callback (which gets the same entries)
// and one with a store (which commits the same entries); Watch yields the same.
func TestPropertyLazyLogEqualsEagerEncoding(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 40
	props := gopter.NewProperties(params)
	props.Property("reading the lazy log gives the eager encoding", prop.ForAll(func(seed int64, mode int) string {
		var mu sync.Mutex
		var called []Change
		opts := []Option{WithClock(func() time.Time { return lzTime })}
		if mode == 1 {
			opts = append(opts, WithChangeCallback(func(c Change) { mu.Lock(); called = append(called, c); mu.Unlock() }))
		}
		var st *recordingStore
		var e *Engine
		if mode == 2 {
			st = &recordingStore{}
			var err error
			e, err = Open(context.Background(), st, opts...)
			require.NoError(t, err)
		} else {
			e = New(opts...)
		}
		want, msg := lzRun(t, e, seed, 120)
		if msg != "" {
			return msg
		}
		got, err := e.Changes(0, 0)
		require.NoError(t, err)
		if w, g := renderChanges(want), renderChanges(got); w != g {
			return "log:\nwant\n" + w + "got\n" + g
		}
		switch mode {
		case 1:
			mu.Lock()
			defer mu.Unlock()
			if w, g := renderChanges(want), renderChanges(called); w != g {
				return "callback:\nwant\n" + w + "got\n" + g
			}
		case 2:
			st.mu.Lock()
			defer st.mu.Unlock()
			if w, g := renderChanges(want), renderChanges(st.entries); w != g {
				return "store:\nwant\n" + w + "got\n" + g
			}
		}
		if len(want) > 0 {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var watched []Change
			for c, err := range e.Watch(ctx, 0) {
				require.NoError(t, err)
				watched = append(watched, c)
				if c.Revision == want[len(want)-1].Revision {
					break
				}
			}
			if w, g := renderChanges(want), renderChanges(watched); w != g {
				return "watch:\nwant\n" + w + "got\n" + g
			}
		}
		return ""
	}, gen.Int64(), gen.IntRange(0, 2)))
	props.TestingRun(t)
}

// TestLazyLogHoldsValuesNotJSON: an engine without a store keeps in its log the
// changed values, not their encoding, also when a callback got the encoding; the
// entry of a bulk put holds one pair per data source and reads back encoded.
func TestLazyLogHoldsValuesNotJSON(t *testing.T) {
	t.Parallel()
	for _, cb := range []bool{false, true} {
		var opts []Option
		var got []Change
		if cb {
			opts = append(opts, WithChangeCallback(func(c Change) { got = append(got, c) }))
		}
		e := New(opts...)
		var list []*model.DataSource
		for id := int64(1); id <= 50; id++ {
			list = append(list, &model.DataSource{ID: id, Name: fmt.Sprint("ds", id),
				DisabledPolicies: []model.DisabledPolicy{{PolicyKey: "k"}}[:id%2]})
		}
		require.NoError(t, e.PutDataSources(SystemActor(), list))
		e.log.mu.Lock()
		require.Len(t, e.log.entries, 1)
		en := e.log.entries[0]
		e.log.mu.Unlock()
		assert.Nil(t, en.Changes, "no JSON in the log")
		require.NotNil(t, en.d)
		assert.Len(t, en.d.dataSources, 50)
		assert.Same(t, e.Snapshot().dataSourceOrNil(7), en.d.dataSources[6].after, "the stored value itself")
		read, err := e.Changes(0, 0)
		require.NoError(t, err)
		require.Len(t, read, 1)
		assert.Len(t, read[0].Changes, 75, "50 data sources and 25 disables")
		if cb {
			assert.Equal(t, renderChanges(read), renderChanges(got))
		}
	}
}

// dataSourceOrNil is the stored data source id (nil when absent).
func (s *Snapshot) dataSourceOrNil(id int64) *model.DataSource {
	if st, ok := s.dataSources.Get(id); ok {
		return st.ds
	}
	return nil
}

// TestLazyLogRetention: the in-memory log keeps at most twice its retention of
// lazy entries, reads the retained ones back encoded, and reports older revisions
// as fallen behind.
func TestLazyLogRetention(t *testing.T) {
	t.Parallel()
	e := New(WithRetention(4), WithClock(func() time.Time { return lzTime }))
	for id := int64(1); id <= 30; id++ {
		require.NoError(t, e.PutDataSource(SystemActor(), &model.DataSource{ID: id, Name: fmt.Sprint("ds", id)}))
		e.log.mu.Lock()
		n := len(e.log.entries)
		e.log.mu.Unlock()
		require.LessOrEqual(t, n, 8)
	}
	// Putting the last one again changes nothing and keeps the revision.
	require.NoError(t, e.PutDataSource(SystemActor(), &model.DataSource{ID: 30, Name: "ds30"}))
	require.Equal(t, int64(30), e.Snapshot().Revision())
	_, err := e.Changes(0, 0)
	require.ErrorIs(t, err, ErrFellBehind)
	got, err := e.Changes(26, 0)
	require.NoError(t, err)
	require.Len(t, got, 4)
	for i, c := range got {
		id := int64(27 + i)
		assert.Equal(t, id, c.Revision)
		assert.Equal(t, []Mutation{{Kind: KindDataSource, ID: fmt.Sprint(id), After: []byte(fmt.Sprintf(`{"id":%d,"name":"ds%d","createdAt":"2024-05-01T12:00:00Z"}`, id, id))}}, c.Changes)
	}
}
