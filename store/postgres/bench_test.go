package postgres_test

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
	"github.com/tollgate-dev/tollgate/store/postgres/pgtest"
	"github.com/tollgate-dev/tollgate/store/storetest"
)

// BenchmarkReplicas measures, for 1 and 3 writing instances on one PostgreSQL
// database (each engine on its own connection pool, following the others with
// LISTEN/NOTIFY and polling): acknowledged writes per second with 8 concurrent
// writers spread over the instances (each write puts one user, so every write is
// a commit); the replication lag from a write's start on one instance to its
// publication on another (p50, p99, over every instance that did not write it,
// plus one read-only follower); and the latency of Decide on that follower while
// the load runs (bursts of 200 every 2 ms). One op is one acknowledged write.
func BenchmarkReplicas(b *testing.B) {
	for _, instances := range []int{1, 3} {
		b.Run(fmt.Sprintf("instances=%d", instances), func(b *testing.B) { benchReplicas(b, instances) })
	}
}

func benchReplicas(b *testing.B, instances int) {
	dsn := pgtest.Schema(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// instances writing engines, then the read-only follower.
	engines := make([]*engine.Engine, instances+1)
	var lagMu sync.Mutex
	var lags []time.Duration
	for i := range engines {
		me := i
		cb := engine.WithChangeCallback(func(c engine.Change) {
			if w := storetest.WorkerOf(c.Actor); w < 0 || w%instances == me {
				return // the seed, or a write of this instance
			}
			d := time.Since(c.Time)
			lagMu.Lock()
			lags = append(lags, d)
			lagMu.Unlock()
		})
		e, err := engine.Open(ctx, open(b, dsn), cb)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		engines[i] = e
	}
	if err := engines[0].ApplyBundle(storetest.Seed()); err != nil {
		b.Fatal(err)
	}
	var follow sync.WaitGroup
	for _, e := range engines {
		follow.Add(1)
		go func() { defer follow.Done(); _ = e.Follow(ctx, time.Second) }()
	}
	defer follow.Wait()
	defer cancel()
	follower := engines[instances]
	for _, e := range engines {
		if _, err := e.WaitRevision(ctx, engines[0].Snapshot().Revision()); err != nil {
			b.Fatal(err)
		}
	}
	lagMu.Lock()
	lags = lags[:0]
	lagMu.Unlock()

	// Decisions on the follower while the writers run.
	var decisions, decideNanos atomic.Int64
	stopDecide := make(chan struct{})
	decided := make(chan struct{})
	go func() {
		defer close(decided)
		users := []int64{storetest.Requester(0, 0), storetest.Requester(1, 1), 500, 501}
		// Bursts of 200 decisions every 2 ms: a steady read load that leaves the
		// writers their share of the 2 cores.
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopDecide:
				return
			case <-tick.C:
			}
			start := time.Now()
			for i := 0; i < 200; i++ {
				s := follower.Snapshot()
				_ = s.Decide(users[i%len(users)], int64(1+i%20))
			}
			decideNanos.Add(int64(time.Since(start)))
			decisions.Add(200)
		}
	}()

	var next, failed atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < storetest.Workers; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			e := engines[g%instances]
			for {
				n := next.Add(1)
				if n > int64(b.N) {
					return
				}
				u := &model.User{ID: 10_000 + n, Name: fmt.Sprintf("bench-%d", n)}
				if err := e.PutUser(engine.As(storetest.Governor(g)), u); err != nil {
					failed.Add(1)
				}
			}
		}(g)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(stopDecide)
	<-decided
	// Let every instance catch up, so the lags of the last writes count.
	var last int64
	for _, e := range engines[:instances] {
		last = max(last, e.Snapshot().Revision())
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	for _, e := range engines {
		if _, err := e.WaitRevision(wctx, last); err != nil {
			b.Fatal(err)
		}
	}
	if f := failed.Load(); f > 0 {
		b.Fatalf("%d of %d writes failed", f, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
	lagMu.Lock()
	sort.Slice(lags, func(i, j int) bool { return lags[i] < lags[j] })
	if len(lags) > 0 {
		b.ReportMetric(float64(lags[len(lags)/2].Microseconds())/1000, "lag-p50-ms")
		b.ReportMetric(float64(lags[len(lags)*99/100].Microseconds())/1000, "lag-p99-ms")
	}
	lagMu.Unlock()
	if d := decisions.Load(); d > 0 {
		b.ReportMetric(float64(decideNanos.Load())/float64(d), "follower-decide-ns")
	}
	// Decide on the follower's snapshot (built by applying the others' log
	// entries) allocates nothing.
	s := follower.Snapshot()
	if allocs := testing.AllocsPerRun(1000, func() { _ = s.Decide(storetest.Requester(0, 0), 3) }); allocs != 0 {
		b.Fatalf("Decide on a follower allocates %v times", allocs)
	}
}
