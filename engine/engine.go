package engine

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/tollgate-dev/tollgate/engine/internal/cowmap"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// Engine holds the catalog (data sources), the directory (users and groups), the
// policies and the access records, and answers decisions.
//
// An Engine is safe for concurrent use. Its state is an immutable Snapshot behind an
// atomic pointer: readers load it without a lock and keep a consistent view for as
// long as they hold it; writers are serialised by one lock, build the next snapshot
// incrementally (copying only what the write touches) and publish it atomically.
// Stored values (policies, data sources, users, records) are never modified in place;
// callers must not modify values they pass in or get back.
type Engine struct {
	cfg config
	cur atomic.Pointer[Snapshot]
	// syms interns the group names and attribute pairs of this engine's rules and
	// subjects; it goes with the engine (no process-wide table).
	syms *rule.Interner
	// keys interns the index keys of this engine's data sources and policies (see
	// match.Keys), shared like syms.
	keys *match.Keys

	mu sync.Mutex // the writer lock; guards everything below
	// Writer-owned indexes, consistent with cur after every write.
	pix        *match.PolicyIndex
	cix        *match.CatalogIndex
	selectedBy map[string]map[int64]struct{} // policy key -> data sources selecting it
	disabledBy map[string]map[int64]struct{} // policy key -> data sources disabling it
	members    map[string]map[int64]struct{} // group name -> users listing it
	indet      map[int64]struct{}            // data sources with an indeterminate policy
	store      Store                         // nil: memory only
	// head is the state writes build on: the last published snapshot, or a later
	// one whose write the store has not committed yet.
	head *Snapshot

	// Group commit: writes queue their changes; one waiting writer at a time (the
	// leader) commits everything queued in one store transaction, then publishes.
	cm         sync.Mutex // guards queue and committing; taken after mu, never before
	cond       *sync.Cond
	queue      []*pending
	committing bool

	log changeLog
	rep replica // following the store (replica.go)
}

// New returns an empty engine.
func New(opts ...Option) *Engine {
	cfg := config{now: time.Now, regexTimeout: 50 * time.Millisecond, limits: model.DefaultLimits(), impactUsers: DefaultImpactUserLimit}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.retention <= 0 {
		cfg.retention = DefaultRetention
	}
	if cfg.storeTimeout <= 0 {
		cfg.storeTimeout = 10 * time.Second
	}
	e := &Engine{cfg: cfg, syms: rule.NewInterner(), keys: match.NewKeys()}
	e.resetIndexes()
	s := &Snapshot{cfg: &e.cfg, nextPolicyID: 1, nextRecordID: 1}
	e.cur.Store(s)
	e.head = s
	e.cond = sync.NewCond(&e.cm)
	e.log.reset(0, cfg.retention)
	return e
}

func (e *Engine) resetIndexes() {
	e.pix = match.NewPolicyIndex(e.keys)
	e.cix = match.NewCatalogIndex(e.keys)
	e.selectedBy = map[string]map[int64]struct{}{}
	e.disabledBy = map[string]map[int64]struct{}{}
	e.members = map[string]map[int64]struct{}{}
	e.indet = map[int64]struct{}{}
}

// takeIndexes makes n's writer-owned indexes e's (n must not be used afterwards).
func (e *Engine) takeIndexes(n *Engine) {
	e.pix, e.cix, e.selectedBy, e.disabledBy, e.members, e.indet = n.pix, n.cix, n.selectedBy, n.disabledBy, n.members, n.indet
}

// rebuildIndexes makes the writer-owned indexes match s again (after an aborted write
// that had touched them).
func (e *Engine) rebuildIndexes(s *Snapshot) {
	e.resetIndexes()
	s.policies.Each(func(id int64, p *policyState) bool {
		if p.active() {
			e.pix.Add(id, p.m)
		}
		return true
	})
	s.dataSources.Each(func(id int64, d *dsState) bool {
		e.cix.Put(d.target)
		e.indexKeys(d.ds)
		if len(d.indet()) > 0 {
			e.indet[id] = struct{}{}
		}
		return true
	})
	s.users.Each(func(id int64, u *userState) bool {
		for _, g := range u.u.Groups {
			addSet(e.members, g, id)
		}
		return true
	})
}

func addSet(m map[string]map[int64]struct{}, k string, id int64) {
	s := m[k]
	if s == nil {
		s = map[int64]struct{}{}
		m[k] = s
	}
	s[id] = struct{}{}
}

func delSet(m map[string]map[int64]struct{}, k string, id int64) {
	if s := m[k]; s != nil {
		delete(s, id)
		if len(s) == 0 {
			delete(m, k)
		}
	}
}

func sortedSet(s map[int64]struct{}) []int64 {
	out := make([]int64, 0, len(s))
	for id := range s {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Snapshot is one immutable state of an Engine. All its methods are safe for
// concurrent use and never block.
type Snapshot struct {
	cfg *config

	policies    cowmap.Map[*policyState] // live policies (staged included)
	keys        cowmap.Str[int64]        // policy key -> id
	dataSources cowmap.Map[*dsState]
	users       userMap
	groups      cowmap.Map[*model.Group]
	groupByName cowmap.Str[int64]
	records     cowmap.Map[*model.AccessRecord]
	userRecs    cowmap.Map[[]*model.AccessRecord] // pairKey(ds, user) -> that user's own records on ds
	certs       map[int64]map[int64]string        // policy id -> data source id -> certification state
	bulk        bulkIndex                         // the inverted lists of the bulk queries

	nextPolicyID int64
	nextRecordID int64
	revision     int64
}

// Snapshot returns the current state. It stays valid and unchanged forever.
func (e *Engine) Snapshot() *Snapshot { return e.cur.Load() }

// Now returns the engine's clock reading.
func (e *Engine) Now() time.Time { return e.cfg.now() }

// policyState is a stored policy with its compiled forms.
type policyState struct {
	p         *model.Policy
	m         *match.Matcher
	r         *rule.Rule
	sub       bool // a subscription policy
	write     bool // its level is WRITE
	share     bool
	auto      bool
	discovery bool
	// What data source states copy or consult of the rule, computed once.
	c       rule.Compact // the rule's compact form (zero: none)
	varies  bool         // the rule's outcome varies by user (Reach().Varies)
	fixed   rule.Outcome // every user's outcome when it does not vary
	readsDS bool         // the rule reads the data source (varies, not Reach().PerSubject)
}

func (p *policyState) active() bool { return !p.p.Staged }

// dsState is a data source with everything derived from it. It is immutable once
// stored. The fields Decide reads come first, and the applied policies (pol) share
// the state's allocation when they are few enough (newDSBox), so that a decision
// loads one allocation (see docs/performance.md, Data source states).
type dsState struct {
	// owner0 is the one listed owner (0: none); with several (see dsRare.owners),
	// a filter of them: the ownerBit of each.
	owner0 int64
	// polp points at the nPol active policies applied here (pols), in three
	// runs, each in ascending id order: the subscription policies of level READ
	// (nRead of them), those of level WRITE (nWrite), then the others (data
	// policies). A pointer and a count, not a slice: 16 bytes less per state.
	polp                *levelPolicy
	nRead, nWrite, nPol uint32
	discovery           bool
	// evRead, evWrite: every user holds READ, WRITE here through the policies
	// alone (see everyone; computed with the levels).
	evRead, evWrite bool
	// has says which parts of rare are not empty, so that a decision loads rare
	// only for what it holds.
	has  rareParts
	rare *dsRare // what few data sources have (nil: none of it)
	res  *rule.Resource

	ds     *model.DataSource
	target *match.Target
}

// dsRare is the part of a data source state that few data sources have: several
// owners, records, policies that could not be evaluated. Keeping it out of line
// keeps every state small. A dsRare is shared by a state and its clones and never
// modified: a change makes a new one (see dsState.setRare).
type dsRare struct {
	owners      []int64               // every listed owner, sorted (only when more than one)
	groupGrants []*model.AccessRecord // manual grants to groups on this data source
	userRecords int                   // how many records for single users exist here
	indet       []indet               // policies whose circumstances could not be evaluated here
}

var noRare dsRare

// r returns d's rare part (the zero one when it has none); read only.
func (d *dsState) r() *dsRare {
	if d.rare == nil {
		return &noRare
	}
	return d.rare
}

// rareParts says which parts of a dsRare are not empty.
type rareParts uint8

const (
	rareOwners  rareParts = 1 << iota // several owners
	rareRecords                       // records of users, or manual grants to groups
	rareIndet                         // policies that could not be evaluated
)

// setRare gives d a new rare part: edit changes a copy of the current one.
func (d *dsState) setRare(edit func(r *dsRare)) {
	r := *d.r()
	edit(&r)
	d.has = 0
	if r.owners != nil {
		d.has |= rareOwners
	}
	if r.userRecords > 0 || len(r.groupGrants) > 0 {
		d.has |= rareRecords
	}
	if len(r.indet) > 0 {
		d.has |= rareIndet
	}
	if r.owners == nil && r.groupGrants == nil && r.userRecords == 0 && r.indet == nil {
		d.rare = nil
		return
	}
	d.rare = &r
}

// hasIndet reports whether some policy's circumstances could not be evaluated
// here (len(d.indet()) > 0, without loading the rare part).
func (d *dsState) hasIndet() bool { return d.has&rareIndet != 0 }

func (d *dsState) owners() []int64                    { return d.r().owners }
func (d *dsState) groupGrants() []*model.AccessRecord { return d.r().groupGrants }
func (d *dsState) userRecords() int                   { return d.r().userRecords }
func (d *dsState) indet() []indet                     { return d.r().indet }

// levelPolicy is what a decision needs of one applied policy: the policy, and
// in bits its rule's compact form (rule.Compact, judged without loading the rule;
// zero: none) and, above rule.CompactBits, the policy's flags. 16 bytes.
type levelPolicy struct {
	p    *policyState
	bits uint64
}

const (
	lpShare uint64 = 1 << (rule.CompactBits + iota)
	lpAuto
)

func newLevelPolicy(p *policyState) levelPolicy {
	bits := uint64(p.c)
	if p.share {
		bits |= lpShare
	}
	if p.auto {
		bits |= lpAuto
	}
	return levelPolicy{p: p, bits: bits}
}

// compact returns the rule's compact form and whether it has one.
func (lp *levelPolicy) compact() (rule.Compact, bool) {
	c := rule.Compact(lp.bits & (1<<rule.CompactBits - 1))
	return c, c != 0
}

func (lp *levelPolicy) share() bool { return lp.bits&lpShare != 0 }
func (lp *levelPolicy) auto() bool  { return lp.bits&lpAuto != 0 }

// levels returns the subscription policies applied at READ and at WRITE, each in
// ascending id order. The slices must not be modified or kept beyond d.
func (d *dsState) levels() (read, write []levelPolicy) {
	r, w := int(d.nRead), int(d.nRead+d.nWrite)
	pol := d.pols()
	return pol[:r:r], pol[r:w:w]
}

// pols returns the active policies applied here (see polp). The slice must not be
// modified once d is stored, nor kept beyond d.
func (d *dsState) pols() []levelPolicy { return unsafe.Slice(d.polp, d.nPol) }

// appliedCount is how many active policies apply here.
func (d *dsState) appliedCount() int { return int(d.nPol) }

// applied returns the active policies applied here, ascending id (allocates).
func (d *dsState) applied() []*policyState {
	out := make([]*policyState, 0, d.nPol)
	d.eachApplied(func(p *policyState) { out = append(out, p) })
	return out
}

// eachApplied calls f for each active policy applied here, ascending id: a merge
// of pol's three runs.
func (d *dsState) eachApplied(f func(p *policyState)) {
	r, w := int(d.nRead), int(d.nRead+d.nWrite)
	pol := d.pols()
	a, b, c := pol[:r], pol[r:w], pol[w:]
	for len(a)+len(b)+len(c) > 0 {
		x := &a
		if len(b) > 0 && (len(*x) == 0 || b[0].p.p.ID < (*x)[0].p.p.ID) {
			x = &b
		}
		if len(c) > 0 && (len(*x) == 0 || c[0].p.p.ID < (*x)[0].p.p.ID) {
			x = &c
		}
		f((*x)[0].p)
		*x = (*x)[1:]
	}
}

// hasApplied reports whether policy id applies here.
func (d *dsState) hasApplied(id int64) bool {
	pol := d.pols()
	for i := range pol {
		if pol[i].p.p.ID == id {
			return true
		}
	}
	return false
}

// run is the run of pol that policy p belongs in: 0 READ, 1 WRITE, 2 the others.
func run(p *policyState) int {
	switch {
	case !p.sub:
		return 2
	case p.write:
		return 1
	}
	return 0
}

// newDSBox returns a copy of the header h (its policies are ignored) whose pols
// are a zeroed list of n policies, in the same allocation as the state when n is
// at most maxBoxed; the caller fills them and the counts before storing the
// state.
func newDSBox(h *dsState, n int) *dsState {
	var d *dsState
	var pol []levelPolicy
	switch {
	case n == 0:
		d = new(dsState)
	case n <= 12:
		d, pol = boxOf(n)
	case n <= 14:
		d, pol = box(func(a *[14]levelPolicy) []levelPolicy { return a[:n:n] })
	case n <= maxBoxed:
		d, pol = box(func(a *[maxBoxed]levelPolicy) []levelPolicy { return a[:n:n] })
	default:
		d, pol = new(dsState), make([]levelPolicy, n)
	}
	*d = *h
	d.polp, d.nPol = nil, uint32(n)
	if n > 0 {
		d.polp = &pol[0]
	}
	return d
}

// boxOf is box for exactly n policies, 1 to 12: with a 64-byte state and 16-byte
// policies, each such box fills one of Go's size classes (80 to 256 bytes).
func boxOf(n int) (*dsState, []levelPolicy) {
	switch n {
	case 1:
		return box(func(a *[1]levelPolicy) []levelPolicy { return a[:] })
	case 2:
		return box(func(a *[2]levelPolicy) []levelPolicy { return a[:] })
	case 3:
		return box(func(a *[3]levelPolicy) []levelPolicy { return a[:] })
	case 4:
		return box(func(a *[4]levelPolicy) []levelPolicy { return a[:] })
	case 5:
		return box(func(a *[5]levelPolicy) []levelPolicy { return a[:] })
	case 6:
		return box(func(a *[6]levelPolicy) []levelPolicy { return a[:] })
	case 7:
		return box(func(a *[7]levelPolicy) []levelPolicy { return a[:] })
	case 8:
		return box(func(a *[8]levelPolicy) []levelPolicy { return a[:] })
	case 9:
		return box(func(a *[9]levelPolicy) []levelPolicy { return a[:] })
	case 10:
		return box(func(a *[10]levelPolicy) []levelPolicy { return a[:] })
	case 11:
		return box(func(a *[11]levelPolicy) []levelPolicy { return a[:] })
	}
	return box(func(a *[12]levelPolicy) []levelPolicy { return a[:] })
}

// box allocates a state and an array A of policies together, and returns the
// state and the part of the array that list gives.
func box[A any](list func(*A) []levelPolicy) (*dsState, []levelPolicy) {
	b := new(struct {
		s dsState
		a A
	})
	return &b.s, list(&b.a)
}

// maxBoxed is the most policies a state holds in its own allocation (the boxes
// of 14 and 16 fill the size classes of 288 and 320 bytes).
const maxBoxed = 16

// withApplied returns a copy of d with the policies applied (ascending id) and
// everything derived from them.
func (d *dsState) withApplied(applied []*policyState) *dsState {
	var n [3]int
	for _, p := range applied {
		n[run(p)]++
	}
	c := newDSBox(d, len(applied))
	c.nRead, c.nWrite = uint32(n[0]), uint32(n[1])
	pol := c.pols()
	at := [3]int{0, n[0], n[0] + n[1]}
	for _, p := range applied {
		k := run(p)
		pol[at[k]] = newLevelPolicy(p)
		at[k]++
	}
	c.derived()
	return c
}

// derived recomputes what is derived from pol: discovery, the "everyone" flags
// and the DSL's view of the data source.
func (d *dsState) derived() {
	d.discovery = false
	needRes := false
	read, write := d.levels()
	for _, lv := range [2][]levelPolicy{read, write} {
		for i := range lv {
			p := lv[i].p
			d.discovery = d.discovery || p.discovery
			needRes = needRes || p.readsDS
		}
	}
	d.evRead, d.evWrite = d.mergeEveryone()
	// The advanced DSL's view of the data source, only where a rule reads it.
	switch {
	case !needRes:
		d.res = nil
	case d.res == nil || d.res.ID != d.ds.ID:
		d.res = rule.NewResource(d.ds)
	}
}

type indet struct {
	policyID int64
	err      error
}

func (d *dsState) isOwner(id int64) bool {
	if d.has&rareOwners == 0 {
		return d.owner0 != 0 && d.owner0 == id
	}
	if uint64(d.owner0)&ownerBit(id) == 0 {
		return false // not in the filter: no need to load the list
	}
	owners := d.owners()
	i := sort.Search(len(owners), func(i int) bool { return owners[i] >= id })
	return i < len(owners) && owners[i] == id
}

// ownerBit is id's bit in the filter of several owners (dsState.owner0).
func ownerBit(id int64) uint64 { return 1 << (uint64(id) * 0x9E3779B97F4A7C15 >> 58) }

func (d *dsState) setOwners(owners []int64) {
	d.owner0 = 0
	var sorted []int64
	switch len(owners) {
	case 0:
	case 1:
		d.owner0 = owners[0]
	default:
		sorted = append([]int64(nil), owners...)
		slices.Sort(sorted)
		var filter uint64
		for _, id := range sorted {
			filter |= ownerBit(id)
		}
		d.owner0 = int64(filter)
	}
	if sorted != nil || d.owners() != nil {
		d.setRare(func(r *dsRare) { r.owners = sorted })
	}
}

// setIndet sets the policies whose circumstances could not be evaluated here, and
// what depends on them.
func (d *dsState) setIndet(in []indet) {
	if in == nil && d.indet() == nil {
		return
	}
	d.setRare(func(x *dsRare) { x.indet = in })
	d.evRead, d.evWrite = d.mergeEveryone()
}

// clone returns a copy of d to modify before storing it (its policies are copied
// into the copy's own allocation).
func (d *dsState) clone() *dsState {
	c := newDSBox(d, int(d.nPol))
	copy(c.pols(), d.pols())
	return c
}

// userState is a user with the forms rules evaluate. Decide reads the subject's
// symbols from the users map's slot (userSlot), and this state only when it needs
// more.
type userState struct {
	groupIDs []int64 // ids of declared groups the user is in, sorted
	perms    uint8
	subj     rule.Subject
	u        *model.User
}

// newUserState returns the state of u with the subject subj and the declared
// groups gids.
func newUserState(u *model.User, subj *rule.Subject, gids []int64) *userState {
	us := &userState{u: u, subj: *subj, groupIDs: gids}
	for _, p := range u.Permissions {
		us.perms |= permBit(p)
	}
	return us
}

// symbols returns the subject's symbols, ascending.
func (u *userState) symbols() []uint32 { return u.subj.Symbols() }

const (
	permGovernance uint8 = 1 << iota
	permUserAdmin
	permAudit
	permCreateDataSource
)

func permBit(p model.Permission) uint8 {
	switch p {
	case model.Governance:
		return permGovernance
	case model.UserAdmin:
		return permUserAdmin
	case model.Audit:
		return permAudit
	case model.CreateDataSource:
		return permCreateDataSource
	}
	return 0
}

func (u *userState) inGroup(id int64) bool {
	for _, g := range u.groupIDs {
		if g == id {
			return true
		}
	}
	return false
}

func pairKey(a, b int64) int64 {
	h := uint64(a)*0x9E3779B97F4A7C15 ^ (uint64(b) + 0x632BE59BD9B4E019 + (uint64(a) << 6) + (uint64(a) >> 2))
	return int64(h)
}

// actorInfo is what permission checks need about an actor.
type actorInfo struct {
	id     int64
	system bool
	perms  uint8
}

func (a actorInfo) has(p uint8) bool { return a.system || a.perms&p != 0 }

func (s *Snapshot) actor(a Actor) (actorInfo, error) {
	if a.system {
		return actorInfo{id: 0, system: true}, nil
	}
	if a.ID == 0 {
		return actorInfo{}, fmt.Errorf("%w: no actor (the zero Actor is nobody)", ErrUnauthenticated)
	}
	u, ok := s.users.Get(a.ID)
	if !ok {
		return actorInfo{}, fmt.Errorf("%w: no user with id %d", ErrUnauthenticated, a.ID)
	}
	return actorInfo{id: a.ID, perms: u.perms}, nil
}

// owns reports whether user id owns the data source: listed among its owners, or
// holding a live manual grant with state owner (directly or through a group).
func (s *Snapshot) owns(id int64, d *dsState, now time.Time) bool {
	if d.isOwner(id) {
		return true
	}
	if d.userRecords() == 0 && len(d.groupGrants()) == 0 {
		return false
	}
	recs, _ := s.userRecs.Get(pairKey(d.ds.ID, id))
	for _, r := range recs {
		if r.Profile == id && r.DataSourceID == d.ds.ID && r.IsSubscriptionOverride && r.State == model.RecordOwner && live(r, now) {
			return true
		}
	}
	if len(d.groupGrants()) > 0 {
		u, ok := s.users.Get(id)
		if !ok {
			return false
		}
		for _, r := range d.groupGrants() {
			if r.State == model.RecordOwner && live(r, now) && u.inGroup(r.Group) {
				return true
			}
		}
	}
	return false
}

func live(r *model.AccessRecord, now time.Time) bool {
	return r.Expiration.IsZero() || now.Before(r.Expiration)
}

// ---- transactions ----

// txn is one write in progress: edits of the current snapshot that become the next
// one on commit. Writer-owned indexes it touches are rebuilt if it aborts.
type txn struct {
	e           *Engine
	base        *Snapshot
	now         time.Time
	policies    *cowmap.Edit[*policyState]
	dataSources *cowmap.Edit[*dsState]
	users       *userEdit
	records     *cowmap.Edit[*model.AccessRecord]
	userRecs    *cowmap.Edit[[]*model.AccessRecord]
	keys        *cowmap.StrEdit[int64]
	groups      *cowmap.Edit[*model.Group]
	groupByName *cowmap.StrEdit[int64]
	certs       map[int64]map[int64]string
	nextPolicy  int64
	nextRecord  int64
	dirty       bool  // writer-owned indexes were touched
	ownCerts    bool  // certs is the txn's own copy
	done        bool  // committed or aborted: the writer lock is released
	loadRev     int64 // the revision of a loaded export's state section
	// rewires records the rewire that was the first write of data sources (see
	// txn.rewritten).
	rewires *rewrites
	// shadow: a dry run's edits of the published snapshot, without the writer lock;
	// it never reads or writes the writer-owned indexes and never commits.
	shadow bool
}

func (e *Engine) begin() *txn {
	e.mu.Lock()
	return e.txnOn(e.head)
}

// beginShadow starts a dry run on the published snapshot without taking the writer
// lock: the edits it makes are its own and are never published, and it reads no
// writer-owned index (see rewire), so it never delays a write.
func (e *Engine) beginShadow() *txn {
	t := e.txnOn(e.cur.Load())
	t.shadow = true
	return t
}

// beginPolicyWrite starts a policy write: a dry run on the published snapshot
// outside the writer lock (beginShadow), else an ordinary write (begin).
func (e *Engine) beginPolicyWrite(o WriteOptions) *txn {
	if o.DryRun {
		return e.beginShadow()
	}
	return e.begin()
}

// txnOn starts a write on b; the writer lock must be held.
func (e *Engine) txnOn(b *Snapshot) *txn {
	return &txn{e: e, base: b, now: e.cfg.now(),
		policies: b.policies.Edit(), dataSources: b.dataSources.Edit(), users: b.users.Edit(),
		records: b.records.Edit(), userRecs: b.userRecs.Edit(),
		keys: b.keys.Edit(), groups: b.groups.Edit(), groupByName: b.groupByName.Edit(), certs: b.certs,
		nextPolicy: b.nextPolicyID, nextRecord: b.nextRecordID}
}

// view returns a snapshot of the txn's current edits, for reads inside the write.
// It must not be published; it shares the edits' maps.
func (t *txn) view() *Snapshot {
	return &Snapshot{cfg: t.base.cfg,
		policies: t.policies.Done(), dataSources: t.dataSources.Done(), users: t.users.Done(),
		records: t.records.Done(), userRecs: t.userRecs.Done(),
		keys: t.keys.Done(), groups: t.groups.Done(), groupByName: t.groupByName.Done(), certs: t.certs,
		nextPolicyID: t.nextPolicy, nextRecordID: t.nextRecord, bulk: t.base.bulk}
}

// commit makes the edits the next state and releases the writer lock: it computes
// what the write changed and, once the store (when the engine has one) committed
// it, publishes the snapshot and appends the change to the log. A write that
// changed no stored value keeps the revision. When the store fails, the write
// changes nothing and the error wraps ErrStore. It does nothing after commit or
// abort.
func (t *txn) commit(a Actor, op string) error {
	if t.done {
		return nil
	}
	if t.shadow {
		t.abort()
		return fmt.Errorf("%w: a dry run cannot commit", ErrInternal)
	}
	s := t.view()
	s.bulk = t.syncBulk()
	ch, err := t.e.change(t.base, s, t.touched(), Change{Revision: t.base.revision + 1, Time: t.now.UTC(), Actor: a, Op: op})
	if err != nil {
		t.abort()
		return fmt.Errorf("%w: encoding the change: %w", ErrStore, err)
	}
	p := t.e.enqueue(t.base, s, ch)
	t.done = true
	t.e.mu.Unlock()
	if err := t.e.await(p); err != nil {
		return err
	}
	t.e.notify(ch)
	return nil
}

// notify calls the change callback for a committed change.
func (e *Engine) notify(ch entry) {
	if e.cfg.onChange != nil && !ch.empty() {
		e.cfg.onChange(ch.Change) // encoded: change encodes when a callback is set
	}
}

// abort discards the edits and releases the writer lock. It does nothing after
// commit or abort, so every write defers it (through end).
func (t *txn) abort() {
	if t.done {
		return
	}
	t.done = true
	if t.shadow {
		return // no lock held, no index touched
	}
	defer t.e.mu.Unlock()
	if t.dirty {
		t.e.rebuildIndexes(t.base)
	}
}

// end is deferred by every write right after begin. A write that returns without
// committing is aborted. A write that panics before it commits is aborted too (the
// writer-owned indexes rebuilt, the state left as it was, the lock released) and
// returns an error wrapping ErrInternal instead of panicking, so the engine keeps
// serving; a panic after the commit (in the OnChange callback) goes on.
func (t *txn) end(errp *error) {
	if p := recover(); p != nil {
		if t.done {
			panic(p)
		}
		t.dirty = true // the panic may have left an index half-updated
		t.abort()
		*errp = fmt.Errorf("%w: a write panicked and changed nothing: %v", ErrInternal, p)
		return
	}
	t.abort()
}

// write runs f as one write by a: it commits when f returns nil, else aborts.
func (e *Engine) write(a Actor, op string, f func(t *txn, ai actorInfo) error) error {
	return e.retry(func() error { return e.writeOnce(a, op, f) })
}

// writeOnce is one attempt of write.
func (e *Engine) writeOnce(a Actor, op string, f func(t *txn, ai actorInfo) error) (err error) {
	t := e.begin()
	defer t.end(&err)
	ai, err := t.base.actor(a)
	if err == nil {
		err = f(t, ai)
	}
	return t.finish(a, op, err)
}

// finish commits when err is nil, else aborts; it returns err.
func (t *txn) finish(a Actor, op string, err error) error {
	if err != nil {
		t.abort()
		return err
	}
	return t.commit(a, op)
}

func (t *txn) copyCerts() {
	if !t.ownCerts {
		t.ownCerts = true
		c := make(map[int64]map[int64]string, len(t.certs)+1)
		for k, v := range t.certs {
			c[k] = v
		}
		t.certs = c
	}
}
