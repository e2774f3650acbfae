package match_test

import (
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

// The random worlds of the properties are drawn from small vocabularies so that
// policies and data sources often meet.
var (
	tagVocab    = []string{"A", "A.B", "A.B.C", "AX", "B", "B.C", "A.C", "C"}
	columnVocab = []string{"ssn", "SSN", "first_name", "name_id", "email", "cust_id"}
	regexVocab  = []string{"ssn", "^name", "(?=.*name)(?!.*_id)", "ID$", "^e", "(?<=cust_)id"}
	dsDomains   = []model.Domain{{ID: "d1", Name: "Sales"}, {ID: "d2", Name: "HR"}, {Name: "Sales"}, {ID: "d3"}, {ID: "d1", Name: "Other"}}
	refDomains  = []model.Domain{{ID: "d1"}, {ID: "d2"}, {Name: "Sales"}, {Name: "HR"}, {ID: "d3", Name: "Sales"}, {Name: ""}}
	serverVocab = []string{"db1", "DB1", "db2", "", "Db2"}
	day         = func(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }
	createdAts  = []time.Time{{}, day(2024, 1, 1), day(2024, 6, 1), day(2025, 1, 1)}
	timeRanges  = [][2]time.Time{{day(2024, 1, 1), {}}, {day(2024, 1, 1), day(2024, 6, 1)}, {day(2024, 6, 1), day(2025, 1, 1)}, {day(2023, 1, 1), day(2024, 1, 1)}}
)

type colSpec struct {
	Name uint8
	Tags []uint8
}

type dsSpec struct {
	Tags    []uint8
	Columns []colSpec
	Domains []uint8
	Server  uint8
	Created uint8
}

type condSpec struct {
	Kind uint8 // 0 tags, 1 columnTags, 2 columnRegex, 3 domains, 4 server, 5 time, 6 owner-selected
	A    uint8
	Flag bool
}

type policySpec struct {
	All   bool
	Conds []condSpec
}

func (s dsSpec) build(id int64) *model.DataSource {
	ds := &model.DataSource{ID: id, Server: serverVocab[s.Server], CreatedAt: createdAts[s.Created]}
	for _, t := range s.Tags {
		ds.Tags = append(ds.Tags, tagVocab[t])
	}
	for _, c := range s.Columns {
		col := model.Column{Name: columnVocab[c.Name]}
		for _, t := range c.Tags {
			col.Tags = append(col.Tags, tagVocab[t])
		}
		ds.Columns = append(ds.Columns, col)
	}
	for _, d := range s.Domains {
		ds.Domains = append(ds.Domains, dsDomains[d])
	}
	return ds
}

func (s policySpec) build(id int64) *model.Policy {
	op := model.Any
	if s.All {
		op = model.All
	}
	p := policy(op)
	p.ID = id
	for _, c := range s.Conds {
		a := int(c.A)
		switch c.Kind {
		case 0:
			p.Circumstances = append(p.Circumstances, tags(tagVocab[a%len(tagVocab)]))
		case 1:
			p.Circumstances = append(p.Circumstances, columnTags(tagVocab[a%len(tagVocab)]))
		case 2:
			p.Circumstances = append(p.Circumstances, columnRegex(regexVocab[a%len(regexVocab)], c.Flag))
		case 3:
			var ds []model.Domain
			for i, d := range refDomains {
				if a&(1<<i) != 0 {
					ds = append(ds, d)
				}
			}
			p.Circumstances = append(p.Circumstances, domains(ds...))
		case 4:
			p.Circumstances = append(p.Circumstances, server(serverVocab[a%len(serverVocab)]))
		case 5:
			r := timeRanges[a%len(timeRanges)]
			p.Circumstances = append(p.Circumstances, timeRange(r[0], r[1]))
		default:
			p.Circumstances = append(p.Circumstances, ownerSelected())
		}
	}
	return p
}

// isSelected is the owner-selected relation of the random worlds.
func isSelected(policyID, dataSourceID int64) bool { return (policyID*31+dataSourceID*17)%3 == 0 }

type hit struct {
	ID     int64
	Result match.Result
	Err    bool
}

// world is a generated catalog and policy set, built and compiled, on one shared
// key table (keys) or, with keys nil, each Target and Matcher on a table of its
// own (the indexes then translate keys by name).
type world struct {
	keys     *match.Keys
	ds       []*model.DataSource // ascending id
	targets  []*match.Target
	policies []*model.Policy // ascending id
	matchers []*match.Matcher
}

func newWorld(dss []dsSpec, ps []policySpec, shared bool) (*world, error) {
	w := &world{}
	if shared {
		w.keys = match.NewKeys()
	}
	for i, s := range dss {
		ds := s.build(int64(3*i + 1))
		w.ds = append(w.ds, ds)
		w.targets = append(w.targets, w.target(ds))
	}
	for i, s := range ps {
		p := s.build(int64(2*i + 5))
		// A generous regex timeout: the property is about the indexes, and on a
		// loaded machine a descheduled match could otherwise time out (Indeterminate).
		m, err := match.Compile(p, match.WithRegexTimeout(time.Minute), match.WithKeys(w.keys))
		if err != nil {
			return nil, err
		}
		w.policies = append(w.policies, p)
		w.matchers = append(w.matchers, m)
	}
	return w, nil
}

// target builds the Target of ds on the world's table (or a table of its own).
func (w *world) target(ds *model.DataSource) *match.Target {
	if w.keys == nil {
		return match.NewTarget(ds)
	}
	return w.keys.Target(ds)
}

// naiveForTarget is the policy-direction answer by scanning every policy with the reference.
func (w *world) naiveForTarget(i int, skip map[int64]bool) []hit {
	var out []hit
	for _, p := range w.policies {
		if skip[p.ID] {
			continue
		}
		if r := reference(p, w.ds[i], isSelected(p.ID, w.ds[i].ID)); r != match.NotApplies {
			out = append(out, hit{p.ID, r, false})
		}
	}
	return out
}

// naiveForPolicy is the catalog-direction answer by scanning every data source.
func (w *world) naiveForPolicy(j int) []hit {
	var out []hit
	p := w.policies[j]
	for _, ds := range w.ds {
		if r := reference(p, ds, isSelected(p.ID, ds.ID)); r != match.NotApplies {
			out = append(out, hit{ds.ID, r, false})
		}
	}
	return out
}

// selectedList is what the engine passes to CatalogIndex.Applicable: unsorted,
// with an id the catalog does not hold.
func (w *world) selectedList(policyID int64) []int64 {
	out := []int64{1 << 40}
	for i := len(w.ds) - 1; i >= 0; i-- {
		if isSelected(policyID, w.ds[i].ID) {
			out = append(out, w.ds[i].ID)
		}
	}
	return out
}

func policyAnswer(ix *match.PolicyIndex, t *match.Target) []hit {
	var out []hit
	ix.Applicable(t, func(pid int64) bool { return isSelected(pid, t.ID()) }, func(id int64, r match.Result, err error) {
		out = append(out, hit{id, r, err != nil})
	})
	return out
}

func catalogAnswer(c *match.CatalogIndex, w *world, j int) []hit {
	var out []hit
	c.Applicable(w.matchers[j], w.selectedList(w.policies[j].ID), func(id int64, r match.Result, err error) {
		out = append(out, hit{id, r, err != nil})
	})
	return out
}

// buildIndexes adds the world in the order given by perm (nil = ascending ids).
func (w *world) buildIndexes(rng *rand.Rand) (*match.PolicyIndex, *match.CatalogIndex) {
	ix := match.NewPolicyIndex(w.keys)
	cat := match.NewCatalogIndex(w.keys)
	pOrder := make([]int, len(w.policies))
	dOrder := make([]int, len(w.ds))
	for i := range pOrder {
		pOrder[i] = i
	}
	for i := range dOrder {
		dOrder[i] = i
	}
	if rng != nil {
		rng.Shuffle(len(pOrder), func(a, b int) { pOrder[a], pOrder[b] = pOrder[b], pOrder[a] })
		rng.Shuffle(len(dOrder), func(a, b int) { dOrder[a], dOrder[b] = dOrder[b], dOrder[a] })
	}
	for _, j := range pOrder {
		if rng != nil && rng.Intn(3) == 0 && len(w.matchers) > 1 {
			// Put something else first so that the real Add is a replacement.
			ix.Add(w.policies[j].ID, w.matchers[(j+1)%len(w.matchers)])
		}
		ix.Add(w.policies[j].ID, w.matchers[j])
	}
	for _, i := range dOrder {
		if rng != nil && rng.Intn(3) == 0 && len(w.targets) > 1 {
			other := *w.ds[(i+1)%len(w.ds)]
			other.ID = w.ds[i].ID
			cat.Put(w.target(&other))
		}
		cat.Put(w.targets[i])
	}
	return ix, cat
}

func (w *world) check(ix *match.PolicyIndex, cat *match.CatalogIndex) string {
	for i, t := range w.targets {
		if got, want := policyAnswer(ix, t), w.naiveForTarget(i, nil); !slices.Equal(got, want) {
			return fmt.Sprintf("policy index on data source %d: got %v, want %v", t.ID(), got, want)
		}
	}
	for j := range w.policies {
		if got, want := catalogAnswer(cat, w, j), w.naiveForPolicy(j); !slices.Equal(got, want) {
			return fmt.Sprintf("catalog index for policy %d: got %v, want %v", w.policies[j].ID, got, want)
		}
	}
	return ""
}

func genWorldArgs() []gopter.Gen {
	tagGen := gen.SliceOf(gen.UInt8Range(0, uint8(len(tagVocab)-1)))
	colGen := gen.Struct(reflect.TypeOf(colSpec{}), map[string]gopter.Gen{
		"Name": gen.UInt8Range(0, uint8(len(columnVocab)-1)),
		"Tags": tagGen,
	})
	dsGen := gen.Struct(reflect.TypeOf(dsSpec{}), map[string]gopter.Gen{
		"Tags":    tagGen,
		"Columns": gen.SliceOf(colGen),
		"Domains": gen.SliceOf(gen.UInt8Range(0, uint8(len(dsDomains)-1))),
		"Server":  gen.UInt8Range(0, uint8(len(serverVocab)-1)),
		"Created": gen.UInt8Range(0, uint8(len(createdAts)-1)),
	})
	condGen := gen.Struct(reflect.TypeOf(condSpec{}), map[string]gopter.Gen{
		"Kind": gen.Weighted([]gen.WeightedGen{
			{Weight: 4, Gen: gen.Const(uint8(0))}, {Weight: 3, Gen: gen.Const(uint8(1))},
			{Weight: 1, Gen: gen.Const(uint8(2))}, {Weight: 2, Gen: gen.Const(uint8(3))},
			{Weight: 2, Gen: gen.Const(uint8(4))}, {Weight: 1, Gen: gen.Const(uint8(5))},
			{Weight: 1, Gen: gen.Const(uint8(6))},
		}),
		"A":    gen.UInt8(),
		"Flag": gen.Bool(),
	})
	policyGen := gen.Struct(reflect.TypeOf(policySpec{}), map[string]gopter.Gen{
		"All":   gen.Bool(),
		"Conds": gen.SliceOf(condGen),
	})
	return []gopter.Gen{
		gen.IntRange(0, 30).FlatMap(func(n any) gopter.Gen { return gen.SliceOfN(n.(int), dsGen) }, reflect.TypeOf([]dsSpec(nil))),
		gen.IntRange(0, 30).FlatMap(func(n any) gopter.Gen { return gen.SliceOfN(n.(int), policyGen) }, reflect.TypeOf([]policySpec(nil))),
		gen.Int64(),
	}
}

func properties(t *testing.T) *gopter.Properties {
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	params.MaxSize = 5 // inner lists: up to 4 tags, columns, circumstances
	return gopter.NewProperties(params)
}

func TestIndexProperties(t *testing.T) {
	t.Parallel()
	props := properties(t)

	props.Property("the indexes return exactly the naive scan's result", prop.ForAll(
		func(dss []dsSpec, ps []policySpec, seed int64) string {
			w, err := newWorld(dss, ps, seed%2 == 0)
			if err != nil {
				return err.Error()
			}
			for i, t := range w.targets {
				for j, m := range w.matchers {
					p := w.policies[j]
					sel := isSelected(p.ID, t.ID())
					if got, err := m.Match(t, sel); err != nil || got != reference(p, w.ds[i], sel) {
						return fmt.Sprintf("Match(policy %d, data source %d) = %v, %v", p.ID, t.ID(), got, err)
					}
				}
			}
			ix, cat := w.buildIndexes(nil)
			if ix.Len() != len(w.policies) || cat.Len() != len(w.ds) {
				return fmt.Sprintf("Len: %d policies, %d data sources", ix.Len(), cat.Len())
			}
			return w.check(ix, cat)
		}, genWorldArgs()...))

	props.Property("results do not depend on insertion order", prop.ForAll(
		func(dss []dsSpec, ps []policySpec, seed int64) string {
			w, err := newWorld(dss, ps, seed%2 == 0)
			if err != nil {
				return err.Error()
			}
			ix, cat := w.buildIndexes(rand.New(rand.NewSource(seed)))
			for _, t := range w.targets {
				if got := cat.Get(t.ID()); got == nil || got.ID() != t.ID() || w.keys != nil && got != t {
					return "Get does not return the last Put target of " + strconv.FormatInt(t.ID(), 10)
				}
			}
			return w.check(ix, cat)
		}, genWorldArgs()...))

	props.Property("PutAll gives the answers of Put one by one", prop.ForAll(
		func(dss []dsSpec, ps []policySpec, seed int64) string {
			w, err := newWorld(dss, ps, seed%3 != 0)
			if err != nil {
				return err.Error()
			}
			rng := rand.New(rand.NewSource(seed))
			ix, _ := w.buildIndexes(nil)
			cat := match.NewCatalogIndex(w.keys)
			// Ascending chunks (the fast path when the Targets are on the index's
			// table), sometimes a chunk out of order or overlapping (Put by Put).
			cat.PutAll(nil)
			ts := slices.Clone(w.targets)
			if rng.Intn(4) == 0 {
				rng.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
			}
			for len(ts) > 0 {
				n := 1 + rng.Intn(len(ts))
				cat.PutAll(ts[:n])
				if rng.Intn(4) == 0 && n > 1 {
					cat.PutAll(ts[n-2 : n]) // again: replacements
				}
				ts = ts[n:]
			}
			if cat.Len() != len(w.targets) {
				return fmt.Sprintf("Len %d, want %d", cat.Len(), len(w.targets))
			}
			for _, t := range w.targets {
				if got := cat.Get(t.ID()); got == nil || got.ID() != t.ID() {
					return "Get misses data source " + strconv.FormatInt(t.ID(), 10)
				}
			}
			return w.check(ix, cat)
		}, genWorldArgs()...))

	props.Property("removing a policy or data source restores the previous answers", prop.ForAll(
		func(dss []dsSpec, ps []policySpec, seed int64) string {
			w, err := newWorld(dss, ps, seed%2 == 0)
			if err != nil || len(ps) == 0 || len(dss) == 0 {
				return ""
			}
			rng := rand.New(rand.NewSource(seed))
			ix, cat := w.buildIndexes(rng)
			// An extra policy and data source, added and removed again.
			extra := w.matchers[rng.Intn(len(w.matchers))]
			ix.Add(1<<40, extra)
			ds := *w.ds[rng.Intn(len(w.ds))]
			ds.ID = 1 << 41
			cat.Put(w.target(&ds))
			ix.Remove(1 << 40)
			cat.Remove(1 << 41)
			ix.Remove(1 << 42) // absent: no effect
			cat.Remove(1 << 42)
			if msg := w.check(ix, cat); msg != "" {
				return msg
			}
			// Removing a stored policy leaves exactly the others.
			j := rng.Intn(len(w.policies))
			ix.Remove(w.policies[j].ID)
			skip := map[int64]bool{w.policies[j].ID: true}
			for i, t := range w.targets {
				if got, want := policyAnswer(ix, t), w.naiveForTarget(i, skip); !slices.Equal(got, want) {
					return fmt.Sprintf("after removing policy %d, data source %d: got %v, want %v", w.policies[j].ID, t.ID(), got, want)
				}
			}
			// Adding it back restores the full answers.
			ix.Add(w.policies[j].ID, w.matchers[j])
			return w.check(ix, cat)
		}, genWorldArgs()...))

	props.TestingRun(t)
}

// TestPolicyIndexBoundedCandidates: with 10,000 tag policies the key path
// evaluates only the policies whose tag the data source has, not all of them.
func TestPolicyIndexBoundedCandidates(t *testing.T) {
	t.Parallel()
	ix := match.NewPolicyIndex(nil)
	for i := range 10000 {
		m, err := match.Compile(policy(model.Any, tags("Tag"+strconv.Itoa(i))))
		require.NoError(t, err)
		ix.Add(int64(i+1), m)
	}
	// Two more: an all policy posted under one key and a residual one.
	m, err := match.Compile(policy(model.All, tags("Tag7"), server("db1")))
	require.NoError(t, err)
	ix.Add(20001, m)
	m, err = match.Compile(policy(model.Any, columnRegex("ssn", false)))
	require.NoError(t, err)
	ix.Add(20002, m)
	require.Equal(t, 10002, ix.Len())

	target := match.NewTarget(&model.DataSource{ID: 1, Server: "DB1",
		Tags: []string{"Tag7", "Tag42.Finance", "Discovered.PII"}, Columns: cols("ssn")})
	var got []int64
	evaluated := ix.Applicable(target, nil, func(id int64, r match.Result, err error) {
		require.NoError(t, err)
		require.Equal(t, match.Applies, r)
		got = append(got, id)
	})
	assert.Equal(t, []int64{8, 43, 20001, 20002}, got)
	assert.Equal(t, 4, evaluated, "Tag7, Tag42 and the all policy by key, plus one residual")
}

// TestPolicyIndexAllUsesOneKey: an all policy is evaluated only on data sources
// having its most selective key, and still decided on all its circumstances.
func TestPolicyIndexAllUsesOneKey(t *testing.T) {
	t.Parallel()
	ix := match.NewPolicyIndex(nil)
	for i := range 100 {
		m, err := match.Compile(policy(model.Any, tags("Common")))
		require.NoError(t, err)
		ix.Add(int64(i+1), m)
	}
	m, err := match.Compile(policy(model.All, tags("Common"), server("rare.example.com")))
	require.NoError(t, err)
	ix.Add(1000, m)
	common := match.NewTarget(&model.DataSource{ID: 1, Tags: []string{"Common"}})
	assert.Equal(t, 100, ix.Applicable(common, nil, func(int64, match.Result, error) {}),
		"the all policy is posted under the server, which has fewer postings")
	rare := match.NewTarget(&model.DataSource{ID: 2, Server: "Rare.Example.com"})
	var got []int64
	assert.Equal(t, 1, ix.Applicable(rare, nil, func(id int64, _ match.Result, _ error) { got = append(got, id) }))
	assert.Empty(t, got, "evaluated on its key, but the tag does not match")
}

// TestPolicyIndexOwnerSelected: selected is asked only about owner-selected
// policies, and a nil selected means none.
func TestPolicyIndexOwnerSelected(t *testing.T) {
	t.Parallel()
	ix := match.NewPolicyIndex(nil)
	sel, err := match.Compile(policy(model.Any, ownerSelected()))
	require.NoError(t, err)
	plain, err := match.Compile(policy(model.Any, tags("PII")))
	require.NoError(t, err)
	ix.Add(1, sel)
	ix.Add(2, plain)
	target := match.NewTarget(&model.DataSource{ID: 9, Tags: []string{"PII"}})
	var asked, got []int64
	ix.Applicable(target, func(pid int64) bool { asked = append(asked, pid); return true },
		func(id int64, _ match.Result, _ error) { got = append(got, id) })
	assert.Equal(t, []int64{1}, asked)
	assert.Equal(t, []int64{1, 2}, got)
	got = nil
	ix.Applicable(target, nil, func(id int64, _ match.Result, _ error) { got = append(got, id) })
	assert.Equal(t, []int64{2}, got)
}

// TestPolicyIndexSkipsSelectionOnlyPolicies: without a selection (a nil selected),
// the policies that cannot apply unless an owner selected them (all of an
// owner-selected circumstance and another, any of owner-selected circumstances
// only) are neither evaluated nor counted, and the answer is the one a selection
// of nothing gives; a policy an owner selection may satisfy only in part (any of
// owner-selected or a column regex) is still evaluated.
func TestPolicyIndexSkipsSelectionOnlyPolicies(t *testing.T) {
	t.Parallel()
	ix := match.NewPolicyIndex(nil)
	for id, p := range map[int64]*model.Policy{
		1: policy(model.Any, ownerSelected()),
		2: policy(model.All, ownerSelected(), columnRegex("^email$", false)),
		3: policy(model.Any, ownerSelected(), columnRegex("^email$", false)),
		4: policy(model.Any, columnRegex("^email$", false)),
	} {
		m, err := match.Compile(p)
		require.NoError(t, err)
		ix.Add(id, m)
	}
	target := match.NewTarget(&model.DataSource{ID: 9, Columns: []model.Column{{Name: "email"}}})
	collect := func(selected func(int64) bool) ([]int64, int) {
		var got []int64
		n := ix.Applicable(target, selected, func(id int64, _ match.Result, _ error) { got = append(got, id) })
		return got, n
	}
	none, nNone := collect(func(int64) bool { return false })
	skipped, nSkipped := collect(nil)
	assert.Equal(t, []int64{3, 4}, none)
	assert.Equal(t, none, skipped)
	assert.Equal(t, 4, nNone)
	assert.Equal(t, 2, nSkipped, "the two selection-only policies are not evaluated")
	all, _ := collect(func(int64) bool { return true })
	assert.Equal(t, []int64{1, 2, 3, 4}, all)
	ix.Remove(2)
	skipped, nSkipped = collect(nil)
	assert.Equal(t, []int64{3, 4}, skipped)
	assert.Equal(t, 2, nSkipped)
	ix.Remove(3)
	_, nSkipped = collect(nil)
	assert.Equal(t, 1, nSkipped, "a removed policy leaves the unselected set too")
}

// TestPolicyIndexKeyPathDoesNotAllocate proves the hot path claim of the tag,
// domain and server keys, for Targets and Matchers on the index's key table. Not
// parallel: allocation counts are process-wide.
func TestPolicyIndexKeyPathDoesNotAllocate(t *testing.T) {
	keys := match.NewKeys()
	ix := match.NewPolicyIndex(keys)
	add := func(id int64, p *model.Policy) {
		m, err := match.Compile(p, match.WithKeys(keys))
		require.NoError(t, err)
		ix.Add(id, m)
	}
	for i := range 1000 {
		add(int64(i+1), policy(model.Any, tags("T"+strconv.Itoa(i%50))))
	}
	add(2001, policy(model.All, domains(model.Domain{ID: "d1"}), server("db1")))
	add(2002, policy(model.Any, columnTags("PII"), domains(model.Domain{Name: "Sales"})))
	add(2003, policy(model.Any))
	target := keys.Target(&model.DataSource{ID: 1, Tags: []string{"T1.x", "T2", "T3"}, Server: "DB1",
		Domains: []model.Domain{{ID: "d1", Name: "Sales"}}, Columns: []model.Column{{Name: "c", Tags: []string{"PII"}}}})
	n := 0
	visit := func(int64, match.Result, error) { n++ }
	ix.Applicable(target, nil, visit) // grow the scratch
	allocs := testing.AllocsPerRun(100, func() {
		n = 0
		ix.Applicable(target, nil, visit)
	})
	assert.Zero(t, allocs)
	assert.Equal(t, 3*20+3, n)
}

// TestCatalogIndexLargeRandomOrder loads thousands of data sources in random
// order (so that postings take the out-of-order path and merge), replaces and
// removes some, and compares every policy's answer with a naive scan.
func TestCatalogIndexLargeRandomOrder(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	const n = 6000
	byID := map[int64]*model.DataSource{}
	cat := match.NewCatalogIndex(nil)
	put := func(id int64) {
		ds := &model.DataSource{ID: id, Tags: []string{tagVocab[rng.Intn(len(tagVocab))]},
			Server: serverVocab[rng.Intn(len(serverVocab))], CreatedAt: createdAts[rng.Intn(len(createdAts))]}
		byID[id] = ds
		cat.Put(match.NewTarget(ds))
	}
	for _, i := range rng.Perm(n) {
		put(int64(i*7 + 1))
	}
	for range n / 4 {
		id := int64(rng.Intn(n)*7 + 1)
		if rng.Intn(2) == 0 {
			put(id)
		} else {
			delete(byID, id)
			cat.Remove(id)
		}
	}
	require.Equal(t, len(byID), cat.Len())
	ids := make([]int64, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	policies := []*model.Policy{
		policy(model.Any, tags("A")), policy(model.Any, tags("A.B"), server("DB1")),
		policy(model.All, tags("B"), server("db2")), policy(model.Any, timeRange(day(2024, 1, 1), time.Time{})),
		policy(model.Any), policy(model.All, tags("A"), ownerSelected()),
	}
	for i, p := range policies {
		m, err := match.Compile(p)
		require.NoError(t, err)
		var want, got []int64
		var selected []int64
		for _, id := range ids {
			if isSelected(int64(i), id) {
				selected = append(selected, id)
			}
			if reference(p, byID[id], isSelected(int64(i), id)) == match.Applies {
				want = append(want, id)
			}
		}
		rng.Shuffle(len(selected), func(a, b int) { selected[a], selected[b] = selected[b], selected[a] })
		cat.Applicable(m, selected, func(id int64, r match.Result, err error) {
			require.NoError(t, err)
			require.Equal(t, match.Applies, r)
			got = append(got, id)
		})
		assert.Equal(t, want, got, "policy %d", i)
		if cat.Len() > 0 {
			assert.Same(t, cat.Get(ids[0]), cat.Get(ids[0]))
			assert.Equal(t, ids[0], cat.Get(ids[0]).ID())
		}
		assert.Nil(t, cat.Get(0))
	}
}
