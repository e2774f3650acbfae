package rest

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// authzWorld: 1 GOVERNANCE, 2 listed owner of 6, 3 nobody special, 4 owner of 6 by
// an owner-state grant, 5 held an owner-state grant on 6 that has expired, 6
// USER_ADMIN. Data sources 6 and 7.
func authzWorld(t *testing.T) *engine.Snapshot {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := engine.New(engine.WithClock(func() time.Time { return now }))
	sys := engine.SystemActor()
	require.NoError(t, e.PutUsers(sys, []*model.User{
		{ID: 1, Name: "gov", Permissions: []model.Permission{model.Governance}},
		{ID: 2, Name: "owner"}, {ID: 3, Name: "plain"}, {ID: 4, Name: "granted"}, {ID: 5, Name: "expired"},
		{ID: 6, Name: "admin", Permissions: []model.Permission{model.UserAdmin}},
	}))
	require.NoError(t, e.PutDataSources(sys, []*model.DataSource{
		{ID: 6, Name: "six", Owners: []int64{2}}, {ID: 7, Name: "seven"},
	}))
	for _, g := range []struct {
		user int64
		exp  time.Time
	}{{4, time.Time{}}, {5, now.Add(-time.Hour)}} {
		_, err := e.Access(sys, 6, engine.AccessRequest{ProfileID: g.user, State: model.RecordOwner, Expiration: g.exp})
		require.NoError(t, err)
	}
	return e.Snapshot()
}

func TestPolicyWriter(t *testing.T) {
	t.Parallel()
	s := authzWorld(t)
	cases := []struct {
		actor engine.Actor
		want  error
	}{
		{engine.As(1), nil},
		{engine.As(2), engine.ErrForbidden},
		{engine.As(3), engine.ErrForbidden},
		{engine.As(6), engine.ErrForbidden},
		{engine.As(404), engine.ErrUnauthenticated},
		{engine.Actor{}, engine.ErrUnauthenticated},
		{engine.SystemActor(), engine.ErrUnauthenticated}, // REST never acts as the system actor
	}
	for _, c := range cases {
		err := policyWriter(s, c.actor)
		if c.want == nil {
			assert.NoError(t, err, "actor %d", c.actor.ID)
			continue
		}
		assert.True(t, errors.Is(err, c.want), "actor %d: %v", c.actor.ID, err)
	}
}

func TestManager(t *testing.T) {
	t.Parallel()
	s := authzWorld(t)
	cases := []struct {
		actor engine.Actor
		ds    int64
		want  error
	}{
		{engine.As(1), 6, nil},
		{engine.As(1), 7, nil},
		{engine.As(2), 6, nil},
		{engine.As(2), 7, engine.ErrForbidden},
		{engine.As(4), 6, nil},
		{engine.As(5), 6, engine.ErrForbidden},
		{engine.As(3), 6, engine.ErrForbidden},
		{engine.As(6), 6, engine.ErrForbidden},
		{engine.As(3), 99, engine.ErrNotFound},
		{engine.As(404), 6, engine.ErrUnauthenticated},
		{engine.Actor{}, 6, engine.ErrUnauthenticated},
	}
	for _, c := range cases {
		err := manager(s, c.actor, c.ds, "testing")
		if c.want == nil {
			assert.NoError(t, err, "actor %d on %d", c.actor.ID, c.ds)
			continue
		}
		assert.True(t, errors.Is(err, c.want), "actor %d on %d: %v", c.actor.ID, c.ds, err)
	}
	assert.Contains(t, manager(s, engine.As(3), 6, "applying a policy").Error(),
		"applying a policy on data source 6 needs an owner of it or the GOVERNANCE permission")
}
