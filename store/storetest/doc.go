// Package storetest is the conformance suite every engine.Store passes (Run), and
// the random write workload it and the crash tests drive (Seed, Random, Apply). See
// docs/operations.md, Stores.
package storetest
