package engine_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

// Users of the test world.
const (
	gov      = 1 // GOVERNANCE
	alice    = 2 // finance, dept=eng
	bob      = 3 // marketing
	carol    = 4 // owner of data source 10
	dave     = 5 // AUDIT
	erin     = 6 // USER_ADMIN, finance
	outsider = 7 // nothing
)

func world(t testing.TB) (*engine.Engine, *clock) {
	t.Helper()
	c := &clock{now: t0}
	e := engine.New(engine.WithClock(c.Now))
	require.NoError(t, e.PutGroups(engine.SystemActor(), []*model.Group{
		{ID: 1, Name: "finance", Attributes: map[string][]string{"region": {"eu"}}},
		{ID: 2, Name: "marketing"},
	}))
	require.NoError(t, e.PutUsers(engine.SystemActor(), []*model.User{
		{ID: gov, Name: "Gov", Permissions: []model.Permission{model.Governance}},
		{ID: alice, Name: "Alice", Groups: []string{"finance"}, Attributes: map[string][]string{"dept": {"eng"}}},
		{ID: bob, Name: "Bob", Groups: []string{"marketing"}},
		{ID: carol, Name: "Carol"},
		{ID: dave, Name: "Dave", Permissions: []model.Permission{model.Audit}},
		{ID: erin, Name: "Erin", Permissions: []model.Permission{model.UserAdmin}, Groups: []string{"finance"}},
		{ID: outsider, Name: "Out"},
	}))
	require.NoError(t, e.PutDataSources(engine.SystemActor(), []*model.DataSource{
		{ID: 10, Name: "payments", Owners: []int64{carol}, Tags: []string{"Finance.Payments"}, Server: "db1.example.com",
			Columns: []model.Column{{Name: "iban", Tags: []string{"PII.Bank"}}}, CreatedAt: t0.AddDate(0, -6, 0)},
		{ID: 11, Name: "campaigns", Tags: []string{"Marketing"}, Server: "db2.example.com", CreatedAt: t0.AddDate(0, -1, 0)},
		{ID: 12, Name: "untagged", Server: "db2.example.com", CreatedAt: t0},
	}))
	return e, c
}

func v2(key string, action model.Action, circ ...model.Circumstance) *model.Policy {
	if action.AccessGrant == "" {
		action.AccessGrant = model.Read
	}
	return &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, Action: action,
		Circumstances: circ, CircumstanceOperator: model.Any}
}

func tag(t string) model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceTags, Tag: t}
}

func create(t testing.TB, e *engine.Engine, p *model.Policy) *model.Policy {
	t.Helper()
	got, _, err := e.CreatePolicy(engine.As(gov), p, engine.WriteOptions{})
	require.NoError(t, err)
	return got
}

func TestDecideStatesAndMerges(t *testing.T) {
	t.Parallel()
	anyoneAuto := model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}
	anyone := model.Action{Type: model.ActionAnyone}
	financeOnly := model.Action{Type: model.ActionEntitlements, AutomaticSubscription: true,
		Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}}}
	approval := model.Action{Type: model.ActionApproval,
		Approvals: []model.Approval{{RequiredPermission: model.Governance}}}
	manual := model.Action{Type: model.ActionManual}
	writeAnyone := model.Action{Type: model.ActionAnyone, AutomaticSubscription: true, AccessGrant: model.Write}

	type want struct {
		user        int64
		grant       engine.Level
		read, write engine.State
	}
	cases := []struct {
		name     string
		policies []*model.Policy
		ds       int64
		want     []want
	}{
		{"no policy: nothing, owner still reads", nil, 10, []want{
			{alice, engine.LevelNone, engine.StateNone, engine.StateNone},
			{carol, engine.LevelRead, engine.StateOwner, engine.StateNone},
		}},
		{"anyone automatic", []*model.Policy{v2("p", anyoneAuto, tag("Finance"))}, 10, []want{
			{alice, engine.LevelRead, engine.StateSubscribed, engine.StateNone},
			{outsider, engine.LevelRead, engine.StateSubscribed, engine.StateNone},
		}},
		{"tag hierarchy does not match a sibling", []*model.Policy{v2("p", anyoneAuto, tag("Finance.Pay"))}, 10, []want{
			{alice, engine.LevelNone, engine.StateNone, engine.StateNone},
		}},
		{"anyone, not automatic: eligible", []*model.Policy{v2("p", anyone, tag("Finance"))}, 10, []want{
			{alice, engine.LevelNone, engine.StateEligible, engine.StateNone},
		}},
		{"entitlements by group", []*model.Policy{v2("p", financeOnly)}, 11, []want{
			{alice, engine.LevelRead, engine.StateSubscribed, engine.StateNone},
			{bob, engine.LevelNone, engine.StateNone, engine.StateNone},
		}},
		{"approval: requestable", []*model.Policy{v2("p", approval)}, 11, []want{
			{bob, engine.LevelNone, engine.StateRequestable, engine.StateNone},
		}},
		{"AND of always-required takes the lower", []*model.Policy{v2("a", anyoneAuto), v2("b", approval)}, 11, []want{
			{bob, engine.LevelNone, engine.StateRequestable, engine.StateNone},
		}},
		{"AND with manual: nothing", []*model.Policy{v2("a", anyoneAuto), v2("b", manual)}, 11, []want{
			{bob, engine.LevelNone, engine.StateNone, engine.StateNone},
		}},
		{"share responsibility takes the higher", []*model.Policy{
			func() *model.Policy { a := approval; a.ShareResponsibility = true; return v2("a", a) }(),
			func() *model.Policy { a := financeOnly; a.ShareResponsibility = true; return v2("b", a) }(),
		}, 11, []want{
			{alice, engine.LevelRead, engine.StateSubscribed, engine.StateNone},
			{bob, engine.LevelNone, engine.StateRequestable, engine.StateNone},
		}},
		{"WRITE implies READ", []*model.Policy{v2("w", writeAnyone)}, 12, []want{
			{bob, engine.LevelWrite, engine.StateSubscribed, engine.StateSubscribed},
		}},
		{"READ never implies WRITE", []*model.Policy{v2("r", anyoneAuto)}, 12, []want{
			{bob, engine.LevelRead, engine.StateSubscribed, engine.StateNone},
		}},
		{"staged applies nowhere", []*model.Policy{func() *model.Policy { p := v2("s", anyoneAuto); p.Staged = true; return p }()}, 12, []want{
			{bob, engine.LevelNone, engine.StateNone, engine.StateNone},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := world(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			for _, w := range tc.want {
				d := e.Decide(w.user, tc.ds)
				assert.Equal(t, w.grant, d.Grant, "user %d grant", w.user)
				assert.Equal(t, w.read, d.Read, "user %d read", w.user)
				assert.Equal(t, w.write, d.Write, "user %d write", w.user)
			}
		})
	}
}

func TestRequestApproveFlow(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	create(t, e, v2("appr", model.Action{Type: model.ActionApproval, Approvals: []model.Approval{
		{RequiredPermission: model.Governance}, {RequiredPermission: model.Owner},
	}}, tag("Finance")))

	rec, err := e.Access(engine.As(bob), 10, engine.AccessRequest{})
	require.NoError(t, err)
	assert.Equal(t, model.RecordPending, rec.State)
	require.Len(t, rec.Approvals, 2)
	assert.Equal(t, int64(1), rec.ID)
	assert.Equal(t, engine.StatePending, e.Decide(bob, 10).Read)

	// Asking again answers the same record and stores nothing new.
	again, err := e.Access(engine.As(bob), 10, engine.AccessRequest{})
	require.NoError(t, err)
	assert.Equal(t, rec.ID, again.ID)
	assert.Len(t, e.Records(), 1)

	// The requester cannot approve; an AUDIT user fills no slot.
	f, err := e.Approve(engine.As(bob), []model.ApproveEntry{{ID: 1}})
	require.NoError(t, err)
	require.Len(t, f, 1)
	f, err = e.Approve(engine.As(dave), []model.ApproveEntry{{ID: 1}, {ID: 99}})
	require.NoError(t, err)
	require.Len(t, f, 2)

	// GOVERNANCE fills the first slot only; the owner fills the second.
	f, err = e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 1}})
	require.NoError(t, err)
	assert.Empty(t, f)
	assert.Equal(t, engine.StatePending, e.Decide(bob, 10).Read)
	f, err = e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 1}})
	require.NoError(t, err)
	assert.Len(t, f, 1, "one user fills at most one slot")
	f, err = e.Approve(engine.As(carol), []model.ApproveEntry{{ID: 1}})
	require.NoError(t, err)
	assert.Empty(t, f)
	d := e.Decide(bob, 10)
	assert.Equal(t, engine.LevelRead, d.Grant)
	assert.Equal(t, engine.StateSubscribed, d.Read)
	recs := e.Records()
	require.Len(t, recs, 1)
	assert.True(t, recs[0].Approved)
	assert.Equal(t, model.RecordSubscribed, recs[0].State)
}

func TestRequestRefusedStoresNothing(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	create(t, e, v2("manual", model.Action{Type: model.ActionManual}))
	before, err := e.Export()
	require.NoError(t, err)
	_, err = e.Access(engine.As(bob), 11, engine.AccessRequest{})
	require.ErrorIs(t, err, engine.ErrForbidden)
	other := int64(alice)
	_, err = e.Access(engine.As(bob), 11, engine.AccessRequest{ProfileID: other})
	require.ErrorIs(t, err, model.ErrInvalid)
	_, err = e.Access(engine.As(bob), 999, engine.AccessRequest{})
	require.ErrorIs(t, err, engine.ErrNotFound)
	after, err := e.Export()
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))
}

func TestManualGrantsAndExpiration(t *testing.T) {
	t.Parallel()
	e, c := world(t)
	// Bob is not an owner: 403.
	_, err := e.Access(engine.As(bob), 10, engine.AccessRequest{State: model.RecordSubscribed})
	require.ErrorIs(t, err, engine.ErrForbidden)

	p := int64(bob)
	rec, err := e.Access(engine.As(carol), 10, engine.AccessRequest{ProfileID: p, State: model.RecordSubscribed,
		AccessGrant: model.Write, Expiration: t0.AddDate(0, 0, 1)})
	require.NoError(t, err)
	assert.True(t, rec.IsSubscriptionOverride)
	require.NotNil(t, rec.Admin)
	assert.Equal(t, int64(carol), *rec.Admin)
	d := e.Decide(bob, 10)
	assert.Equal(t, engine.LevelWrite, d.Grant)
	assert.Equal(t, engine.StateSubscribed, d.Read)

	g := int64(1) // finance
	_, err = e.Access(engine.As(gov), 11, engine.AccessRequest{GroupID: g, State: model.RecordSubscribed})
	require.NoError(t, err)
	assert.Equal(t, engine.LevelRead, e.Decide(alice, 11).Grant)
	assert.Equal(t, engine.LevelRead, e.Decide(erin, 11).Grant)
	assert.Equal(t, engine.LevelNone, e.Decide(bob, 11).Grant)

	c.now = t0.AddDate(0, 0, 1) // at the expiration instant: expired
	assert.Equal(t, engine.LevelNone, e.Decide(bob, 10).Grant)

	// Revoke the group grant.
	_, err = e.ChangeRecord(engine.As(gov), 11, 2, &model.RecordChange{State: model.RecordDenied})
	require.NoError(t, err)
	assert.Equal(t, engine.LevelNone, e.Decide(alice, 11).Grant)
	_, err = e.ChangeRecord(engine.As(gov), 10, 2, &model.RecordChange{State: model.RecordDenied})
	require.ErrorIs(t, err, engine.ErrNotFound, "a record of another data source is 404")
}

func TestPolicyCRUDAndErrors(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	_, _, err := e.CreatePolicy(engine.As(bob), v2("x", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
	require.ErrorIs(t, err, engine.ErrForbidden)
	_, _, err = e.CreatePolicy(engine.As(404), v2("x", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
	require.ErrorIs(t, err, engine.ErrUnauthenticated)

	p1 := create(t, e, v2("one", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, tag("Marketing")))
	assert.Equal(t, int64(1), p1.ID)
	_, _, err = e.CreatePolicy(engine.As(gov), v2("one", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
	require.ErrorIs(t, err, engine.ErrConflict)

	// A dry run uses up no id and changes nothing.
	before, err := e.Export()
	require.NoError(t, err)
	dry, imp, err := e.CreatePolicy(engine.As(gov), v2("two", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, tag("Finance")), engine.WriteOptions{DryRun: true})
	require.NoError(t, err)
	assert.Equal(t, int64(0), dry.ID)
	assert.Equal(t, []int64{10}, imp.DataSourcesAdded)
	assert.Empty(t, imp.DataSourcesRemoved)
	// Every user but carol (owner, already READ) gains READ on 10.
	var gained []int64
	for _, u := range imp.Users {
		assert.Equal(t, int64(10), u.DataSourceID)
		assert.Equal(t, engine.LevelNone, u.Before)
		assert.Equal(t, engine.LevelRead, u.After)
		gained = append(gained, u.ProfileID)
	}
	assert.Equal(t, []int64{gov, alice, bob, dave, erin, outsider}, gained)
	after, err := e.Export()
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))

	p2 := create(t, e, v2("two", model.Action{Type: model.ActionAnyone}))
	assert.Equal(t, int64(2), p2.ID)

	// Update moves policy one from Marketing to Finance.
	upd := v2("", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, tag("Finance"))
	upd.Name = "one, moved"
	got, imp, err := e.UpdatePolicy(engine.As(gov), 1, upd, engine.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, "one", got.Key, "PUT keeps the key")
	assert.Equal(t, []int64{10}, imp.DataSourcesAdded)
	assert.Equal(t, []int64{11}, imp.DataSourcesRemoved)
	keys := appliedKeys(t, e, 10)
	assert.Equal(t, []string{"one", "two"}, keys)
	assert.Equal(t, []string{"two"}, appliedKeys(t, e, 11))

	del, err := e.DeletePolicy(engine.As(gov), 1)
	require.NoError(t, err)
	assert.True(t, del.Deleted)
	_, live := e.Snapshot().Policy(1)
	assert.False(t, live, "a deleted policy is not read back")
	assert.Equal(t, []string{"two"}, appliedKeys(t, e, 10))
	// The key may be reused; the id sequence goes on.
	p3 := create(t, e, v2("one", model.Action{Type: model.ActionAnyone}))
	assert.Equal(t, int64(3), p3.ID)
}

func appliedKeys(t testing.TB, e *engine.Engine, ds int64) []string {
	t.Helper()
	ps, err := e.AppliedPolicies(ds)
	require.NoError(t, err)
	keys := []string{}
	for _, p := range ps {
		keys = append(keys, p.Key)
	}
	return keys
}

func TestOwnerSelectedAndDisabled(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	os := v2("owner-choice", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true},
		model.Circumstance{Type: model.CircumstanceOwnerSelected})
	p := create(t, e, os)
	assert.Empty(t, appliedKeys(t, e, 10))
	require.ErrorIs(t, e.ApplyPolicy(engine.As(bob), p.ID, 10), engine.ErrForbidden)
	require.ErrorIs(t, e.ApplyPolicy(engine.As(carol), p.ID, 999), engine.ErrNotFound)
	require.NoError(t, e.ApplyPolicy(engine.As(carol), p.ID, 10))
	assert.Equal(t, []string{"owner-choice"}, appliedKeys(t, e, 10))
	assert.Equal(t, engine.LevelRead, e.Decide(bob, 10).Grant)

	plain := create(t, e, v2("all", model.Action{Type: model.ActionAnyone}))
	require.ErrorIs(t, e.ApplyPolicy(engine.As(carol), plain.ID, 10), model.ErrInvalid)
	require.ErrorIs(t, e.DisablePolicy(engine.As(carol), 10, plain.ID, ""), model.ErrInvalid)
	require.NoError(t, e.DisablePolicy(engine.As(carol), 10, plain.ID, "not relevant here"))
	assert.Equal(t, []string{"owner-choice"}, appliedKeys(t, e, 10))
	assert.Equal(t, []string{"all"}, appliedKeys(t, e, 11))
	require.NoError(t, e.EnablePolicy(engine.As(carol), 10, plain.ID))
	assert.Equal(t, []string{"owner-choice", "all"}, appliedKeys(t, e, 10))
}

func TestIndeterminateFailsClosed(t *testing.T) {
	t.Parallel()
	c := &clock{now: t0}
	e := engine.New(engine.WithClock(c.Now), engine.WithRegexTimeout(time.Millisecond))
	require.NoError(t, e.PutUsers(engine.SystemActor(), []*model.User{{ID: 1, Name: "u"}, {ID: 2, Name: "owner"}}))
	long := make([]byte, 40000)
	for i := range long {
		long[i] = 'a'
	}
	require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 1, Name: "d", Owners: []int64{2},
		Columns: []model.Column{{Name: string(long) + "!"}}}))
	create2 := func(p *model.Policy) {
		_, _, err := e.CreatePolicy(engine.SystemActor(), p, engine.WriteOptions{})
		require.NoError(t, err)
	}
	create2(v2("anyone", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}))
	assert.Equal(t, engine.LevelRead, e.Decide(1, 1).Grant)
	create2(v2("evil", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true},
		model.Circumstance{Type: model.CircumstanceColumnRegex, Regex: "(?=a)(a|aa)*$"}))
	d := e.Decide(1, 1)
	assert.Equal(t, engine.LevelNone, d.Grant)
	var found bool
	for _, r := range d.Reasons() {
		if r.Kind == engine.ReasonIndeterminate {
			found = true
			assert.Error(t, r.Err)
		}
	}
	assert.True(t, found, "the indeterminate reason is given")
	assert.Equal(t, engine.LevelRead, e.Decide(2, 1).Grant, "owners still hold")
	// Deleting the policy re-evaluates the data source.
	_, err := e.DeletePolicy(engine.SystemActor(), 2)
	require.NoError(t, err)
	assert.Equal(t, engine.LevelRead, e.Decide(1, 1).Grant)
}

func TestDecideAllocatesNothing(t *testing.T) {
	e, _ := world(t)
	create(t, e, v2("fin", model.Action{Type: model.ActionEntitlements, AutomaticSubscription: true,
		Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}}}, tag("Finance")))
	create(t, e, v2("w", model.Action{Type: model.ActionApproval, AccessGrant: model.Write,
		Approvals: []model.Approval{{RequiredPermission: model.Governance}}}))
	p := int64(bob)
	_, err := e.Access(engine.As(carol), 10, engine.AccessRequest{ProfileID: p, State: model.RecordSubscribed, Expiration: t0.AddDate(1, 0, 0)})
	require.NoError(t, err)
	s := e.Snapshot()
	var sink engine.Level
	allocs := testing.AllocsPerRun(200, func() {
		sink += s.Decide(alice, 10).Grant
		sink += s.Decide(bob, 10).Grant
		sink += s.Decide(carol, 11).Grant
	})
	assert.Zero(t, allocs)
	assert.NotZero(t, sink)
}

func TestUnknownDenies(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	create(t, e, v2("all", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}))
	assert.Equal(t, engine.LevelNone, e.Decide(999, 10).Grant)
	assert.Equal(t, engine.LevelNone, e.Decide(alice, 999).Grant)
	d := e.Decide(999, 10)
	require.NotEmpty(t, d.Reasons())
	assert.Equal(t, engine.ReasonUnknown, d.Reasons()[0].Kind)
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	e, c := world(t)
	create(t, e, v2("appr", model.Action{Type: model.ActionApproval, Approvals: []model.Approval{{RequiredPermission: model.Governance}}}, tag("Finance")))
	create(t, e, v2("os", model.Action{Type: model.ActionAnyone}, model.Circumstance{Type: model.CircumstanceOwnerSelected}))
	require.NoError(t, e.ApplyPolicy(engine.As(carol), 2, 10))
	require.NoError(t, e.DisablePolicy(engine.As(gov), 10, 1, "why not"))
	require.NoError(t, e.EnablePolicy(engine.As(gov), 10, 1))
	_, err := e.Access(engine.As(bob), 10, engine.AccessRequest{})
	require.NoError(t, err)
	_, err = e.DeletePolicy(engine.As(gov), 2)
	require.NoError(t, err)
	out, err := e.Export()
	require.NoError(t, err)

	e2 := engine.New(engine.WithClock(c.Now))
	require.NoError(t, e2.Import(out))
	out2, err := e2.Export()
	require.NoError(t, err)
	assert.Equal(t, string(out), string(out2))
	for _, u := range []int64{gov, alice, bob, carol, outsider} {
		for _, ds := range []int64{10, 11, 12} {
			a, b := e.Decide(u, ds), e2.Decide(u, ds)
			assert.True(t, a.Equal(b), "user %d ds %d: %+v %v, imported %+v %v", u, ds, a, a.Reasons(), b, b.Reasons())
		}
	}
	// Ids continue where they were.
	p, _, err := e2.CreatePolicy(engine.SystemActor(), v2("next", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(3), p.ID)

	// A corrupted import changes nothing.
	require.Error(t, e2.Import(out[:len(out)/2]))
	out3, err := e2.Export()
	require.NoError(t, err)
	assert.Contains(t, string(out3), `"next"`)
}

func TestErrorsAreSentinels(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	err := e.PutDataSource(engine.As(bob), &model.DataSource{ID: 50, Name: "x"})
	assert.True(t, errors.Is(err, engine.ErrForbidden))
	err = e.PutUser(engine.As(bob), &model.User{ID: 50, Name: "x"})
	assert.True(t, errors.Is(err, engine.ErrForbidden))
	require.NoError(t, e.PutUser(engine.As(erin), &model.User{ID: 50, Name: "x", APIKeyHash: model.HashAPIKey("k50")}))
	u, ok := e.Snapshot().User(50)
	require.True(t, ok)
	assert.Equal(t, model.HashAPIKey("k50"), u.APIKeyHash, "the hash is kept as given")
	err = e.PutUser(engine.As(erin), &model.User{ID: 51, Name: "y", APIKeyHash: "k51"})
	assert.ErrorIs(t, err, model.ErrInvalid, "a key hash must be 64 lowercase hex digits")
}

func TestLoadBundleGrantsNameUsersOfTheBundle(t *testing.T) {
	t.Parallel()
	b, err := model.DecodeBundle([]byte(`
name: grants
groups: [{id: 7, name: team}]
users: [{id: 3, name: Three, groups: [team]}, {id: 4, name: Four}]
dataSources: [{id: 6, name: six}]
grants:
  - {dataSourceId: 6, profileId: 4, state: subscribed, accessGrant: WRITE}
  - {dataSourceId: 6, groupId: 7, state: subscribed}
`), model.DefaultLimits())
	require.NoError(t, err)
	e := engine.New()
	require.NoError(t, e.ApplyBundle(b))
	recs := e.Records()
	require.Len(t, recs, 2)
	assert.Equal(t, int64(1), recs[0].ID)
	assert.Equal(t, engine.LevelWrite, e.Decide(4, 6).Grant)
	assert.Equal(t, engine.LevelRead, e.Decide(3, 6).Grant)
	u, ok := e.Snapshot().User(3)
	require.True(t, ok)
	assert.Empty(t, u.APIKeyHash, "no derived key outside the scenario runner")
}

func TestRecordsSurviveDataSourceChanges(t *testing.T) {
	t.Parallel()
	e, _ := world(t)
	create(t, e, v2("anyone", model.Action{Type: model.ActionAnyone}))
	_, err := e.Access(engine.As(bob), 12, engine.AccessRequest{})
	require.NoError(t, err)
	g := int64(1)
	_, err = e.Access(engine.SystemActor(), 12, engine.AccessRequest{GroupID: g, State: model.RecordSubscribed, AccessGrant: model.Write})
	require.NoError(t, err)
	require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 12, Name: "renamed", Tags: []string{"New"}}))
	assert.Equal(t, engine.StateSubscribed, e.Decide(bob, 12).Read, "the self-subscription holds while the outcome is satisfied")
	assert.Equal(t, engine.LevelWrite, e.Decide(alice, 12).Grant, "the group grant holds")
}

func TestChangeCallbackSeesAppliedWritesOnly(t *testing.T) {
	t.Parallel()
	var ops []string
	e := engine.New(engine.WithChangeCallback(func(c engine.Change) { ops = append(ops, c.Op) }))
	require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 1, Name: "u"}))
	_, _, err := e.CreatePolicy(engine.As(1), v2("p", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
	require.ErrorIs(t, err, engine.ErrForbidden)
	_, _, err = e.CreatePolicy(engine.SystemActor(), v2("p", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{DryRun: true})
	require.NoError(t, err)
	_, _, err = e.CreatePolicy(engine.SystemActor(), v2("p", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"putUser", "createPolicy"}, ops, "refused writes and dry runs are not changes")
}
