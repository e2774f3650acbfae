package engine

import (
	"context"
	"fmt"
	"iter"
	"sort"
	"sync"

	"github.com/tollgate-dev/tollgate/model"
)

// DefaultRetention is how many of the last log entries are kept by default: by an
// engine without a store, and by the stores of this module.
const DefaultRetention = 100_000

// MaxChanges is the most entries one call of Changes returns.
const MaxChanges = 1000

// memTail is how many entries an engine with a store keeps in memory; older ones
// are read from the store.
const memTail = 4096

// entry is one entry of the change log as the engine holds it: a Change whose
// mutations are either encoded (Changes) or, when d is set, the delta they are
// encoded from when someone reads them.
type entry struct {
	Change
	d *delta
}

// empty reports whether the write changed no stored value.
func (en *entry) empty() bool {
	if en.d != nil {
		return en.d.empty()
	}
	return len(en.Changes) == 0
}

// full returns the entry with its mutations encoded.
func (en *entry) full() (Change, error) {
	if en.d == nil || en.Changes != nil {
		return en.Change, nil
	}
	muts, err := en.d.encode()
	if err != nil {
		return Change{}, fmt.Errorf("%w: encoding the change of revision %d: %w", ErrInternal, en.Revision, err)
	}
	c := en.Change
	c.Changes = muts
	return c, nil
}

// change computes the entry of a write from base to next among the keys k names,
// with header hdr (its Changes unset). Its mutations are encoded now only when a
// store or the change callback needs them; otherwise the log encodes them when
// read. The writer lock must be held.
func (e *Engine) change(base, next *Snapshot, k touchedKeys, hdr Change) (entry, error) {
	d, err := diff(base, next, k)
	if err != nil {
		return entry{}, err
	}
	en := entry{Change: hdr, d: d}
	if (e.store != nil || e.cfg.onChange != nil) && !d.empty() {
		if en.Changes, err = d.encode(); err != nil {
			return entry{}, err
		}
	}
	return en, nil
}

// changeLog is the engine's in-memory tail of the change log: it holds every entry
// with a revision above floor, in revision order. Entries with a delta hold no
// encoded mutations (they are encoded again when read): the log keeps the changed
// values, which are smaller than their JSON and mostly shared with the state.
type changeLog struct {
	mu      sync.Mutex
	floor   int64
	entries []entry
	max     int
	wake    chan struct{} // closed and replaced on every append
}

func (l *changeLog) reset(floor int64, max int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.floor, l.entries, l.max = floor, nil, max
	if l.wake == nil {
		l.wake = make(chan struct{})
	}
}

func (l *changeLog) append(en entry) {
	if en.d != nil {
		en.Changes = nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = append(l.entries, en)
	if len(l.entries) > 2*l.max {
		drop := len(l.entries) - l.max
		l.floor = l.entries[drop-1].Revision
		l.entries = append([]entry(nil), l.entries[drop:]...)
	}
	close(l.wake)
	l.wake = make(chan struct{})
}

// since returns up to limit entries after revision since, and false when the tail
// does not reach back that far.
func (l *changeLog) since(since int64, limit int) ([]entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if since < l.floor {
		return nil, false
	}
	i := sort.Search(len(l.entries), func(i int) bool { return l.entries[i].Revision > since })
	n := min(limit, len(l.entries)-i)
	return append([]entry(nil), l.entries[i:i+n]...), true
}

func (l *changeLog) waiter() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.wake
}

// Changes returns up to limit entries of the change log with a revision above since,
// in revision order (limit <= 0 or above MaxChanges: MaxChanges). An empty list means
// nothing newer exists. Entries no longer in memory are read from the store; an
// error wrapping ErrFellBehind means since is older than the retained log (the
// caller reloads the whole state, e.g. from a Snapshot, and follows from its
// revision).
func (e *Engine) Changes(since int64, limit int) ([]Change, error) {
	if since < 0 {
		return nil, model.ErrorList{model.Invalid("since", since, "must be a revision (0 or more)")}
	}
	if limit <= 0 || limit > MaxChanges {
		limit = MaxChanges
	}
	if list, ok := e.log.since(since, limit); ok {
		out := make([]Change, len(list))
		for i := range list {
			c, err := list[i].full()
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	if e.store == nil {
		return nil, fmt.Errorf("%w: revision %d is older than the retained log", ErrFellBehind, since)
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.storeTimeout)
	defer cancel()
	out, err := e.store.ChangesSince(ctx, since, limit)
	if err != nil {
		return nil, storeErr(err)
	}
	return out, nil
}

// WaitChanges is Changes, waiting until an entry above since exists or ctx ends
// (then it returns ctx's error).
func (e *Engine) WaitChanges(ctx context.Context, since int64, limit int) ([]Change, error) {
	for {
		w := e.log.waiter()
		out, err := e.Changes(since, limit)
		if err != nil || len(out) > 0 {
			return out, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w:
		}
	}
}

// Watch yields every entry of the change log with a revision above since, in
// revision order, waiting for new ones, until ctx ends or the caller stops. A slow
// watcher never holds up writes: it reads the log at its own pace (from memory, or
// from the store for older entries). When it falls behind the retained log it gets
// one error wrapping ErrFellBehind and the sequence ends; other errors end it too.
func (e *Engine) Watch(ctx context.Context, since int64) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		for {
			list, err := e.WaitChanges(ctx, since, 0)
			if err != nil {
				if ctx.Err() == nil {
					yield(Change{}, err)
				}
				return
			}
			for _, c := range list {
				if !yield(c, nil) {
					return
				}
				since = c.Revision
			}
		}
	}
}
