package engine

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"

	"github.com/tollgate-dev/tollgate/engine/internal/cowmap"
	"github.com/tollgate-dev/tollgate/engine/internal/merge"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

func (s *Snapshot) policyWriter(a Actor) (actorInfo, error) {
	ai, err := s.actor(a)
	if err != nil {
		return ai, err
	}
	if !ai.has(permGovernance) {
		return ai, fmt.Errorf("%w: managing global policies needs the GOVERNANCE permission", ErrForbidden)
	}
	return ai, nil
}

func (s *Snapshot) actorName(ai actorInfo) string {
	if ai.system {
		return "System"
	}
	if u, ok := s.users.Get(ai.id); ok {
		return u.u.Name
	}
	return ""
}

// clonePolicy returns a shallow copy of p with its own top-level slices, so the
// engine never shares a caller's value.
func clonePolicy(p *model.Policy) *model.Policy {
	c := *p
	c.Circumstances = append([]model.Circumstance(nil), p.Circumstances...)
	if p.Certification != nil {
		cert := *p.Certification
		c.Certification = &cert
	}
	c.ApplyDefaults() // for policies built in Go, as the decoders apply them
	return &c
}

// resolveGroups names each v1 group condition given by id alone after the
// directory group of that id (see docs/semantics.md, Dialects); an unknown id is
// a validation error. np's entitlements are copied before they change.
func (t *txn) resolveGroups(np *model.Policy) error {
	e := np.Action.Entitlements
	if e == nil {
		return nil
	}
	var errs model.ErrorList
	var groups []string
	for i, info := range e.GroupInfo {
		if i >= len(e.Groups) || e.Groups[i] != "" || info.GroupID == 0 {
			continue
		}
		g, ok := t.groups.Get(info.GroupID)
		if !ok {
			errs = append(errs, model.Invalid(model.NewPath("actions[0].exceptions.conditions"), nil,
				fmt.Sprintf("group id %d names no group of the directory", info.GroupID)))
			continue
		}
		if groups == nil {
			groups = append([]string(nil), e.Groups...)
		}
		groups[i] = g.Name
	}
	if len(errs) > 0 {
		return errs
	}
	if groups != nil {
		c := *e
		c.Groups = groups
		np.Action.Entitlements = &c
	}
	return nil
}

// CreatePolicy validates, compiles and stores a policy as actor a (GOVERNANCE), or on
// a dry run only computes its impact, storing nothing (the answer then has ID 0).
// Errors: ErrUnauthenticated, ErrForbidden, a model.ErrorList, ErrConflict.
func (e *Engine) CreatePolicy(a Actor, p *model.Policy, o WriteOptions) (np *model.Policy, imp *Impact, err error) {
	err = e.retry(func() error { np, imp, err = e.createPolicyOnce(a, p, o); return err })
	return np, imp, err
}

// createPolicyOnce is one attempt of CreatePolicy (see retry).
func (e *Engine) createPolicyOnce(a Actor, p *model.Policy, o WriteOptions) (_ *model.Policy, _ *Impact, err error) {
	t := e.beginPolicyWrite(o)
	defer t.end(&err)
	ai, err := t.base.policyWriter(a)
	if err != nil {
		return nil, nil, err
	}
	np, imp, err := t.createPolicy(ai, p, 0, o.DryRun)
	if err != nil {
		return nil, nil, err
	}
	if o.DryRun {
		return np, t.dryRunImpact(imp), nil
	}
	if err := t.commit(a, "createPolicy"); err != nil {
		return nil, nil, err
	}
	return np, &imp.Impact, nil
}

// dryRunImpact ends a dry run (a shadow: it never held the writer lock; nothing is
// stored) and compares decisions before and after the would-be write on the data
// sources it touched (see docs/security.md, Limits).
func (t *txn) dryRunImpact(w *impactWork) *Impact {
	before, after := t.base, t.view()
	t.abort() // the edits stay readable: nothing writes them after an abort
	if f := t.e.cfg.dryRunUnlocked; f != nil {
		f()
	}
	imp := w.Impact
	imp.Users, imp.UsersTotal = userImpact(before, after, w.touched, t.e.cfg.impactUsers)
	imp.Truncated = imp.UsersTotal > len(imp.Users)
	return &imp
}

// createPolicy stores a new policy with the next id (or with id, on import).
func (t *txn) createPolicy(ai actorInfo, p *model.Policy, id int64, dry bool) (*model.Policy, *impactWork, error) {
	np, ps, err := t.preparePolicy(ai, p, id)
	if err != nil {
		return nil, nil, err
	}
	return t.storeNewPolicy(np, ps, id, dry)
}

// preparePolicy is the part of createPolicy that only reads the state: the copy of
// p with its groups resolved and its metadata set, compiled. Calls may run
// concurrently while nothing writes the groups.
func (t *txn) preparePolicy(ai actorInfo, p *model.Policy, id int64) (*model.Policy, *policyState, error) {
	np := clonePolicy(p)
	if err := t.resolveGroups(np); err != nil {
		return nil, nil, err
	}
	np.ID, np.Deleted, np.KeyDefaulted = 0, false, false
	if id == 0 {
		np.CreatedBy, np.CreatedByName = ai.id, t.base.actorName(ai)
		np.CreatedAt, np.UpdatedAt = t.now, t.now
	}
	ps, err := t.e.compile(np)
	if err != nil {
		return nil, nil, err
	}
	return np, ps, nil
}

// storeNewPolicy stores a prepared policy (see createPolicy).
func (t *txn) storeNewPolicy(np *model.Policy, ps *policyState, id int64, dry bool) (*model.Policy, *impactWork, error) {
	if other, taken := t.keys.Get(np.Key); taken {
		return nil, nil, fmt.Errorf("%w: policyKey %q is already used by policy %d", ErrConflict, model.ClipInput(np.Key), other)
	}
	if id == 0 {
		id = t.nextPolicy
	}
	np.ID = id
	imp := t.rewire(0, nil, ps)
	if dry {
		np.ID = 0
		return np, &imp, nil
	}
	if id >= t.nextPolicy {
		t.nextPolicy = id + 1
	}
	t.policies.Set(id, ps)
	t.keys.Set(np.Key, id)
	t.reindex(0, ps, &imp)
	return np, &imp, nil
}

// UpdatePolicy replaces policy id (PUT semantics) as actor a (GOVERNANCE). The policy
// keeps its policyKey unless p names another (p.Key empty or p.KeyDefaulted keeps it).
// On a dry run nothing is stored. With o.ReCertify and a changed certification, the
// certification is reset on every data source the policy applies to.
func (e *Engine) UpdatePolicy(a Actor, id int64, p *model.Policy, o WriteOptions) (np *model.Policy, imp *Impact, err error) {
	err = e.retry(func() error { np, imp, err = e.updatePolicyOnce(a, id, p, o); return err })
	return np, imp, err
}

// updatePolicyOnce is one attempt of UpdatePolicy (see retry).
func (e *Engine) updatePolicyOnce(a Actor, id int64, p *model.Policy, o WriteOptions) (_ *model.Policy, _ *Impact, err error) {
	t := e.beginPolicyWrite(o)
	defer t.end(&err)
	_, err = t.base.policyWriter(a)
	if err != nil {
		return nil, nil, err
	}
	old, ok := t.policies.Get(id)
	if !ok {
		return nil, nil, fmt.Errorf("%w: no policy with id %d", ErrNotFound, id)
	}
	np := clonePolicy(p)
	if err := t.resolveGroups(np); err != nil {
		return nil, nil, err
	}
	if np.Key == "" || np.KeyDefaulted {
		np.Key = old.p.Key
	}
	np.KeyDefaulted = false
	np.ID, np.Deleted = id, false
	np.CreatedBy, np.CreatedByName, np.CreatedAt = old.p.CreatedBy, old.p.CreatedByName, old.p.CreatedAt
	np.UpdatedAt = t.now
	ps, err := e.compile(np)
	if err != nil {
		return nil, nil, err
	}
	if other, taken := t.keys.Get(np.Key); taken && other != id {
		return nil, nil, fmt.Errorf("%w: policyKey %q is already used by policy %d", ErrConflict, model.ClipInput(np.Key), other)
	}
	if np.Key != old.p.Key {
		t.rekey(old.p.Key, np.Key) // selections and disables follow the policy
	}
	imp := t.rewire(id, old, ps)
	if o.DryRun {
		return np, t.dryRunImpact(&imp), nil
	}
	t.policies.Set(id, ps)
	if np.Key != old.p.Key {
		t.keys.Del(old.p.Key)
		t.keys.Set(np.Key, id)
	}
	t.reindex(id, ps, &imp)
	if o.ReCertify && !reflect.DeepEqual(old.p.Certification, np.Certification) {
		t.copyCerts()
		m := map[int64]string{}
		for _, ds := range imp.applied {
			m[ds] = "recertificationRequired"
		}
		t.certs[id] = m
	}
	if err := t.commit(a, "updatePolicy"); err != nil {
		return nil, nil, err
	}
	return np, &imp.Impact, nil
}

// DeletePolicy deletes policy id as actor a (GOVERNANCE) and returns it with Deleted
// set. Its key may then be reused.
func (e *Engine) DeletePolicy(a Actor, id int64) (dp *model.Policy, err error) {
	err = e.retry(func() error { dp, err = e.deletePolicyOnce(a, id); return err })
	return dp, err
}

// deletePolicyOnce is one attempt of DeletePolicy (see retry).
func (e *Engine) deletePolicyOnce(a Actor, id int64) (_ *model.Policy, err error) {
	t := e.begin()
	defer t.end(&err)
	if _, err := t.base.policyWriter(a); err != nil {
		return nil, err
	}
	old, ok := t.policies.Get(id)
	if !ok {
		return nil, fmt.Errorf("%w: no policy with id %d", ErrNotFound, id)
	}
	imp := t.rewire(id, old, nil)
	t.rekey(old.p.Key, "") // a later policy with this key starts with no selection or disable
	t.policies.Del(id)
	t.keys.Del(old.p.Key)
	if _, ok := t.certs[id]; ok {
		t.copyCerts()
		delete(t.certs, id)
	}
	t.reindex(id, nil, &imp)
	if err := t.commit(a, "deletePolicy"); err != nil {
		return nil, err
	}
	dp := *old.p
	dp.Deleted = true
	return &dp, nil
}

// impactWork is an Impact plus what the write path needs.
type impactWork struct {
	Impact
	touched []int64 // data sources whose applied or indeterminate set changed, or where the policy stays
	applied []int64 // data sources where the new policy applies
	indet   []bool  // parallel to touched: whether the data source has an indeterminate policy now
}

// rewireChunk is how many data sources a worker of rewire takes at a time.
var rewireChunk = 1024

// dsRewrite is what rewire did to one data source.
type dsRewrite struct {
	id       int64
	from, to *dsState  // to: nil when rewire left the data source as it was
	hit      bool      // the new policy applies or is indeterminate there
	was, now bool      // the old policy applied there before, the new one applies now
	indet    bool      // to has policies that could not be evaluated (read while to is in cache)
	bulk     bulkDelta // what from -> to does to the bulk index (see syncBulk)
}

// rewrites is the record of a rewire that was the txn's first write of data
// sources: while the data source edit has had no other write (writes), the change
// log takes the data sources' changes from it (see txn.rewritten).
type rewrites struct {
	writes int
	steps  []dsRewrite // the changed data sources, ascending id
}

// rewire replaces policy oldID (0: none) by np (nil: none) on every data source,
// without touching the writer-owned indexes, and reports what changed. The new
// states are built on every core (the txn is only read meanwhile), then stored in
// order.
func (t *txn) rewire(oldID int64, old *policyState, np *policyState) impactWork {
	var w impactWork
	first := !t.shadow && t.dataSources.Writes() == 0
	// The data sources to visit, ascending: where the old policy applied (or was
	// indeterminate) and where the new one applies or is indeterminate.
	var oldIDs []int64
	if old != nil && old.active() {
		// A key change has already moved the old policy's selections to the new key.
		if t.shadow {
			oldIDs = t.scanOld(old.p.ID)
		} else {
			sel := t.selectedIDs(old.p.Key)
			if np != nil && np.p.Key != old.p.Key {
				sel = t.selectedIDs(old.p.Key, np.p.Key)
			}
			t.e.cix.Applicable(old.m, sel, func(id int64, _ match.Result, _ error) {
				oldIDs = append(oldIDs, id)
			})
			for id := range t.e.indet {
				oldIDs = append(oldIDs, id)
			}
		}
		slices.Sort(oldIDs)
	}
	// The new policy's hits, ascending: an Applies without error for every id of
	// hitIDs but those in odd.
	var hitIDs []int64
	odd := map[int64]hit{}
	if np != nil && np.active() {
		visit := func(id int64, r match.Result, err error) {
			if len(hitIDs) == cap(hitIDs) {
				hitIDs = slices.Grow(hitIDs, max(1024, len(hitIDs))) // double: fewer copies than append's growth
			}
			hitIDs = append(hitIDs, id)
			if r != match.Applies || err != nil {
				odd[id] = hit{r: r, err: err}
			}
		}
		if t.shadow {
			t.scanHits(np, visit)
		} else {
			t.e.cix.Applicable(np.m, t.selectedIDs(np.p.Key), visit)
		}
		if !slices.IsSorted(hitIDs) {
			slices.Sort(hitIDs)
		}
	}
	steps := make([]dsRewrite, 0, len(oldIDs)+len(hitIDs))
	for i, j := 0, 0; i < len(oldIDs) || j < len(hitIDs); {
		switch {
		case j == len(hitIDs) || (i < len(oldIDs) && oldIDs[i] < hitIDs[j]):
			if len(steps) == 0 || steps[len(steps)-1].id != oldIDs[i] {
				steps = append(steps, dsRewrite{id: oldIDs[i]})
			}
			i++
		case i == len(oldIDs) || hitIDs[j] < oldIDs[i]:
			steps = append(steps, dsRewrite{id: hitIDs[j], hit: true})
			j++
		default: // equal
			steps = append(steps, dsRewrite{id: hitIDs[j], hit: true})
			i++
			j++
		}
	}
	rw := rewiring{t: t, oldID: oldID, np: np, odd: odd}
	if np != nil {
		// A new policy with an id above every stored one goes last on every data source.
		rw.last = oldID == 0 && t.above(np.p.ID)
		if !t.shadow {
			rw.disabled = t.e.disabledBy[np.p.Key]
		}
	}
	parallelChunks(len(steps), rewireChunk, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			s := &steps[k]
			rw.one(s)
			if s.to != nil {
				s.indet = s.to.hasIndet()
				if first {
					s.bulk.of(s.from, s.to) // while both states are in this core's caches
				}
			}
		}
	})
	changed := steps[:0]
	n := len(steps)
	keys, vals := make([]int64, 0, n), make([]*dsState, 0, n)
	w.touched, w.indet, w.applied = make([]int64, 0, n), make([]bool, 0, n), make([]int64, 0, n)
	if oldID == 0 {
		w.DataSourcesAdded = make([]int64, 0, n)
	}
	for _, s := range steps {
		switch {
		case s.now && !s.was:
			w.DataSourcesAdded = append(w.DataSourcesAdded, s.id)
		case s.was && !s.now:
			w.DataSourcesRemoved = append(w.DataSourcesRemoved, s.id)
		}
		if s.now {
			w.applied = append(w.applied, s.id)
		}
		if s.to == nil {
			continue
		}
		keys, vals = append(keys, s.id), append(vals, s.to)
		w.touched = append(w.touched, s.id)
		w.indet = append(w.indet, s.indet)
		changed = append(changed, s)
	}
	t.dataSources.SetMany(keys, vals, func(part func(p int)) {
		if len(keys) < rewireChunk {
			for p := range cowmap.SetParts {
				part(p)
			}
			return
		}
		parallel(cowmap.SetParts, 1, part)
	})
	if first {
		t.rewires = &rewrites{writes: t.dataSources.Writes(), steps: changed}
	}
	if w.DataSourcesAdded == nil {
		w.DataSourcesAdded = []int64{}
	}
	if w.DataSourcesRemoved == nil {
		w.DataSourcesRemoved = []int64{}
	}
	return w
}

// rewiring is what rewire's workers share; they only read it and the txn.
type rewiring struct {
	t        *txn
	oldID    int64
	np       *policyState
	odd      map[int64]hit      // np's hits other than a plain Applies
	last     bool               // np's id is above every policy applied anywhere
	disabled map[int64]struct{} // the data sources disabling np (not for a shadow)
}

// one fills in s, the rewrite of data source s.id: the rest of rewire, for one
// data source.
func (rw *rewiring) one(s *dsRewrite) {
	oldID, np := rw.oldID, rw.np
	h := hit{}
	if s.hit {
		h.r = match.Applies
		if o, ok := rw.odd[s.id]; ok {
			h = o
		}
	}
	cur, ok := rw.t.dataSources.Get(s.id)
	if !ok {
		return
	}
	s.was = oldID != 0 && cur.hasApplied(oldID)
	in := cur.indet()
	if oldID != 0 {
		in = removeIndet(in, oldID)
	}
	if h.r != match.NotApplies && !rw.disabledAt(s.id, cur) {
		if h.r == match.Indeterminate {
			if np.sub { // data policies never affect subscription decisions
				in = append(append([]indet(nil), in...), indet{policyID: np.p.ID, err: h.err})
			}
		} else {
			s.now = true
		}
	}
	if !s.was && !s.now && len(in) == len(cur.indet()) {
		return
	}
	if rw.last && s.now && oldID == 0 {
		// The fast path: nothing to load but the data source's own lists.
		s.from, s.to = cur, cur.withLast(np)
		return
	}
	var d *dsState
	if s.was && !s.now {
		d = cur.without(oldID) // a delete: nothing to load
	} else {
		applied := cur.applied()
		if s.was {
			applied = removePolicy(applied, oldID)
		}
		if s.now {
			applied = insertPolicy(applied, np)
		}
		d = cur.withApplied(applied)
	}
	d.setIndet(in)
	s.from, s.to = cur, d
}

// disabledAt reports whether data source id (state d) disables the new policy; but
// for a shadow, without loading the data source.
func (rw *rewiring) disabledAt(id int64, d *dsState) bool {
	if rw.t.shadow {
		return disabledHere(d.ds, rw.np.p.Key)
	}
	_, ok := rw.disabled[id]
	return ok
}

// above reports whether id is above the id of every stored policy.
func (t *txn) above(id int64) bool {
	ok := true
	t.policies.Done().Each(func(k int64, _ *policyState) bool {
		ok = k < id
		return ok
	})
	return ok
}

// withLast returns a copy of d with np applied, np's id being above the id of
// every policy applied on d: what inserting np into d.applied() and deriving
// gives, without loading the policies already applied.
func (d *dsState) withLast(np *policyState) *dsState {
	k := run(np)
	end := [3]int{int(d.nRead), int(d.nRead + d.nWrite), int(d.nPol)}[k]
	c := newDSBox(d, int(d.nPol)+1)
	pol, cpol := d.pols(), c.pols()
	copy(cpol, pol[:end])
	cpol[end] = newLevelPolicy(np)
	copy(cpol[end+1:], pol[end:])
	switch k {
	case 0:
		c.nRead++
	case 1:
		c.nWrite++
	default:
		return c // a data policy: nothing derived changes
	}
	if np.discovery {
		c.discovery = true
	}
	if np.readsDS && (c.res == nil || c.res.ID != c.ds.ID) {
		c.res = rule.NewResource(c.ds)
	}
	c.evRead, c.evWrite = c.mergeEveryone()
	return c
}

// without returns a copy of d without policy id, which applies on d: what
// removing it from d.applied() and deriving gives, without building that list.
func (d *dsState) without(id int64) *dsState {
	c := newDSBox(d, int(d.nPol)-1)
	pol, cpol := d.pols(), c.pols()
	k := 0
	for i := range pol {
		if pol[i].p.p.ID == id {
			switch {
			case i < int(d.nRead):
				c.nRead--
			case i < int(d.nRead+d.nWrite):
				c.nWrite--
			}
			continue
		}
		cpol[k] = pol[i]
		k++
	}
	c.derived()
	return c
}

// parallelChunks calls f for every chunk [lo, hi) of at most chunk consecutive
// indexes of [0, n), on every core (a panic is raised again as parallelWorkers
// does); a single chunk runs in the caller's goroutine.
func parallelChunks(n, chunk int, f func(lo, hi int)) {
	chunks := (n + chunk - 1) / chunk
	if chunks <= 1 {
		f(0, n)
		return
	}
	parallelWorkers(chunks, 1, func(_, c int) {
		f(c*chunk, min(n, (c+1)*chunk))
	})
}

// scanOld lists, for a shadow, the data sources a removed policy may leave: where
// it applies, and every data source with an indeterminate policy (as the writer's
// indexes would).
func (t *txn) scanOld(oldID int64) []int64 {
	var out []int64
	for _, id := range t.base.dataSources.Keys() {
		if d, ok := t.dataSources.Get(id); ok && (d.hasApplied(oldID) || len(d.indet()) > 0) {
			out = append(out, id)
		}
	}
	return out
}

// scanHits matches, for a shadow, a policy against every data source of the
// snapshot, without the writer's catalog index (a dry run's only catalog work;
// column regex results are cached per column name), and calls visit for each one
// where it applies or is indeterminate, in no particular order.
func (t *txn) scanHits(np *policyState, visit func(id int64, r match.Result, err error)) {
	for _, id := range t.base.dataSources.Keys() {
		d, ok := t.dataSources.Get(id)
		if !ok {
			continue
		}
		if r, err := np.m.Match(d.target, selectedHere(d.ds, np.p.Key)); r != match.NotApplies {
			visit(id, r, err)
		}
	}
}

// reindex updates the writer-owned indexes for a policy write that rewire already
// applied to the data sources (w is what rewire reported).
func (t *txn) reindex(oldID int64, np *policyState, w *impactWork) {
	t.dirty = true
	if oldID != 0 {
		t.e.pix.Remove(oldID)
	}
	if np != nil && np.active() {
		t.e.pix.Add(np.p.ID, np.m)
	}
	for i, id := range w.touched {
		if w.indet[i] {
			t.e.indet[id] = struct{}{}
		} else {
			delete(t.e.indet, id)
		}
	}
}

// rewritten returns the data sources rewire changed, ascending, and true when that
// rewire made every write of data sources of the txn. Rewire changes only what is
// derived from a data source (its applied and indeterminate policies), never the
// stored data source or its owners.
func (t *txn) rewritten() ([]dsRewrite, bool) {
	if r := t.rewires; r != nil && r.writes == t.dataSources.Writes() {
		return r.steps, true
	}
	return nil, false
}

// userImpact lists the users whose grant changes on the given data sources between
// two snapshots, sorted by profile id then data source id: at most limit entries
// (the first ones), and how many there are in all.
//
// Most data sources are judged per policy plan, not per user and data source: where
// no record names anyone (a user or a group) and every applied rule judges a user
// alone (not the data source), a user's grant is what the plan gives them, raised to
// READ for an owner. So each rule is evaluated once per user, each distinct plan
// merged once per user, and only the other data sources are judged one by one.
func userImpact(before, after *Snapshot, dsIDs []int64, limit int) ([]UserImpact, int) {
	out := []UserImpact{}
	if len(dsIDs) == 0 {
		return out, 0
	}
	users := before.users.Keys()
	slices.Sort(users)
	dsIDs = slices.Clone(dsIDs)
	slices.Sort(dsIDs)

	var pl planner
	type visit struct {
		id     int64
		b, a   *dsState // nil: absent from that snapshot
		kb, ka int      // plan indexes; -1: judged one by one
	}
	visits := make([]visit, len(dsIDs))
	owned := map[int64][]int{} // user id -> the visits of the data sources they own (before or after)
	for i, id := range dsIDs {
		v := visit{id: id, kb: -1, ka: -1}
		v.b, _ = before.dataSources.Get(id)
		v.a, _ = after.dataSources.Get(id)
		if perPlan(v.b) && perPlan(v.a) {
			v.kb, v.ka = pl.index(false, v.b), pl.index(true, v.a)
			for _, o := range mergeSorted(v.b.ownerIDs(), v.a.ownerIDs()) {
				owned[o] = append(owned[o], i)
			}
		}
		visits[i] = v
	}

	// A user's plan grants are the grants of a user who satisfies nothing (the
	// base), recomputed only for the plans holding a rule whose outcome for the user
	// differs from its base outcome.
	nr := len(pl.rules)
	base := make([]rule.Outcome, nr)
	plansOf := make([][]int, nr)
	for r, k := range pl.rules {
		base[k] = r.Evaluate(&rule.Subject{}, nil).Outcome.Clamp()
	}
	baseGrants := make([]Level, len(pl.plans))
	for k := range pl.plans {
		p := &pl.plans[k]
		baseGrants[k] = p.grantOf(base)
		for _, items := range [2][]planItem{p.read, p.write} {
			for _, it := range items {
				if l := plansOf[it.rule]; len(l) == 0 || l[len(l)-1] != k {
					plansOf[it.rule] = append(l, k)
				}
			}
		}
	}
	grants := make([]Level, len(pl.plans))   // per plan: its grant to one user
	outcomes := make([]rule.Outcome, 2*nr)   // per rule: its outcome for one user, before then after
	recomputed := make([]int, len(pl.plans)) // per plan: the last user (index + 1) it was recomputed for
	ownerOf := make([]int, len(visits))      // per visit: the last user (index + 1) who owns it
	total := 0
	var memo [2]verdicts // before and after, for the user of the iteration
	for ui, uid := range users {
		ub, okb := before.users.Get(uid)
		ua, oka := after.users.Get(uid)
		copy(grants, baseGrants)
		for r, k := range pl.rules {
			outcomes[k], outcomes[nr+k] = rule.Unsatisfied, rule.Unsatisfied
			if okb {
				outcomes[k] = r.Evaluate(&ub.subj, nil).Outcome.Clamp()
			}
			if oka {
				outcomes[nr+k] = r.Evaluate(&ua.subj, nil).Outcome.Clamp()
			}
		}
		for k := range nr {
			if outcomes[k] == base[k] && outcomes[nr+k] == base[k] {
				continue
			}
			for _, pk := range plansOf[k] {
				if recomputed[pk] == ui+1 {
					continue
				}
				recomputed[pk] = ui + 1
				if p := &pl.plans[pk]; p.after {
					grants[pk] = p.grantOf(outcomes[nr:])
				} else {
					grants[pk] = p.grantOf(outcomes[:nr])
				}
			}
		}
		for _, i := range owned[uid] {
			ownerOf[i] = ui + 1
		}
		for i := range visits {
			v := &visits[i]
			var b, a Level
			if v.kb >= 0 {
				b, a = grants[v.kb], grants[v.ka]
				if ownerOf[i] == ui+1 {
					if b < LevelRead && v.b.isOwner(uid) {
						b = LevelRead
					}
					if a < LevelRead && v.a.isOwner(uid) {
						a = LevelRead
					}
				}
			} else {
				if okb && v.b != nil {
					b = before.grantOf(&memo[0], ub, v.b, uid, v.id)
				}
				if oka && v.a != nil {
					a = after.grantOf(&memo[1], ua, v.a, uid, v.id)
				}
			}
			if a != b {
				total++
				if len(out) < limit {
					out = append(out, UserImpact{ProfileID: uid, DataSourceID: v.id, Before: b, After: a})
				}
			}
		}
	}
	return out, total
}

// perPlan reports whether a user's grant on d is the grant d's policies give them
// (raised to READ for an owner): no record names a user or a group there, and
// every applied rule judges the user alone.
func perPlan(d *dsState) bool {
	if d == nil || d.userRecords() > 0 || len(d.groupGrants()) > 0 {
		return false
	}
	read, write := d.levels()
	for _, ps := range [2][]levelPolicy{read, write} {
		for i := range ps {
			if ps[i].p.readsDS {
				return false
			}
		}
	}
	return true
}

// planner numbers the distinct plans of the data sources of a dry run, before and
// after the write, and the distinct rules in them: a plan is what the policies of a
// data source give each user, so two data sources with the same applied rules at
// each level (and the same determinacy) in the same snapshot share one.
type planner struct {
	keys  map[string]int
	rules map[*rule.Rule]int
	plans []plan
	buf   []byte
}

// plan is the policies of a data source as a dry run merges them: each item names
// a rule of the planner.
type plan struct {
	after       bool // a plan of the snapshot after the write
	indet       bool // policy-derived access is NONE
	read, write []planItem
	table       []Level // grantOf's table (levelUnknown: not computed yet)
}

// maxTabled is the most items a plan may have to keep a table of its grants: 4 to
// the power of the items entries.
const maxTabled = 5

// grantOf is grant, looked up in (and filling) the plan's table of the grants of
// every combination of its items' outcomes.
func (p *plan) grantOf(outcomes []rule.Outcome) Level {
	n := len(p.read) + len(p.write)
	if p.indet || n > maxTabled {
		return p.grant(outcomes)
	}
	if p.table == nil {
		p.table = make([]Level, 1<<(2*n))
		for i := range p.table {
			p.table[i] = levelUnknown
		}
	}
	i := 0
	for _, items := range [2][]planItem{p.read, p.write} {
		for _, it := range items {
			i = i<<2 | int(outcomes[it.rule])
		}
	}
	g := p.table[i]
	if g == levelUnknown {
		g = p.grant(outcomes)
		p.table[i] = g
	}
	return g
}

// levelUnknown marks a grant a plan's table has not computed yet.
const levelUnknown Level = 0xff

type planItem struct {
	rule        int
	share, auto bool
}

// grant merges the plan for a user whose rule outcomes are given (by planner rule
// index), as Decide does for a user who owns nothing and has no record.
func (p *plan) grant(outcomes []rule.Outcome) Level {
	if p.indet {
		return LevelNone
	}
	merge1 := func(items []planItem) (rule.Outcome, bool) {
		if len(items) == 0 {
			return rule.Unsatisfied, false
		}
		var m merge.Merger
		for _, it := range items {
			m.Add(outcomes[it.rule], it.share, it.auto)
		}
		return m.Result()
	}
	wO, wAuto := merge1(p.write)
	rO, rAuto := merge1(p.read)
	rO, rAuto = combineLevels(rO, rAuto, wO, wAuto)
	switch {
	case wO == rule.Satisfied && wAuto:
		return LevelWrite
	case rO == rule.Satisfied && rAuto:
		return LevelRead
	}
	return LevelNone
}

func (pl *planner) index(after bool, d *dsState) int {
	if pl.keys == nil {
		pl.keys, pl.rules = map[string]int{}, map[*rule.Rule]int{}
	}
	side := byte('b')
	if after {
		side = 'a'
	}
	p := plan{after: after, indet: len(d.indet()) > 0}
	if !p.indet {
		read, write := d.levels()
		p.read, p.write = pl.items(read), pl.items(write)
	}
	buf := append(pl.buf[:0], side)
	if p.indet {
		buf = append(buf, 'i')
	}
	for _, items := range [2][]planItem{p.read, p.write} {
		buf = append(buf, '|')
		for _, it := range items {
			flags := uint64(it.rule) << 2
			if it.share {
				flags |= 1
			}
			if it.auto {
				flags |= 2
			}
			buf = binary.AppendUvarint(buf, flags)
		}
	}
	pl.buf = buf
	k, ok := pl.keys[string(buf)]
	if !ok {
		k = len(pl.plans)
		pl.keys[string(buf)] = k
		pl.plans = append(pl.plans, p)
	}
	return k
}

func (pl *planner) items(ps []levelPolicy) []planItem {
	out := make([]planItem, len(ps))
	for i := range ps {
		n, ok := pl.rules[ps[i].p.r]
		if !ok {
			n = len(pl.rules)
			pl.rules[ps[i].p.r] = n
		}
		out[i] = planItem{rule: n, share: ps[i].share(), auto: ps[i].auto()}
	}
	return out
}
