package rule

import (
	"strconv"
	"strings"

	"github.com/tollgate-dev/tollgate/model"
)

// DefaultCostLimit is the default CEL runtime cost limit of an advanced expression.
// A typical expression costs a few dozen units; the tag functions cost one unit per
// tag examined.
const DefaultCostLimit uint64 = 100_000

// MaxAdvancedLength is the longest advanced expression Compile accepts, in characters.
const MaxAdvancedLength = 4096

// Option configures Compile.
type Option func(*options)

type options struct {
	costLimit uint64
	in        *Interner
}

// WithInterner makes the rule's group and attribute conditions symbols of in, so
// that subjects built by in.Subject are evaluated by comparing integers. Without
// it, conditions compare names (same verdicts, a little slower).
func WithInterner(in *Interner) Option {
	return func(o *options) { o.in = in }
}

// WithCostLimit sets the CEL runtime cost limit of the advanced expression
// (DefaultCostLimit when not given; 0 also means the default). An evaluation that
// exceeds it fails: the verdict is Unsatisfied with Err set.
func WithCostLimit(limit uint64) Option {
	return func(o *options) { o.costLimit = limit }
}

// The precomputed reasons of a Verdict.
const (
	ReasonAnyone         = "anyone"
	ReasonApproval       = "needs approval"
	ReasonManual         = "needs a manual grant"
	ReasonNotMet         = "entitlements not met"
	ReasonAdvancedTrue   = "advanced expression true"
	ReasonAdvancedFalse  = "advanced expression false"
	ReasonAdvancedFailed = "advanced expression failed"
	ReasonDataPolicy     = "data policy: no subscription rule"
	ReasonNoSubject      = "no subject"
)

// Verdict is the outcome of one rule for one user, with its reason.
type Verdict struct {
	// Outcome is what the policy yields for the user.
	Outcome Outcome
	// Reason says why, e.g. `anyone`, `group "finance"`, `attribute dept=eng`,
	// `needs approval`, `needs a manual grant`, `entitlements not met`,
	// `advanced expression false`. Reasons are computed when the rule is compiled.
	Reason string
	// Err is set when the advanced expression failed to evaluate (for instance when
	// it exceeded the cost limit); the Outcome is then Unsatisfied.
	Err error
}

type ruleKind uint8

const (
	kindDeny ruleKind = iota
	kindAnyone
	kindApproval
	kindManual
	kindEntitlements
)

// condition is one entitlement: membership of a group or one attribute name=value.
type condition struct {
	group       bool
	name, value string
	key         string // pairKey(name, value) of an attribute condition
	sym         uint32 // the symbol of the group or the attribute pair in the rule's Interner (0: none)
	// reason and reasonAdv are the verdict reasons when this condition is what
	// satisfied an any-rule, without and with an advanced expression.
	reason, reasonAdv string
}

func (c *condition) holds(s *Subject, in *Interner) bool {
	if s != nil && in != nil && s.in == in {
		return s.hasSym(c.sym)
	}
	if c.group {
		return s.InGroup(c.name)
	}
	return s.hasPair(c.key, c.name, c.value)
}

// Rule is a policy's compiled action: who is eligible under it. Rules are immutable
// and safe for concurrent use; nothing is parsed when a rule is evaluated.
type Rule struct {
	policyID     int64
	key          string
	subscription bool
	level        model.AccessGrant
	automatic    bool
	share        bool
	discovery    bool
	approvals    []model.Approval

	in         *Interner // the Interner of the conditions' symbols; nil: none
	reach      Reach
	kind       ruleKind
	denyReason string
	any        bool
	conds      []condition
	// allReason and allReasonAdv are the satisfied reasons of an all-rule (or of a
	// rule without conditions), without and with an advanced expression.
	allReason, allReasonAdv string
	adv                     *advanced
}

// Compile compiles the action of p into a Rule. anyone, approval and manual policies
// always compile; an entitlements policy's advanced expression is parsed, translated
// to CEL and type-checked here, and its problems are returned as a model.ErrorList
// with code compile at path actions.advanced (for example `actions.advanced:
// position 1: unknown function @noSuchFunction`). A data policy, or an action type
// Compile does not know, compiles to a rule that is always Unsatisfied (deny by
// default).
func Compile(p *model.Policy, opts ...Option) (*Rule, error) {
	if p == nil {
		return nil, model.ErrorList{model.Required("", "policy is required")}
	}
	o := options{costLimit: DefaultCostLimit}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	if o.costLimit == 0 {
		o.costLimit = DefaultCostLimit
	}
	a := &p.Action
	r := &Rule{
		policyID:     p.ID,
		key:          p.Key,
		subscription: p.Type == model.PolicySubscription,
		level:        a.AccessGrant,
		automatic:    a.AutomaticSubscription,
		share:        a.ShareResponsibility,
		discovery:    a.AllowDiscovery,
		in:           o.in,
	}
	if r.level == "" {
		r.level = model.Read
	}
	if !r.subscription {
		if p.Type == model.PolicyData {
			r.denyReason = ReasonDataPolicy
		} else {
			r.denyReason = "unknown policy type " + strconv.Quote(string(p.Type))
		}
		r.reach = r.computeReach()
		return r, nil
	}
	actions := model.NewPath("actions")
	if p.Dialect == model.DialectV1 {
		actions = actions.Index(0) // v1 actions are a list of one element
	}
	var errs model.ErrorList
	switch a.Type {
	case model.ActionAnyone:
		r.kind = kindAnyone
	case model.ActionApproval:
		r.kind = kindApproval
		r.approvals = append([]model.Approval(nil), a.Approvals...)
	case model.ActionManual:
		r.kind = kindManual
	case model.ActionEntitlements:
		r.kind = kindEntitlements
		if e := a.Entitlements; e != nil {
			switch e.Operator {
			case model.All, "":
			case model.Any:
				r.any = true
			default:
				errs = append(errs, model.NotSupported(actions.Child("entitlements").Child("operator"),
					string(e.Operator), []string{string(model.All), string(model.Any)}))
			}
			for _, g := range e.Groups {
				c := condition{group: true, name: g, reason: "group " + strconv.Quote(g)}
				if o.in != nil {
					c.sym = o.in.groupSymbol(g)
				}
				r.conds = append(r.conds, c)
			}
			for _, at := range e.Attributes {
				c := condition{name: at.Name, value: at.Value, key: pairKey(at.Name, at.Value),
					reason: "attribute " + at.Name + "=" + at.Value}
				if o.in != nil {
					c.sym = o.in.pairSymbol(c.key)
				}
				r.conds = append(r.conds, c)
			}
		}
		if a.Advanced != "" {
			adv, err := compileAdvanced(a.Advanced, actions.Child("advanced"), &o)
			if err != nil {
				errs = append(errs, err)
			}
			r.adv = adv
		}
		if len(r.conds) == 0 && r.adv == nil && len(errs) == 0 {
			// Neither entitlements nor an expression: nothing to be eligible by.
			r.kind = kindDeny
			r.denyReason = ReasonNotMet
		}
		r.setReasons()
	default:
		r.kind = kindDeny
		r.denyReason = "unknown action type " + strconv.Quote(string(a.Type))
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.reach = r.computeReach()
	return r, nil
}

// setReasons precomputes the satisfied reasons of an entitlements rule.
func (r *Rule) setReasons() {
	const adv = "; " + ReasonAdvancedTrue
	for i := range r.conds {
		r.conds[i].reasonAdv = r.conds[i].reason + adv
	}
	switch {
	case len(r.conds) == 0:
		r.allReason, r.allReasonAdv = ReasonAdvancedTrue, ReasonAdvancedTrue
		return
	case len(r.conds) <= 4:
		parts := make([]string, len(r.conds))
		for i := range r.conds {
			parts[i] = r.conds[i].reason
		}
		r.allReason = strings.Join(parts, " and ")
	default:
		r.allReason = "all " + strconv.Itoa(len(r.conds)) + " entitlements"
	}
	r.allReasonAdv = r.allReason + adv
}

// Evaluate judges subject s against the rule for the data source res (res is only
// read by an advanced expression; nil means a data source with no tags and no
// variables). It never panics and, for every rule without an advanced expression,
// does not allocate. A nil s is a user with no groups and no attributes.
func (r *Rule) Evaluate(s *Subject, res *Resource) Verdict {
	if r.kind == kindEntitlements {
		return r.evalEntitlements(s, nil, false, res)
	}
	return r.fixedVerdict()
}

// EvaluateSymbols is Evaluate for a subject s whose symbols the caller holds: syms
// must be s.Symbols(), and s must have been built by the Interner the rule was
// compiled with (as Compact.Judge takes them). The group and attribute conditions
// and the exact @hasAttribute and @isInGroups of an advanced expression are then
// answered from syms, without reading s, which matters when s is far in memory.
// A rule compiled without an Interner ignores syms.
func (r *Rule) EvaluateSymbols(s *Subject, syms []uint32, res *Resource) Verdict {
	if r.kind == kindEntitlements {
		return r.evalEntitlements(s, syms, r.in != nil, res)
	}
	return r.fixedVerdict()
}

// fixedVerdict is the verdict of a rule that is not an entitlements rule: the same
// for every subject.
func (r *Rule) fixedVerdict() Verdict {
	switch r.kind {
	case kindAnyone:
		return Verdict{Outcome: Satisfied, Reason: ReasonAnyone}
	case kindApproval:
		return Verdict{Outcome: NeedsApproval, Reason: ReasonApproval}
	case kindManual:
		return Verdict{Outcome: NeedsManual, Reason: ReasonManual}
	}
	return Verdict{Outcome: Unsatisfied, Reason: r.denyReason}
}

// evalEntitlements judges an entitlements rule; syms, when symsOK, are s's
// symbols in r.in (see EvaluateSymbols).
func (r *Rule) evalEntitlements(s *Subject, syms []uint32, symsOK bool, res *Resource) Verdict {
	reason, reasonAdv := r.allReason, r.allReasonAdv
	holds := func(c *condition) bool {
		if symsOK {
			return holds(syms, c.sym)
		}
		return c.holds(s, r.in)
	}
	if len(r.conds) > 0 {
		if r.any {
			i := 0
			for ; i < len(r.conds); i++ {
				if holds(&r.conds[i]) {
					break
				}
			}
			if i == len(r.conds) {
				return Verdict{Outcome: Unsatisfied, Reason: ReasonNotMet}
			}
			reason, reasonAdv = r.conds[i].reason, r.conds[i].reasonAdv
		} else {
			for i := range r.conds {
				if !holds(&r.conds[i]) {
					return Verdict{Outcome: Unsatisfied, Reason: ReasonNotMet}
				}
			}
		}
	}
	if r.adv == nil {
		return Verdict{Outcome: Satisfied, Reason: reason}
	}
	ok, err := r.adv.eval(s, syms, symsOK, res)
	switch {
	case err != nil:
		return Verdict{Outcome: Unsatisfied, Reason: ReasonAdvancedFailed, Err: err}
	case !ok:
		return Verdict{Outcome: Unsatisfied, Reason: ReasonAdvancedFalse}
	}
	return Verdict{Outcome: Satisfied, Reason: reasonAdv}
}

// PolicyID is the id of the compiled policy.
func (r *Rule) PolicyID() int64 { return r.policyID }

// PolicyKey is the key of the compiled policy.
func (r *Rule) PolicyKey() string { return r.key }

// Subscription reports whether the policy is a subscription policy. Only those take
// part in level merges: a data policy never affects subscription decisions (and its
// rule evaluates to Unsatisfied).
func (r *Rule) Subscription() bool { return r.subscription }

// AccessGrant is the level whose merge the policy takes part in (READ by default).
func (r *Rule) AccessGrant() model.AccessGrant { return r.level }

// Automatic is the policy's automaticSubscription.
func (r *Rule) Automatic() bool { return r.automatic }

// ShareResponsibility is the policy's shareResponsibility (merged with Or).
func (r *Rule) ShareResponsibility() bool { return r.share }

// AllowDiscovery is the policy's allowDiscovery.
func (r *Rule) AllowDiscovery() bool { return r.discovery }

// Approvals returns the policy's approval slots (approval policies only; nil
// otherwise). The slice is shared and must not be modified.
func (r *Rule) Approvals() []model.Approval { return r.approvals }

// CEL returns the CEL program the advanced expression was translated to ("" when the
// rule has none), for diagnostics; its exact form is not part of the API.
func (r *Rule) CEL() string {
	if r.adv == nil {
		return ""
	}
	return r.adv.src
}
