// Package engine is Tollgate's policy engine: it holds the catalog (data sources), the
// directory (users and groups), the global policies and the access records, and
// decides what each user gets on each data source, with the reasons.
//
// # Concurrency
//
// An Engine is safe for concurrent use. Its whole state is an immutable Snapshot
// behind an atomic pointer. Readers (Decide, AppliedPolicies, Records, Export, the
// bulk queries) load the pointer and never lock; a reader holding a Snapshot keeps a
// consistent view for as long as it holds it. Writers (policy, catalog and directory
// changes, requests, grants, approvals) are serialised by one lock; each builds the
// next snapshot incrementally — a new or changed data source is run through the
// policy index, a new, changed or deleted policy through the catalog index, a user
// change touches only that user — and publishes it atomically. Stored values are never
// modified in place. Every write applies whole or changes nothing (Approve and Deny
// apply entry by entry, as the API defines).
//
// # Revisions, the change feed and stores
//
// Every write that changes stored values gets the next revision (Snapshot.Revision)
// and one Change in the change log: who wrote what, when, with each stored value
// before and after. Changes, WaitChanges and Watch read the log in revision order;
// WithChangeCallback is called after each write. New returns an engine whose state
// lives in memory only; Open returns one on a Store (store/sqlite, store/memory,
// store/postgres), restored from the store's rows: a write is acknowledged only once
// the store committed it, concurrent writes are committed in groups, and a failed
// commit fails the write with ErrStore, changing nothing. See docs/operations.md,
// Stores.
//
// # Decisions
//
// Snapshot.Decide(user, dataSource) merges the subscription policies applied to the
// data source per access level (always-required policies with AND, share-responsibility
// ones with OR), adds ownership, manual grants and requests, and returns the effective
// grant (NONE, READ or WRITE; WRITE implies READ), the state of each level (owner,
// subscribed, pending, eligible, requestable, none), whether the data source is
// discoverable, and the reasons. It does not allocate. A data source on which a
// circumstance could not be evaluated (a regex timeout) is indeterminate: all
// policy-derived access on it is NONE, with the error among the reasons.
//
// # Errors
//
// Methods return sentinel errors to branch on with errors.Is — ErrUnauthenticated,
// ErrForbidden, ErrNotFound, ErrConflict, ErrStore — or a model.ErrorList (errors.Is(err,
// model.ErrInvalid)) listing every problem of the input with its field path.
package engine
