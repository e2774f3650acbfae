package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-dev/tollgate/model"
)

// Several engines can share one store (see docs/operations.md, Replicas): each
// holds the whole state in memory and answers reads locally; writes are linearised
// by the store's revision check. An engine follows what the others commit by
// reading the store's change log (Sync, Follow) and applying each entry as an
// ordinary snapshot publish. A write made against a snapshot another instance has
// already moved past gets ErrRevisionConflict from the store: the engine applies
// the missing entries and runs the command again on the new state (validation and
// permission checks included), a bounded number of times.

// ConflictRetries is how many times a write is run again after another instance
// committed first; after that it fails with an error wrapping ErrStore and
// ErrRevisionConflict.
const ConflictRetries = 64

// syncBatch is how many log entries one store read of Sync asks for.
const syncBatch = 1000

// Waker is implemented by stores that can tell an engine when another instance may
// have committed (PostgreSQL's LISTEN/NOTIFY). Follow syncs at once on a wake-up;
// a missed or absent wake-up only adds latency up to the polling interval.
type Waker interface {
	// Wake returns a channel that receives a value after other instances commit.
	Wake() <-chan struct{}
}

// ReplicaStatus reports how an engine follows its store.
type ReplicaStatus struct {
	// Revision is the revision of the engine's current snapshot.
	Revision int64
	// Following reports whether Follow is running.
	Following bool
	// LastSync is when a Sync last completed without error (zero: never).
	LastSync time.Time
	// LastError is the error of the last Sync, nil when it succeeded.
	LastError error
	// Applied counts the log entries of other instances applied one by one.
	Applied int64
	// Reloads counts the times the whole state was reloaded from the store's rows
	// (past the retained log, after an import, or when an entry did not apply).
	Reloads int64
}

// replica is the state of following the store.
type replica struct {
	mu        sync.Mutex // serialises Sync
	following atomic.Int32
	applied   atomic.Int64
	reloads   atomic.Int64
	poke      chan struct{} // asks a running Follow to sync now
	status    sync.Mutex    // guards lastSync and lastErr
	lastSync  time.Time
	lastErr   error
	onceInit  sync.Once
}

func (r *replica) init() {
	r.onceInit.Do(func() { r.poke = make(chan struct{}, 1) })
}

// Status returns how the engine follows its store (see ReplicaStatus).
func (e *Engine) ReplicaStatus() ReplicaStatus {
	r := &e.rep
	r.status.Lock()
	defer r.status.Unlock()
	return ReplicaStatus{Revision: e.cur.Load().revision, Following: r.following.Load() > 0,
		LastSync: r.lastSync, LastError: r.lastErr, Applied: r.applied.Load(), Reloads: r.reloads.Load()}
}

// Sync applies every entry other instances committed to the store since the
// engine's snapshot, in order, each as one snapshot publish; an engine past the
// store's retained log reloads the whole state from the store's rows. It returns an
// error wrapping ErrStore when the store cannot be read (the engine keeps its
// state). Without a store it does nothing.
func (e *Engine) Sync(ctx context.Context) error {
	st := e.storeOf()
	if st == nil {
		return nil
	}
	r := &e.rep
	r.mu.Lock()
	defer r.mu.Unlock()
	err := e.syncLocked(ctx, st)
	r.status.Lock()
	r.lastErr = err
	if err == nil {
		r.lastSync = time.Now()
	}
	r.status.Unlock()
	return err
}

func (e *Engine) storeOf() Store {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.store
}

func (e *Engine) syncLocked(ctx context.Context, st Store) error {
	for {
		rev := e.cur.Load().revision
		list, err := st.ChangesSince(ctx, rev, syncBatch)
		if errors.Is(err, ErrFellBehind) {
			return e.reload(ctx, st)
		}
		if err != nil {
			return storeErr(err)
		}
		if len(list) == 0 {
			return nil
		}
		if list[len(list)-1].Revision <= e.cur.Load().revision {
			return nil // this engine's own writes (a wake-up after its commit)
		}
		var applied []Change
		ok := true
		e.exclusive(func() bool {
			return list[len(list)-1].Revision > e.cur.Load().revision
		}, func() {
			for _, c := range list {
				if c.Revision <= e.head.revision {
					continue // already here: a write of this engine
				}
				if ok = e.applyLocked(c); !ok {
					return
				}
				applied = append(applied, c)
			}
		})
		for _, c := range applied {
			e.notify(entry{Change: c})
		}
		if !ok {
			// An entry did not reproduce on this engine's state: take the
			// store's rows instead.
			return e.reload(ctx, st)
		}
		if len(list) < syncBatch {
			return nil
		}
	}
}

// exclusive waits until no write is being committed and keeps others from
// committing; then, holding the writer lock, when need reports that other
// instances' writes are to be applied, it runs f with the head at the published
// snapshot. Writes queued meanwhile were built on a state f replaces: they fail
// with ErrRevisionConflict and run again (see retry); their commit would have
// conflicted anyway.
func (e *Engine) exclusive(need func() bool, f func()) {
	e.cm.Lock()
	for e.committing {
		e.cond.Wait()
	}
	e.committing = true
	e.cm.Unlock()
	e.mu.Lock()
	var later []*pending
	defer func() {
		e.mu.Unlock()
		e.cm.Lock()
		for _, q := range later {
			q.finished = true
			q.err = fmt.Errorf("%w: %w: the state it was made on was replaced by other instances' writes", ErrStore, ErrRevisionConflict)
		}
		e.committing = false
		e.cond.Broadcast()
		e.cm.Unlock()
	}()
	if !need() {
		return
	}
	e.cm.Lock()
	later = e.queue
	e.queue = nil
	e.cm.Unlock()
	if cur := e.cur.Load(); e.head != cur {
		e.head = cur
		e.rebuildIndexes(cur)
	}
	f()
}

// reload replaces the engine's state by the store's rows.
func (e *Engine) reload(ctx context.Context, st Store) error {
	state, err := st.Load(ctx)
	if err != nil {
		return storeErr(err)
	}
	n := New(func(c *config) { *c = e.cfg; c.onChange = nil })
	if len(state.Rows) > 0 {
		b, err := bundleOfRows(state)
		if err != nil {
			return fmt.Errorf("%w: the stored rows: %w", ErrStore, err)
		}
		if n, err = e.fresh(b); err != nil {
			return fmt.Errorf("%w: the stored rows: %w", ErrStore, err)
		}
	}
	e.exclusive(func() bool {
		return state.Revision > e.cur.Load().revision // else a local write got there first
	}, func() {
		s := n.cur.Load()
		s.cfg = &e.cfg
		s.revision = state.Revision
		e.takeIndexes(n)
		e.publishRemote(s)
		e.rep.reloads.Add(1)
		e.log.reset(state.Revision, min(memTail, e.cfg.retention))
		e.log.wakeAll()
	})
	return nil
}

// wakeAll wakes everyone waiting for the log (after a reset).
func (l *changeLog) wakeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	close(l.wake)
	l.wake = make(chan struct{})
}

// applyLocked applies one committed log entry of another instance to the head, as
// one publish. It reports false when the entry does not reproduce exactly (the
// caller reloads). It runs in exclusive.
func (e *Engine) applyLocked(c Change) (ok bool) {
	t := e.txnOn(e.head)
	defer func() {
		if p := recover(); p != nil {
			ok = false
		}
		if !ok && t.dirty {
			e.rebuildIndexes(e.head)
		}
	}()
	if c.Op == "load" || !t.applyEntry(c) {
		return false
	}
	next := t.view()
	muts, err := mutations(t.base, next, t.touched())
	if err != nil || !sameMutations(muts, c.Changes) {
		return false
	}
	next.revision = c.Revision
	e.publishRemote(next)
	e.rep.applied.Add(1)
	e.log.append(entry{Change: c})
	return true
}

// publishRemote makes s the current state. The writer lock must be held.
func (e *Engine) publishRemote(s *Snapshot) {
	e.head = s
	e.cur.Store(s)
}

// sameMutations reports whether a and b change the same values the same way.
func sameMutations(a, b []Mutation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Kind != y.Kind || x.ID != y.ID || !sameJSON(x.Before, y.Before) || !sameJSON(x.After, y.After) {
			return false
		}
	}
	return true
}

func sameJSON(a, b json.RawMessage) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	if bytes.Equal(a, b) {
		return true
	}
	// A store may hand back the JSON reformatted (PostgreSQL's jsonb): compare the
	// values.
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return bytes.Equal(xa, ya)
}

// applyEntry applies the stored values of c to the txn with no permission checks
// (the writing instance made them). It reports false when a value cannot be
// applied.
func (t *txn) applyEntry(c Change) bool {
	by := map[Kind][]Mutation{}
	for _, m := range c.Changes {
		by[m.Kind] = append(by[m.Kind], m)
	}
	sys := actorInfo{system: true}
	// Policies.
	for _, m := range by[KindPolicy] {
		id, err := strconv.ParseInt(m.ID, 10, 64)
		if err != nil {
			return false
		}
		old, had := t.policies.Get(id)
		if m.After == nil {
			if !had {
				return false
			}
			imp := t.rewire(id, old, nil)
			t.policies.Del(id)
			t.keys.Del(old.p.Key)
			t.reindex(id, nil, &imp)
			continue
		}
		p, err := t.e.DecodePolicy(m.After, BundleLimits(t.e.cfg.limits))
		if err != nil {
			return false
		}
		var meta policyMeta
		if err := json.Unmarshal(m.After, &meta); err != nil || meta.ID == nil || *meta.ID != id {
			return false
		}
		p.ID, p.Deleted, p.KeyDefaulted = id, false, false
		p.CreatedBy, p.CreatedByName, p.CreatedAt, p.UpdatedAt = meta.CreatedBy, meta.CreatedByName, meta.CreatedAt, meta.UpdatedAt
		if err := t.resolveGroups(p); err != nil {
			return false
		}
		ps, err := t.e.compile(p)
		if err != nil {
			return false
		}
		if other, taken := t.keys.Get(p.Key); taken && other != id {
			return false
		}
		var oldID int64
		if had {
			oldID = id
		}
		imp := t.rewire(oldID, old, ps)
		t.policies.Set(id, ps)
		if had && old.p.Key != p.Key {
			t.keys.Del(old.p.Key)
		}
		t.keys.Set(p.Key, id)
		t.reindex(oldID, ps, &imp)
	}
	// Groups, users and data sources, in the bundle's shapes.
	var rows []Row
	for _, k := range []Kind{KindGroup, KindUser, KindDataSource} {
		for _, m := range by[k] {
			if m.After != nil {
				rows = append(rows, Row{Kind: k, ID: m.ID, Value: m.After})
			}
		}
	}
	var b *model.Bundle
	if len(rows) > 0 {
		var err error
		if b, err = bundleOfRows(&StoredState{Rows: rows}); err != nil {
			return false
		}
	} else {
		b = &model.Bundle{}
	}
	for _, m := range by[KindGroup] {
		if m.After != nil {
			continue
		}
		id, err := strconv.ParseInt(m.ID, 10, 64)
		g, ok := t.groups.Get(id)
		if err != nil || !ok {
			return false
		}
		t.groups.Del(id)
		t.groupByName.Del(g.Name)
		t.refreshUsers(t.e.members[g.Name])
	}
	if len(b.Groups) > 0 {
		groups := make([]*model.Group, len(b.Groups))
		for i := range b.Groups {
			groups[i] = &b.Groups[i]
		}
		if t.putGroups(sys, groups) != nil {
			return false
		}
	}
	for _, m := range by[KindUser] {
		if m.After != nil {
			continue
		}
		id, err := strconv.ParseInt(m.ID, 10, 64)
		old, ok := t.users.Get(id)
		if err != nil || !ok {
			return false
		}
		t.dirty = true
		t.unindexUser(old)
		t.users.Del(id)
	}
	if len(b.Users) > 0 {
		users := make([]*model.User, len(b.Users))
		for i := range b.Users {
			users[i] = &b.Users[i]
		}
		if t.putUsers(sys, users) != nil {
			return false
		}
	}
	// Data sources with their disables: a disable row without a data source row
	// changes only the disables of the stored data source.
	disables := map[int64]json.RawMessage{}
	for _, m := range by[KindDisable] {
		id, err := strconv.ParseInt(m.ID, 10, 64)
		if err != nil {
			return false
		}
		disables[id] = m.After
	}
	var dss []*model.DataSource
	put := map[int64]bool{}
	for i := range b.DataSources {
		ds := &b.DataSources[i]
		put[ds.ID] = true
		if raw, ok := disables[ds.ID]; ok {
			list, ok := disabledOf(raw)
			if !ok {
				return false
			}
			ds.DisabledPolicies = list
		} else if old, ok := t.dataSources.Get(ds.ID); ok {
			ds.DisabledPolicies = old.ds.DisabledPolicies
		}
		dss = append(dss, ds)
	}
	for id, raw := range disables {
		if put[id] {
			continue
		}
		old, ok := t.dataSources.Get(id)
		if !ok {
			if raw == nil {
				continue // the data source goes too
			}
			return false
		}
		list, ok := disabledOf(raw)
		if !ok {
			return false
		}
		ds := cloneDataSource(old.ds)
		ds.DisabledPolicies = list
		dss = append(dss, ds)
	}
	if len(dss) > 0 && t.putDataSources(sys, dss) != nil {
		return false
	}
	for _, m := range by[KindDataSource] {
		if m.After != nil {
			continue
		}
		id, err := strconv.ParseInt(m.ID, 10, 64)
		d, ok := t.dataSources.Get(id)
		if err != nil || !ok {
			return false
		}
		t.dropDataSource(d)
	}
	// Certifications.
	for _, m := range by[KindCertification] {
		id, err := strconv.ParseInt(m.ID, 10, 64)
		if err != nil {
			return false
		}
		t.copyCerts()
		if m.After == nil {
			delete(t.certs, id)
			continue
		}
		var raw map[string]string
		if json.Unmarshal(m.After, &raw) != nil {
			return false
		}
		mm := make(map[int64]string, len(raw))
		for k, v := range raw {
			ds, err := strconv.ParseInt(k, 10, 64)
			if err != nil {
				return false
			}
			mm[ds] = v
		}
		t.certs[id] = mm
	}
	// Access records.
	for _, m := range by[KindRecord] {
		id, err := strconv.ParseInt(m.ID, 10, 64)
		if err != nil {
			return false
		}
		if m.After == nil {
			t.dropRecord(id)
			continue
		}
		var er exportRecord
		if json.Unmarshal(m.After, &er) != nil || er.ID != id {
			return false
		}
		if _, ok := t.dataSources.Get(er.DataSourceID); !ok {
			return false
		}
		t.storeRecord(recordOfRow(er))
	}
	// Counters.
	for _, m := range by[KindCounter] {
		var n int64
		if m.After == nil || json.Unmarshal(m.After, &n) != nil {
			return false
		}
		switch m.ID {
		case counterPolicy:
			t.nextPolicy = n
		case counterRecord:
			t.nextRecord = n
		default:
			return false
		}
	}
	return true
}

// disabledOf decodes a disable row (nil: none disabled).
func disabledOf(raw json.RawMessage) ([]model.DisabledPolicy, bool) {
	if raw == nil {
		return nil, true
	}
	var rows []disabledRow
	if json.Unmarshal(raw, &rows) != nil {
		return nil, false
	}
	out := make([]model.DisabledPolicy, len(rows))
	for i, r := range rows {
		out[i] = model.DisabledPolicy(r)
	}
	return out, true
}

// recordOfRow is the access record a record row holds.
func recordOfRow(er exportRecord) *model.AccessRecord {
	r := &model.AccessRecord{ID: er.ID, DataSourceID: er.DataSourceID, State: er.State, Profile: er.Profile,
		Group: er.Group, Admin: er.Admin, Policy: er.Policy, IsSubscriptionOverride: er.IsSubscriptionOverride,
		DenialReasoning: er.DenialReasoning, AccessGrant: er.AccessGrant, Approved: er.Approved,
		CreatedAt: er.CreatedAt, UpdatedAt: er.UpdatedAt}
	if er.Expiration != nil {
		r.Expiration = *er.Expiration
	}
	for _, sl := range er.Approvals {
		r.Approvals = append(r.Approvals, model.ApprovalSlot(sl))
	}
	return r
}

// dropRecord removes a record and keeps the per-user and per-group lists in step.
func (t *txn) dropRecord(id int64) {
	r, ok := t.records.Get(id)
	if !ok {
		return
	}
	t.records.Del(id)
	d, hasDS := t.dataSources.Get(r.DataSourceID)
	if r.Group != 0 {
		if hasDS {
			nd := d.clone()
			grants := withoutRecord(d.groupGrants(), id)
			nd.setRare(func(x *dsRare) { x.groupGrants = grants })
			t.dataSources.Set(nd.ds.ID, nd)
		}
		return
	}
	k := pairKey(r.DataSourceID, r.Profile)
	list, _ := t.userRecs.Get(k)
	if list = withoutRecord(list, id); len(list) == 0 {
		t.userRecs.Del(k)
	} else {
		t.userRecs.Set(k, list)
	}
	if hasDS {
		nd := d.clone()
		nd.setRare(func(x *dsRare) { x.userRecords-- })
		t.dataSources.Set(nd.ds.ID, nd)
	}
}

func withoutRecord(list []*model.AccessRecord, id int64) []*model.AccessRecord {
	out := make([]*model.AccessRecord, 0, len(list))
	for _, x := range list {
		if x.ID != id {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// Follow keeps the engine in step with its store until ctx ends: it syncs every
// interval (default 1 s), at once when the store wakes it (Waker) and when a
// WaitRevision caller waits. A failed sync is retried at the next tick; the engine
// keeps answering from its last snapshot meanwhile (ReplicaStatus tells). It
// returns ctx's error.
func (e *Engine) Follow(ctx context.Context, interval time.Duration) error {
	if interval <= 0 {
		interval = time.Second
	}
	r := &e.rep
	r.init()
	r.following.Add(1)
	defer r.following.Add(-1)
	var wake <-chan struct{}
	if w, ok := e.storeOf().(Waker); ok {
		wake = w.Wake()
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		_ = e.Sync(ctx) // the error is kept in the status; the next tick retries
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		case <-wake:
		case <-r.poke:
		}
	}
}

// WaitRevision returns a snapshot at revision n or later, waiting until the engine
// has caught up with the store that far or ctx ends (then ctx's error). An engine
// that does not Follow its store syncs while waiting.
func (e *Engine) WaitRevision(ctx context.Context, n int64) (*Snapshot, error) {
	r := &e.rep
	r.init()
	for {
		w := e.log.waiter()
		if s := e.cur.Load(); s.revision >= n {
			return s, nil
		}
		if r.following.Load() > 0 {
			select {
			case r.poke <- struct{}{}:
			default:
			}
		} else if err := e.Sync(ctx); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		} else if s := e.cur.Load(); s.revision >= n {
			return s, nil
		} else if e.storeOf() == nil {
			return nil, fmt.Errorf("revision %d is ahead of this engine (at %d) and it has no store", n, s.revision)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// retry runs one write attempt f again after ErrRevisionConflict, once the engine
// synced with its store, up to ConflictRetries times. Attempts after the first
// wait a random moment, growing up to maxBackoff, so that instances contending
// for the store spread out. A write the engine refused (validation, permissions, an
// unknown id, a duplicate) is refused only on the store's latest state: when
// syncing shows that other instances wrote meanwhile, it runs again. So every
// answer of a write, refusals included, is the one the writes before it in the
// store's order give.
func (e *Engine) retry(f func() error) error {
	for i := 0; ; i++ {
		before := e.cur.Load().revision
		err := f()
		if i == ConflictRetries {
			return err
		}
		if err == nil {
			// A write that changed nothing (a dry run, a repeated request, an
			// enable of a policy not disabled) never met the store: like a refusal,
			// it answers from the latest state.
			if e.cur.Load().revision != before || e.storeOf() == nil {
				return nil
			}
			err = errUnchanged
		}
		conflict := errors.Is(err, ErrRevisionConflict)
		if !conflict && (errors.Is(err, ErrStore) || errors.Is(err, ErrInternal) || e.storeOf() == nil) {
			return err
		}
		if conflict && i > 0 {
			time.Sleep(time.Duration(rand.Int64N(int64(min(time.Millisecond<<min(i, 10), maxBackoff)))))
		}
		rev := e.cur.Load().revision
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.storeTimeout)
		serr := e.Sync(ctx)
		cancel()
		switch {
		case conflict && serr != nil:
			return serr
		case !conflict && (serr != nil || e.cur.Load().revision == rev):
			if err == errUnchanged {
				return nil
			}
			return err // refused on the latest state (or the store cannot say)
		}
	}
}

// errUnchanged marks, inside retry, a write that succeeded without changing anything.
var errUnchanged = errors.New("the write changed nothing")

// maxBackoff bounds the wait between two attempts of a write.
const maxBackoff = 50 * time.Millisecond
