package rule

import (
	"strings"
	"testing"

	"cel.dev/cel-go/cel"
	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/gen"
	"github.com/leanovate/gopter/prop"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

// dslAtoms are the calls the expressions of the properties below are made of:
// exact calls (entitlement calls with an Interner), and calls that read the data
// source (never answered by symbols, and costed at run time).
var dslAtoms = []string{
	"@hasAttribute('a', 'x')",
	"@hasAttribute('a', 'y')",
	"@hasAttribute('b', 'x')",
	"@isInGroups('g')",
	"@isInGroups('g', 'h')",
	"@isInGroups('h', 'z')",
	"@hasAttribute('db', '@database')",
	"@hasTagAsGroup('dataSource')",
	"@hasTagAsAttribute('a', 'column')",
}

// genDSL generates an expression of dslAtoms under AND, OR and NOT, depth ≤ 3.
func genDSL(depth int) gopter.Gen {
	atom := gen.IntRange(0, len(dslAtoms)-1).Map(func(i int) string { return dslAtoms[i] })
	if depth == 0 {
		return atom
	}
	sub := genDSL(depth - 1)
	return gen.OneGenOf(
		atom,
		gopter.CombineGens(sub, sub).Map(func(v []any) string { return "(" + v[0].(string) + " AND " + v[1].(string) + ")" }),
		gopter.CombineGens(sub, sub).Map(func(v []any) string { return "(" + v[0].(string) + " OR " + v[1].(string) + ")" }),
		sub.Map(func(s string) string { return "NOT " + s }),
	)
}

// dslCase is an expression, a user's groups and attributes, and whether the rule
// also has entitlements (which the advanced expression is ANDed with).
type dslCase struct {
	expr       string
	groups     []string
	aValues    []string
	bValues    []string
	dbValues   []string
	withGroups bool
}

func genDSLCase() gopter.Gen {
	names := func(alphabet ...any) gopter.Gen { return gen.SliceOfN(2, gen.OneConstOf(alphabet...)) }
	return gopter.CombineGens(genDSL(3), names("g", "h", "z", "PII", "w"), names("x", "y", "PII", "Public"),
		names("x", "y"), names("sales", "db*", "hr"), gen.Bool()).Map(func(v []any) dslCase {
		return dslCase{v[0].(string), v[1].([]string), v[2].([]string), v[3].([]string), v[4].([]string), v[5].(bool)}
	})
}

// TestPropertyAdvancedSymbolsAnswerAsNames: an advanced expression compiled with
// an Interner (its exact calls then test symbols) gives every subject the verdict
// it gives without one, whether the subject is of the same Interner (read through
// Evaluate or through EvaluateSymbols with its symbols), of another one, or of
// none; and a program built without a runtime cost check (its static worst case
// is within the limit) never costs more than that worst case when it runs.
func TestPropertyAdvancedSymbolsAnswerAsNames(t *testing.T) {
	t.Parallel()
	params := gopter.DefaultTestParameters()
	params.MinSuccessfulTests = 400
	props := gopter.NewProperties(params)
	res := NewResource(&model.DataSource{ID: 9, Tags: []string{"PII", "g"}, Database: "sales",
		Columns: []model.Column{{Name: "c", Tags: []string{"x", "Public"}}}})
	env, err := celEnv()
	require.NoError(t, err)
	props.Property("symbols answer as names", prop.ForAll(func(c dslCase) bool {
		p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: model.Action{
			Type: model.ActionEntitlements, Advanced: c.expr, Entitlements: &model.Entitlements{Operator: model.All}}}
		if c.withGroups {
			p.Action.Entitlements.Groups = []string{"g"}
		}
		u := &model.User{ID: 1, Groups: c.groups, Attributes: map[string][]string{"a": c.aValues, "b": c.bValues, "db": c.dbValues}}
		in, other := NewInterner(), NewInterner()
		other.Subject(&model.User{ID: 2, Groups: []string{"z", "h", "w"}}, nil) // numbers names differently
		plain, err := Compile(p)
		if err != nil {
			t.Logf("%s: %v", c.expr, err)
			return false
		}
		sym, err := Compile(p, WithInterner(in))
		if err != nil {
			return false
		}
		if len(sym.adv.ents) == 0 && strings.Contains(sym.CEL(), celHasEntitlement) {
			return false
		}
		want := plain.Evaluate(NewSubject(u, nil), res)
		own := in.Subject(u, nil)
		for _, got := range []Verdict{
			sym.Evaluate(own, res),
			sym.EvaluateSymbols(own, own.Symbols(), res),
			sym.Evaluate(other.Subject(u, nil), res),
			sym.Evaluate(NewSubject(u, nil), res),
		} {
			if got.Outcome != want.Outcome || got.Reason != want.Reason || (got.Err == nil) != (want.Err == nil) {
				t.Logf("%s: got %+v, want %+v", c.expr, got, want)
				return false
			}
		}
		if !sym.adv.bounded {
			return true
		}
		// The same program with the runtime check: its actual cost is within the
		// static bound that let the check go.
		ast, iss := env.Compile(sym.CEL())
		if iss.Err() != nil {
			return false
		}
		bound, err := env.EstimateCost(ast, staticCosts{})
		if err != nil {
			return false
		}
		tracked, err := env.Program(ast, cel.CostLimit(DefaultCostLimit), cel.CostTrackerOptions(costTrackers...))
		if err != nil {
			return false
		}
		act := &activation{}
		act.ctx = subjectCtx{s: own, syms: own.Symbols(), symbols: true, ents: sym.adv.ents}
		act.s, act.r = subjectVal{&act.ctx}, resourceVal{res}
		_, det, err := tracked.Eval(act)
		if err != nil || det.ActualCost() == nil {
			t.Logf("%s: err %v", c.expr, err)
			return false
		}
		if actual := *det.ActualCost(); actual > bound.Max {
			t.Logf("%s: cost %d, bound %d", c.expr, actual, bound.Max)
			return false
		}
		return true
	}, genDSLCase()))
	props.TestingRun(t)
}

// TestAdvancedBoundedOnlyWithinLimit: a program is built without the runtime
// check only when its worst case is within the limit: exact calls are, up to the
// limit; a call that reads the data source never is.
func TestAdvancedBoundedOnlyWithinLimit(t *testing.T) {
	t.Parallel()
	compile := func(expr string, limit uint64) *advanced {
		t.Helper()
		p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: model.Action{
			Type: model.ActionEntitlements, Advanced: expr}}
		r, err := Compile(p, WithInterner(NewInterner()), WithCostLimit(limit))
		require.NoError(t, err)
		return r.adv
	}
	require.True(t, compile("@isInGroups('g') AND NOT @hasAttribute('a', 'x')", 100).bounded)
	many := "@isInGroups(" + strings.Repeat("'g',", 200) + "'g')"
	require.False(t, compile(many, 100).bounded)
	require.True(t, compile(many, DefaultCostLimit).bounded)
	require.False(t, compile("@hasTagAsGroup('dataSource')", DefaultCostLimit).bounded)
	require.False(t, compile("@isInGroups('g') OR @hasAttribute('db', '@database')", DefaultCostLimit).bounded)
}

// TestAdvancedEntitlementCalls: with an Interner, the exact calls become
// entitlement calls numbered in order, each naming its group or pair and that
// name's symbol; calls with a variable or on tags keep their form.
func TestAdvancedEntitlementCalls(t *testing.T) {
	t.Parallel()
	in := NewInterner()
	p := &model.Policy{ID: 1, Key: "k", Name: "n", Type: model.PolicySubscription, Action: model.Action{
		Type: model.ActionEntitlements,
		Advanced: `@isInGroups('a', 'b"') AND NOT (@hasAttribute('x', 'y') OR @hasAttribute('h', '@hostname')) ` +
			`OR @hasTagAsGroup('column')`}}
	r, err := Compile(p, WithInterner(in))
	require.NoError(t, err)
	require.Equal(t, `(((hasEntitlement(subject, 0) && hasEntitlement(subject, 1)) && `+
		`!(hasEntitlement(subject, 2) || hasAttributeExpanded(subject, resource, "h", "@hostname"))) || `+
		`hasTagAsGroup(subject, resource, "column"))`, r.CEL())
	require.Equal(t, []entitlementRef{
		{sym: in.groupSymbol("a"), group: true, name: "a"},
		{sym: in.groupSymbol(`b"`), group: true, name: `b"`},
		{sym: in.pairSymbol(pairKey("x", "y")), name: "x", value: "y"},
	}, r.adv.ents)
}
