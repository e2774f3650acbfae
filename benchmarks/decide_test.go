package benchmarks_test

import (
	"sync/atomic"
	"testing"
)

// BenchmarkDecide measures one decision on a loaded engine, cycling through a
// precomputed sample of (user, data source) pairs and checking each answer against
// the one decided before timing.
func BenchmarkDecide(b *testing.B) {
	for _, s := range wlDecideSizes {
		b.Run(s.String(), func(b *testing.B) {
			f := wlFixtureFor(b, s)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				r := &f.reqs[i&(wlRequests-1)]
				if g := f.e.Decide(r.UserID, r.DataSourceID).Grant; g != f.want[i&(wlRequests-1)] {
					b.Fatalf("request %d: grant %v, want %v", i, g, f.want[i&(wlRequests-1)])
				}
				i++
			}
			b.ReportMetric(f.grantedShare(), "granted-share")
		})
	}
}

// BenchmarkDecideParallel is BenchmarkDecide from GOMAXPROCS goroutines at once.
func BenchmarkDecideParallel(b *testing.B) {
	for _, s := range wlDecideSizes {
		b.Run(s.String(), func(b *testing.B) {
			f := wlFixtureFor(b, s)
			b.ReportAllocs()
			var next atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(997))
				for pb.Next() {
					r := &f.reqs[i&(wlRequests-1)]
					if g := f.e.Decide(r.UserID, r.DataSourceID).Grant; g != f.want[i&(wlRequests-1)] {
						b.Errorf("request %d: grant %v, want %v", i, g, f.want[i&(wlRequests-1)])
						return
					}
					i++
				}
			})
		})
	}
}
