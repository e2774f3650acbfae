package rule

// Compact is a rule reduced to what judging it needs, small enough to sit next to
// the data source it applies to, so that a decision does not have to load the
// Rule itself: the rule's kind and up to CompactSyms condition symbols. Only rules
// without an advanced expression and with at most CompactSyms conditions, compiled
// with an Interner, have one (see Rule.Compact). The zero Compact is not usable.
type Compact struct {
	kind ruleKind
	any  bool
	n    uint8
	syms [CompactSyms]uint32
}

// CompactSyms is the most conditions a rule may have to have a Compact form.
const CompactSyms = 2

// Compact returns the rule's compact form, and false when it has none (an advanced
// expression, more than CompactSyms conditions, or conditions without symbols).
func (r *Rule) Compact() (Compact, bool) {
	c := Compact{kind: r.kind, any: r.any}
	if r.kind != kindEntitlements {
		return c, true
	}
	if r.adv != nil || len(r.conds) == 0 || len(r.conds) > CompactSyms || r.in == nil {
		return Compact{}, false
	}
	for i := range r.conds {
		if r.conds[i].sym == 0 {
			return Compact{}, false
		}
		c.syms[i] = r.conds[i].sym
	}
	c.n = uint8(len(r.conds))
	return c, true
}

// Judge returns the outcome of the rule for a subject holding the symbols syms
// (ascending, as Subject.Symbols returns them, of the rule's Interner), and which
// condition decided it: the index of the condition that satisfied an any-rule, -1
// otherwise. Rule.VerdictOf turns the pair back into Evaluate's Verdict.
func (c *Compact) Judge(syms []uint32) (Outcome, int) {
	switch c.kind {
	case kindAnyone:
		return Satisfied, -1
	case kindApproval:
		return NeedsApproval, -1
	case kindManual:
		return NeedsManual, -1
	case kindEntitlements:
		for i := range int(c.n) {
			has := holds(syms, c.syms[i])
			if c.any && has {
				return Satisfied, i
			}
			if !c.any && !has {
				return Unsatisfied, -1
			}
		}
		if c.any {
			return Unsatisfied, -1
		}
		return Satisfied, -1
	}
	return Unsatisfied, -1
}

// holds reports whether the ascending syms hold id.
func holds(syms []uint32, id uint32) bool {
	if len(syms) <= 16 {
		for _, x := range syms {
			if x == id {
				return true
			}
		}
		return false
	}
	lo, hi := 0, len(syms)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if syms[m] < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(syms) && syms[lo] == id
}

// VerdictOf returns the Verdict Evaluate gives when a rule without an advanced
// expression yields outcome o, decided by condition cond (as Compact.Judge
// returns them).
func (r *Rule) VerdictOf(o Outcome, cond int) Verdict {
	switch {
	case r.kind != kindEntitlements:
		return r.fixedVerdict()
	case o != Satisfied:
		return Verdict{Outcome: Unsatisfied, Reason: ReasonNotMet}
	case r.any && cond >= 0 && cond < len(r.conds):
		return Verdict{Outcome: Satisfied, Reason: r.conds[cond].reason}
	}
	return Verdict{Outcome: Satisfied, Reason: r.allReason}
}
