package engine

import (
	"runtime"
	"slices"

	"github.com/tollgate-dev/tollgate/engine/internal/idset"
	"github.com/tollgate-dev/tollgate/engine/internal/merge"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// bulkIndex holds the inverted lists of the bulk queries (DataSourcesFor,
// UsersFor), persistent like the rest of a Snapshot and kept in step by every
// commit. They narrow a query to candidates; each candidate is then decided.
//
// A user holds a level on a data source only as its owner, through a record (theirs
// or a group's), or through policies; and policies give a level to a user only if
// the user satisfies one of the varying (entitlements) rules there, unless the
// level is held by the worst-placed user too (every varying rule unsatisfied: the
// merge is monotone in each outcome), in which case everybody holds it.
type bulkIndex struct {
	dsByPolicy   idset.Map // subscription policy id -> data sources it gates (see dsState.gates)
	dsByOwner    idset.Map // user id -> data sources listing the user as an owner
	dsByUserRec  idset.Map // user id -> data sources with a record of the user
	dsByGroupRec idset.Map // group id -> data sources with a record of the group
	usersByDSRec idset.Map // data source id -> users with a record there
	usersBySym   idset.Map // subject symbol -> users holding it
	usersByGroup idset.Map // declared group id -> users in it
	// misc holds keyEveryoneRead and keyEveryoneWrite (the data sources where every
	// user holds READ, WRITE through policies alone) and keyUsers (every user).
	misc idset.Map
}

const (
	keyEveryoneRead int64 = iota
	keyEveryoneWrite
	keyUsers
)

// bulkEdit is the edit of a bulkIndex by one write.
type bulkEdit struct {
	dsByPolicy, dsByOwner, dsByUserRec, dsByGroupRec, usersByDSRec, usersBySym, usersByGroup, misc *idset.Edit
}

func (b *bulkIndex) edit() *bulkEdit {
	return &bulkEdit{
		dsByPolicy: b.dsByPolicy.Edit(), dsByOwner: b.dsByOwner.Edit(), dsByUserRec: b.dsByUserRec.Edit(),
		dsByGroupRec: b.dsByGroupRec.Edit(), usersByDSRec: b.usersByDSRec.Edit(), usersBySym: b.usersBySym.Edit(),
		usersByGroup: b.usersByGroup.Edit(), misc: b.misc.Edit(),
	}
}

func (e *bulkEdit) done() bulkIndex {
	return bulkIndex{
		dsByPolicy: e.dsByPolicy.Done(), dsByOwner: e.dsByOwner.Done(), dsByUserRec: e.dsByUserRec.Done(),
		dsByGroupRec: e.dsByGroupRec.Done(), usersByDSRec: e.usersByDSRec.Done(), usersBySym: e.usersBySym.Done(),
		usersByGroup: e.usersByGroup.Done(), misc: e.misc.Done(),
	}
}

// diffSorted calls gone for each id of a missing from b and came for each id of b
// missing from a (both ascending, without duplicates).
func diffSorted(a, b []int64, gone, came func(int64)) {
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			gone(a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			came(b[j])
			j++
		default:
			i++
			j++
		}
	}
}

// gates appends to buf[:0], ascending, the policies DataSourcesFor finds data
// source d under. For each level: the always-required policy of lowest id whose
// outcome varies by user (every always-required policy must be satisfied for a
// user to hold the level); or, when the level has none, each automatic
// share-responsibility policy whose outcome varies (a user holds the level only
// through a satisfied one, or as everyone does). A level no user can hold
// automatically through policies (an always-required policy is not automatic, or
// its fixed outcome is not satisfied) has none, and so does an indeterminate data
// source. So a user who holds a level of d through policies alone, and not as every
// user does, satisfies one of d's gates: a data source is a candidate for far fewer
// users than under every policy applied to it.
func (d *dsState) gates(buf []int64) []int64 {
	out := buf[:0]
	if d == nil || len(d.indet()) > 0 {
		return out
	}
	rs, ws := d.levels()
	for _, lv := range [2][]levelPolicy{rs, ws} {
		gate, never := int64(0), false
		for i := range lv {
			lp := &lv[i]
			switch {
			case lp.share():
			case !lp.auto() || !lp.p.varies && lp.p.fixed != rule.Satisfied:
				never = true
			case lp.p.varies && gate == 0:
				gate = lp.p.p.ID // levels are in ascending id order
			}
		}
		switch {
		case never:
		case gate != 0:
			out = append(out, gate)
		default:
			for i := range lv {
				if lp := &lv[i]; lp.share() && lp.auto() && lp.p.varies {
					out = append(out, lp.p.p.ID)
				}
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// sameOwners reports whether two states of a data source list the same owners.
func sameOwners(a, b *dsState) bool {
	return a != nil && b != nil && a.owner0 == b.owner0 && slices.Equal(a.owners(), b.owners())
}

func (d *dsState) ownerIDs() []int64 {
	if d == nil {
		return nil
	}
	if d.owners() != nil {
		return slices.Compact(slices.Clone(d.owners()))
	}
	if d.owner0 != 0 {
		return []int64{d.owner0}
	}
	return nil
}

// worstLevel merges one level for a user who satisfies no varying rule.
func worstLevel(ps []levelPolicy) (rule.Outcome, bool) {
	if len(ps) == 0 {
		return rule.Unsatisfied, false
	}
	var m merge.Merger
	for i := range ps {
		p := &ps[i]
		o := rule.Unsatisfied
		if !p.p.varies {
			o = p.p.fixed
		}
		m.Add(o, p.share(), p.auto())
	}
	return m.Result()
}

// everyone reports whether every user holds READ, WRITE on d through its policies
// alone (as Decide merges them); false for a nil d.
func (d *dsState) everyone() (read, write bool) {
	if d == nil {
		return false, false
	}
	return d.evRead, d.evWrite
}

// mergeEveryone works out everyone's answer from d's levels and indeterminate
// policies.
func (d *dsState) mergeEveryone() (read, write bool) {
	if len(d.indet()) > 0 {
		return false, false
	}
	rs, ws := d.levels()
	wO, wAuto := worstLevel(ws)
	rO, rAuto := worstLevel(rs)
	rO, rAuto = combineLevels(rO, rAuto, wO, wAuto)
	write = wO == rule.Satisfied && wAuto
	read = write || (rO == rule.Satisfied && rAuto)
	return read, write
}

func symIDs(u *userState) []int64 {
	if u == nil {
		return nil
	}
	syms := u.subj.Symbols()
	out := make([]int64, len(syms))
	for i, s := range syms {
		out[i] = int64(s)
	}
	return slices.Compact(out)
}

func groupIDsOf(u *userState) []int64 {
	if u == nil {
		return nil
	}
	return slices.Compact(slices.Clone(u.groupIDs))
}

// syncBulk brings the base's bulk index in step with the txn's edits.
func (t *txn) syncBulk() bulkIndex {
	b := t.base.bulk
	dsKeys, userKeys, recKeys := t.dataSources.TouchedKeys(), t.users.TouchedKeys(), t.records.TouchedKeys()
	if len(dsKeys) == 0 && len(userKeys) == 0 && len(recKeys) == 0 {
		return b
	}
	ed := b.edit()
	// The data sources' changes are worked out on every core, each worker on a
	// contiguous range of ids (the edits are only read meanwhile), then applied in
	// order: the removals, then the additions, buffered per key so that a new or
	// growing set is appended in whole chunks (the ids come in ascending order).
	// A policy write whose rewire made every data source write of the txn brings
	// each data source's change, worked out by rewire's workers.
	steps, rewired := t.rewritten()
	n := len(dsKeys)
	if rewired {
		n = len(steps)
	}
	parts := make([]*dsChanges, min(runtime.GOMAXPROCS(0), 1+n/4096))
	part := func(i int) {
		lo, hi := i*n/len(parts), (i+1)*n/len(parts)
		if rewired {
			parts[i] = rewiredChanges(steps[lo:hi])
		} else {
			parts[i] = t.dsChanges(dsKeys[lo:hi])
		}
	}
	if len(parts) == 1 {
		part(0)
	} else {
		parallel(len(parts), 0, part)
	}
	limit := min(1<<20, 16*int64(len(dsKeys)+len(userKeys)))
	byPolicy, byOwner, misc := newAdds(ed.dsByPolicy, limit), newAdds(ed.dsByOwner, limit), newAdds(ed.misc, limit)
	sets := [...]*idset.Edit{setPolicy: ed.dsByPolicy, setOwner: ed.dsByOwner, setMisc: ed.misc}
	for _, p := range parts {
		for _, r := range p.removes {
			sets[r.set].Remove(r.key, r.id)
		}
	}
	for _, p := range parts {
		byPolicy.addAll(&p.byPolicy)
		byOwner.addAll(&p.byOwner)
		misc.addAll(&p.misc)
	}
	bySym, byGroup := newAdds(ed.usersBySym, limit), newAdds(ed.usersByGroup, limit)
	for _, id := range userKeys {
		old, _ := t.base.users.Get(id)
		cur, _ := t.users.Get(id)
		if old == cur {
			continue
		}
		diffSorted(symIDs(old), symIDs(cur),
			func(s int64) { ed.usersBySym.Remove(s, id) }, func(s int64) { bySym.add(s, id) })
		diffSorted(groupIDsOf(old), groupIDsOf(cur),
			func(g int64) { ed.usersByGroup.Remove(g, id) }, func(g int64) { byGroup.add(g, id) })
		switch {
		case cur == nil:
			ed.misc.Remove(keyUsers, id)
		case old == nil:
			misc.add(keyUsers, id)
		}
	}
	for _, a := range []*adds{byPolicy, byOwner, misc, bySym, byGroup} {
		a.flush()
	}
	for _, id := range recKeys {
		cur, ok := t.records.Get(id)
		if ok {
			if cur.Group != 0 {
				ed.dsByGroupRec.Add(cur.Group, cur.DataSourceID)
			} else {
				ed.dsByUserRec.Add(cur.Profile, cur.DataSourceID)
				ed.usersByDSRec.Add(cur.DataSourceID, cur.Profile)
			}
			continue
		}
		old, ok := t.base.records.Get(id)
		if !ok {
			continue
		}
		// A deleted record: drop its pair unless another record keeps it.
		if old.Group != 0 {
			if d, ok := t.dataSources.Get(old.DataSourceID); !ok || !slices.ContainsFunc(d.groupGrants(),
				func(r *model.AccessRecord) bool { return r.Group == old.Group }) {
				ed.dsByGroupRec.Remove(old.Group, old.DataSourceID)
			}
			continue
		}
		recs, _ := t.userRecs.Get(pairKey(old.DataSourceID, old.Profile))
		if !slices.ContainsFunc(recs, func(r *model.AccessRecord) bool {
			return r.Profile == old.Profile && r.DataSourceID == old.DataSourceID
		}) {
			ed.dsByUserRec.Remove(old.Profile, old.DataSourceID)
			ed.usersByDSRec.Remove(old.DataSourceID, old.Profile)
		}
	}
	return ed.done()
}

// dsChanges is what a range of changed data sources does to the bulk index's
// data source sets: removals, and additions buffered per key.
type dsChanges struct {
	removes                 []removal
	byPolicy, byOwner, misc adds
}

// The data source sets of the bulk index a removal names.
const (
	setPolicy = iota
	setOwner
	setMisc
)

// removal is the removal of id from the set of key in set (setPolicy, ...).
type removal struct {
	set     uint8
	key, id int64
}

func newDSChanges(n int) *dsChanges {
	limit := min(1<<20, 16*int64(n))
	return &dsChanges{byPolicy: adds{limit: limit}, byOwner: adds{limit: limit}, misc: adds{limit: limit}}
}

// dsChanges works out what the changes to the data sources of ids (ascending) do
// to the bulk index's data source sets, without changing anything: it only reads
// t, so that calls on distinct ranges may run concurrently.
func (t *txn) dsChanges(ids []int64) *dsChanges {
	c := newDSChanges(len(ids))
	var d bulkDelta
	for _, id := range ids {
		old, _ := t.base.dataSources.Get(id)
		cur, _ := t.dataSources.Get(id)
		if old != cur {
			c.change(id, old, cur, &d)
		}
	}
	return c
}

// rewiredChanges is dsChanges for the data sources rewire changed (ascending),
// from the deltas its workers worked out.
func rewiredChanges(steps []dsRewrite) *dsChanges {
	c := newDSChanges(len(steps))
	var d bulkDelta
	for i := range steps {
		if s := &steps[i]; s.bulk.ok {
			c.delta(s.id, &s.bulk)
		} else {
			c.change(s.id, s.from, s.to, &d)
		}
	}
	return c
}

// change adds what replacing state old of data source id by cur does (d is
// scratch memory).
func (c *dsChanges) change(id int64, old, cur *dsState, d *bulkDelta) {
	if d.of(old, cur) {
		c.delta(id, d)
		return
	}
	og, cg := old.gates(nil), cur.gates(nil)
	diffSorted(og, cg, func(p int64) { c.removes = append(c.removes, removal{setPolicy, p, id}) },
		func(p int64) { c.byPolicy.add(p, id) })
	if !sameOwners(old, cur) {
		diffSorted(old.ownerIDs(), cur.ownerIDs(),
			func(u int64) { c.removes = append(c.removes, removal{setOwner, u, id}) },
			func(u int64) { c.byOwner.add(u, id) })
	}
	c.flags(id, d)
}

// delta adds d, the delta of data source id.
func (c *dsChanges) delta(id int64, d *bulkDelta) {
	for _, p := range d.gone() {
		c.removes = append(c.removes, removal{setPolicy, p, id})
	}
	for _, p := range d.came() {
		c.byPolicy.add(p, id)
	}
	c.flags(id, d)
}

// flags adds the changes of the "everyone" flags of d.
func (c *dsChanges) flags(id int64, d *bulkDelta) {
	flag := func(was, is bool, key int64) {
		switch {
		case is && !was:
			c.misc.add(key, id)
		case was && !is:
			c.removes = append(c.removes, removal{setMisc, key, id})
		}
	}
	flag(d.r0, d.r1, keyEveryoneRead)
	flag(d.w0, d.w1, keyEveryoneWrite)
}

// bulkDelta is what replacing one state of a data source by another does to the
// bulk index's data source sets when the owners stay: the gates it leaves and
// takes, and the "everyone" flags before and after.
type bulkDelta struct {
	ok             bool // the owners stay and the gate changes fit
	nGone, nCame   uint8
	r0, w0, r1, w1 bool
	// g holds the gates left, from the front (nGone), and the gates taken, from
	// the back (nCame): at most len(g) changes in all.
	g [4]int64
}

func (d *bulkDelta) gone() []int64 { return d.g[:d.nGone] }
func (d *bulkDelta) came() []int64 { return d.g[len(d.g)-int(d.nCame):] }

// of sets d to the delta of replacing old by cur and reports d.ok; when that is
// false (the owners change, or more gates change than d holds), only the flags
// are set.
func (d *bulkDelta) of(old, cur *dsState) bool {
	d.r0, d.w0 = old.everyone()
	d.r1, d.w1 = cur.everyone()
	d.ok, d.nGone, d.nCame = false, 0, 0
	if !sameOwners(old, cur) {
		return false
	}
	var ob, cb [8]int64
	og, cg := old.gates(ob[:0]), cur.gates(cb[:0])
	fits := true
	diffSorted(og, cg, func(p int64) {
		if int(d.nGone+d.nCame) < len(d.g) {
			d.g[d.nGone] = p
			d.nGone++
		} else {
			fits = false
		}
	}, func(p int64) {
		if int(d.nGone+d.nCame) < len(d.g) {
			d.nCame++
			d.g[len(d.g)-int(d.nCame)] = p
		} else {
			fits = false
		}
	})
	d.ok = fits
	return fits
}

// adds buffers the additions to one idset.Edit per key, to add each key's ids at
// once (idset.Edit.AddSorted).
type adds struct {
	ed *idset.Edit
	// dense holds the ids of the keys in [0, limit), by key (a bulk write's policy
	// and user ids are mostly dense); m those of the others.
	dense [][]int64
	limit int64
	m     map[int64][]int64
	keys  []int64 // in first-seen order
}

// newAdds returns an empty buffer for ed, keeping keys below limit in a slice.
func newAdds(ed *idset.Edit, limit int64) *adds { return &adds{ed: ed, limit: limit} }

// list returns the address of key's list, adding an empty one if there is none.
func (a *adds) list(key int64) *[]int64 {
	if key >= 0 && key < a.limit {
		if key >= int64(len(a.dense)) {
			a.dense = append(a.dense, make([][]int64, key+1-int64(len(a.dense)))...)
		}
		if a.dense[key] == nil {
			a.keys = append(a.keys, key)
			a.dense[key] = make([]int64, 0, 4)
		}
		return &a.dense[key]
	}
	if a.m == nil {
		a.m = map[int64][]int64{}
	}
	l, ok := a.m[key]
	if !ok {
		a.keys = append(a.keys, key)
		a.m[key] = l
	}
	return nil
}

func (a *adds) add(key, id int64) {
	if l := a.list(key); l != nil {
		*l = append(*l, id)
		return
	}
	a.m[key] = append(a.m[key], id)
}

// get returns the ids added for key.
func (a *adds) get(key int64) []int64 {
	if key >= 0 && key < int64(len(a.dense)) && a.dense[key] != nil {
		return a.dense[key]
	}
	return a.m[key]
}

// addAll adds b's additions after a's own.
func (a *adds) addAll(b *adds) {
	for _, k := range b.keys {
		ids := b.get(k)
		if l := a.list(k); l != nil {
			if len(*l) == 0 {
				*l = ids // taken over, not copied
			} else {
				*l = append(*l, ids...)
			}
			continue
		}
		a.m[k] = append(a.m[k], ids...)
	}
}

func (a *adds) flush() {
	for _, k := range a.keys {
		ids := a.get(k)
		if !slices.IsSorted(ids) {
			slices.Sort(ids)
		}
		a.ed.AddSorted(k, slices.Compact(ids))
	}
}

// satisfiable reports whether u may satisfy a varying rule of reach r.
func satisfiable(r *rule.Reach, u *userState) bool {
	if r.Everyone {
		return true
	}
	for _, s := range r.Syms {
		has := u.subj.HasSymbol(s)
		if has && !r.All {
			return true
		}
		if !has && r.All {
			return false
		}
	}
	return r.All
}

func everyoneKey(level Level) int64 {
	if level >= LevelWrite {
		return keyEveryoneWrite
	}
	return keyEveryoneRead
}

// sortedUnique sorts ids and drops duplicates.
func sortedUnique(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// mergeSorted returns the union of two ascending lists without duplicates.
func mergeSorted(a, b []int64) []int64 {
	out := make([]int64, 0, len(a)+len(b)) // never nil
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// DataSourcesFor lists, ascending, the data sources a user holds at least level on
// (every data source for LevelNone; else none for an unknown user). It answers what
// one Decide per data source would, through the snapshot's inverted lists.
func (s *Snapshot) DataSourcesFor(userID int64, level Level) []int64 {
	if level <= LevelNone {
		return s.DataSourceIDs()
	}
	u, ok := s.users.Get(userID)
	if !ok {
		return []int64{}
	}
	b := &s.bulk
	var cands []int64
	cands = b.dsByOwner.Get(userID).AppendTo(cands)
	cands = b.dsByUserRec.Get(userID).AppendTo(cands)
	for _, g := range u.groupIDs {
		cands = b.dsByGroupRec.Get(g).AppendTo(cands)
	}
	s.policies.Each(func(id int64, p *policyState) bool {
		if p.r == nil || !p.sub || !p.active() {
			return true
		}
		r := p.r.Reach()
		if r.Varies && satisfiable(&r, u) && (!r.PerSubject || p.r.Evaluate(&u.subj, nil).Outcome == rule.Satisfied) {
			cands = b.dsByPolicy.Get(id).AppendTo(cands)
		}
		return true
	})
	every := b.misc.Get(everyoneKey(level)).AppendTo(nil)
	cands = sortedUnique(cands)
	kept := cands[:0]
	var memo verdicts
	j := 0 // every[j] is the first id of every not below the candidate (both ascending)
	for _, id := range cands {
		for j < len(every) && every[j] < id {
			j++
		}
		if j < len(every) && every[j] == id {
			continue
		}
		if d, ok := s.dataSources.Get(id); ok && s.grantOf(&memo, u, d, userID, id) >= level {
			kept = append(kept, id)
		}
	}
	return mergeSorted(every, kept) // never nil
}

// UsersFor lists, ascending, the users holding at least level on a data source
// (every user for LevelNone; else none for an unknown data source). It answers what one
// Decide per user would, through the snapshot's inverted lists.
func (s *Snapshot) UsersFor(dataSourceID int64, level Level) []int64 {
	b := &s.bulk
	all := b.misc.Get(keyUsers)
	if level <= LevelNone {
		return all.AppendTo(make([]int64, 0, all.Len()))
	}
	d, ok := s.dataSources.Get(dataSourceID)
	if !ok {
		return []int64{}
	}
	if b.misc.Get(everyoneKey(level)).Contains(dataSourceID) {
		return all.AppendTo(make([]int64, 0, all.Len()))
	}
	cands := d.ownerIDs()
	cands = b.usersByDSRec.Get(dataSourceID).AppendTo(cands)
	for _, r := range d.groupGrants() {
		cands = b.usersByGroup.Get(r.Group).AppendTo(cands)
	}
	everybody := false
	if len(d.indet()) == 0 {
		read, write := d.levels()
		for _, ps := range [2][]levelPolicy{read, write} {
			for i := range ps {
				r := ps[i].p.r.Reach()
				switch {
				case !r.Varies:
				case r.Everyone:
					everybody = true
				case r.All:
					best := b.usersBySym.Get(int64(r.Syms[0]))
					for _, sym := range r.Syms[1:] {
						if set := b.usersBySym.Get(int64(sym)); set.Len() < best.Len() {
							best = set
						}
					}
					cands = best.AppendTo(cands)
				default:
					for _, sym := range r.Syms {
						cands = b.usersBySym.Get(int64(sym)).AppendTo(cands)
					}
				}
			}
		}
	}
	if everybody {
		cands = all.AppendTo(cands[:0])
	} else {
		cands = sortedUnique(cands)
	}
	out := cands[:0]
	for _, id := range cands {
		// Judged from the users map's slot, as Decide does: most users' states stay unloaded.
		if u := s.users.m.Ref(id); u != nil && s.judge(nil, nil, u.st, u.symbols(), d, id, dataSourceID).Grant >= level {
			out = append(out, id)
		}
	}
	if out == nil {
		out = []int64{}
	}
	return out
}
