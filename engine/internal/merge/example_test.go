package merge_test

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/engine/internal/merge"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

func ExampleMergeLevel() {
	items := []merge.Item{
		{PolicyID: 2, Outcome: rule.NeedsApproval, Approvals: []model.Approval{{RequiredPermission: model.Governance}}},
		{PolicyID: 1, Outcome: rule.Satisfied, Automatic: true},
	}
	r := merge.MergeLevel(items)
	fmt.Println(r.Outcome, r.Automatic, r.Slots[0].RequiredPermission, r.SlotPolicies)
	// Output: needs approval false GOVERNANCE [2]
}
