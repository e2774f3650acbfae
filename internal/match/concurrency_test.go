package match_test

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

// TestMatcherConcurrentUse shares one Matcher (with regexes, whose regexp2 runner
// cache is the only mutable state) and its Targets between goroutines. Run with
// -race.
func TestMatcherConcurrentUse(t *testing.T) {
	t.Parallel()
	m, err := match.Compile(policy(model.Any, columnRegex(`(?<=cust_)id`, false), columnRegex(`^SSN$`, true), tags("PII")))
	require.NoError(t, err)
	targets := []*match.Target{
		match.NewTarget(&model.DataSource{ID: 1, Columns: cols("name", "cust_id")}),
		match.NewTarget(&model.DataSource{ID: 2, Columns: cols("name", "ssn")}),
		match.NewTarget(&model.DataSource{ID: 3, Columns: cols("name", "id")}),
		match.NewTarget(&model.DataSource{ID: 4, Tags: []string{"PII.Email"}}),
	}
	want := []match.Result{match.Applies, match.Applies, match.NotApplies, match.Applies}
	var wg sync.WaitGroup
	results := make([][]match.Result, 8)
	for g := range results {
		wg.Go(func() {
			for range 50 {
				for _, tg := range targets {
					r, err := m.Match(tg, false)
					if err != nil {
						r = match.Indeterminate
					}
					results[g] = append(results[g], r)
				}
			}
		})
	}
	wg.Wait()
	for _, rs := range results {
		for i, r := range rs {
			assert.Equal(t, want[i%len(want)], r)
		}
	}
}
