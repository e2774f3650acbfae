// Package scenario runs conformance scenarios (docs/scenarios.md): YAML or JSON
// files that set up a catalog, a directory, policies and grants, run API calls
// through the REST handler in process, and state what must hold afterwards.
//
// Parse is strict: a key the scenario format does not define makes the scenario
// malformed (policy payloads, step bodies and the state section are passed through
// untouched to the engine). Each scenario runs on a fresh engine whose clock is the
// scenario's now. A step's as: sends that user's API key (default key-<id>; an id
// that is no user sends key-<id>, which authenticates nobody). Step answers are
// checked by exact status, by error-message substring, and by subset match of the
// JSON body: mappings by subset, lists by length and element, scalars by value.
// The final expect checks the exact applied policy keys per data source, decisions
// (grant, states, discoverable) and ALL access records, matching each expected
// record to a distinct actual one by a maximum bipartite matching.
//
// YAML is read with sigs.k8s.io/yaml, like every YAML input of Tollgate, and so
// follows YAML 1.1: unquoted y, n, yes, no, on and off (any case) are booleans.
// Quote such values ("no", "N") where a string is meant; the error names the field.
//
// RunFileOn and RunDirOn report a Result per scenario with every mismatch, each
// naming the step (index and call) or the expectation with the wanted and got
// values. Each scenario runs on a fresh store (Stores; tollgate check uses a
// temporary SQLite file), so a restart step closes the engine and opens it again
// from the store; without a store a restart step fails.
// LoadBundle reads a bundle from a file or from a directory of fragments, for the
// tollgate CLI.
package scenario
