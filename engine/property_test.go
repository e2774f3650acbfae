package engine_test

import (
	"fmt"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

// A random world: a few data sources, users and policies over a small vocabulary so
// that policies overlap.
var (
	vocabTags = []string{"A", "A.B", "A.B.C", "B", "B.C", "C"}
	servers   = []string{"one.example", "TWO.example"}
	domains   = []model.Domain{{ID: "d1", Name: "Sales"}, {ID: "d2", Name: "HR"}}
)

func randDataSource(r *rand.Rand, id int64, keys []string) *model.DataSource {
	ds := &model.DataSource{ID: id, Name: fmt.Sprint("ds", id), Server: servers[r.Intn(len(servers))], CreatedAt: t0.AddDate(0, -r.Intn(12), 0)}
	for i := r.Intn(3); i > 0; i-- {
		ds.Tags = append(ds.Tags, vocabTags[r.Intn(len(vocabTags))])
	}
	for i := r.Intn(3); i > 0; i-- {
		ds.Columns = append(ds.Columns, model.Column{Name: fmt.Sprint("col", r.Intn(5)), Tags: []string{vocabTags[r.Intn(len(vocabTags))]}})
	}
	if r.Intn(2) == 0 {
		ds.Domains = []model.Domain{domains[r.Intn(len(domains))]}
	}
	if r.Intn(3) == 0 {
		ds.Owners = []int64{int64(1 + r.Intn(4))}
	}
	if len(keys) > 0 && r.Intn(3) == 0 {
		ds.SelectedPolicies = []string{keys[r.Intn(len(keys))]}
	}
	if len(keys) > 0 && r.Intn(4) == 0 {
		ds.DisabledPolicies = []model.DisabledPolicy{{PolicyKey: keys[r.Intn(len(keys))], Reason: "r"}}
	}
	return ds
}

func randCircumstance(r *rand.Rand) model.Circumstance {
	switch r.Intn(7) {
	case 0, 1:
		return model.Circumstance{Type: model.CircumstanceTags, Tag: vocabTags[r.Intn(len(vocabTags))]}
	case 2:
		return model.Circumstance{Type: model.CircumstanceColumnTags, ColumnTag: vocabTags[r.Intn(len(vocabTags))]}
	case 3:
		return model.Circumstance{Type: model.CircumstanceServer, Server: "one.EXAMPLE"}
	case 4:
		return model.Circumstance{Type: model.CircumstanceDomains, Domains: []model.Domain{{Name: "HR"}}}
	case 5:
		return model.Circumstance{Type: model.CircumstanceColumnRegex, Regex: fmt.Sprint("col[", r.Intn(3), "-4]")}
	default:
		return model.Circumstance{Type: model.CircumstanceTime, StartDate: t0.AddDate(0, -6, 0)}
	}
}

func randPolicy(r *rand.Rand, key string) *model.Policy {
	a := model.Action{AccessGrant: model.Read, AutomaticSubscription: r.Intn(2) == 0, ShareResponsibility: r.Intn(4) == 0}
	if r.Intn(3) == 0 {
		a.AccessGrant = model.Write
	}
	switch r.Intn(4) {
	case 0:
		a.Type = model.ActionAnyone
	case 1:
		a.Type = model.ActionApproval
		a.Approvals = []model.Approval{{RequiredPermission: model.Governance}}
	case 2:
		a.Type = model.ActionManual
	default:
		a.Type = model.ActionEntitlements
		a.Entitlements = &model.Entitlements{Operator: model.Any, Groups: []string{fmt.Sprint("g", r.Intn(2))}}
	}
	p := &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, Action: a, CircumstanceOperator: model.Any}
	if r.Intn(2) == 0 {
		p.CircumstanceOperator = model.All
	}
	switch r.Intn(6) {
	case 0:
	case 1:
		p.Circumstances = []model.Circumstance{{Type: model.CircumstanceOwnerSelected}}
	default:
		for i := 1 + r.Intn(2); i > 0; i-- {
			p.Circumstances = append(p.Circumstances, randCircumstance(r))
		}
	}
	p.Staged = r.Intn(6) == 0 && !p.OwnerSelected()
	return p
}

func randUsers(r *rand.Rand) []*model.User {
	var out []*model.User
	for id := int64(1); id <= 5; id++ {
		u := &model.User{ID: id, Name: fmt.Sprint("u", id)}
		if r.Intn(2) == 0 {
			u.Groups = []string{fmt.Sprint("g", r.Intn(2))}
		}
		if id == 1 {
			u.Permissions = []model.Permission{model.Governance}
		}
		out = append(out, u)
	}
	return out
}

// selModel is the reference for owner selections and disables: each is held by
// the identity of the policy it belongs to (its id), or, while no policy has the key
// it names, by that key. A key change therefore carries a selection, a delete drops
// it, and a key takes effect when a policy gets it (docs/semantics.md, Owner-selected
// policies).
type selModel struct {
	selected map[int64]map[any]bool // data source -> policy id (int64) or dangling key (string)
	disabled map[int64]map[any]bool
}

func newSelModel() *selModel {
	return &selModel{selected: map[int64]map[any]bool{}, disabled: map[int64]map[any]bool{}}
}

// ref is what a key names now: the id of the live policy with that key, else the key.
func ref(s *engine.Snapshot, key string) any {
	for _, p := range s.Policies() {
		if p.Key == key {
			return p.ID
		}
	}
	return key
}

func (m *selModel) putDataSource(s *engine.Snapshot, ds *model.DataSource) {
	m.selected[ds.ID], m.disabled[ds.ID] = map[any]bool{}, map[any]bool{}
	for _, k := range ds.SelectedPolicies {
		m.selected[ds.ID][ref(s, k)] = true
	}
	for _, d := range ds.DisabledPolicies {
		m.disabled[ds.ID][ref(s, d.PolicyKey)] = true
	}
}

func add(sets map[int64]map[any]bool, ds int64, x any) {
	if sets[ds] == nil {
		sets[ds] = map[any]bool{}
	}
	sets[ds][x] = true
}

// keyTaken: policy id now has key; entries that named the key while no policy had
// it become the policy's.
func (m *selModel) keyTaken(id int64, key string) {
	for _, sets := range []map[int64]map[any]bool{m.selected, m.disabled} {
		for _, set := range sets {
			if set[key] {
				delete(set, key)
				set[id] = true
			}
		}
	}
}

func (m *selModel) deleted(id int64) {
	for _, sets := range []map[int64]map[any]bool{m.selected, m.disabled} {
		for _, set := range sets {
			delete(set, id)
		}
	}
}

// check compares the model with the keys the engine's data sources name.
func (m *selModel) check(s *engine.Snapshot) string {
	keys := func(set map[any]bool) []string {
		out := []string{}
		for x := range set {
			switch v := x.(type) {
			case int64:
				for _, p := range s.Policies() {
					if p.ID == v {
						out = append(out, p.Key)
					}
				}
			case string:
				out = append(out, v)
			}
		}
		sort.Strings(out)
		return out
	}
	for _, id := range s.DataSourceIDs() {
		ds, _ := s.DataSource(id)
		sel := append([]string{}, ds.SelectedPolicies...)
		dis := []string{}
		for _, d := range ds.DisabledPolicies {
			dis = append(dis, d.PolicyKey)
		}
		sort.Strings(sel)
		sort.Strings(dis)
		if w := keys(m.selected[id]); fmt.Sprint(sel) != fmt.Sprint(w) {
			return fmt.Sprintf("ds %d selects %v, the model %v", id, sel, w)
		}
		if w := keys(m.disabled[id]); fmt.Sprint(dis) != fmt.Sprint(w) {
			return fmt.Sprintf("ds %d disables %v, the model %v", id, dis, w)
		}
	}
	return ""
}

// mutate applies a random sequence of writes (refused writes are fine) and keeps
// the selection model m in step. Updates sometimes change the policy's key; creates
// sometimes reuse a key (refused while a live policy has it); data sources name keys
// of live, deleted and not yet created policies.
func mutate(t *testing.T, r *rand.Rand, e *engine.Engine, steps int, m *selModel) {
	keys := []string{}
	for i := 0; i < steps; i++ {
		s := e.Snapshot()
		pols := s.Policies()
		switch op := r.Intn(11); {
		case op < 4:
			k := fmt.Sprint("p", i)
			if len(keys) > 0 && r.Intn(4) == 0 {
				k = keys[r.Intn(len(keys))]
			} else {
				keys = append(keys, k)
			}
			if p, _, err := e.CreatePolicy(engine.SystemActor(), randPolicy(r, k), engine.WriteOptions{}); err == nil {
				m.keyTaken(p.ID, p.Key)
			}
		case op < 6 && len(pols) > 0:
			p := pols[r.Intn(len(pols))]
			k := p.Key
			if op == 5 {
				k = fmt.Sprint("p", i)
				if len(keys) > 0 && r.Intn(3) == 0 {
					k = keys[r.Intn(len(keys))] // taken (refused) or freed
				} else {
					keys = append(keys, k)
				}
			}
			if np, _, err := e.UpdatePolicy(engine.SystemActor(), p.ID, randPolicy(r, k), engine.WriteOptions{}); err == nil {
				m.keyTaken(np.ID, np.Key)
			}
		case op < 7 && len(pols) > 0:
			p := pols[r.Intn(len(pols))]
			if _, err := e.DeletePolicy(engine.SystemActor(), p.ID); err == nil {
				m.deleted(p.ID)
			}
		case op < 9:
			// keys of live, deleted and not yet created policies
			named := append(append([]string{}, keys...), fmt.Sprint("p", i+1), fmt.Sprint("p", i+2))
			ds := randDataSource(r, int64(1+r.Intn(8)), named)
			require.NoError(t, e.PutDataSource(engine.SystemActor(), ds))
			m.putDataSource(s, ds)
		case op < 10 && len(pols) > 0:
			p, ds := pols[r.Intn(len(pols))], int64(1+r.Intn(8))
			if e.ApplyPolicy(engine.SystemActor(), p.ID, ds) == nil {
				add(m.selected, ds, p.ID)
			}
		default:
			if len(pols) > 0 {
				p, ds := pols[r.Intn(len(pols))], int64(1+r.Intn(8))
				if e.DisablePolicy(engine.SystemActor(), ds, p.ID, "because") == nil {
					add(m.disabled, ds, p.ID)
				}
			}
		}
	}
}

// naiveApplied computes the applied policy keys of a data source by evaluating every
// policy, without any index.
func naiveApplied(s *engine.Snapshot, dsID int64) []string {
	ds, _ := s.DataSource(dsID)
	target := match.NewTarget(ds)
	out := []string{}
	for _, p := range s.Policies() {
		if p.Staged {
			continue
		}
		disabled := false
		for _, d := range ds.DisabledPolicies {
			disabled = disabled || d.PolicyKey == p.Key
		}
		selected := false
		for _, k := range ds.SelectedPolicies {
			selected = selected || k == p.Key
		}
		m, err := match.Compile(p)
		if err != nil {
			panic(err)
		}
		if res, _ := m.Match(target, selected); res == match.Applies && !disabled {
			out = append(out, p.Key)
		}
	}
	return out
}

func keysOf(ps []*model.Policy) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Key)
	}
	return out
}

func newRandomEngine(t *testing.T, seed int64, steps int) *engine.Engine {
	e, _ := newRandomEngineModel(t, seed, steps)
	return e
}

// newRandomEngineModel is newRandomEngine with the selection model of its writes.
func newRandomEngineModel(t *testing.T, seed int64, steps int) (*engine.Engine, *selModel) {
	r := rand.New(rand.NewSource(seed))
	e := engine.New(engine.WithClock(func() time.Time { return t0 }))
	require.NoError(t, e.PutUsers(engine.SystemActor(), randUsers(r)))
	m := newSelModel()
	for id := int64(1); id <= 8; id++ {
		ds := randDataSource(r, id, nil)
		require.NoError(t, e.PutDataSource(engine.SystemActor(), ds))
		m.putDataSource(e.Snapshot(), ds)
	}
	mutate(t, r, e, steps, m)
	return e, m
}

func TestPropertyIncrementalEqualsNaive(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 60
	props := gopter.NewProperties(params)
	props.Property("applied policies after random writes equal a naive scan", prop.ForAll(func(seed int64) string {
		e := newRandomEngine(t, seed, 30)
		s := e.Snapshot()
		for _, id := range s.DataSourceIDs() {
			got, err := s.AppliedPolicies(id)
			if err != nil {
				return err.Error()
			}
			if g, w := keysOf(got), naiveApplied(s, id); fmt.Sprint(g) != fmt.Sprint(w) {
				return fmt.Sprintf("ds %d: indexed %v, naive %v", id, g, w)
			}
		}
		return ""
	}, gen.Int64()))
	props.Property("owner selections and disables follow their policy", prop.ForAll(func(seed int64) string {
		e, m := newRandomEngineModel(t, seed, 40)
		return m.check(e.Snapshot())
	}, gen.Int64()))
	props.Property("staged policies apply nowhere", prop.ForAll(func(seed int64) bool {
		s := newRandomEngine(t, seed, 30).Snapshot()
		for _, id := range s.DataSourceIDs() {
			ps, _ := s.AppliedPolicies(id)
			for _, p := range ps {
				if p.Staged {
					return false
				}
			}
		}
		return true
	}, gen.Int64()))
	props.Property("a user holding WRITE holds READ", prop.ForAll(func(seed int64) bool {
		s := newRandomEngine(t, seed, 30).Snapshot()
		for _, ds := range s.DataSourceIDs() {
			for _, u := range s.UserIDs() {
				d := s.Decide(u, ds)
				if d.Grant == engine.LevelWrite && d.Read != engine.StateSubscribed && d.Read != engine.StateOwner {
					return false
				}
			}
		}
		return true
	}, gen.Int64()))
	props.TestingRun(t)
}

func TestPropertyExportImport(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 40
	props := gopter.NewProperties(params)
	props.Property("export, import, export is identical and decisions are unchanged", prop.ForAll(func(seed int64) string {
		e := newRandomEngine(t, seed, 25)
		out, err := e.Export()
		if err != nil {
			return err.Error()
		}
		e2 := engine.New(engine.WithClock(func() time.Time { return t0 }))
		if err := e2.Import(out); err != nil {
			return "import: " + err.Error()
		}
		out2, err := e2.Export()
		if err != nil {
			return err.Error()
		}
		if string(out) != string(out2) {
			return "exports differ"
		}
		s, s2 := e.Snapshot(), e2.Snapshot()
		for _, ds := range s.DataSourceIDs() {
			for _, u := range s.UserIDs() {
				a, b := s.Decide(u, ds), s2.Decide(u, ds)
				if a.Grant != b.Grant || a.Read != b.Read || a.Write != b.Write || a.Discoverable != b.Discoverable {
					return fmt.Sprintf("user %d ds %d: %v vs %v", u, ds, a, b)
				}
			}
		}
		return ""
	}, gen.Int64()))
	props.Property("an imported engine goes on as the original under the same writes", prop.ForAll(func(seed int64) string {
		e := newRandomEngine(t, seed, 25)
		out, err := e.Export()
		if err != nil {
			return err.Error()
		}
		e2 := engine.New(engine.WithClock(func() time.Time { return t0 }))
		if err := e2.Import(out); err != nil {
			return "import: " + err.Error()
		}
		mutate(t, rand.New(rand.NewSource(seed+1)), e, 25, newSelModel())
		mutate(t, rand.New(rand.NewSource(seed+1)), e2, 25, newSelModel())
		a, err := e.Export()
		if err != nil {
			return err.Error()
		}
		b, err := e2.Export()
		if err != nil {
			return err.Error()
		}
		if string(a) != string(b) {
			return "exports differ after the same writes"
		}
		s := e2.Snapshot()
		for _, id := range s.DataSourceIDs() {
			got, _ := s.AppliedPolicies(id)
			if g, w := keysOf(got), naiveApplied(s, id); fmt.Sprint(g) != fmt.Sprint(w) {
				return fmt.Sprintf("imported engine, ds %d: indexed %v, naive %v", id, g, w)
			}
		}
		return ""
	}, gen.Int64()))
	props.Property("a dry run and a refused write leave the export byte-identical", prop.ForAll(func(seed int64) string {
		e := newRandomEngine(t, seed, 20)
		before, err := e.Export()
		if err != nil {
			return err.Error()
		}
		r := rand.New(rand.NewSource(seed))
		_, _, err = e.CreatePolicy(engine.SystemActor(), randPolicy(r, "dry"), engine.WriteOptions{DryRun: true})
		if err != nil {
			return err.Error()
		}
		if ps := e.Snapshot().Policies(); len(ps) > 0 {
			_, _, _ = e.UpdatePolicy(engine.SystemActor(), ps[0].ID, randPolicy(r, ps[0].Key), engine.WriteOptions{DryRun: true})
			// A refused write: a duplicate key.
			_, _, err = e.CreatePolicy(engine.SystemActor(), randPolicy(r, ps[0].Key), engine.WriteOptions{})
			if err == nil {
				return "duplicate key accepted"
			}
		}
		bad := &model.Policy{Key: "bad", Name: "bad", Type: model.PolicySubscription,
			Action:        model.Action{Type: model.ActionAnyone},
			Circumstances: []model.Circumstance{{Type: model.CircumstanceColumnRegex, Regex: "("}}}
		if _, _, err := e.CreatePolicy(engine.SystemActor(), bad, engine.WriteOptions{}); err == nil {
			return "bad regex accepted"
		}
		after, err := e.Export()
		if err != nil {
			return err.Error()
		}
		if string(before) != string(after) {
			return "export changed"
		}
		return ""
	}, gen.Int64()))
	props.TestingRun(t)
}

func TestPropertyDecisionsIndependentOfCreationOrder(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 40
	props := gopter.NewProperties(params)
	props.Property("the same policies created in another order decide the same", prop.ForAll(func(seed int64) string {
		r := rand.New(rand.NewSource(seed))
		users := randUsers(r)
		var dss []*model.DataSource
		for id := int64(1); id <= 8; id++ {
			dss = append(dss, randDataSource(r, id, []string{"p0", "p1"}))
		}
		var pols []*model.Policy
		for i := 0; i < 6; i++ {
			pols = append(pols, randPolicy(r, fmt.Sprint("p", i)))
		}
		build := func(order []int) *engine.Snapshot {
			e := engine.New(engine.WithClock(func() time.Time { return t0 }))
			require.NoError(t, e.PutUsers(engine.SystemActor(), users))
			require.NoError(t, e.PutDataSources(engine.SystemActor(), dss))
			for _, i := range order {
				_, _, err := e.CreatePolicy(engine.SystemActor(), pols[i], engine.WriteOptions{})
				require.NoError(t, err)
			}
			return e.Snapshot()
		}
		order := r.Perm(len(pols))
		a, b := build([]int{0, 1, 2, 3, 4, 5}), build(order)
		for _, ds := range a.DataSourceIDs() {
			pa, _ := a.AppliedPolicies(ds)
			pb, _ := b.AppliedPolicies(ds)
			ka, kb := keysOf(pa), keysOf(pb)
			sort.Strings(ka)
			sort.Strings(kb)
			if fmt.Sprint(ka) != fmt.Sprint(kb) {
				return fmt.Sprintf("ds %d applied %v vs %v", ds, ka, kb)
			}
			for _, u := range a.UserIDs() {
				x, y := a.Decide(u, ds), b.Decide(u, ds)
				if x.Grant != y.Grant || x.Read != y.Read || x.Write != y.Write || x.Discoverable != y.Discoverable {
					return fmt.Sprintf("user %d ds %d differ", u, ds)
				}
			}
		}
		return ""
	}, gen.Int64()))
	props.TestingRun(t)
}

// TestConcurrentReadersSeeOneSnapshot runs readers deciding while writers change
// policies, data sources and grants (run it with -race). Each reader checks that a
// snapshot answers the same twice and keeps the invariants.
func TestConcurrentReadersSeeOneSnapshot(t *testing.T) {
	e := newRandomEngine(t, 7, 10)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan string, 16)
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				s := e.Snapshot()
				for _, ds := range s.DataSourceIDs() {
					ps, _ := s.AppliedPolicies(ds)
					for _, p := range ps {
						if p.Staged {
							errs <- "staged policy applied"
							return
						}
					}
					for _, u := range s.UserIDs() {
						a, b := s.Decide(u, ds), s.Decide(u, ds)
						if a != b {
							errs <- "one snapshot answered twice differently"
							return
						}
						if a.Grant == engine.LevelWrite && a.Read < engine.StateSubscribed {
							errs <- "WRITE without READ"
							return
						}
					}
				}
			}
		}()
	}
	r := rand.New(rand.NewSource(99))
	mutate(t, r, e, 300, newSelModel())
	for i := 0; i < 50; i++ {
		p := int64(1 + r.Intn(5))
		_, _ = e.Access(engine.SystemActor(), int64(1+r.Intn(8)), engine.AccessRequest{ProfileID: p, State: model.RecordSubscribed})
	}
	close(stop)
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Fatal(msg)
	}
}
