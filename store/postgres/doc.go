// Package postgres is the store several Tollgate instances share: an engine.Store in
// a PostgreSQL database through github.com/jackc/pgx/v5's database/sql driver (no
// cgo), on the tables and statements of store/sqlstore (tollgate_meta,
// tollgate_rows, tollgate_log; JSON values as jsonb). A commit locks the meta row
// (SELECT ... FOR UPDATE), checks the revision, appends the log entries, upserts and
// deletes the rows and bumps the revision in one transaction, so writes of all
// instances are linearised by the database. After each commit the store sends a
// NOTIFY; every store LISTENs and wakes its engine's Follow (engine.Waker), which
// also polls, so a lost notification only adds latency. See docs/operations.md,
// Replicas.
package postgres
