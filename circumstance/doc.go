// Package circumstance compiles where a policy applies, without an engine.
//
// Compile turns a policy's circumstances (tags, column tags, column regexes,
// domains, server, time, noTags, anyTag, owner-selected) and its circumstance
// operator into an immutable Matcher, reporting every problem only a compiler finds
// (a column regex that does not compile) as a model.ErrorList with field paths. Matcher.Match
// evaluates the policy on one data source with three-valued logic: Applies,
// NotApplies, or Indeterminate when a circumstance cannot be evaluated (a column
// regex that exceeds its match timeout); an Indeterminate result always carries its
// error and is never folded into a silent "does not apply". See docs/semantics.md,
// Circumstances.
//
// The engine compiles every policy the same way when it stores it, and keeps its
// own indexes so that it never scans the catalog; this package is for validating a
// policy, or asking where it applies, without one. A Matcher is safe for concurrent
// use by multiple goroutines; Compile copies what it needs, so later changes to the
// model.Policy do not affect it.
package circumstance
