// Package benchmarks holds Tollgate's workload generator and its Go benchmarks.
//
// Generate builds a deterministic, seeded Workload — groups, users, a catalog of
// data sources and global policies — shaped like a real deployment: hierarchical
// tags of depth 1 to 4 (such as PII.Contact.Personal.Email) on data sources and
// columns, several domains and servers, creation times spread over a year, users in
// one to five groups with attributes, and policies mixing every circumstance type and
// action type in realistic proportions. The tag vocabulary grows with the policy
// count (policy i targets vocabulary tag t_i or one of its parents) while each data
// source carries only a few tags, so the number of policies applied to one data
// source stays small (about 1 to 10) at every size. Workload.Load puts it into an
// engine as engine.SystemActor().
//
// The benchmarks (the _test.go files) measure decisions, policy writes, catalog
// writes, export and import, and the memory of a loaded engine. The peers
// sub-directory is a separate module that runs one decision workload through
// Tollgate, OPA and cedar-go; see RESULTS.md.
//
// Nothing imports this package: it exists for its benchmarks.
package benchmarks
