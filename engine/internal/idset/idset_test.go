package idset

import (
	"reflect"
	"slices"
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// op is one random edit: add (or remove) id to (from) the set of key.
type op struct {
	Remove bool
	Key    int64
	ID     int64
}

func genOps() gopter.Gen {
	return gen.SliceOf(gen.Struct(reflect.TypeFor[op](), map[string]gopter.Gen{
		"Remove": gen.Weighted([]gen.WeightedGen{{Weight: 1, Gen: gen.Const(true)}, {Weight: 3, Gen: gen.Const(false)}}),
		"Key":    gen.Int64Range(0, 3),
		"ID":     gen.Int64Range(-50, 600),
	}))
}

func sorted(m map[int64]bool) []int64 {
	out := []int64{}
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// TestPropertyMapEqualsModel: after random edits in random batches, every set of
// the map holds exactly the ids a plain model holds, in order, and the map of an
// earlier batch is unchanged by later edits.
func TestPropertyMapEqualsModel(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 200
	props := gopter.NewProperties(params)
	props.Property("sets equal the model; published maps never change", prop.ForAll(func(ops []op, cut int) bool {
		model := map[int64]map[int64]bool{}
		var m Map
		ed := m.Edit()
		var published []Map
		var models []map[int64][]int64
		snapshot := func() map[int64][]int64 {
			out := map[int64][]int64{}
			for k, s := range model {
				if len(s) > 0 {
					out[k] = sorted(s)
				}
			}
			return out
		}
		for i, o := range ops {
			if model[o.Key] == nil {
				model[o.Key] = map[int64]bool{}
			}
			if o.Remove {
				ed.Remove(o.Key, o.ID)
				delete(model[o.Key], o.ID)
			} else {
				ed.Add(o.Key, o.ID)
				model[o.Key][o.ID] = true
			}
			if cut > 0 && i%cut == 0 {
				m = ed.Done()
				published, models = append(published, m), append(models, snapshot())
				ed = m.Edit()
			}
		}
		published, models = append(published, ed.Done()), append(models, snapshot())
		for i, pm := range published {
			for k := int64(0); k <= 3; k++ {
				s := pm.Get(k)
				want := models[i][k]
				if want == nil {
					if s != nil {
						return false
					}
					continue
				}
				if s.Len() != len(want) || !slices.Equal(s.AppendTo(nil), want) {
					return false
				}
				for _, id := range want {
					if !s.Contains(id) {
						return false
					}
				}
			}
		}
		return true
	}, genOps(), gen.IntRange(0, 40)))
	props.TestingRun(t)
}

func TestSetLargeAscendingAndSplit(t *testing.T) {
	t.Parallel()
	var m Map
	ed := m.Edit()
	for id := int64(0); id < 5000; id += 2 {
		ed.Add(7, id)
	}
	for id := int64(4999); id > 0; id -= 2 {
		ed.Add(7, id)
	}
	s := ed.Done().Get(7)
	require.Equal(t, 5000, s.Len())
	ids := s.AppendTo(nil)
	assert.True(t, slices.IsSorted(ids))
	assert.Equal(t, int64(0), ids[0])
	assert.Equal(t, int64(4999), ids[4999])
	n := 0
	s.Each(func(id int64) bool { n++; return n < 10 })
	assert.Equal(t, 10, n)
	var empty *Set
	assert.Equal(t, 0, empty.Len())
	assert.False(t, empty.Contains(1))
}

// TestPropertyAddSortedEqualsAdds: adding an ascending list at once gives the set
// adding its ids one by one gives, whether the list comes after the set's ids
// (whole chunks) or among them, on a set the edit owns or a published one.
func TestPropertyAddSortedEqualsAdds(t *testing.T) {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	props.Property("AddSorted = Add each", prop.ForAll(func(before, more []int64, publish bool) string {
		var m Map
		ed := m.Edit()
		for _, id := range before {
			ed.Add(1, id)
		}
		if publish {
			m = ed.Done()
			ed = m.Edit()
		}
		published := slices.Clone(m.Get(1).AppendTo(nil))
		list := slices.Compact(slices.Sorted(slices.Values(more)))
		one := m.Edit()
		if !publish {
			one = ed
			ed = nil
		}
		want := map[int64]bool{}
		for _, id := range before {
			want[id] = true
		}
		for _, id := range list {
			want[id] = true
		}
		one.AddSorted(1, list)
		got := one.Get(1)
		if got.Len() != len(want) {
			return "wrong length"
		}
		if !slices.Equal(got.AppendTo(nil), sorted(want)) {
			return "wrong ids"
		}
		if got == nil {
			return ""
		}
		for _, c := range got.chunks {
			if len(c.ids) == 0 || len(c.ids) > chunkMax {
				return "a chunk is empty or too long"
			}
		}
		if publish && !slices.Equal(m.Get(1).AppendTo(nil), published) {
			return "the published set changed"
		}
		return ""
	}, gen.SliceOf(gen.Int64Range(0, 400)), gen.SliceOf(gen.Int64Range(0, 800)), gen.Bool()))
	props.TestingRun(t)
}
