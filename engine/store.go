package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"sync"

	"github.com/tollgate-dev/tollgate/model"
)

// Errors of stores and the change log (wrapped with %w; test with errors.Is).
var (
	// ErrStore: the store could not commit (or read); the write changed nothing.
	// REST answers 503.
	ErrStore = errors.New("store unavailable")
	// ErrRevisionConflict: the store's revision is not the one the write was made
	// against (another instance wrote first). A store's Commit wraps it.
	ErrRevisionConflict = errors.New("revision conflict")
	// ErrFellBehind: the revision asked for is older than the retained change log.
	ErrFellBehind = errors.New("fell behind the retained change log")
)

// Store makes an engine's state durable (see docs/operations.md, Stores). It keeps
// the current rows — one JSON value per (Kind, ID), exactly the After of the last
// Mutation that named it — and the change log, truncated to its retention bound.
// Implementations must be safe for concurrent use; the engine commits one write at
// a time.
type Store interface {
	// Load returns the current rows and the revision they are at, read consistently
	// (one transaction). An empty store has revision 0 and no rows.
	Load(ctx context.Context) (*StoredState, error)
	// Commit durably applies consecutive writes, in order (a write is acknowledged
	// only once Commit returned nil): when the stored revision is expected, for
	// each entry it appends the entry to the log, upserts each mutation's After as
	// the row (Kind, ID) at the entry's revision and deletes the rows whose After is
	// absent; then it sets the revision to the last entry's and trims the log to
	// the retention bound — all or nothing. When the stored revision is not
	// expected it changes nothing and returns an error wrapping
	// ErrRevisionConflict.
	Commit(ctx context.Context, expected int64, entries []*Change) error
	// ChangesSince returns up to limit log entries with a revision above since, in
	// order; an error wrapping ErrFellBehind when entries after since were trimmed.
	ChangesSince(ctx context.Context, since int64, limit int) ([]Change, error)
	// Close releases the store.
	Close() error
}

// StoredState is what a store holds: the rows at one revision.
type StoredState struct {
	Revision int64
	Rows     []Row
}

// Row is one stored value.
type Row struct {
	Kind  Kind
	ID    string
	Value json.RawMessage
}

// storeErr wraps a store's error with ErrStore (unless it already is).
func storeErr(err error) error {
	if errors.Is(err, ErrStore) || errors.Is(err, ErrFellBehind) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrStore, err)
}

// Open returns an engine on store st, restored to the state of its last committed
// write (its rows are loaded, not the log replayed). Every write of the engine is
// acknowledged only after st committed it; a write st refuses fails with an error
// wrapping ErrStore and changes nothing. An empty store gives an empty engine at
// revision 0 (seed it with ApplyBundle). The engine owns st: Close closes it.
func Open(ctx context.Context, st Store, opts ...Option) (*Engine, error) {
	e := New(opts...)
	state, err := st.Load(ctx)
	if err != nil {
		return nil, storeErr(err)
	}
	if len(state.Rows) > 0 {
		b, err := bundleOfRows(state)
		if err != nil {
			return nil, fmt.Errorf("%w: the stored rows: %w", ErrStore, err)
		}
		n, err := e.fresh(b)
		if err != nil {
			return nil, fmt.Errorf("%w: the stored rows: %w", ErrStore, err)
		}
		e.adopt(n)
	}
	s := e.cur.Load()
	s.revision = state.Revision
	e.head = s
	e.store = st
	e.log.reset(state.Revision, min(memTail, e.cfg.retention))
	return e, nil
}

// Close closes the engine's store (if any). Writes afterwards fail with ErrStore.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.store == nil {
		return nil
	}
	err := e.store.Close()
	e.store = closedStore{}
	return err
}

// closedStore is the store of a closed engine: it refuses everything.
type closedStore struct{}

var errClosed = errors.New("the engine is closed")

func (closedStore) Load(context.Context) (*StoredState, error)                 { return nil, errClosed }
func (closedStore) Commit(context.Context, int64, []*Change) error             { return errClosed }
func (closedStore) ChangesSince(context.Context, int64, int) ([]Change, error) { return nil, errClosed }
func (closedStore) Close() error                                               { return nil }

// The stored shapes of groups, users and data sources (as the bundle encodes them),
// decoded directly: rows are the engine's own output, and the engine validates
// every value again as it loads it.
type (
	groupRow struct {
		ID         int64               `json:"id"`
		Name       string              `json:"name"`
		Attributes map[string][]string `json:"attributes"`
	}
	userRow struct {
		ID          int64               `json:"id"`
		Name        string              `json:"name"`
		APIKeyHash  string              `json:"apiKeyHash"`
		Permissions []model.Permission  `json:"permissions"`
		Groups      []string            `json:"groups"`
		Attributes  map[string][]string `json:"attributes"`
	}
	dsRow struct {
		ID      int64    `json:"id"`
		Name    string   `json:"name"`
		Owners  []int64  `json:"owners"`
		Tags    []string `json:"tags"`
		Columns []struct {
			Name string   `json:"name"`
			Tags []string `json:"tags"`
		} `json:"columns"`
		Domains []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"domains"`
		Server           string   `json:"server"`
		Database         string   `json:"database"`
		Schema           string   `json:"schema"`
		Table            string   `json:"table"`
		CreatedAt        string   `json:"createdAt"`
		SelectedPolicies []string `json:"selectedPolicies"`
	}
)

// bundleOfRows assembles the stored rows into an export-shaped bundle.
func bundleOfRows(st *StoredState) (*model.Bundle, error) {
	byKind := map[Kind][]Row{}
	for _, r := range st.Rows {
		byKind[r.Kind] = append(byKind[r.Kind], r)
	}
	for k, l := range byKind {
		switch k {
		case KindGroup, KindUser, KindDataSource, KindDisable, KindPolicy, KindCounter, KindRecord, KindCertification:
		default:
			return nil, fmt.Errorf("rows of unknown kind %q", k)
		}
		for _, r := range l {
			if _, err := strconv.ParseInt(r.ID, 10, 64); err != nil && k != KindCounter {
				return nil, fmt.Errorf("%s row %q: the id is not an integer", k, r.ID)
			}
		}
		sort.Slice(l, func(i, j int) bool { return idLess(l[i].ID, l[j].ID) })
	}
	b := &model.Bundle{Name: "tollgate-store"}
	for _, r := range byKind[KindGroup] {
		var g groupRow
		if err := json.Unmarshal(r.Value, &g); err != nil {
			return nil, fmt.Errorf("group row %s: %w", r.ID, err)
		}
		b.Groups = append(b.Groups, model.Group(g))
	}
	users := byKind[KindUser]
	b.Users = make([]model.User, len(users))
	if err := decodeRows(users, func(dec *model.RowDecoder, i int) error {
		return decodeUserRow(dec, users[i], &b.Users[i])
	}); err != nil {
		return nil, err
	}
	disables := map[string][]model.DisabledPolicy{}
	for _, r := range byKind[KindDisable] {
		var l []disabledRow
		if err := json.Unmarshal(r.Value, &l); err != nil {
			return nil, fmt.Errorf("disable row %s: %w", r.ID, err)
		}
		for _, d := range l {
			disables[r.ID] = append(disables[r.ID], model.DisabledPolicy(d))
		}
	}
	rows := byKind[KindDataSource]
	b.DataSources = make([]model.DataSource, len(rows))
	if err := decodeRows(rows, func(dec *model.RowDecoder, i int) error {
		return decodeDSRow(dec, rows[i], &b.DataSources[i], disables[rows[i].ID])
	}); err != nil {
		return nil, err
	}
	for _, r := range byKind[KindPolicy] {
		b.Policies = append(b.Policies, r.Value)
	}
	st2 := exportState{Version: StateVersion, NextPolicyID: 1, NextRecordID: 1, Revision: st.Revision, Records: []exportRecord{}}
	for _, r := range byKind[KindCounter] {
		var n int64
		if err := json.Unmarshal(r.Value, &n); err != nil {
			return nil, fmt.Errorf("counter row %q: %w", r.ID, err)
		}
		switch r.ID {
		case counterPolicy:
			st2.NextPolicyID = n
		case counterRecord:
			st2.NextRecordID = n
		default:
			return nil, fmt.Errorf("counter row %q: unknown counter", r.ID)
		}
	}
	for _, r := range byKind[KindRecord] {
		var er exportRecord
		if err := json.Unmarshal(r.Value, &er); err != nil {
			return nil, fmt.Errorf("record row %s: %w", r.ID, err)
		}
		st2.Records = append(st2.Records, er)
	}
	for _, r := range byKind[KindCertification] {
		var m map[string]string
		if err := json.Unmarshal(r.Value, &m); err != nil {
			return nil, fmt.Errorf("certification row %s: %w", r.ID, err)
		}
		if st2.Certifications == nil {
			st2.Certifications = map[string]map[string]string{}
		}
		st2.Certifications[r.ID] = m
	}
	raw, err := json.Marshal(st2)
	if err != nil {
		return nil, err
	}
	b.State = raw
	return b, nil
}

// decodeRows calls decode for every row, on every core (a large catalog is most
// of a store), each worker with its own row decoder; it returns the first error of
// each worker.
func decodeRows(rows []Row, decode func(dec *model.RowDecoder, i int) error) error {
	workers := min(runtime.GOMAXPROCS(0), 1+len(rows)/4096)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dec := model.NewRowDecoder()
			for i := w; i < len(rows); i += workers {
				if err := decode(dec, i); err != nil {
					errs[w] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// decodeUserRow decodes one stored user row into u: with dec, or generically when
// dec does not handle it.
func decodeUserRow(dec *model.RowDecoder, r Row, u *model.User) error {
	if dec.User(r.Value, u) {
		return nil
	}
	return decodeUserRowGeneric(r, u)
}

// decodeUserRowGeneric is decodeUserRow through encoding/json.
func decodeUserRowGeneric(r Row, u *model.User) error {
	var row userRow
	if err := json.Unmarshal(r.Value, &row); err != nil {
		return fmt.Errorf("user row %s: %w", r.ID, err)
	}
	*u = model.User(row)
	return nil
}

// decodeDSRow decodes one stored data source row into ds, with its disables: with
// dec, or generically when dec does not handle it.
func decodeDSRow(dec *model.RowDecoder, r Row, ds *model.DataSource, disabled []model.DisabledPolicy) error {
	if dec.DataSource(r.Value, ds) {
		ds.DisabledPolicies = disabled
		return nil
	}
	return decodeDSRowGeneric(r, ds, disabled)
}

// decodeDSRowGeneric is decodeDSRow through encoding/json.
func decodeDSRowGeneric(r Row, ds *model.DataSource, disabled []model.DisabledPolicy) error {
	var d dsRow
	if err := json.Unmarshal(r.Value, &d); err != nil {
		return fmt.Errorf("dataSource row %s: %w", r.ID, err)
	}
	*ds = model.DataSource{ID: d.ID, Name: d.Name, Owners: d.Owners, Tags: d.Tags, Server: d.Server,
		Database: d.Database, Schema: d.Schema, Table: d.Table, SelectedPolicies: d.SelectedPolicies,
		DisabledPolicies: disabled}
	if len(d.Columns) > 0 {
		ds.Columns = make([]model.Column, len(d.Columns))
		for i, c := range d.Columns {
			ds.Columns[i] = model.Column{Name: c.Name, Tags: c.Tags}
		}
	}
	if len(d.Domains) > 0 {
		ds.Domains = make([]model.Domain, len(d.Domains))
		for i, x := range d.Domains {
			ds.Domains[i] = model.Domain{ID: x.ID, Name: x.Name}
		}
	}
	if d.CreatedAt != "" {
		t, err := model.ParseDate(d.CreatedAt)
		if err != nil {
			return fmt.Errorf("dataSource row %s: createdAt: %w", r.ID, err)
		}
		ds.CreatedAt = t
	}
	return nil
}
