package engine

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// The tests of this package run rewire's workers and SetMany's parts on small
// catalogs: every policy write of every test takes the parallel path.
func init() { rewireChunk = 3 }

var rewireTags = []string{"A", "A.B", "B", "C"}

// rewirePolicy is a random policy of every action kind, level and flag, on a tag.
func rewirePolicy(r *rand.Rand, key string) *model.Policy {
	a := model.Action{AccessGrant: model.Read, AutomaticSubscription: r.Intn(2) == 0,
		ShareResponsibility: r.Intn(4) == 0, AllowDiscovery: r.Intn(3) == 0}
	if r.Intn(3) == 0 {
		a.AccessGrant = model.Write
	}
	circ := []model.Circumstance{{Type: model.CircumstanceTags, Tag: rewireTags[r.Intn(len(rewireTags))]}}
	switch r.Intn(7) {
	case 0:
		a.Type = model.ActionAnyone
	case 1:
		a.Type = model.ActionApproval
		a.Approvals = []model.Approval{{RequiredPermission: model.Governance}}
	case 2:
		a.Type = model.ActionManual
	case 3:
		a.Type = model.ActionEntitlements
		a.Advanced = "@hasTagAsGroup('dataSource') OR @isInGroups('g2')" // reads the data source
	case 4:
		return &model.Policy{Key: key, Name: key, Type: model.PolicyData, Circumstances: circ,
			CircumstanceOperator: model.Any, DataActions: json.RawMessage(`{"type":"masking","rules":[]}`)}
	default:
		a.Type = model.ActionEntitlements
		op := model.Any
		if r.Intn(2) == 0 {
			op = model.All
		}
		a.Entitlements = &model.Entitlements{Operator: op, Groups: []string{"g1", fmt.Sprint("g", 2+r.Intn(2))}[:1+r.Intn(2)]}
	}
	return &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, Action: a, CircumstanceOperator: model.Any,
		Circumstances: circ}
}

// rewireEngine is a random engine of 40 data sources and 12 policies, some of
// them disabled on some data sources.
func rewireEngine(t *testing.T, r *rand.Rand) *Engine {
	e := New()
	var keys []string
	for i := range 12 {
		p, _, err := e.CreatePolicy(SystemActor(), rewirePolicy(r, fmt.Sprint("p", i)), WriteOptions{})
		require.NoError(t, err)
		keys = append(keys, p.Key)
	}
	var list []*model.DataSource
	for id := int64(1); id <= 40; id++ {
		ds := &model.DataSource{ID: id, Name: fmt.Sprint("ds", id), Server: "s"}
		for j := r.Intn(3); j > 0; j-- {
			ds.Tags = append(ds.Tags, rewireTags[r.Intn(len(rewireTags))])
		}
		if r.Intn(5) == 0 {
			ds.DisabledPolicies = []model.DisabledPolicy{{PolicyKey: keys[r.Intn(len(keys))], Reason: "r"}}
		}
		list = append(list, ds)
	}
	require.NoError(t, e.PutDataSources(SystemActor(), list))
	return e
}

// TestPropertyRewrittenEqualsCompared: after a policy write (a create with a new
// highest id, which takes withLast, an update and a delete), the change computed
// from the keys touched() lists with rewire's record equals the one computed by
// comparing every changed data source's states.
func TestPropertyRewrittenEqualsCompared(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 40
	props := gopter.NewProperties(params)
	props.Property("rewire's record = the comparison", prop.ForAll(func(seed int64) string {
		r := rand.New(rand.NewSource(seed))
		e := rewireEngine(t, r)
		for step := range 12 {
			tx := e.begin()
			var op string
			ids := tx.base.policies.Keys()
			slices.Sort(ids)
			switch id := ids[r.Intn(len(ids))]; r.Intn(3) {
			case 0:
				op = "create"
				_, _, err := tx.createPolicy(actorInfo{system: true}, rewirePolicy(r, fmt.Sprint("new", step)), 0, false)
				require.NoError(t, err)
			case 1:
				op = "update"
				old, _ := tx.policies.Get(id)
				p := clonePolicy(rewirePolicy(r, old.p.Key))
				p.ID = id
				ps, err := e.compile(p)
				require.NoError(t, err)
				imp := tx.rewire(id, old, ps)
				tx.policies.Set(id, ps)
				tx.reindex(id, ps, &imp)
			default:
				op = "delete"
				old, _ := tx.policies.Get(id)
				imp := tx.rewire(id, old, nil)
				tx.policies.Del(id)
				tx.keys.Del(old.p.Key)
				tx.reindex(id, nil, &imp)
			}
			if _, ok := tx.rewritten(); !ok {
				tx.abort()
				return op + ": rewire left no record"
			}
			fastKeys := tx.touched()
			rec := tx.rewires
			tx.rewires = nil
			slowKeys := tx.touched()
			tx.rewires = rec
			next := tx.view()
			fastDelta, err := diff(tx.base, next, fastKeys)
			require.NoError(t, err)
			slowDelta, err := diff(tx.base, next, slowKeys)
			require.NoError(t, err)
			if !reflect.DeepEqual(fastDelta, slowDelta) {
				tx.abort()
				return fmt.Sprintf("step %d (%s): the change differs", step, op)
			}
			require.NoError(t, tx.commit(SystemActor(), op))
		}
		return ""
	}, gen.Int64()))
	props.TestingRun(t)
}

// TestPropertyWithLastEqualsDerive: applying a policy with an id above every
// applied one through withLast gives the state inserting it and deriving gives;
// removing one through without gives what removing it from the list and deriving
// gives; and a state built from a list of applied policies gives that list back, its
// levels and its membership tests, whether or not the list fits in the state's
// own allocation.
func TestPropertyWithLastEqualsDerive(t *testing.T) {
	e := New()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	props.Property("withLast = insert + derive, without = remove + derive", prop.ForAll(func(seed int64) string {
		r := rand.New(rand.NewSource(seed))
		var applied []*policyState
		n := r.Intn(2 * maxBoxed)
		for i := range n + 1 {
			p := clonePolicy(rewirePolicy(r, fmt.Sprint("p", i)))
			p.ID = int64(1 + 2*i)
			ps, err := e.compile(p)
			require.NoError(t, err)
			applied = append(applied, ps)
		}
		np := applied[n]
		h := &dsState{ds: &model.DataSource{ID: 7, Name: "d"}}
		if r.Intn(4) == 0 {
			h.setRare(func(x *dsRare) { x.indet = []indet{{policyID: 99}} })
		}
		d := h.withApplied(applied[:n:n])
		if got := d.applied(); !slices.Equal(got, applied[:n]) {
			return fmt.Sprintf("applied() = %d policies, want %d", len(got), n)
		}
		read, write := d.levels()
		var wantRead, wantWrite []*policyState
		for _, p := range applied[:n] {
			switch {
			case p.sub && p.write:
				wantWrite = append(wantWrite, p)
			case p.sub:
				wantRead = append(wantRead, p)
			}
		}
		if !slices.Equal(policiesOf(read), wantRead) || !slices.Equal(policiesOf(write), wantWrite) {
			return "levels differ from the applied list's subscription policies"
		}
		for i := range applied {
			if d.hasApplied(applied[i].p.ID) != (i < n) || d.hasApplied(applied[i].p.ID+1) {
				return fmt.Sprintf("hasApplied(%d) is wrong", applied[i].p.ID)
			}
		}
		want := d.withApplied(insertPolicy(d.applied(), np))
		got := d.withLast(np)
		if !reflect.DeepEqual(stripRes(got), stripRes(want)) || (got.res == nil) != (want.res == nil) {
			return fmt.Sprintf("withLast = %+v, want %+v", got, want)
		}
		if n > 0 {
			gone := applied[r.Intn(n)].p.ID
			want, got := d.withApplied(removePolicy(d.applied(), gone)), d.without(gone)
			if !reflect.DeepEqual(stripRes(got), stripRes(want)) || (got.res == nil) != (want.res == nil) {
				return fmt.Sprintf("without(%d) = %+v, want %+v", gone, got, want)
			}
		}
		if c := d.clone(); !reflect.DeepEqual(stripRes(c), stripRes(d)) || (n > 0 && c.polp == d.polp) {
			return "a clone differs, or shares the policies' memory"
		}
		return ""
	}, gen.Int64()))
	props.TestingRun(t)
}

func policiesOf(lv []levelPolicy) []*policyState {
	var out []*policyState
	for _, lp := range lv {
		out = append(out, lp.p)
	}
	return out
}

// stripRes is d without its advanced DSL view (compared apart: a pointer).
// stripRes returns d's header without its DSL view and policy pointer, and its
// policies, for comparing states by value.
func stripRes(d *dsState) stateView {
	c := *d
	c.res, c.polp = nil, nil
	return stateView{c, slices.Clone(d.pols())}
}

type stateView struct {
	h    dsState
	pols []levelPolicy
}
