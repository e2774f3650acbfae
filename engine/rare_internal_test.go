package engine

import (
	"slices"
	"testing"
	"unsafe"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"

	"github.com/tollgate-dev/tollgate/model"
)

// TestPropertyRarePartsAndOwnerFilter: after any sequence of owner lists, records,
// group grants and indeterminate policies set on a state, its flags say exactly
// which parts of the rare part are not empty, and isOwner (which consults the
// owners' filter before the list) is membership in the last owner list.
func TestPropertyRarePartsAndOwnerFilter(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	// Each step: 0 owners (the ids), 1 a user record more, 2 a user record less,
	// 3 group grants (as many as ids), 4 indeterminate policies (as many as ids).
	type step struct {
		op  int
		ids []int64
	}
	genStep := gopter.CombineGens(gen.IntRange(0, 4), gen.SliceOfN(4, gen.Int64Range(1, 200))).
		Map(func(v []any) step {
			ids := v[1].([]int64)
			return step{v[0].(int), ids[:int(uint64(ids[0])%5)]}
		})
	props.Property("flags and filter", prop.ForAll(func(steps []step) bool {
		d := &dsState{}
		var owners []int64
		records := 0
		for _, s := range steps {
			switch s.op {
			case 0:
				owners = s.ids
				d.setOwners(owners)
			case 1:
				records++
				d.setRare(func(x *dsRare) { x.userRecords++ })
			case 2:
				if records > 0 {
					records--
					d.setRare(func(x *dsRare) { x.userRecords-- })
				}
			case 3:
				var grants []*model.AccessRecord
				for _, id := range s.ids {
					grants = append(grants, &model.AccessRecord{ID: id, Group: id})
				}
				d.setRare(func(x *dsRare) { x.groupGrants = grants })
			case 4:
				var in []indet
				for _, id := range s.ids {
					in = append(in, indet{policyID: id})
				}
				d.setIndet(in)
			}
			r := d.r()
			if (d.has&rareOwners != 0) != (r.owners != nil) ||
				(d.has&rareRecords != 0) != (r.userRecords > 0 || len(r.groupGrants) > 0) ||
				d.hasIndet() != (len(r.indet) > 0) || (d.rare == nil) != (d.has == 0) {
				t.Logf("flags %b, rare %+v", d.has, r)
				return false
			}
			for id := int64(-3); id <= 200; id++ {
				if d.isOwner(id) != (id != 0 && slices.Contains(owners, id)) {
					t.Logf("owners %v: isOwner(%d) = %v", owners, id, d.isOwner(id))
					return false
				}
			}
		}
		return true
	}, gen.SliceOf(genStep)))
	props.TestingRun(t)
}

// TestStateLayout: a data source state is 64 bytes and a policy entry 16, the sizes
// newDSBox's boxes are chosen for (each fills a Go size class; see
// docs/performance.md, Data source states).
func TestStateLayout(t *testing.T) {
	t.Parallel()
	if s, p := unsafe.Sizeof(dsState{}), unsafe.Sizeof(levelPolicy{}); s != 64 || p != 16 {
		t.Fatalf("dsState is %d bytes and levelPolicy %d; newDSBox's boxes assume 64 and 16", s, p)
	}
}
