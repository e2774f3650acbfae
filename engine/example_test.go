package engine_test

import (
	"fmt"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// The main flow: a directory, a data source, a policy, a decision.
func Example() {
	e := engine.New(engine.WithClock(func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }))
	_ = e.PutUsers(engine.SystemActor(), []*model.User{
		{ID: 1, Name: "Ana", Groups: []string{"finance"}},
		{ID: 2, Name: "Ben"},
	})
	_ = e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 10, Name: "payments", Tags: []string{"Finance.Payments"}})

	policy, err := model.DecodePolicy([]byte(`
name: Finance reads finance data
policyKey: finance-read
type: subscription
actions:
  type: entitlements
  automaticSubscription: true
  entitlements: {operator: any, groups: [finance]}
circumstances:
  - type: tags
    tag: Finance
`), model.DefaultLimits())
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, _, err := e.CreatePolicy(engine.SystemActor(), policy, engine.WriteOptions{}); err != nil {
		fmt.Println(err)
		return
	}
	for _, user := range []int64{1, 2} {
		d := e.Decide(user, 10)
		fmt.Println(user, d.Grant, d.Read)
	}
	// Output:
	// 1 READ subscribed
	// 2 NONE none
}

// A dry run reports the impact of a policy and stores nothing.
func ExampleEngine_CreatePolicy_dryRun() {
	e := engine.New()
	_ = e.PutUsers(engine.SystemActor(), []*model.User{{ID: 1, Name: "Ana"}})
	_ = e.PutDataSources(engine.SystemActor(), []*model.DataSource{
		{ID: 10, Name: "payments", Tags: []string{"Finance"}},
		{ID: 11, Name: "campaigns", Tags: []string{"Marketing"}},
	})
	p := &model.Policy{Key: "anyone-finance", Name: "Anyone reads finance", Type: model.PolicySubscription,
		Action:        model.Action{Type: model.ActionAnyone, AccessGrant: model.Read, AutomaticSubscription: true},
		Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: "Finance"}}}
	_, impact, err := e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{DryRun: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("added:", impact.DataSourcesAdded)
	for _, u := range impact.Users {
		fmt.Printf("user %d on %d: %s -> %s\n", u.ProfileID, u.DataSourceID, u.Before, u.After)
	}
	fmt.Println("stored policies:", len(e.Snapshot().Policies()))
	// Output:
	// added: [10]
	// user 1 on 10: NONE -> READ
	// stored policies: 0
}
