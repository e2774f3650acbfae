package merge_test

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"

	"github.com/tollgate-dev/tollgate/engine/internal/merge"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

var (
	slotOwner = model.Approval{RequiredPermission: model.Owner}
	slotGov   = model.Approval{RequiredPermission: model.Governance}
	slotAudit = model.Approval{RequiredPermission: model.Audit, SpecificApproverRequired: true}
	slotAdmin = model.Approval{RequiredPermission: model.UserAdmin}
)

// item builds a merge item.
func item(id int64, o rule.Outcome, share, auto bool, slots ...model.Approval) merge.Item {
	return merge.Item{PolicyID: id, Outcome: o, ShareResponsibility: share, Automatic: auto, Approvals: slots}
}

func TestMergeLevel(t *testing.T) {
	t.Parallel()
	const (
		u = rule.Unsatisfied
		m = rule.NeedsManual
		a = rule.NeedsApproval
		s = rule.Satisfied
	)
	const always, share = false, true
	cases := []struct {
		name  string
		items []merge.Item
		want  merge.LevelResult
	}{
		{"no policy", nil, merge.LevelResult{Outcome: u}},
		{"one automatic policy", []merge.Item{item(1, s, always, true)},
			merge.LevelResult{Outcome: s, Automatic: true}},
		{"satisfied but not automatic", []merge.Item{item(1, s, always, true), item(2, s, always, false)},
			merge.LevelResult{Outcome: s}},
		{"always-required combine with AND", []merge.Item{item(1, s, always, true), item(2, m, always, true)},
			merge.LevelResult{Outcome: m}},
		{"AND of approvals needs both sets of slots, in id order",
			[]merge.Item{item(7, a, always, false, slotGov), item(3, s, always, true), item(5, a, always, false, slotOwner, slotAudit)},
			merge.LevelResult{Outcome: a, Slots: []model.Approval{slotOwner, slotAudit, slotGov}, SlotPolicies: []int64{5, 5, 7}}},
		{"AND of approval and manual needs no slots", []merge.Item{item(1, a, always, false, slotGov), item(2, m, always, false)},
			merge.LevelResult{Outcome: m}},
		{"share-responsibility combine with OR", []merge.Item{item(1, u, share, true), item(2, a, share, false, slotGov)},
			merge.LevelResult{Outcome: a, Slots: []model.Approval{slotGov}, SlotPolicies: []int64{2}}},
		{"OR of approvals keeps the lowest id's slots",
			[]merge.Item{item(9, a, share, false, slotGov), item(4, a, share, false, slotOwner), item(6, a, share, false, slotAudit)},
			merge.LevelResult{Outcome: a, Slots: []model.Approval{slotOwner}, SlotPolicies: []int64{4}}},
		{"OR satisfied beats approval", []merge.Item{item(1, a, share, false, slotGov), item(2, s, share, true)},
			merge.LevelResult{Outcome: s, Automatic: true}},
		{"automatic needs a satisfied automatic share policy",
			[]merge.Item{item(1, s, always, true), item(2, s, share, false), item(3, a, share, true, slotGov)},
			merge.LevelResult{Outcome: s}},
		{"one satisfied automatic share policy is enough",
			[]merge.Item{item(1, s, always, true), item(2, s, share, false), item(3, s, share, true)},
			merge.LevelResult{Outcome: s, Automatic: true}},
		{"AND of the always part and the OR part",
			[]merge.Item{item(1, s, always, true), item(2, u, share, true), item(3, m, share, true)},
			merge.LevelResult{Outcome: m}},
		{"a share part that fails makes the level fail", []merge.Item{item(1, s, always, true), item(2, u, share, true)},
			merge.LevelResult{Outcome: u}},
		{"approval in both parts: always slots and the lowest share slots, by id",
			[]merge.Item{item(8, a, always, false, slotGov), item(2, a, share, false, slotOwner), item(3, a, share, false, slotAudit), item(1, s, always, true)},
			merge.LevelResult{Outcome: a, Slots: []model.Approval{slotOwner, slotGov}, SlotPolicies: []int64{2, 8}}},
		{"approval in the always part, share part satisfied",
			[]merge.Item{item(3, a, always, false, slotGov), item(1, s, share, true), item(2, a, share, false, slotOwner)},
			merge.LevelResult{Outcome: a, Slots: []model.Approval{slotGov}, SlotPolicies: []int64{3}}},
		{"approval in the share part, always part satisfied",
			[]merge.Item{item(1, s, always, true), item(5, a, share, false, slotAdmin), item(4, m, share, false)},
			merge.LevelResult{Outcome: a, Slots: []model.Approval{slotAdmin}, SlotPolicies: []int64{5}}},
		{"only share policies, automatic", []merge.Item{item(1, s, share, true)},
			merge.LevelResult{Outcome: s, Automatic: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := slices.Clone(tc.items)
			got := merge.MergeLevel(in)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.items, in, "MergeLevel does not modify its input")

			var mg merge.Merger
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
	var m merge.Merger
	o, auto := m.Result()
	assert.Equal(t, rule.Unsatisfied, o)
	assert.False(t, auto)
	m.Add(rule.Satisfied, false, true)
	o, auto = m.Result()
	assert.Equal(t, rule.Satisfied, o)
	assert.True(t, auto)
	m.Reset()
	o, _ = m.Result()
	assert.Equal(t, rule.Unsatisfied, o)
}

func TestMergerZeroAllocs(t *testing.T) {
	// Not parallel: AllocsPerRun measures the whole process.
	var m merge.Merger
	var o rule.Outcome
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		m.Reset()
		m.Add(rule.NeedsApproval, false, true)
		m.Add(rule.Satisfied, true, true)
		o, _ = m.Result()
	}))
	assert.Equal(t, rule.NeedsApproval, o)
}

func TestCombineReadWrite(t *testing.T) {
	t.Parallel()
	readApproval := merge.LevelResult{Outcome: rule.NeedsApproval, Slots: []model.Approval{slotOwner}, SlotPolicies: []int64{1}}
	writeApproval := merge.LevelResult{Outcome: rule.NeedsApproval, Slots: []model.Approval{slotGov}, SlotPolicies: []int64{2}}
	satAuto := merge.LevelResult{Outcome: rule.Satisfied, Automatic: true}
	sat := merge.LevelResult{Outcome: rule.Satisfied}
	none := merge.LevelResult{Outcome: rule.Unsatisfied}
	cases := []struct {
		name        string
		read, write merge.LevelResult
		want        merge.LevelResult
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
			assert.Equal(t, tc.want, merge.CombineReadWrite(tc.read, tc.write))
		})
	}
}

func sortedItems(items []merge.Item) []merge.Item {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(a, b merge.Item) int { return int(a.PolicyID - b.PolicyID) })
	return out
}

// itemsCase is a generated level: items with distinct ids, and a shuffle seed.
type itemsCase struct {
	items []merge.Item
	seed  uint64
}

func genItems() gopter.Gen {
	slots := [][]model.Approval{nil, {slotOwner}, {slotGov, slotAudit}}
	one := gopter.CombineGens(genOutcome(), gen.Bool(), gen.Bool(), gen.IntRange(0, 2)).Map(func(v []any) merge.Item {
		return merge.Item{Outcome: v[0].(rule.Outcome), ShareResponsibility: v[1].(bool),
			Automatic: v[2].(bool), Approvals: slots[v[3].(int)]}
	})
	return gopter.CombineGens(gen.SliceOf(one), gen.UInt64()).Map(func(v []any) itemsCase {
		items := v[0].([]merge.Item)
		for i := range items {
			items[i].PolicyID = int64(i + 1)
		}
		return itemsCase{items: items, seed: v[1].(uint64)}
	})
}

func (c itemsCase) shuffled() []merge.Item {
	out := slices.Clone(c.items)
	r := rand.New(rand.NewPCG(c.seed, 1))
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func mergeAll(items []merge.Item) (rule.Outcome, bool) {
	var m merge.Merger
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
		o1, a1 := mergeAll(c.items)
		o2, a2 := mergeAll(c.shuffled())
		return o1 == o2 && a1 == a2
	}, genItems()))
	props.Property("MergeLevel is independent of policy order, slots included", prop.ForAll(func(c itemsCase) bool {
		r1, r2 := merge.MergeLevel(c.items), merge.MergeLevel(c.shuffled())
		return r1.Outcome == r2.Outcome && r1.Automatic == r2.Automatic &&
			slices.Equal(r1.Slots, r2.Slots) && slices.Equal(r1.SlotPolicies, r2.SlotPolicies)
	}, genItems()))
	props.Property("Merger agrees with MergeLevel", prop.ForAll(func(c itemsCase) bool {
		o, a := mergeAll(c.items)
		r := merge.MergeLevel(c.shuffled())
		return o == r.Outcome && a == r.Automatic
	}, genItems()))
	props.Property("slots only when approval is needed, in policy id order", prop.ForAll(func(c itemsCase) bool {
		r := merge.MergeLevel(c.shuffled())
		if r.Outcome != rule.NeedsApproval && len(r.Slots) > 0 {
			return false
		}
		return len(r.Slots) == len(r.SlotPolicies) && slices.IsSorted(r.SlotPolicies)
	}, genItems()))
	props.Property("automatic only when satisfied", prop.ForAll(func(c itemsCase) bool {
		o, a := mergeAll(c.items)
		return !a || o == rule.Satisfied
	}, genItems()))
	props.Property("the level is never higher than its lowest always-required policy", prop.ForAll(func(c itemsCase) bool {
		o, _ := mergeAll(c.items)
		for _, it := range c.items {
			if !it.ShareResponsibility && o > it.Outcome {
				return false
			}
		}
		return len(c.items) > 0 || o == rule.Unsatisfied
	}, genItems()))
	props.Property("CombineReadWrite never lowers READ and is the higher outcome", prop.ForAll(func(r, w itemsCase) bool {
		read, write := merge.MergeLevel(r.items), merge.MergeLevel(w.items)
		c := merge.CombineReadWrite(read, write)
		return c.Outcome == rule.Or(read.Outcome, write.Outcome)
	}, genItems(), genItems()))
	props.TestingRun(t)
}

func genOutcome() gopter.Gen {
	return gen.UInt8Range(0, 3).Map(func(v uint8) rule.Outcome { return rule.Outcome(v) })
}
