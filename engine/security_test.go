package engine_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// secClock is a settable clock, safe for concurrent use.
type secClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *secClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *secClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

var secT0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Users of the security world.
const (
	secGov      = 1 // GOVERNANCE
	secOwner    = 2 // owner of data sources 10 and 20
	secAlice    = 3 // group finance
	secBob      = 4
	secApprover = 5 // USER_ADMIN
	secCarol    = 6 // gets a manual grant
	secDave     = 7 // subscribes himself
	secErin     = 8 // group contractors
	secFrank    = 9
	secOut      = 10 // nothing at all
)

// secWorld: data source 10 (normal columns) and 20 (one column of 30000 'a' and a
// '!'), both tagged A and owned by secOwner; groups finance (1) and contractors (2).
func secWorld(t testing.TB, opts ...engine.Option) (*engine.Engine, *secClock) {
	t.Helper()
	c := &secClock{now: secT0}
	e := engine.New(append([]engine.Option{engine.WithClock(c.Now)}, opts...)...)
	require.NoError(t, e.PutGroups(engine.SystemActor(), []*model.Group{{ID: 1, Name: "finance"}, {ID: 2, Name: "contractors"}}))
	users := []*model.User{
		{ID: secGov, Name: "gov", Permissions: []model.Permission{model.Governance}},
		{ID: secOwner, Name: "owner"},
		{ID: secAlice, Name: "alice", Groups: []string{"finance"}},
		{ID: secBob, Name: "bob"},
		{ID: secApprover, Name: "approver", Permissions: []model.Permission{model.UserAdmin}},
		{ID: secCarol, Name: "carol"},
		{ID: secDave, Name: "dave"},
		{ID: secErin, Name: "erin", Groups: []string{"contractors"}},
		{ID: secFrank, Name: "frank"},
		{ID: secOut, Name: "out"},
	}
	require.NoError(t, e.PutUsers(engine.SystemActor(), users))
	require.NoError(t, e.PutDataSources(engine.SystemActor(), []*model.DataSource{
		{ID: 10, Name: "normal", Owners: []int64{secOwner}, Tags: []string{"A"}, Columns: []model.Column{{Name: "iban"}, {Name: "aaa"}}},
		{ID: 20, Name: "evil", Owners: []int64{secOwner}, Tags: []string{"A"}, Columns: []model.Column{{Name: strings.Repeat("a", 30000) + "!"}}},
	}))
	return e, c
}

func secPolicy(key string, a model.Action, circ ...model.Circumstance) *model.Policy {
	if a.AccessGrant == "" {
		a.AccessGrant = model.Read
	}
	return &model.Policy{Key: key, Name: key, Type: model.PolicySubscription, Action: a, Circumstances: circ, CircumstanceOperator: model.Any}
}

func secCreate(t testing.TB, e *engine.Engine, p *model.Policy) *model.Policy {
	t.Helper()
	got, _, err := e.CreatePolicy(engine.As(secGov), p, engine.WriteOptions{})
	require.NoError(t, err)
	return got
}

var secTagA = model.Circumstance{Type: model.CircumstanceTags, Tag: "A"}

func secGrant(t testing.TB, e *engine.Engine, ds, profile, group int64, state model.RecordState, level model.AccessGrant, exp time.Time) *model.AccessRecord {
	t.Helper()
	req := engine.AccessRequest{State: state, AccessGrant: level, Expiration: exp}
	req.ProfileID = profile
	req.GroupID = group
	r, err := e.Access(engine.As(secGov), ds, req)
	require.NoError(t, err)
	return r
}

func secRequest(t testing.TB, e *engine.Engine, user, ds int64, level model.AccessGrant, exp time.Time) *model.AccessRecord {
	t.Helper()
	r, err := e.Access(engine.As(user), ds, engine.AccessRequest{AccessGrant: level, Expiration: exp})
	require.NoError(t, err)
	return r
}

func secExport(t testing.TB, e *engine.Engine) []byte {
	t.Helper()
	out, err := e.Export()
	require.NoError(t, err)
	return out
}

func reasonOf(d engine.Decision, k engine.ReasonKind) (engine.Reason, bool) {
	for _, r := range d.Reasons() {
		if r.Kind == k {
			return r, true
		}
	}
	return engine.Reason{}, false
}

// TestSecurityIndeterminateFailsClosed: on a data source where a column regex
// times out, every policy-derived access (automatic, self-subscribed, approved
// request, at READ and WRITE) is NONE with the reason, requests are refused and an
// approval completes without granting anything, while owners and manual grants
// (to a user and to a group) still hold; other data sources are untouched, and
// removing the policy re-evaluates the data source.
func TestSecurityIndeterminateFailsClosed(t *testing.T) {
	t.Parallel()
	e, _ := secWorld(t, engine.WithRegexTimeout(time.Millisecond))
	// READ: anyone may subscribe. WRITE: finance automatically, others on approval.
	secCreate(t, e, secPolicy("read-anyone", model.Action{Type: model.ActionAnyone}, secTagA))
	secCreate(t, e, secPolicy("write-finance", model.Action{Type: model.ActionEntitlements, AccessGrant: model.Write,
		AutomaticSubscription: true, ShareResponsibility: true,
		Entitlements: &model.Entitlements{Operator: model.Any, Groups: []string{"finance"}}}, secTagA))
	secCreate(t, e, secPolicy("write-approval", model.Action{Type: model.ActionApproval, AccessGrant: model.Write,
		ShareResponsibility: true, Approvals: []model.Approval{{RequiredPermission: model.UserAdmin}}}, secTagA))

	for _, ds := range []int64{10, 20} {
		secRequest(t, e, secDave, ds, model.Read, time.Time{})
		bobReq := secRequest(t, e, secBob, ds, model.Write, time.Time{})
		fs, err := e.Approve(engine.As(secApprover), []model.ApproveEntry{{ID: bobReq.ID}})
		require.NoError(t, err)
		require.Empty(t, fs)
		secGrant(t, e, ds, secCarol, 0, model.RecordSubscribed, model.Read, time.Time{})
		secGrant(t, e, ds, 0, 2, model.RecordSubscribed, model.Write, time.Time{})
	}
	frankReq := secRequest(t, e, secFrank, 20, model.Write, time.Time{})
	require.Equal(t, model.RecordPending, frankReq.State)

	want := map[int64]engine.Level{secOwner: engine.LevelRead, secAlice: engine.LevelWrite, secBob: engine.LevelWrite,
		secCarol: engine.LevelRead, secDave: engine.LevelRead, secErin: engine.LevelWrite, secFrank: engine.LevelNone, secOut: engine.LevelNone}
	for u, g := range want {
		for _, ds := range []int64{10, 20} {
			require.Equal(t, g, e.Decide(u, ds).Grant, "before: user %d on %d", u, ds)
		}
	}

	// The evil policy is accepted (its regex compiles) and the call returns.
	evil := secCreate(t, e, secPolicy("evil", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true},
		model.Circumstance{Type: model.CircumstanceColumnRegex, Regex: "(?=a)(a|aa)*$"}))

	s := e.Snapshot()
	require.Error(t, s.Indeterminate(20))
	require.NoError(t, s.Indeterminate(10), "short column names match in time")
	ps, err := s.AppliedPolicies(20)
	require.NoError(t, err)
	for _, p := range ps {
		assert.NotEqual(t, "evil", p.Key, "an indeterminate policy is not reported as applied")
	}

	after := map[int64]engine.Level{secOwner: engine.LevelRead, secAlice: engine.LevelNone, secBob: engine.LevelNone,
		secCarol: engine.LevelRead, secDave: engine.LevelNone, secErin: engine.LevelWrite, secFrank: engine.LevelNone, secOut: engine.LevelNone}
	for u, g := range after {
		d := s.Decide(u, 20)
		assert.Equal(t, g, d.Grant, "after: user %d on 20", u)
		r, ok := reasonOf(d, engine.ReasonIndeterminate)
		if assert.True(t, ok, "user %d: the indeterminate reason is given: %+v", u, d.Reasons()) {
			assert.Error(t, r.Err)
			assert.Equal(t, evil.ID, r.PolicyID)
		}
		if g == engine.LevelNone && u != secFrank { // frank's WRITE request is pending
			assert.Equal(t, engine.StateNone, d.Read, "user %d READ state", u)
			assert.Equal(t, engine.StateNone, d.Write, "user %d WRITE state", u)
			assert.False(t, d.Discoverable, "user %d: not discoverable through policies", u)
		}
		assert.Equal(t, want[u], s.Decide(u, 10).Grant, "data source 10 is untouched (user %d)", u)
	}
	assert.Equal(t, engine.StateOwner, s.Decide(secOwner, 20).Read)
	assert.Equal(t, engine.StatePending, s.Decide(secFrank, 20).Write, "a pending request stays pending")
	assert.Equal(t, []int64{secOwner, secCarol, secErin}, e.UsersFor(20, engine.LevelRead))
	assert.Equal(t, []int64{secErin}, e.UsersFor(20, engine.LevelWrite))
	assert.Equal(t, []int64{10}, e.DataSourcesFor(secAlice, engine.LevelRead))

	// A request is refused and stores nothing.
	before := secExport(t, e)
	_, err = e.Access(engine.As(secOut), 20, engine.AccessRequest{})
	require.ErrorIs(t, err, engine.ErrForbidden)
	assert.Contains(t, err.Error(), "indeterminate")
	assert.True(t, secSame(before, secExport(t, e)))

	// The pending request can be approved, but grants nothing while indeterminate.
	fs, err := e.Approve(engine.As(secApprover), []model.ApproveEntry{{ID: frankReq.ID}})
	require.NoError(t, err)
	require.Empty(t, fs)
	assert.Equal(t, engine.LevelNone, e.Decide(secFrank, 20).Grant)

	// Re-evaluating the data source (putting it again) keeps it indeterminate.
	cur, _ := e.Snapshot().DataSource(20)
	again := *cur
	require.NoError(t, e.PutDataSource(engine.SystemActor(), &again))
	require.Error(t, e.Snapshot().Indeterminate(20))
	assert.Equal(t, engine.LevelNone, e.Decide(secAlice, 20).Grant)

	// Deleting the policy re-evaluates: policy-derived access returns.
	_, err = e.DeletePolicy(engine.As(secGov), evil.ID)
	require.NoError(t, err)
	require.NoError(t, e.Snapshot().Indeterminate(20))
	want[secFrank] = engine.LevelWrite
	for u, g := range want {
		assert.Equal(t, g, e.Decide(u, 20).Grant, "restored: user %d", u)
	}
}

// TestSecurityExpiredGrantsDeny: every kind of record stops giving access at the
// exact instant of its expiration (the clock at or past it), not a nanosecond later.
func TestSecurityExpiredGrantsDeny(t *testing.T) {
	t.Parallel()
	e, c := secWorld(t)
	exp := secT0.Add(time.Hour)
	secCreate(t, e, secPolicy("read-anyone", model.Action{Type: model.ActionAnyone}, secTagA))
	secCreate(t, e, secPolicy("write-approval", model.Action{Type: model.ActionApproval, AccessGrant: model.Write,
		Approvals: []model.Approval{{RequiredPermission: model.UserAdmin}}}, secTagA))

	secGrant(t, e, 10, secCarol, 0, model.RecordSubscribed, model.Read, exp)                             // manual grant to a user
	secGrant(t, e, 10, 0, 2, model.RecordExpert, model.Write, exp)                                       // manual grant to a group (erin)
	secGrant(t, e, 10, secFrank, 0, model.RecordOwner, model.Read, exp)                                  // ownership by grant
	secRequest(t, e, secDave, 10, model.Read, exp)                                                       // self-subscribed request
	bobReq := secRequest(t, e, secBob, 10, model.Write, time.Time{})                                     // approved request,
	fs, err := e.Approve(engine.As(secApprover), []model.ApproveEntry{{ID: bobReq.ID, Expiration: exp}}) // expiring on approval
	require.NoError(t, err)
	require.Empty(t, fs)

	holders := map[int64]engine.Level{secCarol: engine.LevelRead, secErin: engine.LevelWrite, secFrank: engine.LevelRead,
		secDave: engine.LevelRead, secBob: engine.LevelWrite}
	c.Set(exp.Add(-time.Nanosecond))
	for u, g := range holders {
		assert.Equal(t, g, e.Decide(u, 10).Grant, "a nanosecond before: user %d", u)
	}
	assert.Equal(t, engine.StateOwner, e.Decide(secFrank, 10).Read)

	c.Set(exp)
	s := e.Snapshot()
	for u := range holders {
		d := s.Decide(u, 10)
		assert.Equal(t, engine.LevelNone, d.Grant, "at the instant: user %d", u)
	}
	assert.NotEqual(t, engine.StateOwner, s.Decide(secFrank, 10).Read, "ownership by grant ended")
	assert.Equal(t, []int64{secOwner}, e.UsersFor(10, engine.LevelRead))
	assert.Empty(t, e.DataSourcesFor(secBob, engine.LevelRead))
	// The expired owner can no longer grant.
	p := int64(secOut)
	_, err = e.Access(engine.As(secFrank), 10, engine.AccessRequest{ProfileID: p, State: model.RecordSubscribed})
	assert.ErrorIs(t, err, engine.ErrForbidden)

	// An expired self-subscription does not block a new request: it is judged again.
	r := secRequest(t, e, secDave, 10, model.Read, time.Time{})
	assert.Equal(t, model.RecordSubscribed, r.State)
	assert.Equal(t, engine.LevelRead, e.Decide(secDave, 10).Grant)

	// A grant whose expiration is already past is accepted and gives nothing.
	past := secGrant(t, e, 10, secOut, 0, model.RecordSubscribed, model.Write, exp.Add(-time.Minute))
	assert.Equal(t, exp.Add(-time.Minute), past.Expiration)
	assert.Equal(t, engine.LevelNone, e.Decide(secOut, 10).Grant)
}

// TestSecurityUnknownDenies: unknown users and data sources get NONE with a reason;
// an unknown actor can do nothing (ErrUnauthenticated, nothing changes); a user
// with no applicable policy gets NONE; deleted users and data sources deny.
func TestSecurityUnknownDenies(t *testing.T) {
	t.Parallel()
	e, _ := secWorld(t)
	pol := secCreate(t, e, secPolicy("auto", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true, AllowDiscovery: true}, secTagA))
	require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 30, Name: "no policy", Tags: []string{"B"}}))
	rec := secGrant(t, e, 30, secCarol, 0, model.RecordSubscribed, model.Read, time.Time{})

	for _, c := range []struct {
		user, ds int64
	}{{999, 10}, {-1, 10}, {0, 10}, {secAlice, 999}, {secAlice, 0}, {secAlice, -7}} {
		d := e.Decide(c.user, c.ds)
		assert.Equal(t, engine.LevelNone, d.Grant, "user %d ds %d", c.user, c.ds)
		assert.False(t, d.Discoverable)
		_, ok := reasonOf(d, engine.ReasonUnknown)
		assert.True(t, ok, "user %d ds %d: the unknown reason: %+v", c.user, c.ds, d.Reasons())
	}
	assert.Empty(t, e.DataSourcesFor(999, engine.LevelRead))
	assert.Empty(t, e.UsersFor(999, engine.LevelRead))
	assert.Equal(t, engine.LevelRead, e.Decide(secAlice, 10).Grant)
	d := e.Decide(secAlice, 30)
	assert.Equal(t, engine.LevelNone, d.Grant, "no applicable policy: deny by default")
	assert.Equal(t, engine.StateNone, d.Read)
	assert.False(t, d.Discoverable)

	// An unknown actor is refused everywhere and changes nothing.
	ghost := engine.As(999)
	before := secExport(t, e)
	pid := int64(secAlice)
	calls := map[string]func() error{
		"CreatePolicy": func() error {
			_, _, err := e.CreatePolicy(ghost, secPolicy("x", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
			return err
		},
		"UpdatePolicy": func() error {
			_, _, err := e.UpdatePolicy(ghost, pol.ID, secPolicy("x", model.Action{Type: model.ActionAnyone}), engine.WriteOptions{})
			return err
		},
		"DeletePolicy": func() error { _, err := e.DeletePolicy(ghost, pol.ID); return err },
		"Request":      func() error { _, err := e.Access(ghost, 10, engine.AccessRequest{}); return err },
		"Grant": func() error {
			_, err := e.Access(ghost, 10, engine.AccessRequest{ProfileID: pid, State: model.RecordOwner})
			return err
		},
		"ChangeRecord": func() error {
			_, err := e.ChangeRecord(ghost, 30, rec.ID, &model.RecordChange{State: model.RecordDenied})
			return err
		},
		"Approve": func() error { _, err := e.Approve(ghost, []model.ApproveEntry{{ID: rec.ID}}); return err },
		"Deny": func() error {
			_, err := e.Deny(ghost, []model.DenyEntry{{ID: rec.ID, DenialReasoning: "x"}})
			return err
		},
		"ApplyPolicy":      func() error { return e.ApplyPolicy(ghost, pol.ID, 10) },
		"DisablePolicy":    func() error { return e.DisablePolicy(ghost, 10, pol.ID, "x") },
		"EnablePolicy":     func() error { return e.EnablePolicy(ghost, 10, pol.ID) },
		"PutDataSource":    func() error { return e.PutDataSource(ghost, &model.DataSource{ID: 40, Name: "x"}) },
		"DeleteDataSource": func() error { return e.DeleteDataSource(ghost, 10) },
		"PutUser": func() error {
			return e.PutUser(ghost, &model.User{ID: 999, Name: "me", Permissions: []model.Permission{model.Governance}})
		},
		"DeleteUser":  func() error { return e.DeleteUser(ghost, secGov) },
		"PutGroup":    func() error { return e.PutGroup(ghost, &model.Group{ID: 9, Name: "x"}) },
		"DeleteGroup": func() error { return e.DeleteGroup(ghost, 1) },
	}
	for name, call := range calls {
		assert.ErrorIs(t, call(), engine.ErrUnauthenticated, name)
	}
	assert.True(t, secSame(before, secExport(t, e)), "refused calls change nothing")

	// The built-in actor cannot request access for itself.
	_, err := e.Access(engine.SystemActor(), 10, engine.AccessRequest{})
	assert.ErrorIs(t, err, engine.ErrForbidden)

	// A deleted user and a deleted data source deny.
	require.NoError(t, e.DeleteUser(engine.As(secGov), secCarol))
	assert.Equal(t, engine.LevelNone, e.Decide(secCarol, 30).Grant)
	_, ok := e.Snapshot().User(secCarol)
	assert.False(t, ok, "a deleted user is gone (its key with it)")
	require.NoError(t, e.DeleteDataSource(engine.As(secGov), 10))
	assert.Equal(t, engine.LevelNone, e.Decide(secAlice, 10).Grant)
	assert.NotContains(t, e.DataSourcesFor(secAlice, engine.LevelRead), int64(10))
}

// TestSecurityAdvancedErrorIsUnsatisfied: a policy whose advanced expression fails
// at evaluation (over the cost limit) is unsatisfied with the error among the
// reasons, and AND-merged with a satisfied automatic policy it still denies.
func TestSecurityAdvancedErrorIsUnsatisfied(t *testing.T) {
	t.Parallel()
	var terms []string
	for i := 0; i < 30; i++ {
		terms = append(terms, fmt.Sprintf("@hasAttribute('level','L%d')", i))
	}
	costly := secPolicy("costly", model.Action{Type: model.ActionEntitlements, AutomaticSubscription: true,
		Advanced: strings.Join(terms, " OR ")}, secTagA)
	build := func(opts ...engine.Option) *engine.Engine {
		e, _ := secWorld(t, opts...)
		require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 50, Name: "leveled",
			Attributes: map[string][]string{"level": {"L29"}}}))
		secCreate(t, e, costly)
		secCreate(t, e, secPolicy("auto", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, secTagA))
		return e
	}
	require.Equal(t, engine.LevelRead, build().Decide(50, 10).Grant, "within the default limit the user qualifies")

	e := build(engine.WithCostLimit(5))
	d := e.Decide(50, 10)
	assert.Equal(t, engine.LevelNone, d.Grant, "an erroring policy cannot be bypassed by the AND-merged automatic one")
	assert.Equal(t, engine.StateNone, d.Read)
	var found bool
	for _, r := range d.Reasons() {
		if r.Kind == engine.ReasonPolicy && r.PolicyKey == "costly" {
			found = true
			assert.Equal(t, "unsatisfied", r.Outcome)
			require.Error(t, r.Err)
			assert.True(t, errors.Is(r.Err, rule.ErrCostLimitExceeded), "%v", r.Err)
		}
	}
	assert.True(t, found, "reasons %+v", d.Reasons())
	_, err := e.Access(engine.As(50), 10, engine.AccessRequest{})
	assert.ErrorIs(t, err, engine.ErrForbidden)
}

// ---- import robustness ----

// secRichEngine builds an engine whose export exercises every section: groups,
// users, data sources with selected and disabled policies, several policy kinds,
// and records of every kind (grants, a group grant, pending, approved, denied,
// expiring), and a certification reset.
func secRichEngine(t testing.TB) (*engine.Engine, *secClock) {
	t.Helper()
	e, c := secWorld(t)
	require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 60, Name: "attrs", Attributes: map[string][]string{"dept": {"eng", "ops"}}}))
	secCreate(t, e, secPolicy("read-anyone", model.Action{Type: model.ActionAnyone, AllowDiscovery: true}, secTagA))
	appr := secCreate(t, e, secPolicy("write-approval", model.Action{Type: model.ActionApproval, AccessGrant: model.Write,
		Approvals: []model.Approval{{RequiredPermission: model.UserAdmin}, {RequiredPermission: model.Owner}}}, secTagA))
	osel := secCreate(t, e, secPolicy("owner-choice", model.Action{Type: model.ActionAnyone}, model.Circumstance{Type: model.CircumstanceOwnerSelected}))
	p := secPolicy("certified", model.Action{Type: model.ActionEntitlements, Advanced: "@hasAttribute('dept', 'eng')"}, secTagA)
	p.Certification = &model.Certification{Text: "ok", Label: "l"}
	cert := secCreate(t, e, p)
	require.NoError(t, e.ApplyPolicy(engine.As(secOwner), osel.ID, 10))
	require.NoError(t, e.DisablePolicy(engine.As(secOwner), 20, appr.ID, "not here"))
	p2 := *p
	p2.Certification = &model.Certification{Text: "changed", Label: "l"}
	_, _, err := e.UpdatePolicy(engine.As(secGov), cert.ID, &p2, engine.WriteOptions{ReCertify: true})
	require.NoError(t, err)

	secGrant(t, e, 10, secCarol, 0, model.RecordSubscribed, model.Read, secT0.Add(48*time.Hour))
	secGrant(t, e, 20, 0, 2, model.RecordOwner, model.Write, time.Time{})
	secRequest(t, e, secDave, 10, model.Read, time.Time{})
	pending := secRequest(t, e, secBob, 10, model.Write, time.Time{})
	_, err = e.Approve(engine.As(secApprover), []model.ApproveEntry{{ID: pending.ID}})
	require.NoError(t, err)
	denied := secRequest(t, e, secFrank, 10, model.Write, time.Time{})
	_, err = e.Deny(engine.As(secOwner), []model.DenyEntry{{ID: denied.ID, DenialReasoning: "no"}})
	require.NoError(t, err)
	done := secRequest(t, e, secOut, 10, model.Write, time.Time{})
	_, err = e.Approve(engine.As(secApprover), []model.ApproveEntry{{ID: done.ID}})
	require.NoError(t, err)
	_, err = e.Approve(engine.As(secOwner), []model.ApproveEntry{{ID: done.ID, Expiration: secT0.Add(time.Hour)}})
	require.NoError(t, err)
	return e, c
}

// structural returns the offsets of JSON structural bytes outside strings
// ({}[]:, — quotes are left to TestSecurityImportRejectsCommentedOutFields).
func structural(data []byte) []int {
	var out []int
	in, esc := false, false
	for i, b := range data {
		switch {
		case in && esc:
			esc = false
		case in && b == '\\':
			esc = true
		case b == '"':
			in = !in
		case !in && strings.IndexByte("{}[]:,", b) >= 0:
			out = append(out, i)
		}
	}
	return out
}

// editExport decodes an export, lets edit change it, and encodes it again.
func editExport(t testing.TB, data []byte, edit func(b map[string]any)) []byte {
	t.Helper()
	var b map[string]any
	require.NoError(t, json.Unmarshal(data, &b))
	edit(b)
	out, err := json.Marshal(b)
	require.NoError(t, err)
	return out
}

func listAt(b map[string]any, key string) []any { l, _ := b[key].([]any); return l }

func stateOf(b map[string]any) map[string]any { m, _ := b["state"].(map[string]any); return m }

func recordsOf(b map[string]any) []any { return listAt(stateOf(b), "records") }

func objAt(l []any, i int) map[string]any { m, _ := l[i].(map[string]any); return m }

// TestSecurityImportRejectsCorruptExports: a truncated or corrupted export fails to
// Import with an error, and the engine's Export stays byte-identical (and its
// decisions unchanged).
func TestSecurityImportRejectsCorruptExports(t *testing.T) {
	t.Parallel()
	src, c := secRichEngine(t)
	exp := secExport(t, src)
	// The target already holds a different state, which must survive every failure.
	dst, _ := secWorld(t)
	secCreate(t, dst, secPolicy("kept", model.Action{Type: model.ActionAnyone, AutomaticSubscription: true}, secTagA))
	secGrant(t, dst, 10, secCarol, 0, model.RecordSubscribed, model.Write, time.Time{})
	base := secExport(t, dst)
	// Sanity: the intact export imports (into a scratch engine) and round-trips.
	scratch := engine.New(engine.WithClock(c.Now))
	require.NoError(t, scratch.Import(exp))
	require.True(t, secSame(exp, secExport(t, scratch)))

	type bad struct {
		name string
		data []byte
		msg  string // substring of the error, "" for any
	}
	var cases []bad
	trimmed := bytes.TrimRight(exp, " \n\t\r")
	for i := 1; i <= 40; i++ {
		cut := len(trimmed) * i / 41
		cases = append(cases, bad{fmt.Sprintf("truncated at %d of %d", cut, len(exp)), trimmed[:cut], ""})
	}
	cases = append(cases, bad{"truncated before the last byte", trimmed[:len(trimmed)-1], ""}, bad{"empty", nil, ""},
		bad{"only whitespace", []byte(" \n"), ""})
	pos := structural(trimmed)
	step := 1 + len(pos)/150 // about 150 of them, spread over the whole export
	for k := 0; k < len(pos); k += step {
		at := pos[k]
		flipped := append([]byte(nil), trimmed...)
		flipped[at] ^= 0x01
		cases = append(cases, bad{fmt.Sprintf("structural byte %d %q flipped", at, trimmed[at]), flipped, ""})
	}
	edit := func(name, msg string, f func(b map[string]any)) {
		cases = append(cases, bad{name, editExport(t, exp, f), msg})
	}
	for _, v := range []any{2, 0, -1, "1", nil, 1.5} {
		v := v
		edit(fmt.Sprintf("state version %v", v), "version", func(b map[string]any) { stateOf(b)["version"] = v })
	}
	edit("state without version", "version", func(b map[string]any) { delete(stateOf(b), "version") })
	edit("state is a list", "state", func(b map[string]any) { b["state"] = []any{} })
	edit("state has an unknown field", "unknown field", func(b map[string]any) { stateOf(b)["admin"] = true })
	edit("duplicate policy id", "duplicate policy id", func(b map[string]any) {
		objAt(listAt(b, "policies"), 1)["id"] = objAt(listAt(b, "policies"), 0)["id"]
	})
	edit("policy without id", "id", func(b map[string]any) { delete(objAt(listAt(b, "policies"), 0), "id") })
	edit("policy id zero", "id", func(b map[string]any) { objAt(listAt(b, "policies"), 0)["id"] = 0 })
	edit("policy id a string", "id", func(b map[string]any) { objAt(listAt(b, "policies"), 0)["id"] = "1" })
	edit("duplicate policyKey", "policyKey", func(b map[string]any) {
		objAt(listAt(b, "policies"), 1)["policyKey"] = objAt(listAt(b, "policies"), 0)["policyKey"]
	})
	edit("invalid policy", "policies[0]", func(b map[string]any) { objAt(listAt(b, "policies"), 0)["type"] = "everything" })
	edit("duplicate record id", "duplicate record id", func(b map[string]any) {
		objAt(recordsOf(b), 1)["id"] = objAt(recordsOf(b), 0)["id"]
	})
	edit("record id zero", "id", func(b map[string]any) { objAt(recordsOf(b), 0)["id"] = 0 })
	edit("record on an unknown data source", "dataSourceId", func(b map[string]any) { objAt(recordsOf(b), 0)["dataSourceId"] = 999 })
	edit("record with an unknown field", "unknown field", func(b map[string]any) { objAt(recordsOf(b), 0)["grantEverything"] = true })
	edit("record createdAt not a time", "yesterday", func(b map[string]any) { objAt(recordsOf(b), 0)["createdAt"] = "yesterday" })
	edit("duplicate user id", "users", func(b map[string]any) { objAt(listAt(b, "users"), 1)["id"] = objAt(listAt(b, "users"), 0)["id"] })
	edit("duplicate data source id", "dataSources", func(b map[string]any) {
		objAt(listAt(b, "dataSources"), 1)["id"] = objAt(listAt(b, "dataSources"), 0)["id"]
	})
	edit("duplicate group id", "groups", func(b map[string]any) { objAt(listAt(b, "groups"), 1)["id"] = objAt(listAt(b, "groups"), 0)["id"] })
	edit("duplicate API key", "apiKey", func(b map[string]any) {
		objAt(listAt(b, "users"), 1)["apiKey"] = objAt(listAt(b, "users"), 0)["apiKey"]
	})
	edit("user without id", "users[0].id", func(b map[string]any) { delete(objAt(listAt(b, "users"), 0), "id") })
	edit("unknown top-level key", "steps", func(b map[string]any) { b["steps"] = []any{} })
	edit("no name", "name", func(b map[string]any) { delete(b, "name") })
	cases = append(cases, bad{"top level a list", []byte(`[` + string(exp) + `]`), ""})

	t.Logf("import robustness: %d corrupt exports", len(cases))
	before := secDecisions(dst)
	for _, tc := range cases {
		err := dst.Import(tc.data)
		if !assert.Error(t, err, "%s: import must fail", tc.name) {
			// Restore the target for the next cases.
			require.NoError(t, dst.Import(base))
			continue
		}
		assert.NotEmpty(t, err.Error(), tc.name)
		if tc.msg != "" {
			assert.Contains(t, err.Error(), tc.msg, tc.name)
		}
		if !assert.True(t, secSame(base, secExport(t, dst)), "%s: Export changed", tc.name) {
			require.NoError(t, dst.Import(base))
		}
	}
	assert.Equal(t, before, secDecisions(dst), "decisions unchanged")
}

// TestSecurityImportRejectsInvalidRecords: records whose enumerated fields are not
// valid (a state or access level that does not exist, a profile and a group at
// once, neither) are refused by Import: a corrupted record must not turn into
// access.
func TestSecurityImportRejectsInvalidRecords(t *testing.T) {
	t.Parallel()
	src, c := secRichEngine(t)
	exp := secExport(t, src)
	dst := engine.New(engine.WithClock(c.Now))
	require.NoError(t, dst.Import(exp))
	base := secExport(t, dst)
	cases := map[string]func(b map[string]any){
		"state not in enum":       func(b map[string]any) { objAt(recordsOf(b), 0)["state"] = "bogus" },
		"accessGrant not in enum": func(b map[string]any) { objAt(recordsOf(b), 0)["accessGrant"] = "ADMIN" },
		"pending manual grant":    func(b map[string]any) { objAt(recordsOf(b), 0)["state"] = "pending" },
		"profile and group":       func(b map[string]any) { objAt(recordsOf(b), 0)["group"] = 1 },
		"neither profile nor group": func(b map[string]any) {
			delete(objAt(recordsOf(b), 0), "profile")
		},
		"slot state not in enum": func(b map[string]any) {
			for i := range recordsOf(b) {
				if sl, ok := objAt(recordsOf(b), i)["approvals"].([]any); ok {
					objAt(sl, 0)["state"] = "maybe"
				}
			}
		},
		"slot permission not in enum": func(b map[string]any) {
			for i := range recordsOf(b) {
				if sl, ok := objAt(recordsOf(b), i)["approvals"].([]any); ok {
					objAt(sl, 0)["requiredPermission"] = "ROOT"
				}
			}
		},
	}
	for name, f := range cases {
		err := dst.Import(editExport(t, exp, f))
		assert.Error(t, err, name)
		assert.True(t, secSame(base, secExport(t, dst)), "%s: Export changed", name)
		if err == nil {
			require.NoError(t, dst.Import(base))
		}
	}
}

// TestSecurityImportRejectsCommentedOutFields: an export is JSON; one corrupted
// byte that turns the quote opening a key into '#' makes it invalid JSON, and it
// must be refused — not read as YAML with the rest of the line commented out, which
// silently drops the field: an expiring grant becomes permanent, a revoked grant
// (state denied) comes back to life.
func TestSecurityImportRejectsCommentedOutFields(t *testing.T) {
	t.Parallel()
	src, c := secRichEngine(t)
	revoked := secGrant(t, src, 10, secAlice, 0, model.RecordSubscribed, model.Write, time.Time{})
	_, err := src.ChangeRecord(engine.As(secGov), 10, revoked.ID, &model.RecordChange{State: model.RecordDenied})
	require.NoError(t, err)
	exp := secExport(t, src)
	require.Equal(t, engine.LevelNone, src.Decide(secAlice, 10).Grant)
	// comment turns the quote that starts anchor (a key) into '#'.
	comment := func(anchor string) []byte {
		require.Equal(t, 1, bytes.Count(exp, []byte(anchor)), "anchor %q", anchor)
		out := append([]byte(nil), exp...)
		out[bytes.Index(exp, []byte(anchor))] = '#'
		return out
	}
	dst := engine.New(engine.WithClock(c.Now))
	require.NoError(t, dst.Import(exp))
	base := secExport(t, dst)
	for name, data := range map[string][]byte{
		"expiration of carol's grant": comment(`"expiration": "2026-01-03T00:00:00Z"`),
		"state of the revoked grant":  comment(fmt.Sprintf("\"state\": \"denied\",\n        \"profile\": %d,", secAlice)),
	} {
		err := dst.Import(data)
		assert.Error(t, err, "%s: a one-byte corruption must not import", name)
		if err == nil {
			c.Set(secT0.AddDate(1, 0, 0))
			t.Logf("%s: carol %v (NONE once expired), alice %v (revoked), owner %v", name,
				dst.Decide(secCarol, 10).Grant, dst.Decide(secAlice, 10).Grant, dst.Decide(secOwner, 10).Grant)
			c.Set(secT0)
			require.NoError(t, dst.Import(base))
			continue
		}
		assert.True(t, secSame(base, secExport(t, dst)))
	}
}

// TestSecurityImportByteFlipsNeverCorrupt flips single bytes anywhere in an export
// (inside strings and numbers too, where the result may still be a valid bundle):
// Import either fails leaving Export byte-identical, or succeeds with a state that
// exports and re-imports identically. It never panics.
func TestSecurityImportByteFlipsNeverCorrupt(t *testing.T) {
	t.Parallel()
	src, c := secRichEngine(t)
	exp := secExport(t, src)
	dst := engine.New(engine.WithClock(c.Now))
	require.NoError(t, dst.Import(exp))
	base := secExport(t, dst)
	r := rand.New(rand.NewSource(8))
	n := 100
	if testing.Short() {
		n = 30
	}
	failed, accepted := 0, 0
	for i := 0; i < n; i++ {
		at := r.Intn(len(exp))
		flipped := append([]byte(nil), exp...)
		flipped[at] ^= byte(1 << r.Intn(8))
		if err := dst.Import(flipped); err != nil {
			failed++
			require.True(t, secSame(base, secExport(t, dst)), "flip at %d: a failed import changed the state", at)
			continue
		}
		accepted++
		got := secExport(t, dst)
		again := engine.New(engine.WithClock(c.Now))
		require.NoError(t, again.Import(got), "flip at %d: an accepted import exports what does not import", at)
		require.True(t, secSame(got, secExport(t, again)), "flip at %d: not a stable round trip", at)
		require.NoError(t, dst.Import(base))
		// Every import is a write: the state is base's again, at a later revision.
		base = secExport(t, dst)
	}
	t.Logf("byte flips: %d refused, %d accepted as a different valid state", failed, accepted)
}

// secSame reports whether two exports are byte-identical (compared without
// printing them: they are large).
func secSame(a, b []byte) bool { return bytes.Equal(a, b) }

// secDecisions is every decision of an engine, as text.
func secDecisions(e *engine.Engine) string {
	s := e.Snapshot()
	var b strings.Builder
	for _, u := range s.UserIDs() {
		for _, ds := range s.DataSourceIDs() {
			d := s.Decide(u, ds)
			fmt.Fprintf(&b, "%d/%d:%v,%v,%v,%v;", u, ds, d.Grant, d.Read, d.Write, d.Discoverable)
		}
	}
	return b.String()
}
