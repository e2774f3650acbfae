package benchmarks_test

import (
	"flag"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/benchmarks"
	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// wlSize is one benchmark size: a workload and the engine it is loaded into.
type wlSize struct {
	policies, dataSources, users int
}

func (s wlSize) String() string {
	return fmt.Sprintf("policies=%d/dataSources=%d", s.policies, s.dataSources)
}

// large reports whether the size needs -large (and is skipped under -short).
func (s wlSize) large() bool { return s.dataSources > 100_000 }

// largeFlag enables the sizes over 100,000 data sources: building the 1M data
// source state takes about a minute and 2 GiB, too much for the CI smoke run.
var largeFlag = flag.Bool("large", false, "also run the sizes over 100,000 data sources (the 1M state: about a minute and 2 GiB to build)")

// The sizes of BenchmarkDecide; the largest is the 1M data sources / 10k policies /
// 100k users state of the goals.
var wlDecideSizes = []wlSize{
	{policies: 100, dataSources: 10_000, users: 1_000},
	{policies: 1_000, dataSources: 100_000, users: 10_000},
	{policies: 10_000, dataSources: 1_000_000, users: 100_000},
}

const (
	wlSeed     = 20260101
	wlRequests = 4096 // a power of two: the loops cycle with a mask
)

// wlFixture is a loaded engine, built once per size and shared by every benchmark
// of that size. Benchmarks that write restore what they changed.
type wlFixture struct {
	once sync.Once
	err  error

	size wlSize
	// w is the workload, with DataSources and Users dropped after loading (the
	// engine holds what it needs); it still generates new data sources.
	w    *benchmarks.Workload
	e    *engine.Engine
	reqs []benchmarks.Request
	// want is each request's grant, decided once after loading.
	want []engine.Level
	// heapBytes is the live heap the loaded engine added; load how long loading took.
	heapBytes uint64
	load      time.Duration
}

var wlFixtures sync.Map // wlSize -> *wlFixture

// wlFixtureFor returns the loaded engine of size s, building it on first use. It
// skips large sizes under -short.
func wlFixtureFor(b *testing.B, s wlSize) *wlFixture {
	b.Helper()
	if s.large() && (testing.Short() || !*largeFlag) {
		b.Skip("sizes over 100,000 data sources need -large (and are skipped with -short)")
	}
	v, _ := wlFixtures.LoadOrStore(s, &wlFixture{size: s})
	f := v.(*wlFixture)
	f.once.Do(f.build)
	if f.err != nil {
		b.Fatal(f.err)
	}
	return f
}

func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func (f *wlFixture) build() {
	before := liveHeap()
	w := benchmarks.Generate(benchmarks.Config{
		Seed: wlSeed, DataSources: f.size.dataSources, Policies: f.size.policies, Users: f.size.users,
	})
	f.reqs = w.Requests(wlRequests, wlSeed)
	e := engine.New()
	start := time.Now()
	if f.err = w.Load(e); f.err != nil {
		return
	}
	f.load = time.Since(start)
	w.DataSources, w.Users = nil, nil
	if after := liveHeap(); after > before {
		f.heapBytes = after - before
	}
	f.w, f.e = w, e
	f.want = make([]engine.Level, len(f.reqs))
	for i, r := range f.reqs {
		f.want[i] = e.Decide(r.UserID, r.DataSourceID).Grant
	}
}

// grantedShare is the share of the sample that is granted READ or WRITE.
func (f *wlFixture) grantedShare() float64 {
	n := 0
	for _, g := range f.want {
		if g != engine.LevelNone {
			n++
		}
	}
	return float64(n) / float64(len(f.want))
}

// tagPolicy is an automatic entitlements policy for group g1 on a tags circumstance.
func tagPolicy(key, tag string) *model.Policy {
	return &model.Policy{
		Key:                  key,
		Name:                 key,
		Type:                 model.PolicySubscription,
		CircumstanceOperator: model.Any,
		Dialect:              model.DialectV2,
		Circumstances:        []model.Circumstance{{Type: model.CircumstanceTags, Tag: tag}},
		Action: model.Action{
			Type:                  model.ActionEntitlements,
			AccessGrant:           model.Read,
			AutomaticSubscription: true,
			Entitlements:          &model.Entitlements{Operator: model.Any, Groups: []string{"g1"}},
		},
	}
}
