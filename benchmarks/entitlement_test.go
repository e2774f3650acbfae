package benchmarks_test

import (
	"strconv"
	"testing"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// groupsRule compiles an all-rule over n groups and returns it with a subject that
// is a member of every one (so every condition is checked).
func groupsRule(b *testing.B, n int) (*rule.Rule, *rule.Subject) {
	b.Helper()
	groups := make([]string, n)
	for i := range groups {
		groups[i] = "group-" + strconv.Itoa(i)
	}
	p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: model.Action{
		Type:         model.ActionEntitlements,
		Entitlements: &model.Entitlements{Operator: model.All, Groups: groups},
	}}
	in := rule.NewInterner()
	r, err := rule.Compile(p, rule.WithInterner(in))
	if err != nil {
		b.Fatal(err)
	}
	user := &model.User{ID: 1, Groups: append(groups, "other-a", "other-b"),
		Attributes: map[string][]string{"dept": {"eng"}}}
	return r, in.Subject(user, nil)
}

func BenchmarkEntitlement(b *testing.B) {
	res := rule.NewResource(&model.DataSource{ID: 1, Tags: []string{"PII"}})
	for _, n := range []int{1, 10, 100} {
		b.Run("groups="+strconv.Itoa(n), func(b *testing.B) {
			r, s := groupsRule(b, n)
			b.ReportAllocs()
			for b.Loop() {
				if v := r.Evaluate(s, res); v.Outcome != rule.Satisfied {
					b.Fatalf("outcome %v", v.Outcome)
				}
			}
		})
	}
}

// BenchmarkEntitlementMixed judges a typical all-rule of two groups and two
// attribute pairs, the second attribute inherited from a group.
func BenchmarkEntitlementMixed(b *testing.B) {
	p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: model.Action{
		Type: model.ActionEntitlements,
		Entitlements: &model.Entitlements{Operator: model.All, Groups: []string{"finance", "analysts"},
			Attributes: []model.Attribute{{Name: "dept", Value: "finance"}, {Name: "region", Value: "emea"}}},
	}}
	in := rule.NewInterner()
	r, err := rule.Compile(p, rule.WithInterner(in))
	if err != nil {
		b.Fatal(err)
	}
	s := in.Subject(&model.User{ID: 1, Groups: []string{"finance", "analysts", "staff"},
		Attributes: map[string][]string{"dept": {"finance", "ops"}}},
		map[string]*model.Group{"analysts": {Name: "analysts", Attributes: map[string][]string{"region": {"emea"}}}})
	res := rule.NewResource(&model.DataSource{ID: 1})
	b.ReportAllocs()
	for b.Loop() {
		if v := r.Evaluate(s, res); v.Outcome != rule.Satisfied {
			b.Fatalf("outcome %v", v.Outcome)
		}
	}
}

func BenchmarkEntitlementParallel(b *testing.B) {
	res := rule.NewResource(&model.DataSource{ID: 1})
	r, s := groupsRule(b, 10)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if v := r.Evaluate(s, res); v.Outcome != rule.Satisfied {
				b.Errorf("outcome %v", v.Outcome)
				return
			}
		}
	})
}

// typicalAdvanced is a typical advanced expression: an attribute with variables and
// a wildcard, a group test and a hierarchical tag test.
const typicalAdvanced = "@hasAttribute('access', '@hostname.@database.@schema') AND NOT @isInGroups('contractors') " +
	"AND (@hasTagAsAttribute('clearance', 'dataSource') OR @isInGroups('admins'))"

func BenchmarkAdvanced(b *testing.B) {
	p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: model.Action{
		Type: model.ActionEntitlements, Advanced: typicalAdvanced,
	}}
	r, err := rule.Compile(p)
	if err != nil {
		b.Fatal(err)
	}
	s := rule.NewSubject(&model.User{ID: 1, Groups: []string{"analysts", "finance"},
		Attributes: map[string][]string{"access": {"db1.*.*", "db9.sales.*"}, "clearance": {"Confidential"}}}, nil)
	res := rule.NewResource(&model.DataSource{ID: 1, Server: "db9", Database: "sales", Schema: "public", Table: "orders",
		Tags: []string{"Finance", "Confidential.PII"}})
	b.ReportAllocs()
	for b.Loop() {
		if v := r.Evaluate(s, res); v.Outcome != rule.Satisfied || v.Err != nil {
			b.Fatalf("outcome %v, err %v", v.Outcome, v.Err)
		}
	}
}
