package rule

// Reach says which subjects a rule can satisfy, for inverted indexes that list
// candidates instead of evaluating the rule for every subject.
type Reach struct {
	// Varies is false when the rule gives every subject the same Outcome (anyone,
	// approval, manual, a data policy, a rule with nothing to be eligible by).
	Varies bool
	// Outcome is the outcome of every subject when Varies is false.
	Outcome Outcome
	// Everyone is true when the rule Varies but any subject may be satisfied: an
	// advanced expression without conditions, or conditions without symbols (a rule
	// compiled without an Interner).
	Everyone bool
	// Syms are the symbols of the conditions (in the rule's Interner) when the rule
	// Varies and Everyone is false: a satisfied subject holds all of them when All,
	// else at least one. Holding them is necessary, not sufficient (an advanced
	// expression may still be false). The slice must not be modified.
	Syms []uint32
	// All is the rule's operator: all conditions (true) or any of them.
	All bool
	// PerSubject is true when the rule Varies but not with the data source (no
	// advanced expression, or one that reads neither tags nor variables): a
	// subject's outcome is then the same on every data source, and Evaluate(s, nil)
	// gives it.
	PerSubject bool
}

// Reach returns which subjects the rule can satisfy. It does not allocate.
func (r *Rule) Reach() Reach { return r.reach }

func (r *Rule) computeReach() Reach {
	if r.kind != kindEntitlements {
		return Reach{Outcome: r.Evaluate(nil, nil).Outcome}
	}
	perSubject := r.adv == nil || !r.adv.usesResource
	if len(r.conds) == 0 || r.in == nil {
		return Reach{Varies: true, Everyone: true, PerSubject: perSubject}
	}
	syms := make([]uint32, len(r.conds))
	for i := range r.conds {
		syms[i] = r.conds[i].sym
	}
	return Reach{Varies: true, Syms: syms, All: !r.any, PerSubject: perSubject}
}

// Symbols returns the symbols of the subject's groups and attribute pairs in its
// Interner, ascending (nil for a subject built without one). The slice must not be
// modified.
func (s *Subject) Symbols() []uint32 {
	if s == nil || s.in == nil {
		return nil
	}
	return s.syms
}

// HasSymbol reports whether the subject holds the symbol id of its Interner.
func (s *Subject) HasSymbol(id uint32) bool {
	return s != nil && s.in != nil && s.hasSym(id)
}
