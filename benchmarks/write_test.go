package benchmarks_test

import (
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// The sizes of the write benchmarks: the 1M data source state of the goals, and
// the 100k one that also runs under -short.
var wlWriteSizes = []wlSize{
	{policies: 1_000, dataSources: 100_000, users: 10_000},
	{policies: 10_000, dataSources: 1_000_000, users: 100_000},
}

// BenchmarkCreatePolicy creates one tag policy against a loaded catalog: scope=leaf
// targets a depth-4 tag, scope=branch a depth-2 tag and scope=root a root tag
// (about a twelfth of the catalog). The policy is deleted again outside the timer.
func BenchmarkCreatePolicy(b *testing.B) {
	for _, s := range wlWriteSizes {
		for _, scope := range []struct {
			name string
			up   int
		}{{"leaf", 0}, {"branch", 2}, {"root", 3}} {
			b.Run(fmt.Sprintf("dataSources=%d/scope=%s", s.dataSources, scope.name), func(b *testing.B) {
				f := wlFixtureFor(b, s)
				p := tagPolicy("bench-create", f.w.Tag(5, scope.up))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					stored, _, err := f.e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{})
					if err != nil {
						b.Fatal(err)
					}
					if stored.ID == 0 {
						b.Fatal("stored policy has no id")
					}
					b.StopTimer()
					if _, err := f.e.DeletePolicy(engine.SystemActor(), stored.ID); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkUpdatePolicy moves one tag policy back and forth between two depth-3
// tags of a loaded catalog.
func BenchmarkUpdatePolicy(b *testing.B) {
	for _, s := range wlWriteSizes {
		b.Run(fmt.Sprintf("dataSources=%d", s.dataSources), func(b *testing.B) {
			f := wlFixtureFor(b, s)
			versions := [2]*model.Policy{
				tagPolicy("bench-update", f.w.Tag(7, 1)),
				tagPolicy("bench-update", f.w.Tag(8, 1)),
			}
			stored, _, err := f.e.CreatePolicy(engine.SystemActor(), versions[0], engine.WriteOptions{})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				if _, err := f.e.DeletePolicy(engine.SystemActor(), stored.ID); err != nil {
					b.Error(err)
				}
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				p, _, err := f.e.UpdatePolicy(engine.SystemActor(), stored.ID, versions[(i+1)%2], engine.WriteOptions{})
				if err != nil {
					b.Fatal(err)
				}
				if p.Circumstances[0].Tag != versions[(i+1)%2].Circumstances[0].Tag {
					b.Fatalf("updated policy has tag %q", p.Circumstances[0].Tag)
				}
			}
		})
	}
}

// BenchmarkPutDataSource inserts or replaces one data source in an engine holding
// 10,000 policies. The data sources are generated before timing; the first 4096
// puts insert, later ones replace with different content. They are deleted again
// afterwards.
func BenchmarkPutDataSource(b *testing.B) {
	for _, s := range []wlSize{
		{policies: 10_000, dataSources: 10_000, users: 1_000},
		{policies: 10_000, dataSources: 1_000_000, users: 100_000},
	} {
		b.Run(s.String(), func(b *testing.B) {
			f := wlFixtureFor(b, s)
			const ring = 4096
			base := int64(s.dataSources)
			var rounds [2][ring]model.DataSource
			for j := range ring {
				rounds[0][j] = f.w.NewDataSource(base + 1 + int64(j))
				rounds[1][j] = f.w.NewDataSource(base + 1 + ring + int64(j))
				rounds[1][j].ID = base + 1 + int64(j)
			}
			b.Cleanup(func() {
				for j := range min(b.N, ring) {
					if err := f.e.DeleteDataSource(engine.SystemActor(), base+1+int64(j)); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				ds := &rounds[(i/ring)%2][i%ring]
				if err := f.e.PutDataSource(engine.SystemActor(), ds); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if _, ok := f.e.Snapshot().DataSource(base + 1); !ok {
				b.Fatal("put data source is missing")
			}
		})
	}
}
