// Package pgtest gives tests a PostgreSQL database of their own: a fresh schema in
// the database at TOLLGATE_TEST_POSTGRES (default DefaultURL), dropped when the test
// ends. When the server cannot be reached the test fails in CI (CI=true) and is
// skipped elsewhere, with a message saying how to run it.
package pgtest
