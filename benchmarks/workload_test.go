package benchmarks_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/benchmarks"
	"github.com/tollgate-dev/tollgate/model"
)

func TestGenerateDeterministic(t *testing.T) {
	t.Parallel()
	cfg := benchmarks.Config{Seed: 7, DataSources: 500, Policies: 200, Users: 100}
	a, b := benchmarks.Generate(cfg), benchmarks.Generate(cfg)
	require.Equal(t, a, b)

	other := benchmarks.Generate(benchmarks.Config{Seed: 8, DataSources: 500, Policies: 200, Users: 100})
	assert.NotEqual(t, a.DataSources, other.DataSources)
	assert.NotEqual(t, a.Policies, other.Policies)

	// An entity does not depend on how many others there are.
	bigger := benchmarks.Generate(benchmarks.Config{Seed: 7, DataSources: 600, Policies: 200, Users: 100})
	assert.Equal(t, a.DataSources, bigger.DataSources[:500])
	assert.Equal(t, bigger.DataSources[550], a.NewDataSource(551))
}

func TestGenerateSizes(t *testing.T) {
	t.Parallel()
	for _, cfg := range []benchmarks.Config{
		{},
		{Seed: 1, DataSources: 1, Policies: 1, Users: 1},
		{Seed: 2, DataSources: 1000, Policies: 10, Users: 50, Groups: 5},
		{Seed: 3, DataSources: 3000, Policies: 2000, Users: 300},
	} {
		t.Run(fmt.Sprintf("%d/%d/%d", cfg.DataSources, cfg.Policies, cfg.Users), func(t *testing.T) {
			t.Parallel()
			w := benchmarks.Generate(cfg)
			require.Len(t, w.DataSources, cfg.DataSources)
			require.Len(t, w.Policies, cfg.Policies)
			require.Len(t, w.Users, cfg.Users)
			require.Len(t, w.Groups, w.Config.Groups)
			assert.GreaterOrEqual(t, w.Config.Domains, 3)
			assert.GreaterOrEqual(t, w.Config.Servers, 2)
			for i := range w.DataSources {
				require.Equal(t, int64(i+1), w.DataSources[i].ID)
			}
			for i := range w.Users {
				require.Equal(t, int64(i+1), w.Users[i].ID)
			}
			for i := range w.Groups {
				require.Equal(t, int64(i+1), w.Groups[i].ID)
			}
		})
	}
}

// TestGenerateValid checks every generated entity against the model's validation,
// policy keys for uniqueness, and the realism promises of the generator.
func TestGenerateValid(t *testing.T) {
	t.Parallel()
	w := benchmarks.Generate(benchmarks.Config{Seed: 11, DataSources: 2000, Policies: 3000, Users: 200})
	keys := map[string]bool{}
	kinds := map[benchmarks.PolicyKind]int{}
	for i, p := range w.Policies {
		require.Empty(t, model.ValidatePolicy(p), "policy %d %s", i, p.Key)
		require.False(t, keys[p.Key], "duplicate key %s", p.Key)
		keys[p.Key] = true
		require.Equal(t, model.DialectV2, p.Dialect)
		kinds[w.Kind(i)]++
	}
	for k := benchmarks.KindTag; k <= benchmarks.KindOwnerSelected; k++ {
		assert.Positive(t, kinds[k], "kind %s", k)
	}
	assert.Greater(t, kinds[benchmarks.KindTag]+kinds[benchmarks.KindColumnTag], len(w.Policies)/2,
		"mostly tag and column-tag policies")

	depths := map[int]int{}
	for i := range w.DataSources {
		ds := &w.DataSources[i]
		require.Empty(t, model.ValidateDataSource(ds, model.NewPath("dataSources").Index(i)))
		require.NotEmpty(t, ds.Tags)
		require.LessOrEqual(t, len(ds.Tags), 4)
		for _, tag := range ds.Tags {
			depths[strings.Count(tag, ".")+1]++
		}
	}
	for d := 1; d <= 4; d++ {
		assert.Positive(t, depths[d], "tags of depth %d", d)
	}
	for i := range w.Users {
		u := &w.Users[i]
		require.Empty(t, model.ValidateUser(u, model.NewPath("users").Index(i)))
		require.NotEmpty(t, u.Groups)
		require.LessOrEqual(t, len(u.Groups), 5)
	}
	for i := range w.Groups {
		require.Empty(t, model.ValidateGroup(&w.Groups[i], model.NewPath("groups").Index(i)))
	}
}

// TestAppliedPoliciesStayRealistic checks, with a reference matcher written here,
// that the number of policies applying to a data source stays small as the policy
// count grows.
func TestAppliedPoliciesStayRealistic(t *testing.T) {
	t.Parallel()
	for _, policies := range []int{100, 1000, 10000} {
		t.Run(fmt.Sprint("policies=", policies), func(t *testing.T) {
			t.Parallel()
			w := benchmarks.Generate(benchmarks.Config{Seed: 5, DataSources: 2000, Policies: policies, Users: 100})
			counts := appliedCounts(w)
			slices.Sort(counts)
			sum := 0
			for _, c := range counts {
				sum += c
			}
			mean := float64(sum) / float64(len(counts))
			p99 := counts[len(counts)*99/100]
			t.Logf("policies=%d: mean %.2f, median %d, p99 %d, max %d applied per data source",
				policies, mean, counts[len(counts)/2], p99, counts[len(counts)-1])
			assert.GreaterOrEqual(t, mean, 1.0)
			assert.LessOrEqual(t, mean, 10.0)
			assert.LessOrEqual(t, p99, 30)
		})
	}
}

func appliedCounts(w *benchmarks.Workload) []int {
	byTag := map[string][]int{}
	var owner []int
	for i, p := range w.Policies {
		for _, c := range p.Circumstances {
			switch c.Type {
			case model.CircumstanceTags:
				byTag[c.Tag] = append(byTag[c.Tag], i)
			case model.CircumstanceColumnTags:
				byTag[c.ColumnTag] = append(byTag[c.ColumnTag], i)
			case model.CircumstanceOwnerSelected:
				owner = append(owner, i)
			}
		}
	}
	counts := make([]int, len(w.DataSources))
	for d := range w.DataSources {
		ds := &w.DataSources[d]
		cand := slices.Clone(owner)
		visit := func(tag string) {
			for {
				cand = append(cand, byTag[tag]...)
				i := strings.LastIndexByte(tag, '.')
				if i < 0 {
					return
				}
				tag = tag[:i]
			}
		}
		for _, tag := range ds.Tags {
			visit(tag)
		}
		for _, c := range ds.Columns {
			for _, tag := range c.Tags {
				visit(tag)
			}
		}
		slices.Sort(cand)
		for _, i := range slices.Compact(cand) {
			if applies(w.Policies[i], ds) {
				counts[d]++
			}
		}
	}
	return counts
}

func tagMatch(policyTag string, tags []string) bool {
	for _, t := range tags {
		if t == policyTag || strings.HasPrefix(t, policyTag+".") {
			return true
		}
	}
	return false
}

func applies(p *model.Policy, ds *model.DataSource) bool {
	if p.Staged {
		return false
	}
	all := p.CircumstanceOperator == model.All
	for _, c := range p.Circumstances {
		var ok bool
		switch c.Type {
		case model.CircumstanceTags:
			ok = tagMatch(c.Tag, ds.Tags)
		case model.CircumstanceColumnTags:
			for _, col := range ds.Columns {
				ok = ok || tagMatch(c.ColumnTag, col.Tags)
			}
		case model.CircumstanceColumnRegex:
			expr := c.Regex
			if c.CaseInsensitive {
				expr = "(?i)" + expr
			}
			re := regexp.MustCompile(expr)
			for _, col := range ds.Columns {
				ok = ok || re.MatchString(col.Name)
			}
		case model.CircumstanceDomains:
			for _, want := range c.Domains {
				for _, d := range ds.Domains {
					ok = ok || (want.ID != "" && want.ID == d.ID) || (want.ID == "" && want.Name == d.Name)
				}
			}
		case model.CircumstanceServer:
			ok = strings.EqualFold(c.Server, ds.Server)
		case model.CircumstanceTime:
			ok = !ds.CreatedAt.Before(c.StartDate) && (c.EndDate.IsZero() || ds.CreatedAt.Before(c.EndDate))
		case model.CircumstanceOwnerSelected:
			ok = slices.Contains(ds.SelectedPolicies, p.Key)
		}
		if ok && !all {
			return true
		}
		if !ok && all {
			return false
		}
	}
	return all || len(p.Circumstances) == 0
}

func TestRequests(t *testing.T) {
	t.Parallel()
	w := benchmarks.Generate(benchmarks.Config{Seed: 1, DataSources: 50, Policies: 5, Users: 20})
	reqs := w.Requests(1000, 9)
	require.Len(t, reqs, 1000)
	assert.Equal(t, reqs, w.Requests(1000, 9))
	for _, r := range reqs {
		require.True(t, r.UserID >= 1 && r.UserID <= 20)
		require.True(t, r.DataSourceID >= 1 && r.DataSourceID <= 50)
	}
	assert.Nil(t, benchmarks.Generate(benchmarks.Config{}).Requests(10, 1))
}

func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		b.Run(fmt.Sprint("dataSources=", n), func(b *testing.B) {
			if n > 100_000 && testing.Short() {
				b.Skip("large size skipped with -short")
			}
			b.ReportAllocs()
			for b.Loop() {
				w := benchmarks.Generate(benchmarks.Config{Seed: 1, DataSources: n, Policies: 10_000, Users: 100_000})
				if len(w.DataSources) != n {
					b.Fatal("wrong size")
				}
			}
		})
	}
}
