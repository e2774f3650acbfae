// Package entitlement compiles who a policy makes eligible, without an engine.
//
// Compile turns a policy's action into an immutable Rule once, reporting what only a
// compiler finds (an advanced DSL expression that does not parse or type-check) as
// a model.ErrorList entry at actions.advanced with code compile, naming the
// character position and the offending token or function. Rule.Evaluate judges a
// user (with the attributes inherited from their groups) on a data source and
// returns a Verdict: an Outcome (Unsatisfied < NeedsManual < NeedsApproval <
// Satisfied) with its reason. anyone policies are satisfied, approval policies need
// approval, manual policies need a manual grant, and entitlements policies are
// satisfied when their groups and attribute pairs hold (all or any) and their
// advanced expression, if any, is true. Data policies and anything unknown are
// Unsatisfied: deny by default. See docs/semantics.md, Decisions and The advanced
// DSL.
//
// An advanced expression is evaluated under a runtime cost limit (WithCostLimit); an
// evaluation that fails, for instance by exceeding it (ErrCostLimitExceeded), is
// Unsatisfied with Verdict.Err set. Rules are safe for concurrent use. The engine
// compiles every policy the same way when it stores it; this package is for
// validating a policy, or judging one user, without one.
package entitlement
