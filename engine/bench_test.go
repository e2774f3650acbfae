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
