package engine

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tollgate-dev/tollgate/engine/internal/idset"
)

// CheckBulkSets (for the tests of package engine_test) reports whether the data
// source sets of s's bulk index (policy gates, owners, "everyone" flags) hold
// exactly what building them from s's data source states gives: no id missing,
// none left over from an earlier state.
func CheckBulkSets(s *Snapshot) error {
	gates, owners, misc := map[int64][]int64{}, map[int64][]int64{}, map[int64][]int64{}
	for _, id := range slices.Sorted(slices.Values(s.dataSources.Keys())) {
		d, _ := s.dataSources.Get(id)
		for _, p := range d.gates(nil) {
			gates[p] = append(gates[p], id)
		}
		for _, u := range d.ownerIDs() {
			owners[u] = append(owners[u], id)
		}
		r, w := d.everyone()
		if r {
			misc[keyEveryoneRead] = append(misc[keyEveryoneRead], id)
		}
		if w {
			misc[keyEveryoneWrite] = append(misc[keyEveryoneWrite], id)
		}
	}
	check := func(name string, m idset.Map, want map[int64][]int64, only func(int64) bool) error {
		keys := slices.Collect(maps.Keys(want))
		for _, k := range m.Keys() {
			if only(k) {
				keys = append(keys, k)
			}
		}
		for _, k := range keys {
			got := m.Get(k).AppendTo(nil)
			if fmt.Sprint(got) != fmt.Sprint(want[k]) {
				return fmt.Errorf("%s[%d] = %v, want %v", name, k, got, want[k])
			}
		}
		return nil
	}
	all := func(int64) bool { return true }
	return cmpErr(check("dsByPolicy", s.bulk.dsByPolicy, gates, all),
		check("dsByOwner", s.bulk.dsByOwner, owners, all),
		check("misc", s.bulk.misc, misc, func(k int64) bool { return k != keyUsers }))
}

func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
