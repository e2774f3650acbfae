package engine_test

import (
	"testing"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// BenchmarkDecideHot measures one decision on a tiny, cache-resident engine: the
// cost of the decision path itself, without memory latency.
func BenchmarkDecideHot(b *testing.B) {
	e, _ := world(b)
	create(b, e, v2("fin", model.Action{Type: model.ActionEntitlements, AutomaticSubscription: true,
		Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}}}, tag("Finance")))
	create(b, e, v2("w", model.Action{Type: model.ActionApproval, AccessGrant: model.Write,
		Approvals: []model.Approval{{RequiredPermission: model.Governance}}}, tag("Finance")))
	s := e.Snapshot()
	b.ReportAllocs()
	for b.Loop() {
		if s.Decide(alice, 10).Grant != engine.LevelRead {
			b.Fatal("wrong grant")
		}
	}
}

// BenchmarkChangeLog measures what the change log costs a write of 10,000 data
// sources: putting them new (the log keeps the values, encodes nothing), putting
// them again unchanged (each value compared with the stored one; no revision) and
// putting them with a changed name (each pair encoded to compare). Each iteration
// starts from an engine holding the first put.
func BenchmarkChangeLog(b *testing.B) {
	const n = 10_000
	list := func(name string) []*model.DataSource {
		out := make([]*model.DataSource, n)
		for i := range out {
			out[i] = &model.DataSource{ID: int64(i + 1), Name: name, Owners: []int64{1}, Tags: []string{"Finance", "Finance.PII"},
				Columns: []model.Column{{Name: "amount", Tags: []string{"Finance"}}}, Server: "db.example", CreatedAt: t0}
		}
		return out
	}
	first, again, renamed := list("ds"), list("ds"), list("renamed")
	for _, c := range []struct {
		name string
		put  []*model.DataSource
		base bool
	}{{"new", first, false}, {"again", again, true}, {"changed", renamed, true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				e := engine.New()
				if c.base {
					if err := e.PutDataSources(engine.SystemActor(), first); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				if err := e.PutDataSources(engine.SystemActor(), c.put); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
