package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/engine"
)

// SchemaVersion is the version of the tables this package writes.
const SchemaVersion = 1

// Dialect is what differs between SQL databases.
type Dialect struct {
	// Name names the database in errors, e.g. "sqlite".
	Name string
	// JSONType is the column type of JSON values (TEXT; jsonb on PostgreSQL).
	JSONType string
	// Numbered placeholders ($1, $2, ...) instead of "?".
	Numbered bool
	// LockMeta is appended to the SELECT of the meta row inside a commit
	// (" FOR UPDATE" on PostgreSQL; SQLite locks the database at BEGIN IMMEDIATE).
	LockMeta string
}

// SQLite is the dialect of SQLite (open its database with immediate transactions).
var SQLite = Dialect{Name: "sqlite", JSONType: "TEXT"}

// Schema returns the statements that create the tables (idempotent).
func (d Dialect) Schema() []string {
	return []string{
		`CREATE TABLE IF NOT EXISTS tollgate_meta (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL, revision BIGINT NOT NULL, trimmed BIGINT NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS tollgate_rows (kind TEXT NOT NULL, id TEXT NOT NULL, value ` + d.JSONType + ` NOT NULL, revision BIGINT NOT NULL, PRIMARY KEY (kind, id))`,
		`CREATE TABLE IF NOT EXISTS tollgate_log (revision BIGINT PRIMARY KEY, entry ` + d.JSONType + ` NOT NULL)`,
		d.q(`INSERT INTO tollgate_meta (id, version, revision, trimmed) VALUES (1, ?, 0, 0) ON CONFLICT (id) DO NOTHING`),
	}
}

// q rewrites "?" placeholders for the dialect.
func (d Dialect) q(s string) string {
	if !d.Numbered {
		return s
	}
	var b strings.Builder
	n := 0
	for _, c := range s {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

// Store is an engine.Store on a database/sql database.
type Store struct {
	db        *sql.DB
	d         Dialect
	retention int64
}

// New creates the tables when missing and returns the store. retention is how
// many of the last log entries it keeps (<= 0: engine.DefaultRetention). The store
// owns db: Close closes it.
func New(ctx context.Context, db *sql.DB, d Dialect, retention int) (*Store, error) {
	if retention <= 0 {
		retention = engine.DefaultRetention
	}
	s := &Store{db: db, d: d, retention: int64(retention)}
	for i, stmt := range d.Schema() {
		var err error
		if i == len(d.Schema())-1 {
			_, err = db.ExecContext(ctx, stmt, SchemaVersion)
		} else {
			_, err = db.ExecContext(ctx, stmt)
		}
		if err != nil {
			return nil, fmt.Errorf("%s store: creating the tables: %w", d.Name, err)
		}
	}
	var v int
	if err := db.QueryRowContext(ctx, `SELECT version FROM tollgate_meta WHERE id = 1`).Scan(&v); err != nil {
		return nil, fmt.Errorf("%s store: reading the schema version: %w", d.Name, err)
	}
	if v != SchemaVersion {
		return nil, fmt.Errorf("%s store: schema version %d is not supported (want %d)", d.Name, v, SchemaVersion)
	}
	return s, nil
}

// DB returns the database (for backups and tests).
func (s *Store) DB() *sql.DB { return s.db }

// Load reads the revision and every row in one transaction.
func (s *Store) Load(ctx context.Context) (*engine.StoredState, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.fail("load", err)
	}
	defer tx.Rollback() //nolint:errcheck // a read-only transaction
	st := &engine.StoredState{}
	if err := tx.QueryRowContext(ctx, `SELECT revision FROM tollgate_meta WHERE id = 1`).Scan(&st.Revision); err != nil {
		return nil, s.fail("load", err)
	}
	// In storage order: a scan, not an index walk with a lookup per row (the engine
	// sorts the rows it reads).
	rows, err := tx.QueryContext(ctx, `SELECT kind, id, value FROM tollgate_rows`)
	if err != nil {
		return nil, s.fail("load", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r engine.Row
		var kind string
		var v []byte
		if err := rows.Scan(&kind, &r.ID, &v); err != nil {
			return nil, s.fail("load", err)
		}
		r.Kind, r.Value = engine.Kind(kind), v
		st.Rows = append(st.Rows, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("load", err)
	}
	return st, nil
}

// Commit applies consecutive writes in one transaction when the stored revision is
// expected.
func (s *Store) Commit(ctx context.Context, expected int64, entries []*engine.Change) (err error) {
	raws := make([][]byte, len(entries))
	prev := expected
	for i, c := range entries {
		if c.Revision <= prev {
			return fmt.Errorf("%s store: entry revision %d does not follow %d", s.d.Name, c.Revision, prev)
		}
		prev = c.Revision
		if raws[i], err = json.Marshal(c); err != nil {
			return fmt.Errorf("%s store: encoding entry %d: %w", s.d.Name, c.Revision, err)
		}
	}
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail("commit", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // the commit failed already; its error is the one to report
		}
	}()
	var rev, trimmed int64
	if err := tx.QueryRowContext(ctx, `SELECT revision, trimmed FROM tollgate_meta WHERE id = 1`+s.d.LockMeta).Scan(&rev, &trimmed); err != nil {
		return s.fail("commit", err)
	}
	if rev != expected {
		return fmt.Errorf("%s store: %w: stored %d, expected %d", s.d.Name, engine.ErrRevisionConflict, rev, expected)
	}
	var up, dl *sql.Stmt
	for i, c := range entries {
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO tollgate_log (revision, entry) VALUES (?, ?)`), c.Revision, string(raws[i])); err != nil {
			return s.fail("commit", err)
		}
		for _, m := range c.Changes {
			if m.After != nil {
				if up == nil {
					if up, err = tx.PrepareContext(ctx, s.d.q(`INSERT INTO tollgate_rows (kind, id, value, revision) VALUES (?, ?, ?, ?) ON CONFLICT (kind, id) DO UPDATE SET value = excluded.value, revision = excluded.revision`)); err != nil {
						return s.fail("commit", err)
					}
					defer up.Close()
				}
				_, err = up.ExecContext(ctx, string(m.Kind), m.ID, string(m.After), c.Revision)
			} else {
				if dl == nil {
					if dl, err = tx.PrepareContext(ctx, s.d.q(`DELETE FROM tollgate_rows WHERE kind = ? AND id = ?`)); err != nil {
						return s.fail("commit", err)
					}
					defer dl.Close()
				}
				_, err = dl.ExecContext(ctx, string(m.Kind), m.ID)
			}
			if err != nil {
				return s.fail("commit", err)
			}
		}
	}
	if cut := prev - s.retention; cut > trimmed {
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM tollgate_log WHERE revision <= ?`), cut); err != nil {
			return s.fail("commit", err)
		}
		trimmed = cut
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE tollgate_meta SET revision = ?, trimmed = ? WHERE id = 1`), prev, trimmed); err != nil {
		return s.fail("commit", err)
	}
	if err := tx.Commit(); err != nil {
		return s.fail("commit", err)
	}
	return nil
}

// ChangesSince reads up to limit log entries after since.
func (s *Store) ChangesSince(ctx context.Context, since int64, limit int) ([]engine.Change, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.fail("reading the log", err)
	}
	defer tx.Rollback() //nolint:errcheck // a read-only transaction
	var trimmed int64
	if err := tx.QueryRowContext(ctx, `SELECT trimmed FROM tollgate_meta WHERE id = 1`).Scan(&trimmed); err != nil {
		return nil, s.fail("reading the log", err)
	}
	if since < trimmed {
		return nil, fmt.Errorf("%s store: %w: revision %d (entries up to %d were trimmed)", s.d.Name, engine.ErrFellBehind, since, trimmed)
	}
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT entry FROM tollgate_log WHERE revision > ? ORDER BY revision LIMIT ?`), since, limit)
	if err != nil {
		return nil, s.fail("reading the log", err)
	}
	defer rows.Close()
	var out []engine.Change
	for rows.Next() {
		var raw []byte
		if err := rows.Scan(&raw); err != nil {
			return nil, s.fail("reading the log", err)
		}
		var c engine.Change
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%s store: a log entry: %w", s.d.Name, err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("reading the log", err)
	}
	return out, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) fail(what string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s store: %s: timed out: %w", s.d.Name, what, err)
	}
	return fmt.Errorf("%s store: %s: %w", s.d.Name, what, err)
}
