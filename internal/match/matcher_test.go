package match_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

// matchCase is one row of a circumstance table: one circumstance on one data source.
type matchCase struct {
	name     string
	c        model.Circumstance
	ds       model.DataSource
	selected bool
	want     match.Result
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, op := range []model.Operator{model.Any, model.All} {
				p := policy(op, tc.c)
				m, err := match.Compile(p)
				require.NoError(t, err)
				got, err := m.Match(match.NewTarget(&tc.ds), tc.selected)
				require.NoError(t, err)
				assert.Equal(t, tc.want, got, "operator %s", op)
				assert.Equal(t, tc.want, reference(p, &tc.ds, tc.selected), "reference, operator %s", op)
			}
		})
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{"same tag", tags("Discovered"), model.DataSource{Tags: []string{"Discovered"}}, false, match.Applies},
		{"child tag", tags("Discovered"), model.DataSource{Tags: []string{"Discovered.Healthcare NPI"}}, false, match.Applies},
		{"grandchild tag", tags("Discovered"), model.DataSource{Tags: []string{"Discovered.PII.Email"}}, false, match.Applies},
		{"longer segment is not a child", tags("Discovered"), model.DataSource{Tags: []string{"DiscoveredX"}}, false, match.NotApplies},
		{"longer segment below a child", tags("Discovered.PII"), model.DataSource{Tags: []string{"Discovered.PIIX.Email"}}, false, match.NotApplies},
		{"parent does not match child policy", tags("Discovered.Healthcare NPI"), model.DataSource{Tags: []string{"Discovered"}}, false, match.NotApplies},
		{"case-sensitive", tags("Discovered"), model.DataSource{Tags: []string{"discovered"}}, false, match.NotApplies},
		{"suffix segment is not a match", tags("Discovered"), model.DataSource{Tags: []string{"Other.Discovered"}}, false, match.NotApplies},
		{"one of several tags", tags("PII"), model.DataSource{Tags: []string{"Finance", "PII.SSN"}}, false, match.Applies},
		{"column tag is not a data source tag", tags("PII"),
			model.DataSource{Columns: []model.Column{{Name: "ssn", Tags: []string{"PII"}}}}, false, match.NotApplies},
		{"no tags", tags("PII"), model.DataSource{}, false, match.NotApplies},
	})
}

func TestColumnTags(t *testing.T) {
	t.Parallel()
	withCols := func(tagsPerColumn ...[]string) model.DataSource {
		ds := model.DataSource{}
		for i, ts := range tagsPerColumn {
			ds.Columns = append(ds.Columns, model.Column{Name: "c" + string(rune('0'+i)), Tags: ts})
		}
		return ds
	}
	runMatchCases(t, []matchCase{
		{"column tag", columnTags("PII"), withCols([]string{"PII"}), false, match.Applies},
		{"child column tag", columnTags("PII"), withCols([]string{"PII.Email"}), false, match.Applies},
		{"longer segment", columnTags("PII"), withCols([]string{"PIIX"}), false, match.NotApplies},
		{"second column", columnTags("PII"), withCols([]string{"Finance"}, nil, []string{"Other", "PII.SSN"}), false, match.Applies},
		{"table tag is not a column tag", columnTags("PII"), model.DataSource{Tags: []string{"PII"}, Columns: cols("ssn")}, false, match.NotApplies},
		{"case-sensitive", columnTags("PII"), withCols([]string{"pii"}), false, match.NotApplies},
		{"empty column list", columnTags("PII"), model.DataSource{Tags: []string{"PII"}}, false, match.NotApplies},
	})
}

func TestColumnRegex(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{"exact", columnRegex(`^ssn$`, false), model.DataSource{Columns: cols("id", "ssn")}, false, match.Applies},
		{"unanchored search", columnRegex(`ssn`, false), model.DataSource{Columns: cols("customer_ssn_hash")}, false, match.Applies},
		{"case-sensitive by default", columnRegex(`^ssn$`, false), model.DataSource{Columns: cols("SSN")}, false, match.NotApplies},
		{"caseInsensitive", columnRegex(`^ssn$`, true), model.DataSource{Columns: cols("SSN")}, false, match.Applies},
		{"lookahead matches", columnRegex(`^(?=.*name)(?!.*_id).*$`, false), model.DataSource{Columns: cols("id", "first_name")}, false, match.Applies},
		{"negative lookahead excludes", columnRegex(`^(?=.*name)(?!.*_id).*$`, false), model.DataSource{Columns: cols("name_id")}, false, match.NotApplies},
		{"lookbehind", columnRegex(`(?<=cust_)id`, false), model.DataSource{Columns: cols("cust_id")}, false, match.Applies},
		{"ECMAScript \\d is ASCII", columnRegex(`^\d$`, false), model.DataSource{Columns: cols("٣")}, false, match.NotApplies},
		{"ECMAScript \\d digit", columnRegex(`^\d$`, false), model.DataSource{Columns: cols("3")}, false, match.Applies},
		{"tag names are not column names", columnRegex(`PII`, true), model.DataSource{Tags: []string{"PII"}}, false, match.NotApplies},
		{"empty column list", columnRegex(`.*`, false), model.DataSource{}, false, match.NotApplies},
	})
}

func TestDomains(t *testing.T) {
	t.Parallel()
	sales := model.DataSource{Domains: []model.Domain{{ID: "d1", Name: "Sales"}}}
	runMatchCases(t, []matchCase{
		{"by id", domains(model.Domain{ID: "d1"}), sales, false, match.Applies},
		{"by id, name ignored", domains(model.Domain{ID: "d2", Name: "Sales"}), sales, false, match.NotApplies},
		{"by id, other name", domains(model.Domain{ID: "d1", Name: "Other"}), sales, false, match.Applies},
		{"by name", domains(model.Domain{Name: "Sales"}), sales, false, match.Applies},
		{"by name is case-sensitive", domains(model.Domain{Name: "sales"}), sales, false, match.NotApplies},
		{"name is not an id", domains(model.Domain{Name: "d1"}), sales, false, match.NotApplies},
		{"one of several", domains(model.Domain{ID: "x"}, model.Domain{Name: "Sales"}), sales, false, match.Applies},
		{"data source in no domain", domains(model.Domain{Name: "Sales"}), model.DataSource{}, false, match.NotApplies},
		{"empty domain list", domains(), sales, false, match.NotApplies},
	})
}

func TestServer(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{"equal", server("db.example.com"), model.DataSource{Server: "db.example.com"}, false, match.Applies},
		{"upper-case data source", server("db.example.com"), model.DataSource{Server: "DB.EXAMPLE.COM"}, false, match.Applies},
		{"upper-case policy", server("DB.Example.COM"), model.DataSource{Server: "db.example.com"}, false, match.Applies},
		{"Unicode folding", server("straße.kelvin"), model.DataSource{Server: "STRAßE.\u212aELVIN"}, false, match.Applies},
		{"different", server("db.example.com"), model.DataSource{Server: "db2.example.com"}, false, match.NotApplies},
		{"no prefix match", server("db.example"), model.DataSource{Server: "db.example.com"}, false, match.NotApplies},
		{"no server", server("db.example.com"), model.DataSource{}, false, match.NotApplies},
	})
}

func TestTime(t *testing.T) {
	t.Parallel()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // the date 2024-01-01 without time
	end := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	at := func(tm time.Time) model.DataSource { return model.DataSource{CreatedAt: tm} }
	paris := time.FixedZone("CET", 3600)
	runMatchCases(t, []matchCase{
		{"at start", timeRange(start, end), at(start), false, match.Applies},
		{"just before start", timeRange(start, end), at(start.Add(-time.Nanosecond)), false, match.NotApplies},
		{"late on the start date", timeRange(start, end), at(start.Add(23*time.Hour + 59*time.Minute)), false, match.Applies},
		{"the day before the start date", timeRange(start, end), at(time.Date(2023, 12, 31, 23, 59, 59, 0, time.UTC)), false, match.NotApplies},
		{"same instant in another zone", timeRange(start, end), at(time.Date(2024, 1, 1, 1, 0, 0, 0, paris)), false, match.Applies},
		{"before start in another zone", timeRange(start, end), at(time.Date(2024, 1, 1, 0, 30, 0, 0, paris)), false, match.NotApplies},
		{"just before end", timeRange(start, end), at(end.Add(-time.Nanosecond)), false, match.Applies},
		{"at end (exclusive)", timeRange(start, end), at(end), false, match.NotApplies},
		{"open-ended", timeRange(start, time.Time{}), at(time.Date(2999, 1, 1, 0, 0, 0, 0, time.UTC)), false, match.Applies},
		{"no createdAt", timeRange(start, time.Time{}), model.DataSource{}, false, match.NotApplies},
	})
}

func TestOwnerSelected(t *testing.T) {
	t.Parallel()
	runMatchCases(t, []matchCase{
		{"selected", ownerSelected(), model.DataSource{}, true, match.Applies},
		{"not selected", ownerSelected(), model.DataSource{Tags: []string{"PII"}}, false, match.NotApplies},
	})
	m, err := match.Compile(policy(model.Any, tags("PII"), ownerSelected()))
	require.NoError(t, err)
	assert.True(t, m.OwnerSelected())
	m, err = match.Compile(policy(model.Any, tags("PII")))
	require.NoError(t, err)
	assert.False(t, m.OwnerSelected())
}

func TestNoCircumstances(t *testing.T) {
	t.Parallel()
	for _, op := range []model.Operator{"", model.Any, model.All} {
		m, err := match.Compile(policy(op))
		require.NoError(t, err)
		got, err := m.Match(match.NewTarget(&model.DataSource{ID: 1}), false)
		require.NoError(t, err)
		assert.Equal(t, match.Applies, got, "operator %q", op)
		got, err = m.Match(nil, false)
		require.NoError(t, err)
		assert.Equal(t, match.Applies, got, "nil target")
	}
}

// TestCombination checks the three-valued all/any logic: A applies, N does not, I
// is indeterminate (a regex timeout).
func TestCombination(t *testing.T) {
	t.Parallel()
	ds := &model.DataSource{ID: 1, Tags: []string{"Yes"}, Columns: cols(slowColumn)}
	v := map[byte]model.Circumstance{
		'A': tags("Yes"),
		'N': tags("No"),
		'I': columnRegex(catastrophic, false),
	}
	want := map[byte]match.Result{'A': match.Applies, 'N': match.NotApplies, 'I': match.Indeterminate}
	cases := []struct {
		op     model.Operator
		in     string
		result byte
	}{
		{model.Any, "AA", 'A'}, {model.Any, "AN", 'A'}, {model.Any, "NA", 'A'}, {model.Any, "AI", 'A'}, {model.Any, "IA", 'A'},
		{model.Any, "NN", 'N'}, {model.Any, "NI", 'I'}, {model.Any, "IN", 'I'}, {model.Any, "II", 'I'},
		{model.Any, "A", 'A'}, {model.Any, "N", 'N'}, {model.Any, "I", 'I'},
		{model.All, "AA", 'A'}, {model.All, "AN", 'N'}, {model.All, "NA", 'N'}, {model.All, "AI", 'I'}, {model.All, "IA", 'I'},
		{model.All, "NN", 'N'}, {model.All, "NI", 'N'}, {model.All, "IN", 'N'}, {model.All, "II", 'I'},
		{model.All, "A", 'A'}, {model.All, "N", 'N'}, {model.All, "I", 'I'},
		{model.All, "AAN", 'N'}, {model.Any, "NNA", 'A'},
	}
	for _, tc := range cases {
		t.Run(string(tc.op)+"/"+tc.in, func(t *testing.T) {
			t.Parallel()
			var cs []model.Circumstance
			for i := range len(tc.in) {
				cs = append(cs, v[tc.in[i]])
			}
			m, err := match.Compile(policy(tc.op, cs...), match.WithRegexTimeout(time.Millisecond))
			require.NoError(t, err)
			got, err := m.Match(match.NewTarget(ds), false)
			assert.Equal(t, want[tc.result], got)
			if got == match.Indeterminate {
				require.ErrorIs(t, err, match.ErrRegexTimeout)
			} else {
				require.NoError(t, err)
			}
		})
	}
}

func TestCatastrophicRegexIsIndeterminate(t *testing.T) {
	t.Parallel()
	m, err := match.Compile(policy(model.Any, columnRegex(catastrophic, false)),
		match.WithRegexTimeout(5*time.Millisecond))
	require.NoError(t, err)
	target := match.NewTarget(&model.DataSource{ID: 7, Columns: cols("id", slowColumn)})

	got, err := m.Match(target, false)
	assert.Equal(t, match.Indeterminate, got)
	require.ErrorIs(t, err, match.ErrRegexTimeout)
	assert.Contains(t, err.Error(), "circumstances[0].regex")

	// The indexes pass the error on instead of dropping the policy.
	ix := match.NewPolicyIndex(nil)
	ix.Add(3, m)
	var results []match.Result
	ix.Applicable(target, nil, func(id int64, r match.Result, err error) {
		assert.Equal(t, int64(3), id)
		assert.ErrorIs(t, err, match.ErrRegexTimeout)
		results = append(results, r)
	})
	assert.Equal(t, []match.Result{match.Indeterminate}, results)

	cat := match.NewCatalogIndex(nil)
	cat.Put(target)
	cat.Put(match.NewTarget(&model.DataSource{ID: 8, Columns: cols("bbb")}))
	var ids []int64
	cat.Applicable(m, nil, func(id int64, r match.Result, err error) {
		assert.Equal(t, match.Indeterminate, r)
		assert.ErrorIs(t, err, match.ErrRegexTimeout)
		ids = append(ids, id)
	})
	assert.Equal(t, []int64{7}, ids)
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		p     *model.Policy
		paths []model.Path
		codes []model.ErrorCode
	}{
		{"bad regex", policy(model.Any, columnRegex(`(a`, false)),
			[]model.Path{"circumstances[0].regex"}, []model.ErrorCode{model.CodeCompile}},
		{"every bad regex", policy(model.All, tags("x"), columnRegex(`[`, false), columnRegex(`a{2,1}`, true)),
			[]model.Path{"circumstances[1].regex", "circumstances[2].regex"}, []model.ErrorCode{model.CodeCompile, model.CodeCompile}},
		{"unknown type", policy(model.Any, model.Circumstance{Type: "color"}),
			[]model.Path{"circumstances[0].type"}, []model.ErrorCode{model.CodeNotSupported}},
		{"unknown operator", policy("xor", tags("x")),
			[]model.Path{"circumstanceOperator"}, []model.ErrorCode{model.CodeNotSupported}},
		{"nil policy", nil, []model.Path{""}, []model.ErrorCode{model.CodeRequired}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := match.Compile(tc.p)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, model.ErrInvalid)
			var list model.ErrorList
			require.True(t, errors.As(err, &list))
			var paths []model.Path
			var codes []model.ErrorCode
			for _, fe := range list {
				paths = append(paths, fe.Path)
				codes = append(codes, fe.Code)
			}
			assert.Equal(t, tc.paths, paths)
			assert.Equal(t, tc.codes, codes)
		})
	}
}

func TestCompileCopiesThePolicy(t *testing.T) {
	t.Parallel()
	p := policy(model.Any, tags("PII"), domains(model.Domain{Name: "Sales"}))
	m, err := match.Compile(p)
	require.NoError(t, err)
	p.Circumstances[0].Tag = "Other"
	p.Circumstances[1].Domains[0].Name = "Other"
	p.CircumstanceOperator = model.All
	got, err := m.Match(match.NewTarget(&model.DataSource{Tags: []string{"PII"}}), false)
	require.NoError(t, err)
	assert.Equal(t, match.Applies, got)
}

func TestResultString(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "NotApplies", match.NotApplies.String())
	assert.Equal(t, "Applies", match.Applies.String())
	assert.Equal(t, "Indeterminate", match.Indeterminate.String())
	assert.Equal(t, "Result(9)", match.Result(9).String())
}

func TestTargetID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, int64(42), match.NewTarget(&model.DataSource{ID: 42}).ID())
	assert.Equal(t, int64(0), match.NewTarget(nil).ID())
}
