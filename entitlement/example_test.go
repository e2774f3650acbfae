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
	r, err := entitlement.Compile(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	groups := map[string]*model.Group{"finance": {Name: "finance", Attributes: map[string][]string{"access": {"db9.*.public"}}}}
	orders := &model.DataSource{ID: 9, Server: "db9", Database: "sales", Schema: "public", Table: "orders"}
	for _, u := range []*model.User{
		{ID: 1, Groups: []string{"finance"}},
		{ID: 2, Attributes: map[string][]string{"dept": {"finance"}}},
	} {
		v := r.Evaluate(u, groups, orders)
		fmt.Printf("user %d: %s (%s)\n", u.ID, v.Outcome, v.Reason)
	}

	_, err = entitlement.Compile(&model.Policy{Type: model.PolicySubscription,
		Action: model.Action{Type: model.ActionEntitlements, Advanced: "@noSuchFunction('x')"}})
	fmt.Println(err)
	// Output:
	// user 1: satisfied (group "finance"; advanced expression true)
	// user 2: unsatisfied (advanced expression false)
	// actions.advanced: position 1: unknown function @noSuchFunction
}
