package benchmarks_test

import (
	"testing"
)

// BenchmarkMemory reports the live heap of a loaded engine: in total, in MiB and
// per data source, measured with runtime.GC and runtime.ReadMemStats before
// generating the workload and after loading it (with the workload's own data
// sources and users dropped), and how long loading took. The state is the one the
// other benchmarks of the size share, so it is built once; ns/op is meaningless.
func BenchmarkMemory(b *testing.B) {
	for _, s := range []wlSize{
		{policies: 1_000, dataSources: 100_000, users: 10_000},
		{policies: 10_000, dataSources: 1_000_000, users: 100_000},
	} {
		b.Run(s.String(), func(b *testing.B) {
			f := wlFixtureFor(b, s)
			for b.Loop() {
			}
			b.ReportMetric(float64(f.heapBytes), "heap-bytes")
			b.ReportMetric(float64(f.heapBytes)/(1<<20), "heap-MiB")
			b.ReportMetric(float64(f.heapBytes)/float64(s.dataSources), "heap-bytes/dataSource")
			b.ReportMetric(f.load.Seconds(), "load-s")
		})
	}
}
