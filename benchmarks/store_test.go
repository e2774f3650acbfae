package benchmarks_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/benchmarks"
	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/store/sqlite"
)

// openFileEngine opens an engine on the SQLite file store at path (WAL,
// synchronous=FULL: every acknowledged write is on disk).
func openFileEngine(b *testing.B, path string) *engine.Engine {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	e, err := engine.Open(ctx, st)
	if err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkDurableWrites measures acknowledged writes per second on the file store:
// each operation puts one data source (a new id or a replaced one) and returns only
// once the store committed it to disk. With writers=8 the writes run concurrently
// and the engine commits what is queued in one transaction (group commit).
func BenchmarkDurableWrites(b *testing.B) {
	w := benchmarks.Generate(benchmarks.Config{Seed: wlSeed, DataSources: 1_000, Policies: 100, Users: 100})
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			e := openFileEngine(b, filepath.Join(b.TempDir(), "bench.db"))
			defer e.Close()
			if err := w.Load(e); err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for g := 0; g < writers; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						ds := w.NewDataSource(1 + i%5_000)
						if err := e.PutDataSource(engine.SystemActor(), &ds); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
		})
	}
}

// storeSize is the number of data sources of BenchmarkOpenStore's state (with a
// tenth as many users and a hundredth as many policies): TOLLGATE_BENCH_STORE_SIZE
// when set, else 1,000,000 with -large, 10,000 with -short and 100,000 otherwise.
func storeSize(b *testing.B) int {
	if s := os.Getenv("TOLLGATE_BENCH_STORE_SIZE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			b.Fatalf("TOLLGATE_BENCH_STORE_SIZE=%q: want a number of data sources, at least 100", s)
		}
		return n
	}
	switch {
	case *largeFlag && !testing.Short():
		return 1_000_000
	case testing.Short():
		return 10_000
	}
	return 100_000
}

// BenchmarkOpenStore opens an engine on a file store holding a large state (built
// once, before timing, through ordinary writes): opening loads the current rows,
// it does not replay the log. It reports the live heap of the opened engine and the
// bytes on disk per data source (the whole file: rows and the retained log).
func BenchmarkOpenStore(b *testing.B) {
	n := storeSize(b)
	s := wlSize{dataSources: n, users: max(n/10, 10), policies: max(n/100, 10)}
	b.Run(s.String(), func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "state.db")
		w := benchmarks.Generate(benchmarks.Config{Seed: wlSeed, DataSources: s.dataSources, Policies: s.policies, Users: s.users})
		e := openFileEngine(b, path)
		if err := w.LoadInBatches(e); err != nil {
			b.Fatal(err)
		}
		want := e.Snapshot().Revision()
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
		w = nil
		info, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		var heap uint64
		for range b.N {
			b.StopTimer()
			before := liveHeap()
			b.StartTimer()
			e := openFileEngine(b, path)
			b.StopTimer()
			if e.Snapshot().Revision() != want {
				b.Fatalf("opened at revision %d, want %d", e.Snapshot().Revision(), want)
			}
			if after := liveHeap(); after > before {
				heap = after - before
			}
			if err := e.Close(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		b.ReportMetric(float64(heap)/(1<<20), "MiB-heap")
		b.ReportMetric(float64(info.Size())/float64(s.dataSources), "bytes/dataSource")
	})
}
