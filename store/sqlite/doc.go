// Package sqlite is the embedded file store: an engine.Store in one SQLite file,
// through the pure-Go driver modernc.org/sqlite (no cgo). The database runs in WAL
// mode with synchronous=FULL, so a write is acknowledged only once it is on disk
// and survives a crash of the process (kill -9) or of the machine (as far as fsync
// reaches). The tables and statements are those of store/sqlstore. See
// docs/operations.md, Stores and Backup and restore.
package sqlite
