// Package store holds the durable stores behind the engine's Store interface:
// store/memory (in process), store/sqlite (the embedded file store) and the
// conformance suite every store passes, store/storetest. See docs/operations.md,
// Stores.
package store
