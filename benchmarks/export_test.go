package benchmarks_test

import (
	"testing"

	"github.com/tollgate-dev/tollgate/engine"
)

var wlExportSize = wlSize{policies: 1_000, dataSources: 100_000, users: 10_000}

// BenchmarkExport writes the whole state of a 100k data source engine.
func BenchmarkExport(b *testing.B) {
	b.Run(wlExportSize.String(), func(b *testing.B) {
		f := wlFixtureFor(b, wlExportSize)
		b.ReportAllocs()
		var n int
		for b.Loop() {
			data, err := f.e.Export()
			if err != nil {
				b.Fatal(err)
			}
			if len(data) == 0 {
				b.Fatal("empty export")
			}
			n = len(data)
		}
		b.ReportMetric(float64(n), "bundle-bytes")
	})
}

// BenchmarkImport restores an exported 100k data source state into a new engine
// and checks a sample of decisions against the original.
func BenchmarkImport(b *testing.B) {
	b.Run(wlExportSize.String(), func(b *testing.B) {
		f := wlFixtureFor(b, wlExportSize)
		data, err := f.e.Export()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			e := engine.New()
			if err := e.Import(data); err != nil {
				b.Fatal(err)
			}
			r := &f.reqs[i&(wlRequests-1)]
			if g := e.Decide(r.UserID, r.DataSourceID).Grant; g != f.want[i&(wlRequests-1)] {
				b.Fatalf("imported engine grants %v, the original %v", g, f.want[i&(wlRequests-1)])
			}
		}
	})
}
