// Package entitlement compiles a policy's action into a Rule and judges users against
// it (DESIGN.md sections 4 and 8).
//
// Compile turns a model.Policy into an immutable Rule once; Rule.Evaluate then judges
// a Subject (a user with the attributes inherited from their groups, built once per
// user change by NewSubject) on a Resource (a data source as the advanced DSL sees
// it, built by NewResource) and returns a Verdict: an Outcome (Unsatisfied <
// NeedsManual < NeedsApproval < Satisfied) with a precomputed reason. anyone policies
// are satisfied, approval policies need approval, manual policies need a manual
// grant, and entitlements policies are satisfied when their groups and attributes
// hold (all or any) and their advanced expression, if any, is true. Data policies and
// anything unknown are Unsatisfied: deny by default. Evaluating a rule without an
// advanced expression does not allocate.
//
// The advanced DSL (Immuta's special functions @hasAttribute, @isInGroups,
// @hasTagAsAttribute and @hasTagAsGroup, the variables @hostname, @database, @schema
// and @table, AND, OR, NOT and parentheses) is parsed by a small hand-written parser
// that reports errors with 1-based character positions, translated to a CEL program
// on cel-go, type-checked once at compile time and evaluated under a runtime cost
// limit (WithCostLimit).
//
// Merger and MergeLevel merge the outcomes of the policies that apply to one data
// source at one access level (always-required policies with And, share-responsibility
// policies with Or); CombineReadWrite applies "WRITE implies READ". The package
// depends only on the standard library, cel-go and package model.
package entitlement
