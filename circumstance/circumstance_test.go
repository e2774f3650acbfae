package circumstance_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/circumstance"
	"github.com/tollgate-dev/tollgate/model"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	p := &model.Policy{CircumstanceOperator: model.Any, Circumstances: []model.Circumstance{
		{Type: model.CircumstanceTags, Tag: "PII"},
		{Type: model.CircumstanceServer, Server: "db.example.com"},
	}}
	m, err := circumstance.Compile(p)
	require.NoError(t, err)
	assert.False(t, m.OwnerSelected())
	cases := []struct {
		ds   *model.DataSource
		want circumstance.Result
	}{
		{&model.DataSource{ID: 1, Tags: []string{"PII.Email"}}, circumstance.Applies},
		{&model.DataSource{ID: 2, Server: "DB.example.com"}, circumstance.Applies},
		{&model.DataSource{ID: 3, Tags: []string{"PIIX"}}, circumstance.NotApplies},
		{nil, circumstance.NotApplies},
	}
	for _, c := range cases {
		r, err := m.Match(c.ds, false)
		require.NoError(t, err)
		assert.Equal(t, c.want, r, "%+v", c.ds)
	}
	assert.Equal(t, "Indeterminate", circumstance.Indeterminate.String())
}

func TestOwnerSelected(t *testing.T) {
	t.Parallel()
	m, err := circumstance.Compile(&model.Policy{Circumstances: []model.Circumstance{{Type: model.CircumstanceOwnerSelected}}})
	require.NoError(t, err)
	assert.True(t, m.OwnerSelected())
	ds := &model.DataSource{ID: 1}
	r, _ := m.Match(ds, true)
	assert.Equal(t, circumstance.Applies, r, "selected by an owner")
	r, _ = m.Match(ds, false)
	assert.Equal(t, circumstance.NotApplies, r)
}

// WithRegexTimeout bounds each column regex match; within the bound a regex matches
// as usual (what a timeout does is tested in internal/match), and a d <= 0 keeps
// the default.
func TestWithRegexTimeout(t *testing.T) {
	t.Parallel()
	p := &model.Policy{Circumstances: []model.Circumstance{{Type: model.CircumstanceColumnRegex, Regex: "^ssn$", CaseInsensitive: true}}}
	ds := &model.DataSource{ID: 1, Columns: []model.Column{{Name: "id"}, {Name: "SSN"}}}
	for _, d := range []time.Duration{time.Second, 0, -time.Second} {
		m, err := circumstance.Compile(p, circumstance.WithRegexTimeout(d))
		require.NoError(t, err)
		r, err := m.Match(ds, false)
		require.NoError(t, err)
		assert.Equal(t, circumstance.Applies, r, "timeout %v", d)
	}
}
