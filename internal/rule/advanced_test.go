package rule_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// dsResource is the data source of the DSL tests.
var dsResource = rule.NewResource(&model.DataSource{
	ID:       9,
	Tags:     []string{"Discovered.Healthcare NPI", "PII"},
	Columns:  []model.Column{{Name: "ssn", Tags: []string{"Sensitive.SSN"}}, {Name: "a", Tags: []string{"Public"}}},
	Server:   "db9",
	Database: "sales",
	Schema:   "public",
	Table:    "orders",
})

func TestAdvancedFunctions(t *testing.T) {
	t.Parallel()
	bare := rule.NewResource(&model.DataSource{ID: 10, Server: "db9"})
	cases := []struct {
		name string
		expr string
		user *rule.Subject
		res  *rule.Resource
		want bool
	}{
		// @hasAttribute, exact.
		{"hasAttribute own", "@hasAttribute('dept', 'eng')", subject(nil, "dept", "eng"), dsResource, true},
		{"hasAttribute other value", "@hasAttribute('dept', 'eng')", subject(nil, "dept", "hr"), dsResource, false},
		{"hasAttribute missing", "@hasAttribute('dept', 'eng')", subject(nil), dsResource, false},
		{"hasAttribute inherited from a group", "@hasAttribute('clearance', 'secret')", subject([]string{"finance"}), dsResource, true},
		{"hasAttribute is case-sensitive", "@hasAttribute('dept', 'ENG')", subject(nil, "dept", "eng"), dsResource, false},
		{"hasAttribute double quotes and escapes", `@hasAttribute("dept", "it's \"x\"")`, subject(nil, "dept", `it's "x"`), dsResource, true},
		{"hasAttribute single-quote escape", `@hasAttribute('dept', 'it\'s')`, subject(nil, "dept", "it's"), dsResource, true},
		// @isInGroups: member of all.
		{"isInGroups one", "@isInGroups('eng')", subject([]string{"eng"}), dsResource, true},
		{"isInGroups all of several", "@isInGroups('eng', 'finance')", subject([]string{"eng", "finance"}), dsResource, true},
		{"isInGroups only some", "@isInGroups('eng', 'finance')", subject([]string{"eng"}), dsResource, false},
		{"isInGroups none", "@isInGroups('eng')", subject(nil), dsResource, false},
		// @hasTagAsAttribute.
		{"tagAsAttribute exact data source tag", "@hasTagAsAttribute('tags', 'dataSource')", subject(nil, "tags", "PII"), dsResource, true},
		{"tagAsAttribute parent value covers child tag", "@hasTagAsAttribute('tags', 'dataSource')", subject(nil, "tags", "Discovered"), dsResource, true},
		{"tagAsAttribute full child value", "@hasTagAsAttribute('tags', 'dataSource')", subject(nil, "tags", "Discovered.Healthcare NPI"), dsResource, true},
		{"tagAsAttribute prefix not on a segment", "@hasTagAsAttribute('tags', 'dataSource')", subject(nil, "tags", "Disc"), dsResource, false},
		{"tagAsAttribute child value does not cover parent", "@hasTagAsAttribute('tags', 'dataSource')",
			subject(nil, "tags", "PII.Email"), dsResource, false},
		{"tagAsAttribute column tag is not a data source tag", "@hasTagAsAttribute('tags', 'dataSource')", subject(nil, "tags", "Sensitive"), dsResource, false},
		{"tagAsAttribute column parent", "@hasTagAsAttribute('tags', 'column')", subject(nil, "tags", "Sensitive"), dsResource, true},
		{"tagAsAttribute column exact", "@hasTagAsAttribute('tags', 'column')", subject(nil, "tags", "Public"), dsResource, true},
		{"tagAsAttribute data source tag is not a column tag", "@hasTagAsAttribute('tags', 'column')", subject(nil, "tags", "PII"), dsResource, false},
		{"tagAsAttribute other attribute name", "@hasTagAsAttribute('other', 'dataSource')", subject(nil, "tags", "PII"), dsResource, false},
		{"tagAsAttribute inherited", "@hasTagAsAttribute('dept', 'dataSource')", subject([]string{"finance"}),
			rule.NewResource(&model.DataSource{Tags: []string{"finance.q1"}}), true},
		{"tagAsAttribute no tags", "@hasTagAsAttribute('tags', 'dataSource')", subject(nil, "tags", "PII"), bare, false},
		// @hasTagAsGroup.
		{"tagAsGroup parent group", "@hasTagAsGroup('dataSource')", subject([]string{"Discovered"}), dsResource, true},
		{"tagAsGroup no matching group", "@hasTagAsGroup('dataSource')", subject([]string{"eng"}), dsResource, false},
		{"tagAsGroup column", "@hasTagAsGroup('column')", subject([]string{"Public"}), dsResource, true},
		{"tagAsGroup column does not see data source tags", "@hasTagAsGroup('column')", subject([]string{"PII"}), dsResource, false},
		// Variables and wildcards.
		{"variables expand", "@hasAttribute('access', '@hostname.@database.@schema.@table')",
			subject(nil, "access", "db9.sales.public.orders"), dsResource, true},
		{"variables expand, other value", "@hasAttribute('access', '@hostname.@database.@schema.@table')",
			subject(nil, "access", "db9.sales.public.items"), dsResource, false},
		{"wildcard matches a segment", "@hasAttribute('access', '@hostname.@database.@schema')",
			subject(nil, "access", "db9.sales.*"), dsResource, true},
		{"wildcard in the middle", "@hasAttribute('access', '@hostname.@database.@schema')",
			subject(nil, "access", "db9.*.public"), dsResource, true},
		{"wildcard other prefix", "@hasAttribute('access', '@hostname.@database.@schema')",
			subject(nil, "access", "db9.hr.*"), dsResource, false},
		{"wildcard does not span a dot", "@hasAttribute('access', '@hostname.@database.@schema.@table')",
			subject(nil, "access", "db9.sales.*"), dsResource, false},
		{"partial wildcard matches nothing", "@hasAttribute('access', '@hostname')",
			subject(nil, "access", "db*"), dsResource, false},
		{"partial wildcard segment matches nothing", "@hasAttribute('access', '@hostname.@database')",
			subject(nil, "access", "db9.sa*"), dsResource, false},
		{"one of several values matches", "@hasAttribute('access', '@hostname.@database')",
			subject(nil, "access", "db1.*", "access", "db9.*"), dsResource, true},
		{"wildcards count only with a variable", "@hasAttribute('access', 'db9.sales.public')",
			subject(nil, "access", "db9.sales.*"), dsResource, false},
		{"a literal star without a variable", "@hasAttribute('access', 'db9.*')",
			subject(nil, "access", "db9.*"), dsResource, true},
		{"a whole-value wildcard", "@hasAttribute('access', '@table')", subject(nil, "access", "*"), dsResource, true},
		{"a star in the expected value is literal", "@hasAttribute('access', '@hostname.*')",
			subject(nil, "access", "db9.x"), dsResource, false},
		{"a star in the expected value matches a star", "@hasAttribute('access', '@hostname.*')",
			subject(nil, "access", "db9.*"), dsResource, true},
		{"a missing variable never matches", "@hasAttribute('access', '@hostname.@schema')",
			subject(nil, "access", "db9.*"), bare, false},
		{"a missing variable never matches a wildcard", "@hasAttribute('access', '@schema')",
			subject(nil, "access", "*"), bare, false},
		{"an unknown @word is literal", "@hasAttribute('mail', 'me@example')", subject(nil, "mail", "me@example"), dsResource, true},
		{"a longer @word is literal", "@hasAttribute('x', '@hostnames')", subject(nil, "x", "@hostnames"), dsResource, true},
		{"literal @word with a variable", "@hasAttribute('x', '@foo.@hostname')", subject(nil, "x", "@foo.*"), dsResource, true},
		{"wildcard attribute inherited from a group", "@hasAttribute('region', '@hostname')",
			rule.NewSubject(&model.User{Groups: []string{"g"}}, map[string]*model.Group{"g": {Name: "g", Attributes: map[string][]string{"region": {"*"}}}}),
			dsResource, true},
		// Operators.
		{"AND both", "@isInGroups('eng') AND @hasAttribute('dept', 'eng')", subject([]string{"eng"}, "dept", "eng"), dsResource, true},
		{"AND one", "@isInGroups('eng') AND @hasAttribute('dept', 'eng')", subject([]string{"eng"}), dsResource, false},
		{"OR one", "@isInGroups('eng') OR @hasAttribute('dept', 'eng')", subject(nil, "dept", "eng"), dsResource, true},
		{"OR none", "@isInGroups('eng') OR @hasAttribute('dept', 'eng')", subject(nil), dsResource, false},
		{"NOT", "NOT @isInGroups('eng')", subject(nil), dsResource, true},
		{"NOT NOT", "not not @isInGroups('eng')", subject(nil), dsResource, false},
		{"keywords case-insensitive", "@isInGroups('a') and @isInGroups('b') Or @isInGroups('c')", subject([]string{"c"}), dsResource, true},
		{"AND binds tighter than OR", "@isInGroups('a') OR @isInGroups('b') AND @isInGroups('c')", subject([]string{"a"}), dsResource, true},
		{"parentheses", "(@isInGroups('a') OR @isInGroups('b')) AND @isInGroups('c')", subject([]string{"a"}), dsResource, false},
		{"NOT binds tighter than AND", "NOT @isInGroups('a') AND @isInGroups('b')", subject([]string{"b"}), dsResource, true},
		{"whitespace and newlines", "\n\t@isInGroups( 'a' ,'b' )\n", subject([]string{"a", "b"}), dsResource, true},
		{"nil resource", "@hasTagAsGroup('dataSource') OR @hasAttribute('x', '@hostname')", subject([]string{"PII"}, "x", "*"), nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := rule.Compile(advancedPolicy(tc.expr))
			require.NoError(t, err)
			v := r.Evaluate(tc.user, tc.res)
			require.NoError(t, v.Err)
			want := rule.Unsatisfied
			if tc.want {
				want = rule.Satisfied
			}
			assert.Equal(t, want, v.Outcome, v.Reason)
		})
	}
}

func TestAdvancedSyntaxErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ expr, want string }{
		{"@noSuchFunction('a')", "position 1: unknown function @noSuchFunction"},
		{"@isInGroups('a') AND @hasattribute('a', 'b')", "position 22: unknown function @hasattribute"},
		{"@isInGroups('a'))", `position 17: unexpected token ")"`},
		{"(@isInGroups('a')", `position 18: expected ")" to close "(" at position 1, found end of input`},
		{"@isInGroups('a') AND", "position 21: unexpected end of input, expected a function, NOT or \"(\""},
		{"@isInGroups('a') @isInGroups('b')", `position 18: unexpected token "@isInGroups"`},
		{"@isInGroups('a') && @isInGroups('b')", `position 18: unexpected token "&"`},
		{"@isInGroups('a') XOR @isInGroups('b')", `position 18: unexpected token "XOR"`},
		{"@isInGroups", `position 12: expected "(" after @isInGroups, found end of input`},
		{"@isInGroups()", "position 1: @isInGroups takes at least 1 argument, got 0"},
		{"@isInGroups('a',)", `position 17: unexpected token ")", @isInGroups takes string arguments`},
		{"@isInGroups('a' 'b')", `position 17: unexpected token "'b'", expected "," or ")"`},
		{"@isInGroups(a)", `position 13: unexpected token "a", @isInGroups takes string arguments`},
		{"@isInGroups('a'", "position 16: unexpected end of input in the arguments of @isInGroups"},
		{"@hasAttribute('a')", "position 1: @hasAttribute takes 2 arguments, got 1"},
		{"@hasAttribute('a', 'b', 'c')", "position 1: @hasAttribute takes 2 arguments, got 3"},
		{"@hasTagAsGroup()", "position 1: @hasTagAsGroup takes 1 argument, got 0"},
		{"@hasTagAsGroup('table')", `position 16: @hasTagAsGroup: "table" is not one of dataSource, column`},
		{"@hasTagAsAttribute('a', 'DataSource')", `position 25: @hasTagAsAttribute: "DataSource" is not one of dataSource, column`},
		{"@hasTagAsAttribute('a')", "position 1: @hasTagAsAttribute takes 2 arguments, got 1"},
		{"@hasAttribute('a', 'b)", "position 20: unterminated string"},
		{"@hostname", "position 1: variable @hostname is only allowed inside a string"},
		{"@ isInGroups('a')", `position 1: unexpected token "@"`},
		{"   ", "position 1: empty expression"},
		{"NOT", "position 4: unexpected end of input, expected a function, NOT or \"(\""},
		{"()", `position 2: unexpected token ")"`},
		{"'a'", `position 1: unexpected token "'a'"`},
		// Positions count characters, not bytes.
		{"@hasAttribute('é', 'b') )", `position 25: unexpected token ")"`},
		{"@isInGroups('a') AND \xff", "position 22: invalid UTF-8"},
		{strings.Repeat("(", 51) + "@isInGroups('a')" + strings.Repeat(")", 51), "position 51: expression nested deeper than 50 levels"},
		{strings.Repeat("NOT ", 60) + "@isInGroups('a')", "position 201: expression nested deeper than 50 levels"},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			t.Parallel()
			r, err := rule.Compile(advancedPolicy(tc.expr))
			require.Error(t, err)
			assert.Nil(t, r)
			require.ErrorIs(t, err, model.ErrInvalid)
			list := model.Errors(err)
			require.Len(t, list, 1)
			assert.Equal(t, model.Path("actions.advanced"), list[0].Path)
			assert.Equal(t, model.CodeCompile, list[0].Code)
			assert.Equal(t, tc.want, list[0].Detail)
			assert.Equal(t, "actions.advanced: "+tc.want, err.Error())
		})
	}
}

func TestAdvancedNestingAtTheLimitCompiles(t *testing.T) {
	t.Parallel()
	expr := strings.Repeat("(NOT ", 25) + "@isInGroups('a')" + strings.Repeat(")", 25)
	r, err := rule.Compile(advancedPolicy(expr))
	require.NoError(t, err)
	assert.Equal(t, rule.Satisfied, r.Evaluate(subject(nil), nil).Outcome, "25 NOTs negate 'not in a'")
}

func TestAdvancedLengthLimit(t *testing.T) {
	t.Parallel()
	expr := "@isInGroups(" + strings.Repeat("'g',", 1100) + "'g')" // 4416 characters
	_, err := rule.Compile(advancedPolicy(expr))
	list := model.Errors(err)
	require.Len(t, list, 1)
	assert.Equal(t, model.CodeTooLong, list[0].Code)
	assert.Equal(t, "actions.advanced: has 4416 characters, more than the limit of 4096", list[0].Error())
}

func TestAdvancedCostLimit(t *testing.T) {
	t.Parallel()
	// An adversarial expression within the length limit: 800 memberships, all true,
	// so nothing short-circuits.
	expr := "@isInGroups(" + strings.Repeat("'g',", 800) + "'g')"
	s := subject([]string{"g"})

	r, err := rule.Compile(advancedPolicy(expr), rule.WithCostLimit(100))
	require.NoError(t, err)
	v := r.Evaluate(s, dsResource)
	assert.Equal(t, rule.Unsatisfied, v.Outcome)
	assert.Equal(t, "advanced expression failed", v.Reason)
	require.ErrorIs(t, v.Err, rule.ErrCostLimitExceeded)
	assert.EqualError(t, v.Err, "advanced expression exceeded its cost limit (limit 100)")

	// The default limit lets it run.
	r, err = rule.Compile(advancedPolicy(expr))
	require.NoError(t, err)
	v = r.Evaluate(s, dsResource)
	require.NoError(t, v.Err)
	assert.Equal(t, rule.Satisfied, v.Outcome)
}

func TestAdvancedTagCostGrowsWithTags(t *testing.T) {
	t.Parallel()
	// Tag functions cost one unit per tag examined: a data source with many column
	// tags exceeds a small limit; one with few does not.
	tags := make([]string, 500)
	for i := range tags {
		tags[i] = "t" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + "." + string(rune('a'+i/26))
	}
	many := rule.NewResource(&model.DataSource{Columns: []model.Column{{Name: "c", Tags: tags}}})
	few := rule.NewResource(&model.DataSource{Columns: []model.Column{{Name: "c", Tags: []string{"a"}}}})
	r, err := rule.Compile(advancedPolicy("@hasTagAsGroup('column')"), rule.WithCostLimit(50))
	require.NoError(t, err)
	s := subject([]string{"nothing"})
	assert.ErrorIs(t, r.Evaluate(s, many).Err, rule.ErrCostLimitExceeded)
	assert.NoError(t, r.Evaluate(s, few).Err)
}

func TestAdvancedConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	r, err := rule.Compile(advancedPolicy("@hasAttribute('access', '@hostname.@database.@schema') OR @hasTagAsGroup('dataSource')"))
	require.NoError(t, err)
	yes := subject(nil, "access", "db9.sales.*")
	no := subject(nil, "access", "db1.sales.*")
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := 0; i < 200; i++ {
				assert.Equal(t, rule.Satisfied, r.Evaluate(yes, dsResource).Outcome)
				assert.Equal(t, rule.Unsatisfied, r.Evaluate(no, dsResource).Outcome)
			}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
}

// FuzzParseAdvanced checks that compiling any expression either fails with a
// compile error at actions.advanced or yields a rule that evaluates without
// panicking; and that compiling it with an Interner (exact calls answered by
// symbols) accepts and rejects the same expressions and gives the same verdicts,
// cost-limit failures included, through Evaluate and EvaluateSymbols.
func FuzzParseAdvanced(f *testing.F) {
	for _, seed := range []string{
		"@hasAttribute('dept', 'eng')",
		"@isInGroups('a', \"b\") AND NOT (@hasTagAsGroup('column') OR @hasTagAsAttribute('t', 'dataSource'))",
		"@hasAttribute('access', '@hostname.@database.@schema.@table')",
		"@noSuchFunction()",
		"((@isInGroups('a'))",
		"'unterminated",
		"@hasAttribute('a\\'b', \"c\\\"d\\n\")",
		"not NOT Not @isInGroups('x')",
		"@isInGroups(" + strings.Repeat("'a',", 400) + "'a')",
		"@isInGroups('b\"') AND @hasAttribute('a\\'b', 'c\"d\\n') OR @hasAttribute('dept', 'finance')",
		"",
	} {
		f.Add(seed)
	}
	u := &model.User{ID: 7, Name: "u", Groups: []string{"a", "Discovered", `b"`, "finance"},
		Attributes: map[string][]string{"dept": {"eng"}, "access": {"db9.*.public"}, "t": {"PII"}, `a'b`: {"c\"d\n"}}}
	s := rule.NewSubject(u, directory)
	in := rule.NewInterner()
	own := in.Subject(u, directory)
	f.Fuzz(func(t *testing.T, expr string) {
		r, err := rule.Compile(advancedPolicy(expr), rule.WithCostLimit(1000))
		sym, symErr := rule.Compile(advancedPolicy(expr), rule.WithCostLimit(1000), rule.WithInterner(in))
		if (err == nil) != (symErr == nil) {
			t.Fatalf("%q: error %v without an Interner, %v with one", expr, err, symErr)
		}
		if err == nil {
			want := r.Evaluate(s, dsResource)
			for _, got := range []rule.Verdict{sym.Evaluate(own, dsResource), sym.EvaluateSymbols(own, own.Symbols(), dsResource),
				sym.Evaluate(s, dsResource)} {
				if got.Outcome != want.Outcome || got.Reason != want.Reason || (got.Err == nil) != (want.Err == nil) {
					t.Fatalf("%q: %+v with an Interner, %+v without", expr, got, want)
				}
			}
		}
		if err != nil {
			list := model.Errors(err)
			if len(list) != 1 || list[0].Path != "actions.advanced" ||
				(list[0].Code != model.CodeCompile && list[0].Code != model.CodeTooLong) {
				t.Fatalf("unexpected error for %q: %v", expr, err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("internal error for %q: %v", expr, err)
			}
			return
		}
		v := r.Evaluate(s, dsResource)
		if v.Outcome != rule.Satisfied && v.Outcome != rule.Unsatisfied {
			t.Fatalf("outcome %v for %q", v.Outcome, expr)
		}
	})
}

func TestAdvancedCEL(t *testing.T) {
	t.Parallel()
	r, err := rule.Compile(advancedPolicy(
		`@isInGroups('a', 'b"') AND NOT (@hasAttribute('x', 'y') OR @hasAttribute('h', '@hostname')) OR @hasTagAsGroup('column')`))
	require.NoError(t, err)
	assert.Equal(t, `(((isInGroup(subject, "a") && isInGroup(subject, "b\"")) && `+
		`!(hasAttribute(subject, "x", "y") || hasAttributeExpanded(subject, resource, "h", "@hostname"))) || `+
		`hasTagAsGroup(subject, resource, "column"))`, r.CEL())
	plain, err := rule.Compile(policy(1, model.Action{Type: model.ActionAnyone}))
	require.NoError(t, err)
	assert.Empty(t, plain.CEL())
}
