package entitlement

import (
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// DefaultCostLimit is the default CEL runtime cost limit of an advanced expression.
const DefaultCostLimit = rule.DefaultCostLimit

// MaxAdvancedLength is the longest advanced expression Compile accepts, in characters.
const MaxAdvancedLength = rule.MaxAdvancedLength

// ErrCostLimitExceeded is wrapped by Verdict.Err when an advanced expression
// exceeded its cost limit.
var ErrCostLimitExceeded = rule.ErrCostLimitExceeded

// Option configures Compile.
type Option func(*options)

type options struct {
	costLimit uint64
}

// WithCostLimit sets the CEL runtime cost limit of the advanced expression
// (DefaultCostLimit when not given; 0 also means the default).
func WithCostLimit(limit uint64) Option {
	return func(o *options) { o.costLimit = limit }
}

// Outcome is what a policy yields for one user. Outcomes are ordered:
// Unsatisfied < NeedsManual < NeedsApproval < Satisfied.
type Outcome uint8

// The outcomes, in ascending order.
const (
	// Unsatisfied: the user is not eligible (also the outcome of deny by default).
	Unsatisfied = Outcome(rule.Unsatisfied)
	// NeedsManual: only a manual grant gives the user access.
	NeedsManual = Outcome(rule.NeedsManual)
	// NeedsApproval: the user may request access, which needs approval.
	NeedsApproval = Outcome(rule.NeedsApproval)
	// Satisfied: the user is eligible.
	Satisfied = Outcome(rule.Satisfied)
)

// String returns "unsatisfied", "needs manual grant", "needs approval" or
// "satisfied"; an out-of-range value renders as "unsatisfied" (deny by default).
func (o Outcome) String() string { return rule.Outcome(o).String() }

// Verdict is the outcome of one rule for one user, with its reason.
type Verdict struct {
	// Outcome is what the policy yields for the user.
	Outcome Outcome
	// Reason says why, e.g. `anyone`, `group "finance"`, `attribute dept=eng`,
	// `needs approval`, `needs a manual grant`, `entitlements not met`,
	// `advanced expression false`.
	Reason string
	// Err is set when the advanced expression failed to evaluate (for instance when
	// it exceeded the cost limit); the Outcome is then Unsatisfied.
	Err error
}

// Rule is a policy's compiled action: who is eligible under it. Rules are immutable
// and safe for concurrent use; nothing is parsed when a rule is evaluated.
type Rule struct {
	r *rule.Rule
}

// Compile compiles the action of p into a Rule. anyone, approval and manual policies
// always compile; an entitlements policy's advanced expression is parsed, translated
// to CEL and type-checked here, and its problems are returned as a model.ErrorList
// with code compile at path actions.advanced (for example `actions.advanced:
// position 1: unknown function @noSuchFunction`). A data policy, or an action type
// Compile does not know, compiles to a rule that is always Unsatisfied.
func Compile(p *model.Policy, opts ...Option) (*Rule, error) {
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	r, err := rule.Compile(p, rule.WithCostLimit(o.costLimit))
	if err != nil {
		return nil, err
	}
	return &Rule{r: r}, nil
}

// Evaluate judges user u on data source ds. groups maps a group name to the
// directory group, so that u inherits the attributes of the groups it is in (groups
// do not nest); groups u is not in are ignored. Evaluate builds the user's view on
// each call; the engine builds it once per change of the user instead.
func (r *Rule) Evaluate(u *model.User, groups map[string]*model.Group, ds *model.DataSource) Verdict {
	v := r.r.Evaluate(rule.NewSubject(u, groups), rule.NewResource(ds))
	return Verdict{Outcome: Outcome(v.Outcome), Reason: v.Reason, Err: v.Err}
}

// CEL returns the CEL program the advanced expression was translated to ("" when the
// rule has none), for diagnostics; its exact form is not part of the API.
func (r *Rule) CEL() string { return r.r.CEL() }
