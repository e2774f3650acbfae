package engine

import (
	"context"
	"fmt"
)

// pending is a write waiting for the store.
type pending struct {
	ch       entry // encoded
	next     *Snapshot
	expected int64 // the revision it was made against
	finished bool
	err      error
}

// enqueue makes next (the state after change ch from base) the head and queues ch
// for the store; without a store it publishes next at once. It returns nil when
// there is nothing to wait for. The writer lock must be held.
func (e *Engine) enqueue(base, next *Snapshot, ch entry) *pending {
	if ch.empty() {
		// Nothing stored changed: next is base again.
		if e.store == nil {
			next.revision = base.revision
			e.head = next
			e.cur.Store(next)
		}
		return nil
	}
	next.revision = ch.Revision
	e.head = next
	if e.store == nil {
		e.cur.Store(next)
		e.log.append(ch)
		return nil
	}
	p := &pending{ch: ch, next: next, expected: base.revision}
	e.cm.Lock()
	e.queue = append(e.queue, p)
	e.cm.Unlock()
	return p
}

// await waits until p's write is committed and published, or failed. The first
// waiter finding no commit in progress leads: it commits every queued write in one
// store call (group commit), publishes their snapshots in revision order, and
// wakes the others. The writer lock must not be held.
func (e *Engine) await(p *pending) error {
	if p == nil {
		return nil
	}
	e.cm.Lock()
	defer e.cm.Unlock()
	for !p.finished {
		if e.committing {
			e.cond.Wait()
			continue
		}
		e.committing = true
		batch := e.queue
		e.queue = nil
		e.cm.Unlock()
		err := e.commitBatch(batch)
		var later []*pending
		if err != nil {
			later = e.rollBack()
		}
		e.cm.Lock()
		for _, q := range batch {
			q.finished, q.err = true, err
		}
		for _, q := range later {
			q.finished, q.err = true, fmt.Errorf("%w: an earlier write it depended on failed: %w", ErrStore, err)
		}
		e.committing = false
		e.cond.Broadcast()
	}
	return p.err
}

// commitBatch commits batch (consecutive writes) to the store and publishes it.
func (e *Engine) commitBatch(batch []*pending) error {
	entries := make([]*Change, len(batch))
	for i, q := range batch {
		entries[i] = &q.ch.Change
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.storeTimeout)
	err := e.store.Commit(ctx, batch[0].expected, entries)
	cancel()
	if err != nil {
		return storeErr(err)
	}
	for _, q := range batch {
		e.cur.Store(q.next)
		e.log.append(q.ch)
	}
	return nil
}

// rollBack returns the head to the last published snapshot after a failed commit
// and returns the queued writes, which were built on the failed ones.
func (e *Engine) rollBack() []*pending {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cm.Lock()
	later := e.queue
	e.queue = nil
	e.cm.Unlock()
	e.head = e.cur.Load()
	e.rebuildIndexes(e.head)
	return later
}
