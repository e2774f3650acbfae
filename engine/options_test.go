package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// WithLimits bounds what the engine decodes itself: an import whose strings exceed
// MaxStringLen is refused and changes nothing; the default limits accept it.
func TestWithLimitsBoundsImports(t *testing.T) {
	t.Parallel()
	src := engine.New()
	long := strings.Repeat("n", 100)
	require.NoError(t, src.PutGroup(engine.SystemActor(), &model.Group{ID: 1, Name: long}))
	data, err := src.Export()
	require.NoError(t, err)

	small := engine.New(engine.WithLimits(model.Limits{MaxStringLen: 50}))
	err = small.Import(data)
	require.Error(t, err)
	assert.Empty(t, small.Snapshot().Groups(), "a refused import changes nothing")

	def := engine.New()
	require.NoError(t, def.Import(data))
	g, ok := def.Snapshot().Group(1)
	require.True(t, ok)
	assert.Equal(t, long, g.Name)
}

// stuckStore never finishes a commit: it waits for the deadline of the call.
type stuckStore struct{}

func (stuckStore) Load(context.Context) (*engine.StoredState, error) {
	return &engine.StoredState{}, nil
}
func (stuckStore) Commit(ctx context.Context, _ int64, _ []*engine.Change) error {
	<-ctx.Done()
	return ctx.Err()
}
func (stuckStore) ChangesSince(context.Context, int64, int) ([]engine.Change, error) { return nil, nil }
func (stuckStore) Close() error                                                      { return nil }

// WithStoreTimeout bounds every store call: a commit that does not finish in time
// fails the write with ErrStore and publishes nothing.
func TestWithStoreTimeout(t *testing.T) {
	t.Parallel()
	e, err := engine.Open(context.Background(), stuckStore{}, engine.WithStoreTimeout(20*time.Millisecond))
	require.NoError(t, err)
	err = e.PutGroup(engine.SystemActor(), &model.Group{ID: 1, Name: "g"})
	require.Error(t, err)
	assert.True(t, errors.Is(err, engine.ErrStore), "%v", err)
	assert.Empty(t, e.Snapshot().Groups())
	assert.Zero(t, e.Snapshot().Revision())
}
