package benchmarks_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/tollgate-dev/tollgate/engine"
)

// The sizes of the bulk-query benchmarks: the 1M data source / 100k user state of
// the goals (with -large), and the 100k / 10k one.
var wlBulkSizes = []wlSize{
	{policies: 1_000, dataSources: 100_000, users: 10_000},
	{policies: 10_000, dataSources: 1_000_000, users: 100_000},
}

// naiveDataSourcesFor is the reference: one Decide per data source.
func naiveDataSourcesFor(s *engine.Snapshot, userID int64, level engine.Level) []int64 {
	out := []int64{}
	for _, id := range s.DataSourceIDs() {
		if s.Decide(userID, id).Grant >= level {
			out = append(out, id)
		}
	}
	return out
}

// naiveUsersFor is the reference: one Decide per user.
func naiveUsersFor(s *engine.Snapshot, dataSourceID int64, level engine.Level) []int64 {
	out := []int64{}
	for _, id := range s.UserIDs() {
		if s.Decide(id, dataSourceID).Grant >= level {
			out = append(out, id)
		}
	}
	return out
}

// bulkSample picks n requests of the fixture's sample, granted ones first (so the
// answers are not all empty).
func bulkSample(f *wlFixture, n int) []bulkReq {
	var out []bulkReq
	for pass := 0; pass < 2 && len(out) < n; pass++ {
		for i, r := range f.reqs {
			if (f.want[i] != engine.LevelNone) == (pass == 0) && len(out) < n {
				out = append(out, bulkReq{user: r.UserID, ds: r.DataSourceID})
			}
		}
	}
	return out
}

type bulkReq struct{ user, ds int64 }

func asSet(ids []int64) []int64 {
	if ids == nil {
		return []int64{}
	}
	return ids
}

// BenchmarkDataSourcesFor lists the data sources a user can READ, for a few users
// (half of them granted something in the sample), checking each answer against
// one Decide per data source computed before timing.
func BenchmarkDataSourcesFor(b *testing.B) {
	for _, s := range wlBulkSizes {
		b.Run(fmt.Sprintf("dataSources=%d", s.dataSources), func(b *testing.B) {
			benchBulk(b, s, 4, "user", "dataSources/op", func(r bulkReq) int64 { return r.user },
				naiveDataSourcesFor, (*engine.Engine).DataSourcesFor)
		})
	}
}

// BenchmarkUsersFor lists the users who can READ a data source, for a few data
// sources, checking each answer against one Decide per user computed before timing.
func BenchmarkUsersFor(b *testing.B) {
	for _, s := range wlBulkSizes {
		b.Run(fmt.Sprintf("users=%d", s.users), func(b *testing.B) {
			benchBulk(b, s, 8, "data source", "users/op", func(r bulkReq) int64 { return r.ds },
				naiveUsersFor, (*engine.Engine).UsersFor)
		})
	}
}

// benchBulk times query on n sampled ids of size s (id picks the id of a sample),
// checking each answer against naive computed before timing, and reports the mean
// answer size in unit.
func benchBulk(b *testing.B, s wlSize, n int, what, unit string, id func(bulkReq) int64,
	naive func(*engine.Snapshot, int64, engine.Level) []int64, query func(*engine.Engine, int64, engine.Level) []int64) {
	f := wlFixtureFor(b, s)
	snap := f.e.Snapshot()
	sample := bulkSample(f, n)
	want := make([][]int64, len(sample))
	total := 0
	for i, r := range sample {
		want[i] = naive(snap, id(r), engine.LevelRead)
		total += len(want[i])
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		k := i % len(sample)
		if got := asSet(query(f.e, id(sample[k]), engine.LevelRead)); !slices.Equal(got, want[k]) {
			b.Fatalf("%s %d: %d answers, want %d", what, id(sample[k]), len(got), len(want[k]))
		}
		i++
	}
	b.ReportMetric(float64(total)/float64(len(sample)), unit)
}
