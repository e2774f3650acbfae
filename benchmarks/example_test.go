package benchmarks_test

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/benchmarks"
	"github.com/tollgate-dev/tollgate/engine"
)

// Generate a small workload, load it into an engine and decide a sample of requests.
func ExampleGenerate() {
	w := benchmarks.Generate(benchmarks.Config{Seed: 1, DataSources: 1000, Policies: 50, Users: 100})
	fmt.Println(len(w.Groups), "groups,", len(w.Users), "users,", len(w.DataSources), "data sources,", len(w.Policies), "policies")
	fmt.Println(w.DataSources[0].Name, w.Policies[0].Key)

	e := engine.New()
	if err := w.Load(e); err != nil {
		fmt.Println(err)
		return
	}
	decided := 0
	for _, r := range w.Requests(100, 1) {
		_ = e.Decide(r.UserID, r.DataSourceID)
		decided++
	}
	fmt.Println(decided, "decisions")
	// Output:
	// 10 groups, 100 users, 1000 data sources, 50 policies
	// ds-1 policy-1-tag
	// 100 decisions
}
