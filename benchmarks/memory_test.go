package benchmarks_test

import (
	"math/rand/v2"
	"strconv"
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

// BenchmarkHostMemoryLatency measures the host, not the engine: loads that each
// depend on the one before, at random places in 1 GiB, as a decision on the 1M
// state makes (two in a row: the data source's map slot, then its state). "all"
// cycles through the whole GiB, so every load misses the caches and the TLB;
// "12288" cycles through 12,288 places (about the cache lines BenchmarkDecide's
// 4,096 requests touch at 1M data sources), which the caches can hold but the TLB
// cannot. The machines these benchmarks run on change speed from minute to minute;
// run it beside BenchmarkDecide to see how much of a change is the host's (see
// RESULTS.md). Needs -large.
func BenchmarkHostMemoryLatency(b *testing.B) {
	if testing.Short() || !*largeFlag {
		b.Skip("allocates 1 GiB: needs -large (and is skipped with -short)")
	}
	const n = 1 << 27 // 8-byte entries: 1 GiB
	next := make([]uint64, n)
	r := rand.New(rand.NewPCG(1, 2))
	for _, places := range []int{n, 12288} {
		name := "all"
		if places < n {
			name = strconv.Itoa(places)
		}
		// A random cycle through places entries spread over the array (Sattolo's
		// shuffle of their order).
		at := make([]uint64, places)
		if places == n {
			for i := range at {
				at[i] = uint64(i)
			}
		} else {
			seen := make(map[uint64]bool, places)
			for i := range at {
				x := r.Uint64N(n/8) * 8 // distinct places, one per cache line at most
				for seen[x] {
					x = r.Uint64N(n/8) * 8
				}
				seen[x], at[i] = true, x
			}
		}
		for i := places - 1; i > 0; i-- {
			j := r.IntN(i)
			at[i], at[j] = at[j], at[i]
		}
		for i := range at {
			next[at[i]] = at[(i+1)%places]
		}
		b.Run(name, func(b *testing.B) {
			p := at[0]
			for b.Loop() {
				p = next[p]
			}
			if p >= n {
				b.Fatal("index out of range") // keeps p live
			}
		})
	}
}
