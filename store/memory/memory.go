package memory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/tollgate-dev/tollgate/engine"
)

// Store is an in-memory engine.Store. The zero value is not usable; call New.
type Store struct {
	mu        sync.Mutex
	revision  int64
	trimmed   int64 // the highest revision removed from the log
	rows      map[rowKey]engine.Row
	log       []engine.Change
	retention int
	closed    bool
}

type rowKey struct {
	kind engine.Kind
	id   string
}

// Option configures a Store.
type Option func(*Store)

// WithRetention keeps the last n log entries (default engine.DefaultRetention).
func WithRetention(n int) Option { return func(s *Store) { s.retention = n } }

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{rows: map[rowKey]engine.Row{}, retention: engine.DefaultRetention}
	for _, o := range opts {
		o(s)
	}
	if s.retention <= 0 {
		s.retention = engine.DefaultRetention
	}
	return s
}

var errClosed = errors.New("memory store: closed")

// Load returns the rows, ordered by kind and id, and the revision.
func (s *Store) Load(ctx context.Context) (*engine.StoredState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	st := &engine.StoredState{Revision: s.revision, Rows: make([]engine.Row, 0, len(s.rows))}
	for _, r := range s.rows {
		st.Rows = append(st.Rows, r)
	}
	sort.Slice(st.Rows, func(i, j int) bool {
		a, b := st.Rows[i], st.Rows[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.ID < b.ID
	})
	return st, nil
}

// Commit applies consecutive writes when the stored revision is expected.
func (s *Store) Commit(ctx context.Context, expected int64, entries []*engine.Change) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.revision != expected {
		return fmt.Errorf("memory store: %w: stored %d, expected %d", engine.ErrRevisionConflict, s.revision, expected)
	}
	prev := expected
	for _, c := range entries {
		if c.Revision <= prev {
			return fmt.Errorf("memory store: entry revision %d does not follow %d", c.Revision, prev)
		}
		prev = c.Revision
	}
	for _, c := range entries {
		for _, m := range c.Changes {
			k := rowKey{m.Kind, m.ID}
			if m.After == nil {
				delete(s.rows, k)
			} else {
				s.rows[k] = engine.Row{Kind: m.Kind, ID: m.ID, Value: append([]byte(nil), m.After...)}
			}
		}
		s.log = append(s.log, *c)
		s.revision = c.Revision
	}
	if len(s.log) > s.retention {
		drop := len(s.log) - s.retention
		s.trimmed = s.log[drop-1].Revision
		s.log = append([]engine.Change(nil), s.log[drop:]...)
	}
	return nil
}

// ChangesSince returns up to limit entries after since.
func (s *Store) ChangesSince(ctx context.Context, since int64, limit int) ([]engine.Change, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	if since < s.trimmed {
		return nil, fmt.Errorf("memory store: %w: revision %d (kept from %d)", engine.ErrFellBehind, since, s.trimmed)
	}
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].Revision > since })
	n := min(limit, len(s.log)-i)
	return append([]engine.Change(nil), s.log[i:i+n]...), nil
}

// Close marks the store closed: every later call fails. Reopen makes it usable
// again with its contents.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// Reopen makes a closed store usable again (as reopening a file would).
func (s *Store) Reopen() *Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = false
	return s
}
