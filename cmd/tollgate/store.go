package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/scenario"
	"github.com/tollgate-dev/tollgate/store/postgres"
	"github.com/tollgate-dev/tollgate/store/sqlite"
)

// defaultStore is where serve keeps its state unless --store says otherwise.
const defaultStore = "sqlite:tollgate.db"

// storeSpec is a parsed --store value.
type storeSpec struct {
	kind string // "memory", "sqlite" or "postgres"
	path string // the file of a sqlite store; the URL of a postgres one
}

func parseStore(s string) (storeSpec, error) {
	switch {
	case s == "memory":
		return storeSpec{kind: "memory"}, nil
	case strings.HasPrefix(s, "sqlite:"):
		p := strings.TrimPrefix(s, "sqlite:")
		if p == "" {
			return storeSpec{}, fmt.Errorf("--store sqlite:PATH needs a file path")
		}
		return storeSpec{kind: "sqlite", path: p}, nil
	case strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://"):
		return storeSpec{kind: "postgres", path: s}, nil
	}
	return storeSpec{}, fmt.Errorf("--store must be memory, sqlite:PATH or postgres://USER@HOST:PORT/DB, got %q", s)
}

// openState returns the engine serve runs on and says where its state lives. A
// memory store holds the bundle. A file store that is empty is seeded from the
// bundle; one that holds state keeps it (the bundle is not loaded) unless reset,
// which replaces its state with the bundle's as one write.
func openState(ctx context.Context, spec storeSpec, reset bool, s *scenario.Scenario, opts []engine.Option, logger *slog.Logger) (*engine.Engine, string, error) {
	if spec.kind == "memory" {
		l, err := setup(s, opts...)
		if err != nil {
			return nil, "", err
		}
		return l.e, "in memory (lost when the process stops)", nil
	}
	var st engine.Store
	var path string // where the state lives, for the log (no password)
	if spec.kind == "postgres" {
		pst, err := postgres.Open(ctx, spec.path)
		if err != nil {
			return nil, "", err
		}
		st, path = pst, "postgres:"+pst.Name()
	} else {
		var err error
		if path, err = filepath.Abs(spec.path); err != nil {
			return nil, "", err
		}
		if st, err = sqlite.Open(ctx, path); err != nil {
			return nil, "", err
		}
	}
	now := s.Now()
	e, err := engine.Open(ctx, st, append([]engine.Option{engine.WithClock(func() time.Time { return now })}, opts...)...)
	if err != nil {
		_ = st.Close() // opening failed already
		return nil, "", fmt.Errorf("%s: %w", path, err)
	}
	rev := e.Snapshot().Revision()
	switch {
	case rev == 0 || reset:
		l, err := setup(s, opts...)
		if err != nil {
			_ = e.Close() // the bundle failed already
			return nil, "", err
		}
		exp, err := l.e.Export()
		if err == nil {
			err = e.Import(exp)
		}
		if err != nil {
			_ = e.Close() // seeding failed already
			return nil, "", fmt.Errorf("loading the bundle into %s: %w", path, err)
		}
		if rev == 0 {
			logger.Info("the store was empty: seeded it from the bundle", "store", path, "bundle", s.Name, "revision", e.Snapshot().Revision())
		} else {
			logger.Warn("--reset: replaced the store's state with the bundle", "store", path, "bundle", s.Name,
				"previous revision", rev, "revision", e.Snapshot().Revision())
		}
	default:
		logger.Info("the store holds state: it wins over the bundle, which was not loaded (--reset reloads it)",
			"store", path, "revision", rev)
	}
	if spec.kind == "postgres" {
		// Other instances write to the same database: follow them (see
		// docs/operations.md, Replicas). Close ends it with the process.
		go func() { _ = e.Follow(ctx, time.Second) }()
		return e, fmt.Sprintf("in %s (revision %d; following the other instances)", path, e.Snapshot().Revision()), nil
	}
	return e, fmt.Sprintf("in sqlite:%s (revision %d)", path, e.Snapshot().Revision()), nil
}

// tempSQLite makes each scenario's store a SQLite file in a new temporary directory,
// removed after the scenario.
func tempSQLite(ctx context.Context) scenario.Stores {
	return func() (func() (engine.Store, error), func(), error) {
		dir, err := os.MkdirTemp("", "tollgate-check-")
		if err != nil {
			return nil, nil, err
		}
		path := filepath.Join(dir, "scenario.db")
		// A scenario's store is thrown away: it needs no fsync.
		open := func() (engine.Store, error) { return sqlite.Open(ctx, path, sqlite.WithoutSync()) }
		return open, func() { _ = os.RemoveAll(dir) }, nil // best effort: a temporary directory
	}
}
