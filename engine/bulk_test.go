package engine_test

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// naiveBulk answers DataSourcesFor and UsersFor with one Decide per id.
func naiveDataSources(s *engine.Snapshot, user int64, level engine.Level) []int64 {
	out := []int64{}
	for _, id := range s.DataSourceIDs() {
		if s.Decide(user, id).Grant >= level {
			out = append(out, id)
		}
	}
	return out
}

func naiveUsers(s *engine.Snapshot, ds int64, level engine.Level) []int64 {
	out := []int64{}
	for _, id := range s.UserIDs() {
		if s.Decide(id, ds).Grant >= level {
			out = append(out, id)
		}
	}
	return out
}

// bulkWrites makes random directory and access writes on top of a random engine:
// groups declared and renamed, users changed and deleted, manual grants to users
// and groups (owner grants included), requests, revocations, data sources deleted.
func bulkWrites(t *testing.T, r *rand.Rand, e *engine.Engine, steps int) {
	for i := 0; i < steps; i++ {
		s := e.Snapshot()
		ds := int64(1 + r.Intn(9))
		user := int64(1 + r.Intn(6))
		switch r.Intn(9) {
		case 8:
			exprs := []string{"@isInGroups('g1')", "NOT @hasAttribute('k', 'v')", "@hasAttribute('k', '@database')",
				"@hasTagAsGroup('dataSource') OR @isInGroups('g2')"}
			a := model.Action{Type: model.ActionEntitlements, AccessGrant: model.Read, AutomaticSubscription: r.Intn(3) > 0,
				ShareResponsibility: r.Intn(3) == 0, Advanced: exprs[r.Intn(len(exprs))]}
			if r.Intn(2) == 0 {
				a.AccessGrant = model.Write
			}
			if r.Intn(2) == 0 {
				a.Entitlements = &model.Entitlements{Operator: model.Any, Groups: []string{fmt.Sprint("g", r.Intn(3))}}
			}
			p := &model.Policy{Key: fmt.Sprint("adv", i, "-", r.Int()), Name: "adv", Type: model.PolicySubscription, Action: a,
				CircumstanceOperator: model.Any, Circumstances: []model.Circumstance{randCircumstance(r)}}
			_, _, err := e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{})
			require.NoError(t, err)
		case 0:
			g := &model.Group{ID: int64(1 + r.Intn(2)), Name: fmt.Sprint("g", r.Intn(3))}
			_ = e.PutGroup(engine.SystemActor(), g)
		case 1:
			u := &model.User{ID: user, Name: fmt.Sprint("u", user)}
			if r.Intn(2) == 0 {
				u.Groups = []string{fmt.Sprint("g", r.Intn(3))}
			}
			if r.Intn(2) == 0 {
				u.Attributes = map[string][]string{"k": {[]string{"v", "w", "g1", "ds1"}[r.Intn(4)]}}
			}
			require.NoError(t, e.PutUser(engine.SystemActor(), u))
		case 2:
			if user != 1 {
				_ = e.DeleteUser(engine.SystemActor(), user)
			}
		case 3, 4:
			req := engine.AccessRequest{AccessGrant: model.Read}
			if r.Intn(3) == 0 {
				req.AccessGrant = model.Write
			}
			req.State = []model.RecordState{model.RecordSubscribed, model.RecordOwner, model.RecordExpert}[r.Intn(3)]
			if r.Intn(2) == 0 {
				req.GroupID = int64(1 + r.Intn(2))
			} else {
				req.ProfileID = user
			}
			_, _ = e.Access(engine.SystemActor(), ds, req)
		case 5:
			_, _ = e.Access(engine.As(user), ds, engine.AccessRequest{AccessGrant: model.Read})
		case 6:
			recs := s.Records()
			if len(recs) > 0 {
				rec := recs[r.Intn(len(recs))]
				_, _ = e.ChangeRecord(engine.SystemActor(), rec.DataSourceID, rec.ID, &model.RecordChange{State: model.RecordDenied})
			}
		default:
			if r.Intn(4) == 0 {
				_ = e.DeleteDataSource(engine.SystemActor(), ds)
			}
		}
	}
}

// TestPropertyBulkEqualsNaive: after random policy, catalog, directory and access
// writes, DataSourcesFor and UsersFor answer, at every level, what one Decide per
// id answers, on the current snapshot and on every earlier one kept; and the bulk
// index's data source sets are what a rebuild from the states gives.
func TestPropertyBulkEqualsNaive(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 40
	props := gopter.NewProperties(params)
	props.Property("bulk queries equal a Decide per id", prop.ForAll(func(seed int64) string {
		e := newRandomEngine(t, seed, 25)
		r := rand.New(rand.NewSource(seed))
		var kept []*engine.Snapshot
		for round := 0; round < 3; round++ {
			bulkWrites(t, r, e, 15)
			kept = append(kept, e.Snapshot())
			mutate(t, r, e, 5, newSelModel())
			kept = append(kept, e.Snapshot())
		}
		for k, s := range kept {
			if err := engine.CheckBulkSets(s); err != nil {
				return fmt.Sprintf("snapshot %d: %v", k, err)
			}
			for _, level := range []engine.Level{engine.LevelNone, engine.LevelRead, engine.LevelWrite} {
				for u := int64(0); u <= 7; u++ {
					want, got := naiveDataSources(s, u, level), s.DataSourcesFor(u, level)
					if fmt.Sprint(want) != fmt.Sprint(got) {
						return fmt.Sprintf("snapshot %d, DataSourcesFor(%d, %v) = %v, want %v", k, u, level, got, want)
					}
				}
				for ds := int64(0); ds <= 10; ds++ {
					want, got := naiveUsers(s, ds, level), s.UsersFor(ds, level)
					if fmt.Sprint(want) != fmt.Sprint(got) {
						return fmt.Sprintf("snapshot %d, UsersFor(%d, %v) = %v, want %v", k, ds, level, got, want)
					}
				}
			}
		}
		return ""
	}, gen.Int64()))
	props.TestingRun(t)
}

func TestBulkQueriesOnEngine(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	create(t, e, v2("fin", model.Action{Type: model.ActionEntitlements, AutomaticSubscription: true,
		Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}}}, tag("Finance")))
	s := e.Snapshot()
	for _, id := range s.UserIDs() {
		assert.Equal(t, naiveDataSources(s, id, engine.LevelRead), e.DataSourcesFor(id, engine.LevelRead))
	}
	for _, id := range s.DataSourceIDs() {
		assert.Equal(t, naiveUsers(s, id, engine.LevelRead), e.UsersFor(id, engine.LevelRead))
	}
	assert.Equal(t, []int64{}, e.DataSourcesFor(999, engine.LevelRead))
	assert.Equal(t, []int64{}, e.UsersFor(999, engine.LevelRead))
}
