package merge

import (
	"cmp"
	"slices"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// Merger merges the outcomes of the policies that apply to one data source at one
// access level, without allocating (see docs/semantics.md, Merging): policies that are always
// required (shareResponsibility false) combine with And, share-responsibility
// policies with Or, and the level's outcome is And(always-required...) And
// Or(share...), the Or part only when a share-responsibility policy applies. With no
// policy at all the outcome is Unsatisfied. The zero value is an empty merge, ready
// to use; a Merger is not safe for concurrent use.
//
// Merger computes the outcome and whether it is automatic, not which approval slots
// are required; MergeLevel does that (and agrees with Merger on both).
type Merger struct {
	hasAlways, hasShare bool
	always, share       rule.Outcome
	// alwaysNotAuto: some always-required policy is not automatic.
	alwaysNotAuto bool
	// shareAuto: some satisfied share-responsibility policy is automatic.
	shareAuto bool
}

// Add merges the outcome o of one policy. shareResponsibility and automatic are the
// policy's shareResponsibility and automaticSubscription settings. Call it in
// ascending policy id order (the result does not depend on the order, but the
// convention keeps it aligned with MergeLevel).
func (m *Merger) Add(o rule.Outcome, shareResponsibility, automatic bool) {
	o = o.Clamp()
	if shareResponsibility {
		if !m.hasShare {
			m.hasShare, m.share = true, o
		} else {
			m.share = rule.Or(m.share, o)
		}
		if o == rule.Satisfied && automatic {
			m.shareAuto = true
		}
		return
	}
	if !m.hasAlways {
		m.hasAlways, m.always = true, o
	} else {
		m.always = rule.And(m.always, o)
	}
	if !automatic {
		m.alwaysNotAuto = true
	}
}

// Reset empties the merger for reuse.
func (m *Merger) Reset() { *m = Merger{} }

// Result returns the level's outcome and whether it is automatic: satisfied, every
// always-required policy automatic and, when share-responsibility policies apply, at
// least one satisfied one automatic.
func (m *Merger) Result() (o rule.Outcome, automatic bool) {
	if !m.hasAlways && !m.hasShare {
		return rule.Unsatisfied, false
	}
	o = rule.Satisfied
	if m.hasAlways {
		o = m.always
	}
	if m.hasShare {
		o = rule.And(o, m.share)
	}
	automatic = o == rule.Satisfied && !m.alwaysNotAuto && (!m.hasShare || m.shareAuto)
	return o, automatic
}

// Item is one applicable subscription policy's contribution to a level merge.
type Item struct {
	// PolicyID orders the items and names the policy each slot comes from.
	PolicyID int64
	// Outcome is the policy's outcome for the user (Rule.Evaluate).
	Outcome rule.Outcome
	// ShareResponsibility selects the Or part of the merge.
	ShareResponsibility bool
	// Automatic is the policy's automaticSubscription.
	Automatic bool
	// Approvals are the policy's approval slots (Rule.Approvals).
	Approvals []model.Approval
}

// LevelResult is the merged outcome of one access level.
type LevelResult struct {
	// Outcome is the merged outcome.
	Outcome rule.Outcome
	// Automatic is true when the outcome is satisfied and automatic.
	Automatic bool
	// Slots are the approval slots a request needs; set only when Outcome is
	// NeedsApproval.
	Slots []model.Approval
	// SlotPolicies holds, for each slot, the id of the policy it comes from.
	SlotPolicies []int64
}

// MergeLevel merges the policies that apply to one data source at one access level
// exactly as Merger does, and also computes the approval slots a request needs: when
// the outcome is NeedsApproval, the slots of every always-required policy that needs
// approval (And of two "needs approval" needs both sets) and, when the Or part needs
// approval, the slots of the share-responsibility policy with the lowest id among
// those that need approval; slots are listed in ascending policy id order, each
// policy's slots in their own order. items may be in any order; MergeLevel does not
// modify it. It allocates, and is meant for the moment a request is made.
func MergeLevel(items []Item) LevelResult {
	if len(items) == 0 {
		return LevelResult{Outcome: rule.Unsatisfied}
	}
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b Item) int { return cmp.Compare(a.PolicyID, b.PolicyID) })

	var m Merger
	for i := range sorted {
		m.Add(sorted[i].Outcome, sorted[i].ShareResponsibility, sorted[i].Automatic)
	}
	o, auto := m.Result()
	res := LevelResult{Outcome: o, Automatic: auto}
	if o != rule.NeedsApproval {
		return res
	}
	// The Or part contributes slots only when it needs approval itself (when it is
	// satisfied, the always-required part is what needs approval).
	shareSlots := m.hasShare && m.share == rule.NeedsApproval
	shareTaken := false
	for i := range sorted {
		it := &sorted[i]
		if it.Outcome.Clamp() != rule.NeedsApproval {
			continue
		}
		if it.ShareResponsibility {
			if !shareSlots || shareTaken {
				continue
			}
			shareTaken = true
		}
		for _, a := range it.Approvals {
			res.Slots = append(res.Slots, a)
			res.SlotPolicies = append(res.SlotPolicies, it.PolicyID)
		}
	}
	return res
}

// CombineReadWrite returns the effective READ result given the READ level's and the
// WRITE level's merges (WRITE implies READ; READ never implies WRITE): the higher
// outcome; on a tie the result is automatic if either is and needs the READ level's
// slots; when WRITE is strictly higher its automatic flag and slots are used. The
// returned slices are shared with the arguments.
func CombineReadWrite(read, write LevelResult) LevelResult {
	r, w := read.Outcome.Clamp(), write.Outcome.Clamp()
	switch {
	case w > r:
		return write
	case w == r:
		read.Outcome = r
		read.Automatic = r == rule.Satisfied && (read.Automatic || write.Automatic)
		return read
	default:
		return read
	}
}
