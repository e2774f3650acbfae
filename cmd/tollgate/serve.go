package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/engine/scenario"
	"github.com/tollgate-dev/tollgate/model"
)

func (c *cli) serve(args []string) int {
	const synopsis = "serve BUNDLE [--store sqlite:PATH|postgres://...|memory] [--reset] [--store-timeout D] [--addr HOST:PORT] [--max-body BYTES]"
	const text = `Serves the REST API over the state in a store (see docs/operations.md, Serve). The
default store is the file tollgate.db in the current directory: every acknowledged write
is on disk and survives a restart or a crash. An empty store is seeded from the bundle;
a store that holds state wins over the bundle (the log says so) unless --reset, which
replaces it with the bundle's. --store memory serves the bundle from memory only.
--store postgres://USER@HOST:PORT/DB shares the state with every instance serving the
same database (see docs/operations.md, Replicas).
Callers authenticate with the Authorization header: a user's apiKey, or Bearer and
a token from POST /bim/apikey/authenticate (a user without apiKey cannot). The clock is the wall clock, so expirations happen; --clock bundle freezes it at the bundle's now (demos, tests). Requests are logged to stderr (log/slog). Stops cleanly on SIGINT or
SIGTERM, finishing the requests in flight.`
	fs := newFlags("serve")
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	maxBody := fs.Int64("max-body", rest.DefaultMaxBodyBytes, "largest request body in bytes (larger: 413)")
	storeFlag := fs.String("store", defaultStore, "where the state lives: sqlite:PATH (one file, created when missing), postgres://USER@HOST:PORT/DB (shared by several instances) or memory (lost when the process stops)")
	reset := fs.Bool("reset", false, "replace the store's state with the bundle's")
	storeTimeout := fs.Duration("store-timeout", 10*time.Second, "how long a write waits for the store before it fails (503)")
	clock := fs.String("clock", "system", "system: the wall clock (default: expirations happen); bundle: the bundle's now, frozen (demos, tests)")
	pos, err := c.parse(fs, synopsis, text, args)
	if err != nil {
		return exitParse(err)
	}
	if len(pos) != 1 {
		return c.usageError("serve", "name exactly one bundle file or directory")
	}
	if *maxBody <= 0 {
		return c.usageError("serve", "--max-body must be positive")
	}
	spec, err := parseStore(*storeFlag)
	if err != nil {
		return c.usageError("serve", "%v", err)
	}
	if *storeTimeout <= 0 {
		return c.usageError("serve", "--store-timeout must be positive")
	}
	opts := []engine.Option{engine.WithStoreTimeout(*storeTimeout)}
	switch *clock {
	case "bundle":
	case "system":
		opts = append(opts, engine.WithClock(time.Now))
	default:
		return c.usageError("serve", "--clock must be bundle or system, got %q", *clock)
	}
	bundle, err := scenario.LoadBundle(pos[0])
	if err != nil {
		return c.inputError("serve", err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return c.inputError("serve", err)
	}
	defer ln.Close()
	logger := slog.New(slog.NewTextHandler(c.stderr, nil))
	e, where, err := openState(c.ctx, spec, *reset, bundle, opts, logger)
	if err != nil {
		return c.inputError("serve", err)
	}
	defer func() {
		if err := e.Close(); err != nil {
			fmt.Fprintf(c.stderr, "tollgate serve: closing the store: %v\n", err)
		}
	}()
	fmt.Fprintf(c.stdout, "tollgate: state %s\n", where)
	h := rest.NewHandler(e, nil, rest.WithLogger(logger), rest.WithMaxBodyBytes(*maxBody))
	fmt.Fprintf(c.stdout, "tollgate: serving %q on http://%s (Ctrl-C to stop)\n", bundle.Name, ln.Addr())
	if c.ready != nil {
		c.ready(ln.Addr().String())
	}
	if err := serveOn(c.ctx, ln, h, logger); err != nil {
		fmt.Fprintf(c.stderr, "tollgate serve: %v\n", err)
		return exitFail
	}
	fmt.Fprintln(c.stdout, "tollgate: stopped")
	return exitOK
}

// serveOn serves h on ln until ctx is done, then shuts down gracefully (waiting up
// to 10 seconds for requests in flight).
func serveOn(ctx context.Context, ln net.Listener, h http.Handler, logger *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (c *cli) impact(args []string) int {
	const synopsis = "impact POLICY_FILE --bundle BUNDLE [--replace ID] [-o text|json]"
	const text = `Dry-runs a policy (v1 or v2 dialect, JSON or YAML) against a bundle, as a GOVERNANCE
actor: prints the data sources it would newly apply to and stop applying to, and the
users whose grant would change (before -> after). Nothing is stored. With --replace,
the policy replaces the bundle's policy with that id instead of being created.`
	fs := newFlags("impact")
	out := outputFlag(fs)
	bundle := fs.String("bundle", "", "bundle file or directory (required)")
	replace := fs.Int64("replace", 0, "id of a policy of the bundle that the file replaces")
	pos, err := c.parse(fs, synopsis, text, args)
	if err != nil {
		return exitParse(err)
	}
	switch {
	case len(pos) != 1:
		return c.usageError("impact", "name exactly one policy file")
	case *bundle == "":
		return c.usageError("impact", "--bundle is required")
	}
	if err := checkOutput(*out); err != nil {
		return c.usageError("impact", "%v", err)
	}
	data, err := os.ReadFile(pos[0])
	if err != nil {
		return c.inputError("impact", err)
	}
	p, err := engine.New().DecodePolicy(data, model.DefaultLimits())
	if err != nil {
		return c.inputError("impact", fmt.Errorf("%s: %w", pos[0], err))
	}
	l, err := load(*bundle)
	if err != nil {
		return c.inputError("impact", err)
	}
	dry := engine.WriteOptions{DryRun: true}
	var im *engine.Impact
	if *replace != 0 {
		_, im, err = l.e.UpdatePolicy(engine.SystemActor(), *replace, p, dry)
	} else {
		_, im, err = l.e.CreatePolicy(engine.SystemActor(), p, dry)
	}
	if err != nil {
		return c.inputError("impact", fmt.Errorf("%s: %w", pos[0], err))
	}
	ij := rest.ImpactResponse(im)
	if *out == "json" {
		if err := writeJSON(c.stdout, ij); err != nil {
			return c.inputError("impact", err)
		}
		return exitOK
	}
	snap := l.e.Snapshot()
	dsName := func(id int64) string {
		if ds, ok := snap.DataSource(id); ok {
			return fmt.Sprintf("%d %s", id, ds.Name)
		}
		return fmt.Sprint(id)
	}
	list := func(ids []int64) string {
		if len(ids) == 0 {
			return "none"
		}
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = dsName(id)
		}
		return strings.Join(parts, ", ")
	}
	fmt.Fprintf(c.stdout, "Impact of policy %q on %s (dry run: nothing stored)\n\n", p.Key, l.s.Name)
	fmt.Fprintf(c.stdout, "Data sources added (%d):   %s\n", len(ij.DataSourcesAdded), list(ij.DataSourcesAdded))
	fmt.Fprintf(c.stdout, "Data sources removed (%d): %s\n", len(ij.DataSourcesRemoved), list(ij.DataSourcesRemoved))
	fmt.Fprintf(c.stdout, "Users whose grant changes (%d):\n", len(ij.Users))
	if len(ij.Users) == 0 {
		fmt.Fprintln(c.stdout, "  none")
	}
	for _, u := range ij.Users {
		name := ""
		if usr, ok := snap.User(u.ProfileID); ok {
			name = " " + usr.Name
		}
		fmt.Fprintf(c.stdout, "  user %d%s on data source %s: %s -> %s\n", u.ProfileID, name, dsName(u.DataSourceID), u.Before, u.After)
	}
	return exitOK
}
