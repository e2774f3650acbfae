package rule_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

func TestNewSubject(t *testing.T) {
	t.Parallel()
	u := &model.User{
		ID:          5,
		Groups:      []string{"finance", "analysts", "unknown", "finance"},
		Permissions: []model.Permission{model.Governance},
		Attributes:  map[string][]string{"dept": {"eng"}, "level": {"3"}},
	}
	s := rule.NewSubject(u, directory)
	assert.Equal(t, int64(5), s.ID)
	assert.True(t, s.InGroup("finance"))
	assert.True(t, s.InGroup("unknown"), "a group missing from the directory still counts as membership")
	assert.False(t, s.InGroup("eng"))
	assert.Len(t, s.Groups, 3)
	assert.True(t, s.HasAttribute("dept", "eng"), "own value")
	assert.True(t, s.HasAttribute("dept", "finance"), "value inherited from finance, merged with the own")
	assert.True(t, s.HasAttribute("clearance", "secret"))
	assert.True(t, s.HasAttribute("region", "emea"))
	assert.False(t, s.HasAttribute("region", "apac"))
	assert.False(t, s.HasAttribute("nope", ""))
	assert.True(t, s.HasPermission(model.Governance))
	assert.False(t, s.HasPermission(model.Audit))
	assert.Equal(t, []string{"eng", "finance"}, slices.Sorted(maps.Keys(s.Attributes["dept"])))
	// The user and the directory are not modified.
	assert.Equal(t, []string{"eng"}, u.Attributes["dept"])
	assert.Equal(t, []string{"finance"}, directory["finance"].Attributes["dept"])
}

func TestNewSubjectNil(t *testing.T) {
	t.Parallel()
	s := rule.NewSubject(nil, nil)
	assert.False(t, s.InGroup(""))
	assert.False(t, s.HasAttribute("a", "b"))
	var none *rule.Subject
	assert.False(t, none.InGroup("a"))
	assert.False(t, none.HasAttribute("a", "b"))
	assert.False(t, none.HasPermission(model.Governance))
}

func TestNewResource(t *testing.T) {
	t.Parallel()
	ds := &model.DataSource{ID: 3, Tags: []string{"PII"}, Server: "h", Database: "d", Schema: "s", Table: "t",
		Columns: []model.Column{{Name: "a", Tags: []string{"y", "x"}}, {Name: "b", Tags: []string{"x"}}}}
	r := rule.NewResource(ds)
	assert.Equal(t, &rule.Resource{ID: 3, Tags: []string{"PII"}, ColumnTags: []string{"x", "y"},
		Server: "h", Database: "d", Schema: "s", Table: "t"}, r)
	assert.Equal(t, &rule.Resource{ColumnTags: []string(nil)}, rule.NewResource(nil))
}

func TestLiteralSubject(t *testing.T) {
	t.Parallel()
	// A Subject built without NewSubject works too (slower paths).
	s := &rule.Subject{
		Groups:     map[string]struct{}{"eng": {}},
		Attributes: map[string]map[string]struct{}{"dept": {"eng": {}}, "access": {"db9.*": {}}},
	}
	r, err := rule.Compile(entitled(model.All, []string{"eng"}, attrs("dept", "eng"), "@hasAttribute('access', '@hostname.@database')"))
	assert.NoError(t, err)
	v := r.Evaluate(s, rule.NewResource(&model.DataSource{Server: "db9", Database: "sales"}))
	assert.Equal(t, rule.Satisfied, v.Outcome, v.Reason)
	assert.True(t, s.HasAttribute("dept", "eng"))
}

func TestAttributePairsAreUnambiguous(t *testing.T) {
	t.Parallel()
	// name "a", value "bc" must not be confused with name "ab", value "c".
	s := subject(nil, "a", "bc")
	for _, tc := range []struct {
		name, value string
		want        bool
	}{{"a", "bc", true}, {"ab", "c", false}, {"a", "b", false}, {"", "abc", false}} {
		r, err := rule.Compile(entitled(model.All, nil, attrs(tc.name, tc.value), ""))
		assert.NoError(t, err)
		assert.Equal(t, tc.want, r.Evaluate(s, nil).Outcome == rule.Satisfied, "%s=%s", tc.name, tc.value)
	}
}
