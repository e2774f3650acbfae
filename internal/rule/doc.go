// Package rule compiles a policy's action into a Rule and judges users against
// it (see docs/semantics.md, Decisions
// and The advanced DSL).
//
// Compile turns a model.Policy into an immutable Rule once; Rule.Evaluate then judges
// a Subject (a user with the attributes inherited from their groups, built once per
// user change by NewSubject) on a Resource (a data source as the advanced DSL sees
// it, built by NewResource) and returns a Verdict: an Outcome (Unsatisfied <
// NeedsManual < NeedsApproval < Satisfied) with a reason computed at compile time.
// anyone policies are satisfied, approval policies need approval, manual policies
// need a manual grant, and entitlements policies are satisfied when their groups and
// attribute pairs hold (all or any; absent entitlements hold) and their advanced
// expression, if any, is true. Data policies and anything unknown are Unsatisfied:
// deny by default. Evaluating a rule without an advanced expression does not
// allocate. Rules, Subjects and Resources are safe for concurrent use.
//
// # The advanced DSL
//
// An advanced expression combines Immuta's special functions with AND, OR, NOT
// (keywords in any case; NOT binds tighter than AND, AND tighter than OR) and
// parentheses:
//
//	@hasAttribute('Name', 'Value')            the user holds Value for attribute Name
//	@isInGroups('g1', 'g2', ...)              the user is a member of every group
//	@hasTagAsAttribute('Name', 'dataSource')  a value of Name equals or is an ancestor of
//	@hasTagAsAttribute('Name', 'column')      a tag of the data source / of any column
//	@hasTagAsGroup('dataSource'|'column')     a group name equals or is an ancestor of a tag
//
// Ancestors are on whole dot segments: Discovered covers Discovered.Healthcare NPI,
// not DiscoveredX. Strings take single or double quotes; a backslash escapes the
// next character (\n, \t and \r are a newline, a tab and a carriage return). Inside
// the expected value of @hasAttribute, @hostname (the data source's server),
// @database, @schema and @table are replaced by the data source's values; any other
// @word is literal text, and a variable the data source lacks makes the call false.
// Only when the expected value uses a variable, a user value's dot segment that is
// exactly * matches any one non-empty segment (db9.sales.* matches
// db9.sales.public, not db9.hr.public); a segment mixing * with other characters
// (db*) makes that user value match nothing. Function names are case-sensitive.
//
// Compile parses an expression with a small hand-written parser, whose errors name
// the 1-based character position and the offending token or function (as
// model.ErrorList entries at actions.advanced with code compile), translates it to a
// CEL program on cel-go with one Go-bound function per special function, checks it
// once and evaluates it under a runtime cost limit (WithCostLimit); an expression
// longer than MaxAdvancedLength characters is rejected. An evaluation that fails,
// for instance by exceeding the cost limit (ErrCostLimitExceeded), is Unsatisfied
// with Verdict.Err set.
//
// The package depends only on the standard library, cel-go and package model. The
// public face of it is package entitlement; the engine uses it directly.
package rule
