package entitlement_test

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/entitlement"
	"github.com/tollgate-dev/tollgate/model"
)

func Example() {
	// An entitlements policy: members of finance, or holders of dept=finance, whose
	// access attribute covers the data source's server, database and schema, and who
	// are not contractors.
	p := &model.Policy{ID: 1, Key: "finance", Name: "Finance", Type: model.PolicySubscription,
		Action: model.Action{
			Type:         model.ActionEntitlements,
			Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}, Attributes: []model.Attribute{{Name: "dept", Value: "finance"}}},
			Advanced:     "@hasAttribute('access', '@hostname.@database.@schema') AND NOT @isInGroups('contractors')",
		}}
	rule, err := entitlement.Compile(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	groups := map[string]*model.Group{"finance": {Name: "finance", Attributes: map[string][]string{"access": {"db9.*.public"}}}}
	alice := entitlement.NewSubject(&model.User{ID: 1, Groups: []string{"finance"}}, groups)
	bob := entitlement.NewSubject(&model.User{ID: 2, Attributes: map[string][]string{"dept": {"finance"}}}, groups)
	orders := entitlement.NewResource(&model.DataSource{ID: 9, Server: "db9", Database: "sales", Schema: "public", Table: "orders"})

	for _, s := range []*entitlement.Subject{alice, bob} {
		v := rule.Evaluate(s, orders)
		fmt.Printf("user %d: %s (%s)\n", s.ID, v.Outcome, v.Reason)
	}

	_, err = entitlement.Compile(&model.Policy{Type: model.PolicySubscription,
		Action: model.Action{Type: model.ActionEntitlements, Advanced: "@noSuchFunction('x')"}})
	fmt.Println(err)
	// Output:
	// user 1: satisfied (group "finance"; advanced expression true)
	// user 2: unsatisfied (advanced expression false)
	// actions.advanced: position 1: unknown function @noSuchFunction
}

func ExampleMergeLevel() {
	items := []entitlement.Item{
		{PolicyID: 2, Outcome: entitlement.NeedsApproval, Approvals: []model.Approval{{RequiredPermission: model.Governance}}},
		{PolicyID: 1, Outcome: entitlement.Satisfied, Automatic: true},
	}
	r := entitlement.MergeLevel(items)
	fmt.Println(r.Outcome, r.Automatic, r.Slots[0].RequiredPermission, r.SlotPolicies)
	// Output: needs approval false GOVERNANCE [2]
}
