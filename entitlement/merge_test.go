package entitlement_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"

	"github.com/tollgate-dev/tollgate/entitlement"
	"github.com/tollgate-dev/tollgate/model"
)

var (
	slotOwner = model.Approval{RequiredPermission: model.Owner}
	slotGov   = model.Approval{RequiredPermission: model.Governance}
	slotAudit = model.Approval{RequiredPermission: model.Audit, SpecificApproverRequired: true}
	slotAdmin = model.Approval{RequiredPermission: model.UserAdmin}
)

// item builds a merge item.
func item(id int64, o entitlement.Outcome, share, auto bool, slots ...model.Approval) entitlement.Item {
	return entitlement.Item{PolicyID: id, Outcome: o, ShareResponsibility: share, Automatic: auto, Approvals: slots}
}

func TestMergeLevel(t *testing.T) {
	t.Parallel()
	const (
		u = entitlement.Unsatisfied
		m = entitlement.NeedsManual
		a = entitlement.NeedsApproval
		s = entitlement.Satisfied
	)
	const always, share = false, true
	cases := []struct {
		name  string
		items []entitlement.Item
		want  entitlement.LevelResult
	}{
		{"no policy", nil, entitlement.LevelResult{Outcome: u}},
		{"one automatic policy", []entitlement.Item{item(1, s, always, true)},
			entitlement.LevelResult{Outcome: s, Automatic: true}},
		{"satisfied but not automatic", []entitlement.Item{item(1, s, always, true), item(2, s, always, false)},
			entitlement.LevelResult{Outcome: s}},
		{"always-required combine with AND", []entitlement.Item{item(1, s, always, true), item(2, m, always, true)},
			entitlement.LevelResult{Outcome: m}},
		{"AND of approvals needs both sets of slots, in id order",
			[]entitlement.Item{item(7, a, always, false, slotGov), item(3, s, always, true), item(5, a, always, false, slotOwner, slotAudit)},
			entitlement.LevelResult{Outcome: a, Slots: []model.Approval{slotOwner, slotAudit, slotGov}, SlotPolicies: []int64{5, 5, 7}}},
		{"AND of approval and manual needs no slots", []entitlement.Item{item(1, a, always, false, slotGov), item(2, m, always, false)},
			entitlement.LevelResult{Outcome: m}},
		{"share-responsibility combine with OR", []entitlement.Item{item(1, u, share, true), item(2, a, share, false, slotGov)},
			entitlement.LevelResult{Outcome: a, Slots: []model.Approval{slotGov}, SlotPolicies: []int64{2}}},
		{"OR of approvals keeps the lowest id's slots",
			[]entitlement.Item{item(9, a, share, false, slotGov), item(4, a, share, false, slotOwner), item(6, a, share, false, slotAudit)},
			entitlement.LevelResult{Outcome: a, Slots: []model.Approval{slotOwner}, SlotPolicies: []int64{4}}},
		{"OR satisfied beats approval", []entitlement.Item{item(1, a, share, false, slotGov), item(2, s, share, true)},
			entitlement.LevelResult{Outcome: s, Automatic: true}},
		{"automatic needs a satisfied automatic share policy",
			[]entitlement.Item{item(1, s, always, true), item(2, s, share, false), item(3, a, share, true, slotGov)},
			entitlement.LevelResult{Outcome: s}},
		{"one satisfied automatic share policy is enough",
			[]entitlement.Item{item(1, s, always, true), item(2, s, share, false), item(3, s, share, true)},
			entitlement.LevelResult{Outcome: s, Automatic: true}},
		{"AND of the always part and the OR part",
			[]entitlement.Item{item(1, s, always, true), item(2, u, share, true), item(3, m, share, true)},
			entitlement.LevelResult{Outcome: m}},
		{"a share part that fails makes the level fail", []entitlement.Item{item(1, s, always, true), item(2, u, share, true)},
			entitlement.LevelResult{Outcome: u}},
		{"approval in both parts: always slots and the lowest share slots, by id",
			[]entitlement.Item{item(8, a, always, false, slotGov), item(2, a, share, false, slotOwner), item(3, a, share, false, slotAudit), item(1, s, always, true)},
			entitlement.LevelResult{Outcome: a, Slots: []model.Approval{slotOwner, slotGov}, SlotPolicies: []int64{2, 8}}},
		{"approval in the always part, share part satisfied",
			[]entitlement.Item{item(3, a, always, false, slotGov), item(1, s, share, true), item(2, a, share, false, slotOwner)},
			entitlement.LevelResult{Outcome: a, Slots: []model.Approval{slotGov}, SlotPolicies: []int64{3}}},
		{"approval in the share part, always part satisfied",
			[]entitlement.Item{item(1, s, always, true), item(5, a, share, false, slotAdmin), item(4, m, share, false)},
			entitlement.LevelResult{Outcome: a, Slots: []model.Approval{slotAdmin}, SlotPolicies: []int64{5}}},
		{"only share policies, automatic", []entitlement.Item{item(1, s, share, true)},
			entitlement.LevelResult{Outcome: s, Automatic: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(tc.items)
			got := entitlement.MergeLevel(in)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.items, in, "MergeLevel does not modify its input")

			var mg entitlement.Merger
			for _, it := range sortedItems(tc.items) {
				mg.Add(it.Outcome, it.ShareResponsibility, it.Automatic)
			}
			o, auto := mg.Result()
			assert.Equal(t, tc.want.Outcome, o)
			assert.Equal(t, tc.want.Automatic, auto)
		})
	}
}

func TestMergerZeroValueAndReset(t *testing.T) {
	t.Parallel()
	var m entitlement.Merger
	o, auto := m.Result()
	assert.Equal(t, entitlement.Unsatisfied, o)
	assert.False(t, auto)
	m.Add(entitlement.Satisfied, false, true)
	o, auto = m.Result()
	assert.Equal(t, entitlement.Satisfied, o)
	assert.True(t, auto)
	m.Reset()
	o, _ = m.Result()
	assert.Equal(t, entitlement.Unsatisfied, o)
}

func TestMergerZeroAllocs(t *testing.T) {
	// Not parallel: AllocsPerRun measures the whole process.
	var m entitlement.Merger
	var o entitlement.Outcome
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		m.Reset()
		m.Add(entitlement.NeedsApproval, false, true)
		m.Add(entitlement.Satisfied, true, true)
		o, _ = m.Result()
	}))
	assert.Equal(t, entitlement.NeedsApproval, o)
}

func TestCombineReadWrite(t *testing.T) {
	t.Parallel()
	readApproval := entitlement.LevelResult{Outcome: entitlement.NeedsApproval, Slots: []model.Approval{slotOwner}, SlotPolicies: []int64{1}}
	writeApproval := entitlement.LevelResult{Outcome: entitlement.NeedsApproval, Slots: []model.Approval{slotGov}, SlotPolicies: []int64{2}}
	satAuto := entitlement.LevelResult{Outcome: entitlement.Satisfied, Automatic: true}
	sat := entitlement.LevelResult{Outcome: entitlement.Satisfied}
	none := entitlement.LevelResult{Outcome: entitlement.Unsatisfied}
	cases := []struct {
		name        string
		read, write entitlement.LevelResult
		want        entitlement.LevelResult
	}{
		{"WRITE implies READ", none, satAuto, satAuto},
		{"WRITE higher brings its slots", none, writeApproval, writeApproval},
		{"READ higher stays", readApproval, none, readApproval},
		{"tie of approvals needs the READ slots", readApproval, writeApproval, readApproval},
		{"tie: automatic if WRITE is", sat, satAuto, satAuto},
		{"tie: automatic if READ is", satAuto, sat, satAuto},
		{"WRITE higher but not automatic", readApproval, sat, sat},
		{"nothing", none, none, none},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, entitlement.CombineReadWrite(tc.read, tc.write))
		})
	}
}

func sortedItems(items []entitlement.Item) []entitlement.Item {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b entitlement.Item) int { return int(a.PolicyID - b.PolicyID) })
	return out
}

// itemsCase is a generated level: items with distinct ids, and a shuffle seed.
type itemsCase struct {
	items []entitlement.Item
	seed  uint64
}

func genItems() gopter.Gen {
	slots := [][]model.Approval{nil, {slotOwner}, {slotGov, slotAudit}}
	one := gopter.CombineGens(genOutcome(), gen.Bool(), gen.Bool(), gen.IntRange(0, 2)).Map(func(v []any) entitlement.Item {
		return entitlement.Item{Outcome: v[0].(entitlement.Outcome), ShareResponsibility: v[1].(bool),
			Automatic: v[2].(bool), Approvals: slots[v[3].(int)]}
	})
	return gopter.CombineGens(gen.SliceOf(one), gen.UInt64()).Map(func(v []any) itemsCase {
		items := v[0].([]entitlement.Item)
		for i := range items {
			items[i].PolicyID = int64(i + 1)
		}
		return itemsCase{items: items, seed: v[1].(uint64)}
	})
}

func (c itemsCase) shuffled() []entitlement.Item {
	out := slices.Clone(c.items)
	r := rand.New(rand.NewPCG(c.seed, 1))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func merge(items []entitlement.Item) (entitlement.Outcome, bool) {
	var m entitlement.Merger
	for _, it := range items {
		m.Add(it.Outcome, it.ShareResponsibility, it.Automatic)
	}
	return m.Result()
}

func TestMergeLaws(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	props.Property("Merger is independent of policy order", prop.ForAll(func(c itemsCase) bool {
		o1, a1 := merge(c.items)
		o2, a2 := merge(c.shuffled())
		return o1 == o2 && a1 == a2
	}, genItems()))
	props.Property("MergeLevel is independent of policy order, slots included", prop.ForAll(func(c itemsCase) bool {
		r1, r2 := entitlement.MergeLevel(c.items), entitlement.MergeLevel(c.shuffled())
		return r1.Outcome == r2.Outcome && r1.Automatic == r2.Automatic &&
			slices.Equal(r1.Slots, r2.Slots) && slices.Equal(r1.SlotPolicies, r2.SlotPolicies)
	}, genItems()))
	props.Property("Merger agrees with MergeLevel", prop.ForAll(func(c itemsCase) bool {
		o, a := merge(c.items)
		r := entitlement.MergeLevel(c.shuffled())
		return o == r.Outcome && a == r.Automatic
	}, genItems()))
	props.Property("slots only when approval is needed, in policy id order", prop.ForAll(func(c itemsCase) bool {
		r := entitlement.MergeLevel(c.shuffled())
		if r.Outcome != entitlement.NeedsApproval && len(r.Slots) > 0 {
			return false
		}
		return len(r.Slots) == len(r.SlotPolicies) && slices.IsSorted(r.SlotPolicies)
	}, genItems()))
	props.Property("automatic only when satisfied", prop.ForAll(func(c itemsCase) bool {
		o, a := merge(c.items)
		return !a || o == entitlement.Satisfied
	}, genItems()))
	props.Property("the level is never higher than its lowest always-required policy", prop.ForAll(func(c itemsCase) bool {
		o, _ := merge(c.items)
		for _, it := range c.items {
			if !it.ShareResponsibility && o > it.Outcome {
				return false
			}
		}
		return len(c.items) > 0 || o == entitlement.Unsatisfied
	}, genItems()))
	props.Property("CombineReadWrite never lowers READ and is the higher outcome", prop.ForAll(func(r, w itemsCase) bool {
		read, write := entitlement.MergeLevel(r.items), entitlement.MergeLevel(w.items)
		c := entitlement.CombineReadWrite(read, write)
		return c.Outcome == entitlement.Or(read.Outcome, write.Outcome)
	}, genItems(), genItems()))
	props.TestingRun(t)
}
