// Package sqlstore is an engine.Store on database/sql, written once for every SQL
// database whose dialect it knows (SQLite; PostgreSQL shares the schema and the
// statements). It imports no driver: store/sqlite opens the database and passes it
// in. Three tables, prefixed so they can share a database:
//
//	tollgate_meta(id, version, revision, trimmed)  one row: the revision of the rows,
//	                                               the last log revision trimmed away
//	tollgate_rows(kind, id, value, revision)       the current value of every row
//	tollgate_log(revision, entry)                  the change log (engine.Change JSON)
//
// See docs/operations.md, Stores.
package sqlstore
