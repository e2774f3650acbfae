package engine_test

// Permission tables (docs/semantics.md and docs/api.md, Errors) over every kind of actor: who may call
// each method, the order of the checks (401, 403, 404, 400; an unknown data source is
// 404 before any owner check), and that every refused call changes nothing (Export is
// byte-identical). Expected values are worked out by hand from those docs.

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// More actors of the permission tables.
const (
	permGroupOwner   = 26 // member of group "owners", which holds an owner-state grant on 10
	permExpiredOwner = 27 // held an owner-state grant on 10 that has expired
	permUnknown      = 404
	permNobody       = -1 // the zero Actor
)

// permActor is the actor of a permActors row: id 0 is the system actor, permNobody
// the zero Actor, any other id the user.
func permActor(id int64) engine.Actor {
	switch id {
	case 0:
		return engine.SystemActor()
	case permNobody:
		return engine.Actor{}
	}
	return engine.As(id)
}

var permActors = []struct {
	name string
	id   int64
}{
	{"System", 0},
	{"GOVERNANCE", gov},
	{"USER_ADMIN", erin},
	{"AUDIT", dave},
	{"CREATE_DATA_SOURCE", semCreator},
	{"listed owner of 10", carol},
	{"owner of 10 by an owner-state grant", semGrantOwner},
	{"owner of 10 by a group's owner-state grant", permGroupOwner},
	{"expired owner-state grant on 10", permExpiredOwner},
	{"owner of 13 only (and GOVERNANCE)", semGovOwner},
	{"plain user", outsider},
	{"unknown user id", permUnknown},
	{"nobody (the zero Actor)", permNobody},
}

// permWorld: semWorld plus
//   - group 9 "owners" with member permGroupOwner, user permExpiredOwner;
//   - policy 1 "os" (owner-selected), 2 "all", 3 "dis" (disabled on 10);
//   - records 1: owner grant to semGrantOwner on 10; 2: owner grant to group 9 on 10;
//     3: owner grant to permExpiredOwner on 10, expired; 4: READ grant to outsider on 10.
func permWorld(t testing.TB) *engine.Engine {
	t.Helper()
	e, _ := semWorld(t)
	require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: 9, Name: "owners"}))
	require.NoError(t, e.PutUsers(engine.SystemActor(), []*model.User{
		{ID: permGroupOwner, Name: "GroupOwner", Groups: []string{"owners"}},
		{ID: permExpiredOwner, Name: "ExpiredOwner"},
	}))
	create(t, e, semPolicy("os", aAnyone(false), ownerSelected))
	create(t, e, semPolicy("all", aAnyone(false)))
	create(t, e, semPolicy("dis", aAnyone(false)))
	require.NoError(t, e.DisablePolicy(engine.SystemActor(), 10, 3, "off here"))
	noExp := time.Time{}
	semGrant(t, e, engine.SystemActor(), 10, semGrantOwner, 0, model.RecordOwner, model.Read, noExp)
	semGrant(t, e, engine.SystemActor(), 10, 0, 9, model.RecordOwner, model.Read, noExp)
	semGrant(t, e, engine.SystemActor(), 10, permExpiredOwner, 0, model.RecordOwner, model.Read, t0.Add(-time.Hour))
	semGrant(t, e, engine.SystemActor(), 10, outsider, 0, model.RecordSubscribed, model.Read, noExp)
	return e
}

// Expected results per actor.
type permWant func(actor int64) error

// only: the listed actors may; every other known actor is forbidden.
func only(ids ...int64) permWant {
	return func(a int64) error {
		if a == permUnknown || a == permNobody {
			return engine.ErrUnauthenticated
		}
		for _, id := range ids {
			if id == a {
				return nil
			}
		}
		return engine.ErrForbidden
	}
}

// every known actor gets err.
func every(err error) permWant {
	return func(a int64) error {
		if a == permUnknown || a == permNobody {
			return engine.ErrUnauthenticated
		}
		return err
	}
}

// allowedGet: the listed actors get err (past the permission check), others 403.
func allowedGet(err error, ids ...int64) permWant {
	o := only(ids...)
	return func(a int64) error {
		if w := o(a); w != nil {
			return w
		}
		return err
	}
}

var (
	policyWriters = []int64{0, gov, semGovOwner}
	ownersOf10    = []int64{0, gov, semGovOwner, carol, semGrantOwner, permGroupOwner}
	userAdmins    = []int64{0, gov, semGovOwner, erin}
	creators      = []int64{0, gov, semGovOwner, semCreator}
	known         = []int64{0, gov, erin, dave, semCreator, carol, semGrantOwner, permGroupOwner, permExpiredOwner, semGovOwner, outsider}
)

func accessGrant(profile, group int64, state model.RecordState, level model.AccessGrant) engine.AccessRequest {
	return engine.AccessRequest{ProfileID: profile, GroupID: group, State: state, AccessGrant: level}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	type op struct {
		name    string
		call    func(e *engine.Engine, a engine.Actor) error
		want    permWant
		mutates bool // an allowed call changes the state
	}
	bobID, grp := int64(bob), int64(2)
	ops := []op{
		// Policies: create/update/delete need GOVERNANCE; reading needs any known user.
		{"CreatePolicy", func(e *engine.Engine, a engine.Actor) error {
			_, _, err := e.CreatePolicy(a, semPolicy("new", aAnyone(true)), engine.WriteOptions{})
			return err
		}, only(policyWriters...), true},
		{"CreatePolicy dry run", func(e *engine.Engine, a engine.Actor) error {
			_, _, err := e.CreatePolicy(a, semPolicy("new", aAnyone(true)), engine.WriteOptions{DryRun: true})
			return err
		}, only(policyWriters...), false},
		{"UpdatePolicy", func(e *engine.Engine, a engine.Actor) error {
			_, _, err := e.UpdatePolicy(a, 2, semPolicy("all", aAnyone(true)), engine.WriteOptions{})
			return err
		}, only(policyWriters...), true},
		{"DeletePolicy", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.DeletePolicy(a, 2)
			return err
		}, only(policyWriters...), true},
		// Calls on one data source: an owner of it or GOVERNANCE.
		{"ApplyPolicy", func(e *engine.Engine, a engine.Actor) error { return e.ApplyPolicy(a, 1, 10) },
			only(ownersOf10...), true},
		{"DisablePolicy", func(e *engine.Engine, a engine.Actor) error { return e.DisablePolicy(a, 10, 2, "not here") },
			only(ownersOf10...), true},
		{"EnablePolicy", func(e *engine.Engine, a engine.Actor) error { return e.EnablePolicy(a, 10, 3) },
			only(ownersOf10...), true},
		{"Access with state, to a user", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.Access(a, 10, accessGrant(bobID, 0, model.RecordSubscribed, model.Write))
			return err
		}, only(ownersOf10...), true},
		{"Access with state, to a group", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.Access(a, 10, accessGrant(0, grp, model.RecordExpert, model.Read))
			return err
		}, only(ownersOf10...), true},
		{"Access with state owner", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.Access(a, 10, accessGrant(bobID, 0, model.RecordOwner, model.Read))
			return err
		}, only(ownersOf10...), true},
		{"ChangeRecord", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.ChangeRecord(a, 10, 4, &model.RecordChange{State: model.RecordDenied})
			return err
		}, only(ownersOf10...), true},
		// Catalog: GOVERNANCE; an owner for an existing data source; CREATE_DATA_SOURCE for a new one.
		{"PutDataSource existing", func(e *engine.Engine, a engine.Actor) error {
			return e.PutDataSource(a, &model.DataSource{ID: 10, Name: "payments, renamed", Owners: []int64{carol},
				Tags: []string{"Finance.Payments"}, CreatedAt: t0})
		}, only(ownersOf10...), true},
		{"PutDataSource new", func(e *engine.Engine, a engine.Actor) error {
			return e.PutDataSource(a, &model.DataSource{ID: 20, Name: "new", CreatedAt: t0})
		}, only(creators...), true},
		{"PutDataSources new and existing 10 together", func(e *engine.Engine, a engine.Actor) error {
			return e.PutDataSources(a, []*model.DataSource{{ID: 20, Name: "new", CreatedAt: t0},
				{ID: 10, Name: "payments, renamed", Owners: []int64{carol}, CreatedAt: t0}})
		}, only(0, gov, semGovOwner), true},
		// Directory: GOVERNANCE or USER_ADMIN.
		{"PutUser new", func(e *engine.Engine, a engine.Actor) error {
			return e.PutUser(a, &model.User{ID: 30, Name: "New"})
		}, only(userAdmins...), true},
		{"PutUser existing", func(e *engine.Engine, a engine.Actor) error {
			return e.PutUser(a, &model.User{ID: bob, Name: "Bob", Groups: []string{"finance"}})
		}, only(userAdmins...), true},
		{"PutGroup new", func(e *engine.Engine, a engine.Actor) error {
			return e.PutGroup(a, &model.Group{ID: 5, Name: "new"})
		}, only(userAdmins...), true},
		{"PutGroup existing", func(e *engine.Engine, a engine.Actor) error {
			return e.PutGroup(a, &model.Group{ID: 2, Name: "marketing", Attributes: map[string][]string{"region": {"us"}}})
		}, only(userAdmins...), true},

		// An unknown data source is 404 before any owner check.
		{"ApplyPolicy, unknown data source", func(e *engine.Engine, a engine.Actor) error { return e.ApplyPolicy(a, 1, 999) },
			every(engine.ErrNotFound), false},
		{"DisablePolicy, unknown data source", func(e *engine.Engine, a engine.Actor) error { return e.DisablePolicy(a, 999, 2, "x") },
			every(engine.ErrNotFound), false},
		{"EnablePolicy, unknown data source", func(e *engine.Engine, a engine.Actor) error { return e.EnablePolicy(a, 999, 3) },
			every(engine.ErrNotFound), false},
		{"Access with state, unknown data source", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.Access(a, 999, accessGrant(bobID, 0, model.RecordSubscribed, model.Read))
			return err
		}, every(engine.ErrNotFound), false},
		{"Access request, unknown data source", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.Access(a, 999, engine.AccessRequest{})
			return err
		}, every(engine.ErrNotFound), false},
		{"ChangeRecord, unknown data source", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.ChangeRecord(a, 999, 4, &model.RecordChange{State: model.RecordDenied})
			return err
		}, every(engine.ErrNotFound), false},

		// What the caller's role alone refuses is 403 before 404.
		{"UpdatePolicy, unknown policy", func(e *engine.Engine, a engine.Actor) error {
			_, _, err := e.UpdatePolicy(a, 999, semPolicy("x", aAnyone(true)), engine.WriteOptions{})
			return err
		}, allowedGet(engine.ErrNotFound, policyWriters...), false},
		{"DeletePolicy, unknown policy", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.DeletePolicy(a, 999)
			return err
		}, allowedGet(engine.ErrNotFound, policyWriters...), false},
		{"ChangeRecord, unknown record", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.ChangeRecord(a, 10, 999, &model.RecordChange{State: model.RecordDenied})
			return err
		}, allowedGet(engine.ErrNotFound, ownersOf10...), false},

		// 403 before 400.
		{"CreatePolicy, invalid policy", func(e *engine.Engine, a engine.Actor) error {
			_, _, err := e.CreatePolicy(a, &model.Policy{Key: "bad"}, engine.WriteOptions{})
			return err
		}, allowedGet(model.ErrInvalid, policyWriters...), false},
		{"UpdatePolicy, invalid policy", func(e *engine.Engine, a engine.Actor) error {
			_, _, err := e.UpdatePolicy(a, 2, &model.Policy{Key: "all"}, engine.WriteOptions{})
			return err
		}, allowedGet(model.ErrInvalid, policyWriters...), false},
		{"CreatePolicy, duplicate key", func(e *engine.Engine, a engine.Actor) error {
			_, _, err := e.CreatePolicy(a, semPolicy("all", aAnyone(true)), engine.WriteOptions{})
			return err
		}, allowedGet(engine.ErrConflict, policyWriters...), false},
		{"ApplyPolicy, not owner-selected", func(e *engine.Engine, a engine.Actor) error { return e.ApplyPolicy(a, 2, 10) },
			allowedGet(model.ErrInvalid, ownersOf10...), false},
		{"DisablePolicy, no reason", func(e *engine.Engine, a engine.Actor) error { return e.DisablePolicy(a, 10, 2, "") },
			allowedGet(model.ErrInvalid, ownersOf10...), false},
		{"Access, invalid grant state", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.Access(a, 10, accessGrant(bobID, 0, model.RecordPending, model.Read))
			return err
		}, allowedGet(model.ErrInvalid, ownersOf10...), false},
		{"Access, grant to an unknown user", func(e *engine.Engine, a engine.Actor) error {
			nobody := int64(999)
			_, err := e.Access(a, 10, accessGrant(nobody, 0, model.RecordSubscribed, model.Read))
			return err
		}, allowedGet(model.ErrInvalid, ownersOf10...), false},
		{"Access, grant at an invalid level", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.Access(a, 10, accessGrant(bobID, 0, model.RecordSubscribed, "ADMIN"))
			return err
		}, allowedGet(model.ErrInvalid, ownersOf10...), false},
		{"ChangeRecord, invalid state", func(e *engine.Engine, a engine.Actor) error {
			_, err := e.ChangeRecord(a, 10, 4, &model.RecordChange{State: model.RecordPending})
			return err
		}, allowedGet(model.ErrInvalid, ownersOf10...), false},
		{"PutDataSource new, invalid", func(e *engine.Engine, a engine.Actor) error {
			return e.PutDataSource(a, &model.DataSource{ID: 20})
		}, allowedGet(model.ErrInvalid, creators...), false},
		{"PutDataSource existing, invalid", func(e *engine.Engine, a engine.Actor) error {
			return e.PutDataSource(a, &model.DataSource{ID: 10, Owners: []int64{carol}})
		}, allowedGet(model.ErrInvalid, ownersOf10...), false},
		{"PutUser, invalid", func(e *engine.Engine, a engine.Actor) error {
			return e.PutUser(a, &model.User{ID: 30})
		}, allowedGet(model.ErrInvalid, userAdmins...), false},
		{"PutGroup, invalid", func(e *engine.Engine, a engine.Actor) error {
			return e.PutGroup(a, &model.Group{ID: 5})
		}, allowedGet(model.ErrInvalid, userAdmins...), false},
	}
	for _, o := range ops {
		for _, ac := range permActors {
			t.Run(o.name+"/"+ac.name, func(t *testing.T) {
				t.Parallel()
				want := o.want(ac.id)
				e := permWorld(t)
				before := mustExport(t, e)
				err := o.call(e, permActor(ac.id))
				after := mustExport(t, e)
				if want == nil {
					require.NoError(t, err)
					if o.mutates {
						assert.NotEqual(t, before, after, "an allowed write changes the state")
					} else {
						assert.Equal(t, before, after, "a read or dry run changes nothing")
					}
					return
				}
				require.ErrorIs(t, err, want)
				assert.Equal(t, before, after, "a refused call changes nothing")
			})
		}
	}
}

// Reading and deciding need no permission; permissions give no data access.
func TestPermissionsGiveNoDataAccess(t *testing.T) {
	t.Parallel()
	e := permWorld(t)
	// Policy 2 ("all", anyone, not automatic) applies on 11 and 12, and on 10.
	for _, ac := range permActors {
		if ac.id == 0 || ac.id == permUnknown || ac.id == permNobody {
			continue
		}
		t.Run(ac.name, func(t *testing.T) {
			d := e.Decide(ac.id, 12)
			assert.Equal(t, engine.LevelNone, d.Grant, "no grant without a request")
			assert.Equal(t, engine.StateEligible, d.Read)
			d = e.Decide(ac.id, 11)
			assert.Equal(t, engine.LevelNone, d.Grant)
		})
	}
	// Owners of 10 hold READ there, and only there, by ownership.
	for _, id := range []int64{carol, semGrantOwner, permGroupOwner} {
		d := e.Decide(id, 10)
		assert.Equal(t, engine.LevelRead, d.Grant, "user %d", id)
		assert.Equal(t, engine.StateOwner, d.Read, "user %d", id)
		assert.Equal(t, engine.StateNone, d.Write, "user %d: no WRITE policy, no WRITE grant", id)
	}
}
