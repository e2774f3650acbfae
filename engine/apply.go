package engine

import (
	"cmp"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// compile validates a canonical policy and compiles its circumstances and action,
// reporting every problem in one model.ErrorList.
func (e *Engine) compile(p *model.Policy) (*policyState, error) {
	errs := model.ValidatePolicy(p)
	m, err := match.Compile(p, match.WithRegexTimeout(e.cfg.regexTimeout), match.WithKeys(e.keys))
	if err != nil {
		errs = append(errs, asList(err)...)
	}
	var r *rule.Rule
	if p.Type == model.PolicySubscription {
		ropts := []rule.Option{rule.WithInterner(e.syms)}
		if e.cfg.costLimit > 0 {
			ropts = append(ropts, rule.WithCostLimit(e.cfg.costLimit))
		}
		r, err = rule.Compile(p, ropts...)
		if err != nil {
			errs = append(errs, asList(err)...)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return newPolicyState(p, m, r), nil
}

// DecodePolicy decodes a policy payload (JSON or YAML, either dialect) as
// model.DecodePolicy does, within the limits lim. When the payload has structural
// problems it also compiles what is sound in it (each regex, the advanced
// expression), so the error lists every problem of the body at once: a structural
// error does not hide a compile error (see docs/semantics.md, Validation). A
// structurally valid policy is compiled by CreatePolicy and UpdatePolicy.
func (e *Engine) DecodePolicy(data []byte, lim model.Limits) (*model.Policy, error) {
	p, errs := model.DecodePolicyDraft(data, lim)
	if len(errs) == 0 {
		return p, nil
	}
	if p != nil {
		errs = append(errs, e.compileProblems(p, errs)...)
	}
	return nil, errs
}

// compileProblems compiles a policy that has the structural problems known and
// returns the compile problems (regex, advanced expression) at paths known does not
// already name.
func (e *Engine) compileProblems(p *model.Policy, known model.ErrorList) model.ErrorList {
	var found model.ErrorList
	if _, err := match.Compile(p, match.WithRegexTimeout(e.cfg.regexTimeout)); err != nil {
		found = append(found, asList(err)...)
	}
	if p.Type == model.PolicySubscription {
		if _, err := rule.Compile(p); err != nil {
			found = append(found, asList(err)...)
		}
	}
	var out model.ErrorList
	for _, f := range found {
		if f.Code != model.CodeCompile && f.Code != model.CodeTooLong {
			continue // structural: the decoder's report covers it
		}
		if !slices.ContainsFunc(known, func(k *model.FieldError) bool { return k.Path == f.Path }) {
			out = append(out, f)
		}
	}
	return out
}

func newPolicyState(p *model.Policy, m *match.Matcher, r *rule.Rule) *policyState {
	ps := &policyState{p: p, m: m, r: r,
		sub:       p.Type == model.PolicySubscription,
		write:     p.Action.AccessGrant == model.Write,
		share:     p.Action.ShareResponsibility,
		auto:      p.Action.AutomaticSubscription,
		discovery: p.Action.AllowDiscovery,
	}
	if r != nil {
		ps.c, _ = r.Compact() // zero when the rule has no compact form
		reach := r.Reach()
		ps.varies, ps.fixed, ps.readsDS = reach.Varies, reach.Outcome, reach.Varies && !reach.PerSubject
	}
	return ps
}

func asList(err error) model.ErrorList {
	if l := model.Errors(err); l != nil {
		return l
	}
	return model.ErrorList{&model.FieldError{Path: "", Code: model.CodeInvalid, Detail: err.Error()}}
}

func disabledHere(ds *model.DataSource, key string) bool {
	for _, d := range ds.DisabledPolicies {
		if d.PolicyKey == key {
			return true
		}
	}
	return false
}

func selectedHere(ds *model.DataSource, key string) bool {
	for _, k := range ds.SelectedPolicies {
		if k == key {
			return true
		}
	}
	return false
}

// newDSState builds the state of a data source from scratch, running it through the
// policy index. The record bookkeeping carries over from the previous state, if any.
func (t *txn) newDSState(ds *model.DataSource, prev *dsState) *dsState {
	d := &dsState{ds: ds, target: t.e.keys.Target(ds)}
	if prev != nil {
		d.setRare(func(x *dsRare) { x.groupGrants, x.userRecords = prev.groupGrants(), prev.userRecords() })
	}
	d.setOwners(ds.Owners)
	return t.applicabilityWith(nil, d)
}

// applyScratch is the reusable memory of one applicabilityWith caller.
type applyScratch struct {
	m       match.Scratch
	applied []*policyState
	// policies are the policies by id when the caller made such a table (a load),
	// else nil (t.policies is read).
	policies []*policyState
}

// policy returns policy id, from the scratch's table if it has one.
func (t *txn) policy(sc *applyScratch, id int64) (*policyState, bool) {
	if sc != nil && sc.policies != nil {
		if id < 0 || id >= int64(len(sc.policies)) || sc.policies[id] == nil {
			return nil, false
		}
		return sc.policies[id], true
	}
	return t.policies.Get(id)
}

// applicabilityWith returns a copy of the header h (its policies are ignored) with
// the policies and indeterminate ones found through the policy index, using the
// caller's scratch memory (nil: the policy index's own, and t.policies): calls
// with distinct scratches may run concurrently while nothing writes the policies
// or the index.
func (t *txn) applicabilityWith(sc *applyScratch, h *dsState) *dsState {
	var in []indet
	var selected func(int64) bool // nil: the data source selected no policy
	if len(h.ds.SelectedPolicies) > 0 {
		selected = func(id int64) bool {
			p, ok := t.policy(sc, id)
			return ok && selectedHere(h.ds, p.p.Key)
		}
	}
	var applied []*policyState
	if sc != nil {
		applied = sc.applied[:0]
	}
	visit := func(id int64, r match.Result, err error) {
		p, ok := t.policy(sc, id)
		if !ok || disabledHere(h.ds, p.p.Key) {
			return
		}
		if r == match.Indeterminate {
			// Data policies never affect subscription decisions (see docs/semantics.md, Dialects): their
			// indeterminacy does not make the data source indeterminate.
			if p.sub {
				in = append(in, indet{policyID: id, err: err})
			}
			return
		}
		applied = append(applied, p)
	}
	if sc == nil {
		t.e.pix.Applicable(h.target, selected, visit)
	} else {
		t.e.pix.ApplicableWith(&sc.m, h.target, selected, visit)
	}
	d := h.withApplied(applied)
	if sc != nil {
		clear(applied)
		sc.applied = applied[:0]
	}
	d.setIndet(in)
	return d
}

// policyTable returns the policies by id, or nil when their ids are too sparse for
// a table to pay.
func (t *txn) policyTable() []*policyState {
	ids := append(t.base.policies.Keys(), t.policies.TouchedKeys()...)
	maxID := int64(0)
	for _, id := range ids {
		maxID = max(maxID, id)
	}
	if maxID > int64(4*len(ids)+1024) {
		return nil
	}
	tab := make([]*policyState, maxID+1)
	for _, id := range ids {
		if id > 0 {
			tab[id], _ = t.policies.Get(id) // nil when deleted
		}
	}
	return tab
}

// putLoaded stores many new, validated data sources at once, as putDS would one
// by one: their states are built on every core (the policies and the policy index
// are only read meanwhile), then stored in order. The values are stored as given
// (the engine never modifies stored values; the caller must not either), but for
// a zero CreatedAt, which a copy gets.
func (t *txn) putLoaded(list []*model.DataSource) {
	states := make([]*dsState, len(list))
	scratches := make([]applyScratch, runtime.GOMAXPROCS(0))
	builders := make([]*match.Builder, len(scratches))
	tab := t.policyTable()
	for w := range builders {
		builders[w] = t.e.keys.Builder()
		scratches[w].policies = tab
	}
	parallelWorkers(len(list), 1024, func(w, i int) {
		ds := list[i]
		if ds.CreatedAt.IsZero() {
			c := *ds
			c.CreatedAt = t.now
			ds = &c
		}
		h := dsState{ds: ds, target: builders[w].Target(ds)}
		h.setOwners(ds.Owners)
		states[i] = t.applicabilityWith(&scratches[w], &h)
	})
	t.dirty = true
	// The catalog index is built beside the rest: they share nothing.
	parallelTasks(func() {
		targets := make([]*match.Target, len(states))
		for i, d := range states {
			targets[i] = d.target
		}
		if !slices.IsSortedFunc(targets, byTargetID) {
			slices.SortStableFunc(targets, byTargetID) // a later duplicate stays later
		}
		t.e.cix.PutAll(targets)
	}, func() {
		for _, d := range states {
			if old, ok := t.dataSources.Get(d.ds.ID); ok {
				t.e.unindexKeys(old.ds)
				d.setRare(func(x *dsRare) { x.groupGrants, x.userRecords = old.groupGrants(), old.userRecords() })
			}
			t.e.indexKeys(d.ds)
			t.storeDS(d)
		}
	})
}

func byTargetID(a, b *match.Target) int { return cmp.Compare(a.ID(), b.ID()) }

// storeDS records d in the txn and keeps the writer-owned indexes in step.
func (t *txn) storeDS(d *dsState) {
	t.dataSources.Set(d.ds.ID, d)
	if len(d.indet()) > 0 {
		t.e.indet[d.ds.ID] = struct{}{}
	} else {
		delete(t.e.indet, d.ds.ID)
	}
}

// selectedIDs lists the data sources whose owners selected any of the policy keys.
func (t *txn) selectedIDs(keys ...string) []int64 {
	if len(keys) == 1 {
		return sortedSet(t.e.selectedBy[keys[0]])
	}
	ids := map[int64]struct{}{}
	for _, k := range keys {
		for id := range t.e.selectedBy[k] {
			ids[id] = struct{}{}
		}
	}
	return sortedSet(ids)
}

type hit struct {
	r   match.Result
	err error
}

func insertPolicy(list []*policyState, p *policyState) []*policyState {
	i := sort.Search(len(list), func(i int) bool { return list[i].p.ID >= p.p.ID })
	out := make([]*policyState, 0, len(list)+1)
	out = append(out, list[:i]...)
	out = append(out, p)
	if i < len(list) && list[i].p.ID == p.p.ID {
		i++
	}
	return append(out, list[i:]...)
}

func removePolicy(list []*policyState, id int64) []*policyState {
	for i, p := range list {
		if p.p.ID == id {
			out := make([]*policyState, 0, len(list)-1)
			out = append(out, list[:i]...)
			return append(out, list[i+1:]...)
		}
	}
	return list
}

func removeIndet(list []indet, id int64) []indet {
	for i, x := range list {
		if x.policyID == id {
			out := make([]indet, 0, len(list)-1)
			out = append(out, list[:i]...)
			return append(out, list[i+1:]...)
		}
	}
	return list
}

// CheckPolicy validates p and compiles it with the engine's options, exactly as
// CreatePolicy would before storing it, without storing anything or taking the
// writer lock. It returns nil or a model.ErrorList with every problem (structure,
// regexes, the advanced expression), each at its field path. Checks that depend on
// the stored state (a policyKey already taken) are CreatePolicy's.
func (e *Engine) CheckPolicy(p *model.Policy) error {
	if p == nil {
		return model.ErrorList{model.Required("", "policy is required")}
	}
	_, err := e.compile(clonePolicy(p)) // with the defaults CreatePolicy applies
	return err
}

// putLoadedUsers validates and stores many users at once, as putUsers would for
// the system actor: validated and their states built on every core (the groups are
// only read meanwhile), then stored in order. The values are stored as given, like
// putLoaded's.
func (t *txn) putLoadedUsers(list []*model.User) error {
	found := make([]model.ErrorList, len(list))
	states := make([]*userState, len(list))
	parallel(len(list), 1024, func(i int) {
		if model.ValidateUser(list[i], "") != nil { // the paths only for the invalid
			found[i] = model.ValidateUser(list[i], model.NewPath("users").Index(i))
			return
		}
		states[i] = t.userState(list[i])
	})
	var errs model.ErrorList
	for _, l := range found {
		errs = append(errs, l...)
	}
	if len(errs) > 0 {
		return errs
	}
	t.dirty = true
	for _, us := range states {
		if old, ok := t.users.Get(us.u.ID); ok {
			t.unindexUser(old)
		}
		for _, g := range us.u.Groups {
			addSet(t.e.members, g, us.u.ID)
		}
		t.users.Set(us.u.ID, us)
	}
	return nil
}

// parallel calls f(i) for every i in [0, n), on up to GOMAXPROCS goroutines, one
// more for every perWorker items; it returns when every call has.
func parallel(n, perWorker int, f func(i int)) {
	parallelWorkers(n, perWorker, func(_, i int) { f(i) })
}

// parallelTasks runs the tasks at once, each on its own goroutine, and returns
// when all have; a panic is raised again as parallelWorkers does.
func parallelTasks(tasks ...func()) {
	parallelWorkers(len(tasks), 0, func(_, i int) { tasks[i]() })
}

// parallelWorkers is parallel, telling f which worker (0 to GOMAXPROCS-1) calls it.
// A panic in f is raised again in the caller's goroutine once every worker has
// stopped, so that a write recovers it as it would its own (see txn.end).
func parallelWorkers(n, perWorker int, f func(w, i int)) {
	workers := n // perWorker 0: one goroutine per item
	if perWorker > 0 {
		workers = min(runtime.GOMAXPROCS(0), 1+n/perWorker)
	}
	var wg sync.WaitGroup
	var once sync.Once
	var panicked any
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					once.Do(func() { panicked = p })
				}
			}()
			for i := w; i < n; i += workers {
				f(w, i)
			}
		}()
	}
	wg.Wait()
	if panicked != nil {
		panic(panicked)
	}
}
