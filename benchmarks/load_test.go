package benchmarks_test

import (
	"fmt"
	"testing"

	"github.com/tollgate-dev/tollgate/benchmarks"
	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// BenchmarkLoad puts a generated workload into a new engine through the bulk calls
// (Workload.Load), as the fixtures do; the workload is generated before timing. The
// 1M size needs -large.
func BenchmarkLoad(b *testing.B) {
	for _, s := range wlWriteSizes {
		b.Run(fmt.Sprintf("dataSources=%d", s.dataSources), func(b *testing.B) {
			if s.large() && (testing.Short() || !*largeFlag) {
				b.Skip("sizes over 100,000 data sources need -large (and are skipped with -short)")
			}
			w := benchmarks.Generate(benchmarks.Config{
				Seed: wlSeed, DataSources: s.dataSources, Policies: s.policies, Users: s.users,
			})
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				e := engine.New()
				if err := w.Load(e); err != nil {
					b.Fatal(err)
				}
				if _, ok := e.Snapshot().DataSource(int64(s.dataSources)); !ok {
					b.Fatal("the last data source is missing")
				}
			}
		})
	}
}

// BenchmarkDryRun computes the impact of creating a policy on three root tags
// (a few thousand data sources) in the engine of 1,000 users, without storing it.
func BenchmarkDryRun(b *testing.B) {
	s := wlDecideSizes[0]
	b.Run(fmt.Sprintf("users=%d/dataSources=%d", s.users, s.dataSources), func(b *testing.B) {
		f := wlFixtureFor(b, s)
		p := tagPolicy("bench-dry-run", f.w.Tag(0, 3))
		for k := 1; k < 3; k++ {
			p.Circumstances = append(p.Circumstances, model.Circumstance{Type: model.CircumstanceTags, Tag: f.w.Tag(k, 3)})
		}
		before := len(f.e.Snapshot().Policies())
		b.ReportAllocs()
		var touched, users int
		for b.Loop() {
			stored, imp, err := f.e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{DryRun: true})
			if err != nil {
				b.Fatal(err)
			}
			if stored.ID != 0 || len(imp.DataSourcesAdded) == 0 {
				b.Fatalf("dry run stored id %d, added %d data sources", stored.ID, len(imp.DataSourcesAdded))
			}
			touched, users = len(imp.DataSourcesAdded), len(imp.Users)
		}
		if len(f.e.Snapshot().Policies()) != before {
			b.Fatal("the dry run stored a policy")
		}
		b.ReportMetric(float64(touched), "dataSources")
		b.ReportMetric(float64(users), "changes")
	})
}
