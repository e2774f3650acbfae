package postgres

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/sqlstore"
)

// Dialect is the dialect of PostgreSQL.
var Dialect = sqlstore.Dialect{Name: "postgres", JSONType: "jsonb", Numbered: true, LockMeta: " FOR UPDATE"}

// Channel is the LISTEN/NOTIFY channel commits are announced on.
const Channel = "tollgate_commit"

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Store
	dsn  string
	name string
	wake chan struct{}
	stop context.CancelFunc
	done sync.WaitGroup
}

// Option configures Open.
type Option func(*options)

type options struct {
	retention int
	listen    bool
}

// WithRetention keeps the last n log entries (default engine.DefaultRetention).
func WithRetention(n int) Option { return func(o *options) { o.retention = n } }

// WithoutListen makes the store neither LISTEN nor wake its engine: followers
// then only poll (as on a database without LISTEN, such as CockroachDB).
func WithoutListen() Option { return func(o *options) { o.listen = false } }

// Open connects to the database at dsn (a postgres:// URL or key=value string;
// runtime parameters such as search_path may be given in it), creates the tables
// when missing and returns the store.
func Open(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	o := options{listen: true}
	for _, f := range opts {
		f(&o)
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: %w", err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store %s: %w", redacted(cfg), err)
	}
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(2)
	db.SetConnMaxIdleTime(time.Minute)
	var s *sqlstore.Store
	for attempt := 0; ; attempt++ {
		// Instances starting together may race to create the tables; the loser
		// sees a duplicate and tries again.
		if s, err = sqlstore.New(ctx, db, Dialect, o.retention); err == nil || attempt == 2 || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		_ = db.Close() // the open failed already
		return nil, fmt.Errorf("%w (database %s)", err, redacted(cfg))
	}
	st := &Store{Store: s, dsn: dsn, name: redacted(cfg), wake: make(chan struct{}, 1)}
	lctx, stop := context.WithCancel(context.Background())
	st.stop = stop
	if o.listen {
		st.done.Add(1)
		go st.listen(lctx)
	}
	return st, nil
}

// Name names the database (user@host:port/database, no password).
func (s *Store) Name() string { return s.name }

// redacted names the database without its password.
func redacted(c *pgx.ConnConfig) string {
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Commit commits the writes (see sqlstore.Store.Commit) and announces them. A
// serialization failure or deadlock the database reports (SQLSTATE 40001, 40P01)
// is a revision conflict: the engine runs the write again.
func (s *Store) Commit(ctx context.Context, expected int64, entries []*engine.Change) error {
	if err := s.Store.Commit(ctx, expected, entries); err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01") {
			// A serialization failure or a deadlock: nothing was committed, and the
			// engine runs the write again as after another instance's commit.
			return fmt.Errorf("%w: %w", engine.ErrRevisionConflict, err)
		}
		return err
	}
	if len(entries) > 0 {
		// Best effort: a follower that misses it polls.
		rev := strconv.FormatInt(entries[len(entries)-1].Revision, 10)
		_, _ = s.DB().ExecContext(ctx, `SELECT pg_notify($1, $2)`, Channel, rev)
	}
	return nil
}

// ChangesSince reads up to limit log entries after since (see
// sqlstore.Store.ChangesSince). PostgreSQL keeps JSON as jsonb, which answers it
// in its normal form (object keys reordered); the values are returned compacted.
func (s *Store) ChangesSince(ctx context.Context, since int64, limit int) ([]engine.Change, error) {
	list, err := s.Store.ChangesSince(ctx, since, limit)
	if err != nil {
		return nil, err
	}
	for i := range list {
		for j := range list[i].Changes {
			m := &list[i].Changes[j]
			m.Before, m.After = compact(m.Before), compact(m.After)
		}
	}
	return list, nil
}

func compact(raw json.RawMessage) json.RawMessage {
	if raw == nil {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return raw
	}
	return b.Bytes()
}

// Wake returns the channel a value arrives on after some instance committed
// (engine.Waker).
func (s *Store) Wake() <-chan struct{} { return s.wake }

// listen LISTENs on its own connection until ctx ends, reconnecting after errors
// (every second); each notification wakes the engine.
func (s *Store) listen(ctx context.Context) {
	defer s.done.Done()
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		_ = err // the database is unreachable: followers poll meanwhile
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listenOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, s.dsn)
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.Background()) //nolint:errcheck // closing a connection we are done with
	if _, err := conn.Exec(ctx, `LISTEN `+Channel); err != nil {
		return err
	}
	s.poke() // what was committed while we were not listening
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.poke()
	}
}

func (s *Store) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close stops listening and closes the database.
func (s *Store) Close() error {
	s.stop()
	s.done.Wait()
	return s.Store.Close()
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.DB().PingContext(ctx); err != nil {
		return errors.Join(engine.ErrStore, err)
	}
	return nil
}
