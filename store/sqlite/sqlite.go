package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/tollgate-dev/tollgate/store/sqlstore"
)

// Store is the file store.
type Store struct {
	*sqlstore.Store
	path string
}

// Option configures Open.
type Option func(*options)

type options struct {
	retention int
	noSync    bool
}

// WithRetention keeps the last n log entries (default engine.DefaultRetention).
func WithRetention(n int) Option { return func(o *options) { o.retention = n } }

// WithoutSync makes commits skip fsync (synchronous=OFF): for throwaway stores
// (tests, tollgate check) only. A crash of the process still loses nothing; a
// crash of the machine may lose acknowledged writes.
func WithoutSync() Option { return func(o *options) { o.noSync = true } }

// Open opens (creating when missing) the store in the file at path.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	if o.noSync {
		q.Add("_pragma", "synchronous(OFF)")
	} else {
		q.Add("_pragma", "synchronous(FULL)")
	}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close() // the open failed already
		return nil, fmt.Errorf("sqlite store %s: %w", path, err)
	}
	s, err := sqlstore.New(ctx, db, sqlstore.SQLite, o.retention)
	if err != nil {
		_ = db.Close() // the open failed already
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return &Store{Store: s, path: path}, nil
}

// Path returns the file the store lives in.
func (s *Store) Path() string { return s.path }

// Backup writes a consistent copy of the store, as of one committed write, to a new
// file at dest while the store stays in use (SQLite's VACUUM INTO). Opening dest
// restores that state.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if _, err := s.DB().ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("sqlite store %s: backup to %s: %w", s.path, dest, err)
	}
	return nil
}
