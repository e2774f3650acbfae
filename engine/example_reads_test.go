package engine_test

import (
	"errors"
	"fmt"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// exampleEngine: Ana (finance) and Ben, data sources 10 (Finance) and 11
// (Marketing), and a policy letting the finance group read finance data.
func exampleEngine() *engine.Engine {
	e := engine.New()
	sys := engine.SystemActor()
	_ = e.PutGroups(sys, []*model.Group{{ID: 1, Name: "finance"}})
	_ = e.PutUsers(sys, []*model.User{
		{ID: 1, Name: "Ana", Groups: []string{"finance"}},
		{ID: 2, Name: "Ben"},
		{ID: 3, Name: "Gia", Permissions: []model.Permission{model.Governance}},
	})
	_ = e.PutDataSources(sys, []*model.DataSource{
		{ID: 10, Name: "payments", Tags: []string{"Finance.Payments"}},
		{ID: 11, Name: "campaigns", Tags: []string{"Marketing"}},
	})
	_, _, _ = e.CreatePolicy(sys, &model.Policy{Key: "finance-read", Name: "Finance reads finance data",
		Type: model.PolicySubscription,
		Action: model.Action{Type: model.ActionEntitlements, AutomaticSubscription: true,
			Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}}},
		Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: "Finance"}}}, engine.WriteOptions{})
	return e
}

// Every read is a method of Snapshot: one snapshot answers several questions
// consistently, with no lock.
func ExampleSnapshot() {
	s := exampleEngine().Snapshot()
	p, _ := s.PolicyByKey("finance-read")
	fmt.Println("policy", p.ID, p.Name)
	g, _ := s.GroupByName("finance")
	fmt.Println("group", g.ID, g.Name)
	fmt.Println("Ana reads", s.DataSourcesFor(1, engine.LevelRead))
	fmt.Println("readers of 10", s.UsersFor(10, engine.LevelRead))
	d := s.Decide(2, 10)
	fmt.Println("Ben on 10:", d.Grant, d.Read)
	for _, r := range s.Decide(1, 10).Reasons() {
		if r.Kind == engine.ReasonPolicy {
			fmt.Println("Ana on 10 because", r.PolicyKey, r.Outcome)
		}
	}
	// Output:
	// policy 1 Finance reads finance data
	// group 1 finance
	// Ana reads [10]
	// readers of 10 [1]
	// Ben on 10: NONE none
	// Ana on 10 because finance-read satisfied
}

// CheckPolicy reports every problem of a policy without storing it.
func ExampleEngine_CheckPolicy() {
	e := exampleEngine()
	err := e.CheckPolicy(&model.Policy{Key: "bad", Name: "Bad", Type: model.PolicySubscription,
		Action:        model.Action{Type: model.ActionEntitlements, Advanced: "@isInGroups('a') AND"},
		Circumstances: []model.Circumstance{{Type: model.CircumstanceColumnRegex, Regex: "(ssn"}}})
	for _, fe := range model.Errors(err) {
		fmt.Println(fe.Path, fe.Code)
	}
	fmt.Println("stored policies:", len(e.Snapshot().Policies()))
	// Output:
	// circumstances[0].regex compile
	// actions.advanced compile
	// stored policies: 1
}

// Access without a State is a request by the actor; with a State it is a manual
// grant by an owner or a GOVERNANCE user.
func ExampleEngine_Access() {
	e := exampleEngine()
	rec, err := e.Access(engine.As(3), 11, engine.AccessRequest{ProfileID: 2, State: model.RecordSubscribed})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("record", rec.ID, rec.State, "for", rec.Profile)
	d := e.Decide(2, 11)
	fmt.Println("Ben on 11:", d.Grant, d.Read)

	_, err = e.Access(engine.As(2), 10, engine.AccessRequest{})
	fmt.Println("Ben may not request 10:", errors.Is(err, engine.ErrForbidden))
	// Output:
	// record 1 subscribed for 2
	// Ben on 11: READ subscribed
	// Ben may not request 10: true
}
