package rule_test

import (
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// policy builds a subscription policy with the given action.
func policy(id int64, a model.Action) *model.Policy {
	return &model.Policy{ID: id, Key: "p", Name: "p", Type: model.PolicySubscription, Action: a}
}

// entitled builds an entitlements policy.
func entitled(op model.Operator, groups []string, attrs []model.Attribute, advanced string) *model.Policy {
	var e *model.Entitlements
	if len(groups) > 0 || len(attrs) > 0 {
		e = &model.Entitlements{Operator: op, Groups: groups, Attributes: attrs}
	}
	return policy(1, model.Action{Type: model.ActionEntitlements, Entitlements: e, Advanced: advanced})
}

// advancedPolicy builds an entitlements policy with only an advanced expression.
func advancedPolicy(expr string) *model.Policy { return entitled("", nil, nil, expr) }

// attrs builds a model.Attribute list from name, value pairs.
func attrs(kv ...string) []model.Attribute {
	out := make([]model.Attribute, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, model.Attribute{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// directory is the groups of the tests: finance members inherit dept=finance and
// clearance=secret; analysts inherit region=emea.
var directory = map[string]*model.Group{
	"finance":    {ID: 1, Name: "finance", Attributes: map[string][]string{"dept": {"finance"}, "clearance": {"secret"}}},
	"analysts":   {ID: 2, Name: "analysts", Attributes: map[string][]string{"region": {"emea"}}},
	"eng":        {ID: 3, Name: "eng"},
	"Discovered": {ID: 4, Name: "Discovered"},
}

// subject builds a Subject from groups and attribute name, value pairs.
func subject(groups []string, kv ...string) *rule.Subject {
	u := &model.User{ID: 7, Name: "u", Groups: groups, Attributes: map[string][]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		u.Attributes[kv[i]] = append(u.Attributes[kv[i]], kv[i+1])
	}
	return rule.NewSubject(u, directory)
}
