package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// DefaultURL is the server tests use when TOLLGATE_TEST_POSTGRES is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test"

// URL returns the URL of the test server.
func URL() string {
	if u := os.Getenv("TOLLGATE_TEST_POSTGRES"); u != "" {
		return u
	}
	return DefaultURL
}

// Unreachable fails (CI=true) or skips t because the server is unreachable.
func Unreachable(t testing.TB, err error) {
	t.Helper()
	msg := "PostgreSQL at " + URL() + " (TOLLGATE_TEST_POSTGRES) is unreachable: " + err.Error()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg + " — skipping; start it to run this test")
}

// Schema creates a fresh schema, drops it (with everything in it) when t ends and
// returns a URL whose connections use it (search_path).
func Schema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", URL())
	if err != nil {
		Unreachable(t, err)
	}
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		Unreachable(t, err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "tollgate_test_" + hex.EncodeToString(b[:])
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		_ = db.Close()
		t.Fatalf("creating schema %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// The server may be restarting (fault tests): try for a while.
		for {
			_, err := db.ExecContext(ctx, `DROP SCHEMA `+name+` CASCADE`)
			if err == nil || ctx.Err() != nil {
				if err != nil {
					t.Errorf("dropping schema %s: %v", name, err)
				}
				break
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
		_ = db.Close()
	})
	sep := "?"
	if strings.Contains(URL(), "?") {
		sep = "&"
	}
	return URL() + sep + "search_path=" + name
}
