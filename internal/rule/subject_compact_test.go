package rule_test

import (
	"testing"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// TestCompactSubjectsAnswerAsMaps: a subject built with an Interner keeps its
// groups, attributes and permissions in sorted slices; every question and every
// advanced function answers as for the map-based subject of NewSubject.
func TestCompactSubjectsAnswerAsMaps(t *testing.T) {
	t.Parallel()
	groups := []string{"Discovered", "Discovered.Healthcare NPI", "eng", "finance", "PII", "x"}
	values := []string{"PII", "Discovered", "Sensitive", "eng", "finance", "db9.sales.*", "db9.*.public", "secret"}
	names := []string{"tags", "dept", "access", "clearance"}
	perms := []model.Permission{model.Governance, model.Audit, model.UserAdmin}
	exprs := []string{
		"@hasTagAsAttribute('tags', 'dataSource')", "@hasTagAsAttribute('tags', 'column')",
		"@hasTagAsAttribute('dept', 'dataSource')", "@hasTagAsGroup('dataSource')", "@hasTagAsGroup('column')",
		"@hasAttribute('access', '@hostname.@database.@schema')", "@hasAttribute('dept', 'eng')",
		"@isInGroups('eng', 'finance')", "@hasAttribute('clearance', 'secret') OR @isInGroups('x')",
	}
	res := rule.NewResource(&model.DataSource{ID: 1, Server: "db9", Database: "sales", Schema: "public", Table: "orders",
		Tags:    []string{"Discovered.Healthcare NPI", "PII", "finance.q1"},
		Columns: []model.Column{{Name: "c", Tags: []string{"Sensitive.Internal", "Public"}}}})
	in := rule.NewInterner()
	type compiled struct{ plain, interned *rule.Rule }
	var rules []compiled
	for _, x := range exprs {
		plain, err := rule.Compile(advancedPolicy(x))
		require.NoError(t, err, x)
		interned, err := rule.Compile(advancedPolicy(x), rule.WithInterner(in))
		require.NoError(t, err, x)
		rules = append(rules, compiled{plain, interned})
	}
	pick := func(from []string) gopter.Gen {
		return gen.SliceOfN(3, gen.IntRange(0, len(from)-1)).Map(func(ix []int) []string {
			var out []string
			for _, i := range ix {
				out = append(out, from[i])
			}
			return out
		})
	}
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 300
	props := gopter.NewProperties(params)
	props.Property("compact = maps", prop.ForAll(func(gs, vs []string, permBits uint8) string {
		u := &model.User{ID: 3, Name: "u", Groups: gs, Attributes: map[string][]string{}}
		for i, v := range vs {
			u.Attributes[names[i%len(names)]] = append(u.Attributes[names[i%len(names)]], v)
		}
		for i, p := range perms {
			if permBits&(1<<i) != 0 {
				u.Permissions = append(u.Permissions, p)
			}
		}
		want, got := rule.NewSubject(u, directory), in.Subject(u, directory)
		for _, g := range append(groups, "missing") {
			if want.InGroup(g) != got.InGroup(g) {
				return "InGroup " + g
			}
		}
		for _, n := range names {
			for _, v := range values {
				if want.HasAttribute(n, v) != got.HasAttribute(n, v) {
					return "HasAttribute " + n + "=" + v
				}
			}
		}
		for _, p := range perms {
			if want.HasPermission(p) != got.HasPermission(p) {
				return "HasPermission " + string(p)
			}
		}
		for i, r := range rules {
			w := r.plain.Evaluate(want, res)
			for _, v := range []rule.Verdict{r.plain.Evaluate(got, res), r.interned.Evaluate(got, res), r.interned.Evaluate(want, res)} {
				if v.Outcome != w.Outcome || v.Reason != w.Reason {
					return "Evaluate " + exprs[i]
				}
			}
		}
		return ""
	}, pick(groups), pick(values), gen.UInt8()))
	props.TestingRun(t)
}
