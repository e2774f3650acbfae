// Package match decides where a policy applies. Compile turns a policy's
// circumstances (tags, column tags, column regexes, domains, server, time,
// owner-selected) and its circumstance operator into an immutable Matcher;
// Keys.Target turns a data source into an immutable Target, a precomputed view with
// the dot-segment prefixes of its tags and column tags, its case-folded server and
// its domains (each interned as a symbol of a Keys table), its columns and its
// creation time. Matchers, Targets and indexes that share one Keys table compare
// keys as integers; any others still work, translating keys by name. Matcher.Match evaluates one policy on
// one data source with three-valued logic: Applies, NotApplies, or Indeterminate
// when a circumstance cannot be evaluated (a column regex that exceeds its match
// timeout); an Indeterminate result always carries its error and is never folded
// into a silent "does not apply".
//
// Two indexes answer applicability in bulk without evaluating policies that cannot
// match. PolicyIndex answers "which policies apply to this data source": exact keys
// (tag and column-tag prefixes, domain ids and names, case-folded servers) select
// candidate policies, and a residual set (regex, time, owner-selected and
// circumstance-less policies) is evaluated on every lookup. CatalogIndex answers
// the reverse question, "on which data sources does this policy apply", from
// postings of data source ids per key. Both visit results in ascending id order.
//
// Concurrency: Matcher and Target values are immutable after construction and safe
// for concurrent use by multiple goroutines. PolicyIndex and CatalogIndex are not
// safe for concurrent use, not even for concurrent lookups, because lookups reuse
// scratch buffers held by the index; one owner (the engine's writer) serialises
// every call. Keys is safe for concurrent use; a Builder serves one goroutine.
// Compile copies what it needs from the model.Policy; a Target shares the data
// source's column list, which must not be modified afterwards, and copies the rest.
//
// The public face of the compiler is package circumstance; the engine uses this
// package directly.
package match
