package rule

// Outcome is what one policy, or a merge of policies, yields for one user. Outcomes
// are ordered: Unsatisfied < NeedsManual < NeedsApproval < Satisfied. And takes the
// lower of two outcomes, Or the higher.
type Outcome uint8

// The outcomes, in ascending order.
const (
	// Unsatisfied: the user is not eligible (also the outcome of deny by default).
	Unsatisfied Outcome = iota
	// NeedsManual: only a manual grant gives the user access.
	NeedsManual
	// NeedsApproval: the user may request access, which needs approval.
	NeedsApproval
	// Satisfied: the user is eligible.
	Satisfied
)

var outcomeNames = [...]string{
	Unsatisfied:   "unsatisfied",
	NeedsManual:   "needs manual grant",
	NeedsApproval: "needs approval",
	Satisfied:     "satisfied",
}

// String returns "unsatisfied", "needs manual grant", "needs approval" or "satisfied";
// an out-of-range value renders as "unsatisfied" (deny by default).
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return outcomeNames[Unsatisfied]
}

// Clamp maps out-of-range values to Unsatisfied so that a corrupt outcome never
// ranks above a real one.
func (o Outcome) Clamp() Outcome {
	if o > Satisfied {
		return Unsatisfied
	}
	return o
}

// And returns the lower of a and b: both policies must be met.
func And(a, b Outcome) Outcome {
	a, b = a.Clamp(), b.Clamp()
	if a < b {
		return a
	}
	return b
}

// Or returns the higher of a and b: either policy suffices.
func Or(a, b Outcome) Outcome {
	a, b = a.Clamp(), b.Clamp()
	if a > b {
		return a
	}
	return b
}
