package rule

// Compact is a rule's compact form, packed into the low CompactBits bits of a
// uint64 so that a caller can keep it inline with a few flags of its own in the
// high bits: bits 0-2 hold the rule's kind plus one (so the zero Compact is no
// form), bit 3 the "any" operator, bits 4-5 the number of conditions, bit 6 the
// symbols' width, and bits 8-55 the conditions' symbols: two of 24 bits, or three
// of 16.
type Compact uint64

// CompactBits is how many low bits of a uint64 a Compact uses; the others are 0.
const CompactBits = 56

// CompactSyms is the most conditions a rule may have to have a Compact form: two
// with any symbols that fit 24 bits, three when each fits 16 bits.
const CompactSyms = 3

// maxCompactSym is the highest symbol a Compact of two conditions holds (24
// bits); maxNarrowSym that of three (16 bits). A rule with a higher one has no
// compact form.
const (
	maxCompactSym = 1<<24 - 1
	maxNarrowSym  = 1<<16 - 1
)

const (
	compactAny    = 1 << 3
	compactNSh    = 4
	compactNarrow = 1 << 6
	compactSymSh  = 8
)

// Compact returns the rule's compact form, and false when it has none (an advanced
// expression, more than CompactSyms conditions, or conditions without symbols
// that fit in it).
func (r *Rule) Compact() (Compact, bool) {
	c := Compact(r.kind) + 1
	if r.any {
		c |= compactAny
	}
	if r.kind != kindEntitlements {
		return c, true
	}
	if r.adv != nil || len(r.conds) == 0 || len(r.conds) > CompactSyms || r.in == nil {
		return 0, false
	}
	width, limit := 24, uint32(maxCompactSym)
	if len(r.conds) == 3 {
		width, limit = 16, maxNarrowSym
		c |= compactNarrow
	}
	for i := range r.conds {
		sym := r.conds[i].sym
		if sym == 0 || sym > limit {
			return 0, false
		}
		c |= Compact(sym) << (compactSymSh + width*i)
	}
	return c | Compact(len(r.conds))<<compactNSh, true
}

func (c Compact) kind() ruleKind { return ruleKind(c&7) - 1 }
func (c Compact) n() int         { return int(c>>compactNSh) & 3 }
func (c Compact) sym(i int) uint32 {
	if c&compactNarrow != 0 {
		return uint32(c>>(compactSymSh+16*i)) & maxNarrowSym
	}
	return uint32(c>>(compactSymSh+24*i)) & maxCompactSym
}

// Judge returns the outcome of the rule for a subject holding the symbols syms
// (ascending, as Subject.Symbols returns them, of the rule's Interner), and which
// condition decided it: the index of the condition that satisfied an any-rule, -1
// otherwise. Rule.VerdictOf turns the pair back into Evaluate's Verdict. The
// zero Compact (no form) judges Unsatisfied.
func (c Compact) Judge(syms []uint32) (Outcome, int) {
	switch c.kind() {
	case kindAnyone:
		return Satisfied, -1
	case kindApproval:
		return NeedsApproval, -1
	case kindManual:
		return NeedsManual, -1
	case kindEntitlements:
		anyOp := c&compactAny != 0
		for i := range c.n() {
			has := holds(syms, c.sym(i))
			if anyOp && has {
				return Satisfied, i
			}
			if !anyOp && !has {
				return Unsatisfied, -1
			}
		}
		if anyOp {
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
