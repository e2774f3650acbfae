package engine_test

// Tables for docs/semantics.md, Decisions, Merging and Decision states: every decision state, every merge case,
// automatic rules, WRITE implies READ, data, staged, disabled and owner-selected
// policies, expirations, and the recomputation of policy-derived access. Every
// expected value below is worked out by hand from docs/semantics.md.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// Extra users of these tests, added to world's by semWorld.
const (
	semCreator    = 21 // CREATE_DATA_SOURCE
	semGov2       = 22 // a second GOVERNANCE user
	semGrantOwner = 23 // no permission; tests give them an owner-state manual grant
	semGovOwner   = 24 // GOVERNANCE, listed owner of data source 13
	semNobody     = 25 // no group, no attribute, no permission
)

// semWorld is world plus the users above and data source 13 (owned by semGovOwner).
func semWorld(t testing.TB) (*engine.Engine, *clock) {
	t.Helper()
	e, c := world(t)
	require.NoError(t, e.PutUsers(engine.SystemActor(), []*model.User{
		{ID: semCreator, Name: "Creator", Permissions: []model.Permission{model.CreateDataSource}},
		{ID: semGov2, Name: "Gov2", Permissions: []model.Permission{model.Governance}},
		{ID: semGrantOwner, Name: "GrantOwner"},
		{ID: semGovOwner, Name: "GovOwner", Permissions: []model.Permission{model.Governance}},
		{ID: semNobody, Name: "Nobody"},
	}))
	require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 13, Name: "govowned",
		Owners: []int64{semGovOwner}, Server: "db3.example.com", CreatedAt: t0}))
	return e, c
}

// ---- action builders ----

// aAnyone: type anyone (outcome satisfied for everyone).
func aAnyone(auto bool) model.Action {
	return model.Action{Type: model.ActionAnyone, AutomaticSubscription: auto}
}

// aGroups: entitlements, any of the groups.
func aGroups(auto bool, groups ...string) model.Action {
	return model.Action{Type: model.ActionEntitlements, AutomaticSubscription: auto,
		Entitlements: &model.Entitlements{Operator: model.Any, Groups: groups}}
}

// aAttr: entitlements, one attribute pair.
func aAttr(auto bool, name, value string) model.Action {
	return model.Action{Type: model.ActionEntitlements, AutomaticSubscription: auto,
		Entitlements: &model.Entitlements{Operator: model.Any, Attributes: []model.Attribute{{Name: name, Value: value}}}}
}

// aNobody: entitlements on a group no one is in (outcome unsatisfied for everyone).
func aNobody(auto bool) model.Action { return aGroups(auto, "no-such-group") }

// aApproval: type approval with one slot per permission.
func aApproval(perms ...model.Permission) model.Action {
	a := model.Action{Type: model.ActionApproval}
	for _, p := range perms {
		a.Approvals = append(a.Approvals, model.Approval{RequiredPermission: p})
	}
	return a
}

// aManual: type manual.
func aManual() model.Action { return model.Action{Type: model.ActionManual} }

// atWrite sets accessGrant WRITE.
func atWrite(a model.Action) model.Action { a.AccessGrant = model.Write; return a }

// shared sets shareResponsibility.
func shared(a model.Action) model.Action { a.ShareResponsibility = true; return a }

// discover sets allowDiscovery.
func discover(a model.Action) model.Action { a.AllowDiscovery = true; return a }

// ---- call helpers ----

func semRequest(t testing.TB, e *engine.Engine, user, ds int64, level model.AccessGrant) *model.AccessRecord {
	t.Helper()
	r, err := e.Access(engine.As(user), ds, engine.AccessRequest{AccessGrant: level})
	require.NoError(t, err)
	return r
}

// semGrant makes a manual grant as actor to a user (profile != 0) or a group.
func semGrant(t testing.TB, e *engine.Engine, actor engine.Actor, ds, profile, group int64, state model.RecordState,
	level model.AccessGrant, exp time.Time) *model.AccessRecord {
	t.Helper()
	req := engine.AccessRequest{State: state, AccessGrant: level, Expiration: exp}
	req.ProfileID = profile
	req.GroupID = group
	r, err := e.Access(actor, ds, req)
	require.NoError(t, err)
	return r
}

// semEditUser replaces a user with an edited copy (PutUser).
func semEditUser(t testing.TB, e *engine.Engine, id int64, edit func(u *model.User)) {
	t.Helper()
	cur, ok := e.Snapshot().User(id)
	require.True(t, ok)
	u := *cur
	u.Groups = append([]string(nil), cur.Groups...)
	u.Attributes = map[string][]string{}
	for k, v := range cur.Attributes {
		u.Attributes[k] = append([]string(nil), v...)
	}
	edit(&u)
	require.NoError(t, e.PutUser(engine.SystemActor(), &u))
}

func semUpdate(t testing.TB, e *engine.Engine, id int64, p *model.Policy) {
	t.Helper()
	_, _, err := e.UpdatePolicy(engine.As(gov), id, p, engine.WriteOptions{})
	require.NoError(t, err)
}

func semPolicy(key string, a model.Action, mods ...func(*model.Policy)) *model.Policy {
	p := v2(key, a)
	for _, m := range mods {
		m(p)
	}
	return p
}

func staged(p *model.Policy) { p.Staged = true }

func onTag(tg string) func(*model.Policy) {
	return func(p *model.Policy) { p.Circumstances = append(p.Circumstances, tag(tg)) }
}

func ownerSelected(p *model.Policy) {
	p.Circumstances = append(p.Circumstances, model.Circumstance{Type: model.CircumstanceOwnerSelected})
}

func dataPolicy(key string, circ ...model.Circumstance) *model.Policy {
	return &model.Policy{Key: key, Name: key, Type: model.PolicyData, Circumstances: circ,
		CircumstanceOperator: model.Any, DataActions: json.RawMessage(`{"type":"masking","rules":[]}`)}
}

// ---- observing a merged outcome ----

// Merged outcomes as observed through the API.
const (
	oAuto   = "satisfied, automatic"
	oSat    = "satisfied"
	oAppr   = "needs approval"
	oManual = "needs manual grant"
	oUnsat  = "unsatisfied"
)

// semOutcome observes the merged outcome of a level for a user who holds no record
// and owns nothing: subscribed (held with no record) means satisfied and automatic,
// eligible satisfied, requestable needs approval; for none, a request is refused with
// 403 (nothing is stored) and its reason tells a manual-grant outcome apart.
func semOutcome(t testing.TB, e *engine.Engine, user, ds int64, level model.AccessGrant) string {
	t.Helper()
	d := e.Decide(user, ds)
	st := d.Read
	if level == model.Write {
		st = d.Write
	}
	switch st {
	case engine.StateSubscribed:
		return oAuto
	case engine.StateEligible:
		return oSat
	case engine.StateRequestable:
		return oAppr
	case engine.StateNone:
		n := len(e.Records())
		_, err := e.Access(engine.As(user), ds, engine.AccessRequest{AccessGrant: level})
		require.ErrorIs(t, err, engine.ErrForbidden)
		require.Len(t, e.Records(), n, "a refused request stores nothing")
		if strings.Contains(err.Error(), "manual") {
			return oManual
		}
		return oUnsat
	}
	t.Fatalf("unexpected state %s", st)
	return ""
}

// ---- merges ----

func TestSemanticsMerge(t *testing.T) {
	t.Parallel()
	S := func(k string) *model.Policy { return semPolicy(k, aAnyone(true)) }
	Sn := func(k string) *model.Policy { return semPolicy(k, aAnyone(false)) }
	A := func(k string) *model.Policy { return semPolicy(k, aApproval(model.Governance)) }
	M := func(k string) *model.Policy { return semPolicy(k, aManual()) }
	U := func(k string) *model.Policy { return semPolicy(k, aNobody(true)) }
	sh := func(p *model.Policy) *model.Policy { p.Action.ShareResponsibility = true; return p }
	w := func(p *model.Policy) *model.Policy { p.Action.AccessGrant = model.Write; return p }

	cases := []struct {
		name        string
		policies    []*model.Policy
		user        int64
		read, write string
	}{
		// No applicable subscription policy at a level: unsatisfied.
		{"no policy at all", nil, bob, oUnsat, oUnsat},
		// AND of always-required: the lower wins.
		{"one anyone automatic", []*model.Policy{S("a")}, bob, oAuto, oUnsat},
		{"one anyone, not automatic", []*model.Policy{Sn("a")}, bob, oSat, oUnsat},
		{"AND satisfied,satisfied both automatic", []*model.Policy{S("a"), S("b")}, bob, oAuto, oUnsat},
		{"AND automatic + not automatic: not automatic", []*model.Policy{S("a"), Sn("b")}, bob, oSat, oUnsat},
		{"AND satisfied + approval = approval", []*model.Policy{S("a"), A("b")}, bob, oAppr, oUnsat},
		{"AND approval + satisfied = approval", []*model.Policy{A("a"), S("b")}, bob, oAppr, oUnsat},
		{"AND approval + approval = approval", []*model.Policy{A("a"), A("b")}, bob, oAppr, oUnsat},
		{"AND approval + manual = manual", []*model.Policy{A("a"), M("b")}, bob, oManual, oUnsat},
		{"AND satisfied + manual = manual", []*model.Policy{S("a"), M("b")}, bob, oManual, oUnsat},
		{"AND satisfied + unsatisfied = unsatisfied", []*model.Policy{S("a"), U("b")}, bob, oUnsat, oUnsat},
		{"AND approval + unsatisfied = unsatisfied", []*model.Policy{A("a"), U("b")}, bob, oUnsat, oUnsat},
		{"AND manual + unsatisfied = unsatisfied", []*model.Policy{M("a"), U("b")}, bob, oUnsat, oUnsat},
		{"entitlements held", []*model.Policy{semPolicy("f", aGroups(true, "finance"))}, alice, oAuto, oUnsat},
		{"entitlements not held", []*model.Policy{semPolicy("f", aGroups(true, "finance"))}, bob, oUnsat, oUnsat},
		// OR of share-responsibility: the higher wins.
		{"OR approval | satisfied automatic", []*model.Policy{sh(A("a")), sh(S("b"))}, bob, oAuto, oUnsat},
		{"OR unsatisfied | approval", []*model.Policy{sh(U("a")), sh(A("b"))}, bob, oAppr, oUnsat},
		{"OR unsatisfied | manual", []*model.Policy{sh(U("a")), sh(M("b"))}, bob, oManual, oUnsat},
		{"OR manual | approval", []*model.Policy{sh(M("a")), sh(A("b"))}, bob, oAppr, oUnsat},
		{"OR manual | satisfied automatic", []*model.Policy{sh(M("a")), sh(S("b"))}, bob, oAuto, oUnsat},
		{"OR unsatisfied | unsatisfied", []*model.Policy{sh(U("a")), sh(U("b"))}, bob, oUnsat, oUnsat},
		{"OR not automatic | automatic: one satisfied automatic suffices", []*model.Policy{sh(Sn("a")), sh(S("b"))}, bob, oAuto, oUnsat},
		{"OR satisfied not automatic | approval", []*model.Policy{sh(Sn("a")), sh(A("b"))}, bob, oSat, oUnsat},
		{"OR automatic but unsatisfied | satisfied not automatic: not automatic", []*model.Policy{sh(U("a")), sh(Sn("b"))}, bob, oSat, oUnsat},
		{"OR group entitlement | approval, member", []*model.Policy{sh(semPolicy("f", aGroups(true, "finance"))), sh(A("b"))}, alice, oAuto, oUnsat},
		{"OR group entitlement | approval, not a member", []*model.Policy{sh(semPolicy("f", aGroups(true, "finance"))), sh(A("b"))}, bob, oAppr, oUnsat},
		// AND(always-required) AND OR(share-responsibility).
		{"always satisfied AND (unsatisfied | approval)", []*model.Policy{S("a"), sh(U("b")), sh(A("c"))}, bob, oAppr, oUnsat},
		{"always approval AND (satisfied)", []*model.Policy{A("a"), sh(S("b"))}, bob, oAppr, oUnsat},
		{"always satisfied AND (satisfied | unsatisfied)", []*model.Policy{S("a"), sh(S("b")), sh(U("c"))}, bob, oAuto, oUnsat},
		{"always satisfied AND (unsatisfied | unsatisfied)", []*model.Policy{S("a"), sh(U("b")), sh(U("c"))}, bob, oUnsat, oUnsat},
		{"always not automatic AND (automatic): not automatic", []*model.Policy{Sn("a"), sh(S("b"))}, bob, oSat, oUnsat},
		{"always automatic AND (not automatic): not automatic", []*model.Policy{S("a"), sh(Sn("b"))}, bob, oSat, oUnsat},
		{"always manual AND (satisfied)", []*model.Policy{M("a"), sh(S("b"))}, bob, oManual, oUnsat},
		{"always satisfied AND (manual | unsatisfied)", []*model.Policy{S("a"), sh(M("b")), sh(U("c"))}, bob, oManual, oUnsat},
		{"always satisfied AND (approval | manual)", []*model.Policy{S("a"), sh(A("b")), sh(M("c"))}, bob, oAppr, oUnsat},
		{"always unsatisfied AND (satisfied)", []*model.Policy{U("a"), sh(S("b"))}, bob, oUnsat, oUnsat},
		// A policy merges only at its own level; WRITE implies READ; READ never implies WRITE.
		{"READ policy only: WRITE has no policy", []*model.Policy{S("r")}, bob, oAuto, oUnsat},
		{"WRITE automatic gives READ and WRITE", []*model.Policy{w(S("w"))}, bob, oAuto, oAuto},
		{"WRITE not automatic: both eligible", []*model.Policy{w(Sn("w"))}, bob, oSat, oSat},
		{"READ unsatisfied, WRITE approval: READ takes the higher", []*model.Policy{U("r"), w(A("w"))}, bob, oAppr, oAppr},
		{"READ approval, WRITE automatic: READ takes WRITE's", []*model.Policy{A("r"), w(S("w"))}, bob, oAuto, oAuto},
		{"READ approval, WRITE not automatic: READ satisfied, not automatic", []*model.Policy{A("r"), w(Sn("w"))}, bob, oSat, oSat},
		{"tie: READ not automatic, WRITE automatic: READ automatic", []*model.Policy{Sn("r"), w(S("w"))}, bob, oAuto, oAuto},
		{"tie: READ automatic, WRITE not automatic", []*model.Policy{S("r"), w(Sn("w"))}, bob, oAuto, oSat},
		{"READ manual, WRITE approval", []*model.Policy{M("r"), w(A("w"))}, bob, oAppr, oAppr},
		{"READ automatic, WRITE manual: READ keeps the higher", []*model.Policy{S("r"), w(M("w"))}, bob, oAuto, oManual},
		{"WRITE AND of automatic and manual, no READ policy", []*model.Policy{w(S("w1")), w(M("w2"))}, bob, oManual, oManual},
		{"READ AND does not see a WRITE unsatisfied policy", []*model.Policy{S("r"), w(U("w"))}, bob, oAuto, oUnsat},
		{"WRITE OR of share policies", []*model.Policy{w(sh(U("w1"))), w(sh(S("w2")))}, bob, oAuto, oAuto},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			// Data source 12 has no owner; every policy here applies everywhere.
			assert.Equal(t, tc.read, semOutcome(t, e, tc.user, 12, model.Read), "READ")
			assert.Equal(t, tc.write, semOutcome(t, e, tc.user, 12, model.Write), "WRITE")
			assert.Empty(t, e.Records())
			// The merge is order independent: the same policies created in reverse order.
			e2, _ := semWorld(t)
			for i := len(tc.policies) - 1; i >= 0; i-- {
				create(t, e2, tc.policies[i])
			}
			assert.Equal(t, tc.read, semOutcome(t, e2, tc.user, 12, model.Read), "READ, reverse order")
			assert.Equal(t, tc.write, semOutcome(t, e2, tc.user, 12, model.Write), "WRITE, reverse order")
		})
	}
}

// ---- states: step tables ----

type semWant struct {
	user, ds    int64
	grant       engine.Level
	read, write engine.State
}

type semStep struct {
	name string
	do   func(t *testing.T, e *engine.Engine, c *clock)
	want []semWant
}

func runSemSteps(t *testing.T, steps []semStep) {
	t.Helper()
	e, c := semWorld(t)
	for _, st := range steps {
		if st.do != nil {
			st.do(t, e, c)
		}
		for _, w := range st.want {
			d := e.Decide(w.user, w.ds)
			assert.Equal(t, w.grant, d.Grant, "%s: user %d ds %d grant", st.name, w.user, w.ds)
			assert.Equal(t, w.read, d.Read, "%s: user %d ds %d READ state", st.name, w.user, w.ds)
			assert.Equal(t, w.write, d.Write, "%s: user %d ds %d WRITE state", st.name, w.user, w.ds)
		}
	}
}

func policies(ps ...*model.Policy) func(t *testing.T, e *engine.Engine, c *clock) {
	return func(t *testing.T, e *engine.Engine, _ *clock) {
		for _, p := range ps {
			create(t, e, p)
		}
	}
}

const (
	sNone = engine.StateNone
	sReq  = engine.StateRequestable
	sElig = engine.StateEligible
	sPend = engine.StatePending
	sSub  = engine.StateSubscribed
	sOwn  = engine.StateOwner
)

func TestSemanticsStates(t *testing.T) {
	t.Parallel()
	none, read, write := engine.LevelNone, engine.LevelRead, engine.LevelWrite
	noExp := time.Time{}
	cases := []struct {
		name  string
		steps []semStep
	}{
		{"owner reads with no policy, never writes by ownership", []semStep{
			{"start", nil, []semWant{{carol, 10, read, sOwn, sNone}, {alice, 10, none, sNone, sNone}}},
		}},
		{"owner at WRITE with an automatic WRITE policy", []semStep{
			{"write policy", policies(semPolicy("w", atWrite(aAnyone(true)), onTag("Finance"))), []semWant{
				{carol, 10, write, sOwn, sOwn}, {alice, 10, write, sSub, sSub}, {alice, 11, none, sNone, sNone}}},
		}},
		{"owner with a WRITE policy that is not automatic: eligible at WRITE", []semStep{
			{"write policy", policies(semPolicy("w", atWrite(aAnyone(false)))), []semWant{
				{carol, 10, read, sOwn, sElig}, {bob, 10, none, sElig, sElig}}},
			{"owner subscribes to WRITE", func(t *testing.T, e *engine.Engine, _ *clock) { semRequest(t, e, carol, 10, model.Write) },
				[]semWant{{carol, 10, write, sOwn, sOwn}}},
		}},
		{"owner with a READ policy only stays at READ", []semStep{
			{"read policy", policies(semPolicy("r", aAnyone(true))), []semWant{{carol, 10, read, sOwn, sNone}}},
		}},
		{"owner at WRITE through a WRITE manual grant", []semStep{
			{"grant", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 10, carol, 0, model.RecordSubscribed, model.Write, noExp)
			}, []semWant{{carol, 10, write, sOwn, sOwn}}},
		}},
		{"owner by an owner-state manual grant, until revoked", []semStep{
			{"grant owner", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 11, bob, 0, model.RecordOwner, model.Read, noExp)
			}, []semWant{{bob, 11, read, sOwn, sNone}, {alice, 11, none, sNone, sNone}}},
			{"revoke", func(t *testing.T, e *engine.Engine, _ *clock) {
				_, err := e.ChangeRecord(engine.As(gov), 11, 1, &model.RecordChange{State: model.RecordDenied})
				require.NoError(t, err)
			}, []semWant{{bob, 11, none, sNone, sNone}}},
		}},
		{"owner-state WRITE grant: owner at both levels", []semStep{
			{"grant owner WRITE", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 11, bob, 0, model.RecordOwner, model.Write, noExp)
			}, []semWant{{bob, 11, write, sOwn, sOwn}}},
		}},
		{"owner-state grant to a group makes every member an owner", []semStep{
			{"grant", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 11, 0, 1, model.RecordOwner, model.Read, noExp)
			}, []semWant{{alice, 11, read, sOwn, sNone}, {erin, 11, read, sOwn, sNone}, {bob, 11, none, sNone, sNone}}},
		}},
		{"subscribed through an automatic policy", []semStep{
			{"policy", policies(semPolicy("a", aAnyone(true))), []semWant{
				{outsider, 12, read, sSub, sNone}, {carol, 10, read, sOwn, sNone}}},
		}},
		{"self-subscription holds only while satisfied: losing the group drops it", []semStep{
			{"policy", policies(semPolicy("f", aGroups(false, "finance"))), []semWant{
				{alice, 12, none, sElig, sNone}, {bob, 12, none, sNone, sNone}}},
			{"alice subscribes", func(t *testing.T, e *engine.Engine, _ *clock) {
				r := semRequest(t, e, alice, 12, model.Read)
				assert.Equal(t, model.RecordSubscribed, r.State)
			}, []semWant{{alice, 12, read, sSub, sNone}}},
			{"alice leaves finance", func(t *testing.T, e *engine.Engine, _ *clock) {
				semEditUser(t, e, alice, func(u *model.User) { u.Groups = nil })
			}, []semWant{{alice, 12, none, sNone, sNone}}},
		}},
		{"self-subscription does not hold once the outcome needs approval", []semStep{
			{"policy", policies(semPolicy("a", aAnyone(false))), []semWant{{bob, 12, none, sElig, sNone}}},
			{"bob subscribes", func(t *testing.T, e *engine.Engine, _ *clock) { semRequest(t, e, bob, 12, model.Read) },
				[]semWant{{bob, 12, read, sSub, sNone}}},
			{"policy now needs approval", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("a", aApproval(model.Governance)))
			}, []semWant{{bob, 12, none, sReq, sNone}}},
		}},
		{"self-subscription at WRITE gives READ while satisfied", []semStep{
			{"policy", policies(semPolicy("w", atWrite(aAnyone(false)))), []semWant{{bob, 12, none, sElig, sElig}}},
			{"bob subscribes to WRITE", func(t *testing.T, e *engine.Engine, _ *clock) { semRequest(t, e, bob, 12, model.Write) },
				[]semWant{{bob, 12, write, sSub, sSub}}},
		}},
		{"approved request holds while the outcome is at least needs approval", []semStep{
			{"policy", policies(semPolicy("ap", aApproval(model.Governance))), []semWant{{bob, 12, none, sReq, sNone}}},
			{"bob requests", func(t *testing.T, e *engine.Engine, _ *clock) {
				r := semRequest(t, e, bob, 12, model.Read)
				assert.Equal(t, model.RecordPending, r.State)
			}, []semWant{{bob, 12, none, sPend, sNone}}},
			{"gov approves", func(t *testing.T, e *engine.Engine, _ *clock) {
				f, err := e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 1}})
				require.NoError(t, err)
				require.Empty(t, f)
			}, []semWant{{bob, 12, read, sSub, sNone}}},
			{"policy becomes anyone (satisfied, not automatic): still held", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("ap", aAnyone(false)))
			}, []semWant{{bob, 12, read, sSub, sNone}}},
			{"policy becomes manual: lost", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("ap", aManual()))
			}, []semWant{{bob, 12, none, sNone, sNone}}},
			{"policy needs approval again: held again", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("ap", aApproval(model.Governance)))
			}, []semWant{{bob, 12, read, sSub, sNone}}},
			{"policy deleted: unsatisfied, lost", func(t *testing.T, e *engine.Engine, _ *clock) {
				_, err := e.DeletePolicy(engine.As(gov), 1)
				require.NoError(t, err)
			}, []semWant{{bob, 12, none, sNone, sNone}}},
		}},
		{"approved WRITE request gives READ and WRITE", []semStep{
			{"policy", policies(semPolicy("w", atWrite(aApproval(model.Governance)))), []semWant{{bob, 12, none, sReq, sReq}}},
			{"request and approve", func(t *testing.T, e *engine.Engine, _ *clock) {
				semRequest(t, e, bob, 12, model.Write)
				f, err := e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 1}})
				require.NoError(t, err)
				require.Empty(t, f)
			}, []semWant{{bob, 12, write, sSub, sSub}}},
		}},
		{"manual grant to the user", []semStep{
			{"READ grant", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(carol), 10, bob, 0, model.RecordSubscribed, model.Read, noExp)
			}, []semWant{{bob, 10, read, sSub, sNone}, {alice, 10, none, sNone, sNone}}},
			{"WRITE grant", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(carol), 10, alice, 0, model.RecordSubscribed, model.Write, noExp)
			}, []semWant{{alice, 10, write, sSub, sSub}}},
		}},
		{"manual grant to a group reaches its members only while they are members", []semStep{
			{"grant to finance", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 12, 0, 1, model.RecordSubscribed, model.Read, noExp)
			}, []semWant{{alice, 12, read, sSub, sNone}, {erin, 12, read, sSub, sNone}, {bob, 12, none, sNone, sNone}}},
			{"bob joins finance, alice leaves", func(t *testing.T, e *engine.Engine, _ *clock) {
				semEditUser(t, e, bob, func(u *model.User) { u.Groups = append(u.Groups, "finance") })
				semEditUser(t, e, alice, func(u *model.User) { u.Groups = nil })
			}, []semWant{{alice, 12, none, sNone, sNone}, {bob, 12, read, sSub, sNone}, {erin, 12, read, sSub, sNone}}},
		}},
		{"expert-state grant gives its accessGrant", []semStep{
			{"expert WRITE", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordExpert, model.Write, noExp)
			}, []semWant{{bob, 12, write, sSub, sSub}}},
			{"expert READ to a group", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 12, 0, 2, model.RecordExpert, model.Read, noExp)
			}, []semWant{{bob, 12, write, sSub, sSub}, {alice, 12, none, sNone, sNone}}},
		}},
		{"manual grants survive re-evaluation", []semStep{
			{"manual policy and a grant", func(t *testing.T, e *engine.Engine, _ *clock) {
				create(t, e, semPolicy("m", aManual()))
				semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordSubscribed, model.Read, noExp)
			}, []semWant{{bob, 12, read, sSub, sNone}, {alice, 12, none, sNone, sNone}}},
			{"policy now unsatisfied for bob", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("m", aGroups(true, "finance")))
			}, []semWant{{bob, 12, read, sSub, sNone}, {alice, 12, read, sSub, sNone}}},
			{"bob's groups change, the policy is deleted", func(t *testing.T, e *engine.Engine, _ *clock) {
				semEditUser(t, e, bob, func(u *model.User) { u.Groups = nil; u.Attributes = map[string][]string{"x": {"y"}} })
				_, err := e.DeletePolicy(engine.As(gov), 1)
				require.NoError(t, err)
			}, []semWant{{bob, 12, read, sSub, sNone}, {alice, 12, none, sNone, sNone}}},
		}},
		{"pending at exactly the requested level", []semStep{
			{"WRITE approval policy", policies(semPolicy("w", atWrite(aApproval(model.Governance)))), []semWant{
				{bob, 12, none, sReq, sReq}}},
			{"bob requests WRITE: READ is not pending", func(t *testing.T, e *engine.Engine, _ *clock) {
				semRequest(t, e, bob, 12, model.Write)
			}, []semWant{{bob, 12, none, sReq, sPend}}},
		}},
		{"pending READ leaves WRITE requestable", []semStep{
			{"approval at both levels", policies(semPolicy("r", aApproval(model.Governance)), semPolicy("w", atWrite(aApproval(model.Governance)))),
				[]semWant{{bob, 12, none, sReq, sReq}}},
			{"bob requests READ", func(t *testing.T, e *engine.Engine, _ *clock) { semRequest(t, e, bob, 12, model.Read) },
				[]semWant{{bob, 12, none, sPend, sReq}}},
		}},
		{"eligible", []semStep{
			{"anyone, not automatic", policies(semPolicy("a", aAnyone(false))), []semWant{{bob, 12, none, sElig, sNone}}},
		}},
		{"requestable", []semStep{
			{"approval", policies(semPolicy("a", aApproval(model.Owner))), []semWant{{bob, 12, none, sReq, sNone}}},
		}},
		{"none", []semStep{
			{"manual and unmet entitlements", policies(semPolicy("m", aManual(), onTag("Marketing")), semPolicy("f", aGroups(true, "finance"), onTag("Finance"))),
				[]semWant{{bob, 11, none, sNone, sNone}, {bob, 10, none, sNone, sNone}, {bob, 12, none, sNone, sNone}}},
		}},
		{"subscribed at READ, eligible at WRITE, then WRITE", []semStep{
			{"policies", policies(semPolicy("r", aAnyone(true)), semPolicy("w", atWrite(aAnyone(false)))), []semWant{
				{bob, 12, read, sSub, sElig}}},
			{"bob subscribes to WRITE", func(t *testing.T, e *engine.Engine, _ *clock) { semRequest(t, e, bob, 12, model.Write) },
				[]semWant{{bob, 12, write, sSub, sSub}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runSemSteps(t, tc.steps)
		})
	}
}

func TestSemanticsDiscoverable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policies []*model.Policy
		user, ds int64
		want     bool
	}{
		{"no policy", nil, bob, 12, false},
		{"owner", nil, carol, 10, true},
		{"unsatisfied, no allowDiscovery", []*model.Policy{semPolicy("f", aGroups(true, "finance"))}, bob, 12, false},
		{"unsatisfied, allowDiscovery", []*model.Policy{semPolicy("f", discover(aGroups(true, "finance")))}, bob, 12, true},
		{"manual, allowDiscovery", []*model.Policy{semPolicy("m", discover(aManual()))}, bob, 12, true},
		{"manual, no allowDiscovery", []*model.Policy{semPolicy("m", aManual())}, bob, 12, false},
		{"allowDiscovery at WRITE level", []*model.Policy{semPolicy("w", discover(atWrite(aNobody(false))))}, bob, 12, true},
		{"allowDiscovery on one of two policies", []*model.Policy{semPolicy("m", aManual()), semPolicy("f", discover(aNobody(true)))}, bob, 12, true},
		{"allowDiscovery on a policy that does not apply here", []*model.Policy{semPolicy("f", discover(aNobody(true)), onTag("Finance"))}, bob, 12, false},
		{"allowDiscovery on a staged policy", []*model.Policy{semPolicy("f", discover(aNobody(true)), staged)}, bob, 12, false},
		{"eligible", []*model.Policy{semPolicy("a", aAnyone(false))}, bob, 12, true},
		{"requestable", []*model.Policy{semPolicy("a", aApproval(model.Governance))}, bob, 12, true},
		{"subscribed", []*model.Policy{semPolicy("a", aAnyone(true))}, bob, 12, true},
		{"eligible at WRITE only", []*model.Policy{semPolicy("w", atWrite(aAnyone(false)))}, bob, 12, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			assert.Equal(t, tc.want, e.Decide(tc.user, tc.ds).Discoverable)
		})
	}

	t.Run("a disabled allowDiscovery policy does not count; a pending request does", func(t *testing.T) {
		t.Parallel()
		e, _ := semWorld(t)
		p := create(t, e, semPolicy("f", discover(aNobody(true))))
		assert.True(t, e.Decide(bob, 12).Discoverable)
		require.NoError(t, e.DisablePolicy(engine.As(gov), 12, p.ID, "hidden here"))
		assert.False(t, e.Decide(bob, 12).Discoverable)
		assert.True(t, e.Decide(bob, 11).Discoverable)

		// A pending WRITE request when the approval policy is at WRITE: state pending.
		create(t, e, semPolicy("w", atWrite(aApproval(model.Governance)), onTag("Marketing")))
		semRequest(t, e, bob, 11, model.Write)
		d := e.Decide(bob, 11)
		assert.Equal(t, engine.StatePending, d.Write)
		assert.True(t, d.Discoverable)
	})
}

// ---- data, staged, disabled and owner-selected policies ----

func TestSemanticsPolicyKinds(t *testing.T) {
	t.Parallel()
	none, read := engine.LevelNone, engine.LevelRead
	cases := []struct {
		name  string
		steps []semStep
		// applied lists the applied policy keys per data source after the last step.
		applied map[int64][]string
	}{
		{"a data policy is applied but gives nothing", []semStep{
			{"data policy", policies(dataPolicy("mask")), []semWant{{bob, 12, none, sNone, sNone}, {alice, 10, none, sNone, sNone}}},
		}, map[int64][]string{10: {"mask"}, 12: {"mask"}}},
		{"a data policy does not count as a policy at a level", []semStep{
			{"data policy and a READ policy", policies(dataPolicy("mask"), semPolicy("r", aAnyone(true))),
				[]semWant{{bob, 12, read, sSub, sNone}}},
		}, map[int64][]string{12: {"mask", "r"}}},
		{"a data policy does not take part in an AND", []semStep{
			{"data + satisfied automatic", policies(semPolicy("a", aAnyone(true)), dataPolicy("mask")),
				[]semWant{{bob, 12, read, sSub, sNone}}},
		}, map[int64][]string{12: {"a", "mask"}}},
		{"a data policy's circumstances are evaluated", []semStep{
			{"data policy on Finance", policies(dataPolicy("mask", tag("Finance"))), []semWant{{carol, 10, read, sOwn, sNone}}},
		}, map[int64][]string{10: {"mask"}, 11: {}, 12: {}}},
		{"a staged policy applies nowhere", []semStep{
			{"staged anyone", policies(semPolicy("s", aAnyone(true), staged)), []semWant{{bob, 12, none, sNone, sNone}}},
		}, map[int64][]string{10: {}, 12: {}}},
		{"a staged policy takes no part in an AND; unstaging it does", []semStep{
			{"automatic + staged manual", policies(semPolicy("a", aAnyone(true)), semPolicy("m", aManual(), staged)),
				[]semWant{{bob, 12, read, sSub, sNone}}},
			{"unstage", func(t *testing.T, e *engine.Engine, _ *clock) { semUpdate(t, e, 2, semPolicy("m", aManual())) },
				[]semWant{{bob, 12, none, sNone, sNone}}},
			{"stage again", func(t *testing.T, e *engine.Engine, _ *clock) { semUpdate(t, e, 2, semPolicy("m", aManual(), staged)) },
				[]semWant{{bob, 12, read, sSub, sNone}}},
		}, map[int64][]string{12: {"a"}}},
		{"a disabled policy does not apply on that data source only", []semStep{
			{"anyone automatic", policies(semPolicy("a", aAnyone(true))), []semWant{{bob, 12, read, sSub, sNone}}},
			{"disable on 12", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.DisablePolicy(engine.As(gov), 12, 1, "not here"))
			}, []semWant{{bob, 12, none, sNone, sNone}, {bob, 11, read, sSub, sNone}}},
			{"enable again", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.EnablePolicy(engine.As(gov), 12, 1))
			}, []semWant{{bob, 12, read, sSub, sNone}}},
		}, map[int64][]string{11: {"a"}, 12: {"a"}}},
		{"a disabled always-required manual policy no longer restricts", []semStep{
			{"automatic AND manual", policies(semPolicy("a", aAnyone(true)), semPolicy("m", aManual())), []semWant{{bob, 12, none, sNone, sNone}}},
			{"disable manual on 12", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.DisablePolicy(engine.As(gov), 12, 2, "no"))
			}, []semWant{{bob, 12, read, sSub, sNone}, {bob, 11, none, sNone, sNone}}},
		}, map[int64][]string{11: {"a", "m"}, 12: {"a"}}},
		{"disabledPolicies in the data source, before and after the policy exists", []semStep{
			{"data source 12 disables key late", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 12, Name: "untagged", Server: "db2.example.com",
					CreatedAt: t0, DisabledPolicies: []model.DisabledPolicy{{PolicyKey: "late", Reason: "r"}}}))
				create(t, e, semPolicy("late", aAnyone(true)))
			}, []semWant{{bob, 12, none, sNone, sNone}, {bob, 11, read, sSub, sNone}}},
			{"data source 11 disables it afterwards", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 11, Name: "campaigns", Tags: []string{"Marketing"},
					Server: "db2.example.com", CreatedAt: t0.AddDate(0, -1, 0), DisabledPolicies: []model.DisabledPolicy{{PolicyKey: "late", Reason: "r"}}}))
			}, []semWant{{bob, 11, none, sNone, sNone}, {bob, 10, read, sSub, sNone}}},
		}, map[int64][]string{10: {"late"}, 11: {}, 12: {}}},
		{"an owner-selected policy applies only where applied", []semStep{
			{"create", policies(semPolicy("os", aAnyone(true), ownerSelected)), []semWant{{bob, 10, none, sNone, sNone}, {bob, 12, none, sNone, sNone}}},
			{"carol applies it on 10", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.ApplyPolicy(engine.As(carol), 1, 10))
			}, []semWant{{bob, 10, read, sSub, sNone}, {bob, 12, none, sNone, sNone}}},
			{"applying twice changes nothing", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.ApplyPolicy(engine.As(carol), 1, 10))
			}, []semWant{{bob, 10, read, sSub, sNone}}},
		}, map[int64][]string{10: {"os"}, 11: {}, 12: {}}},
		{"selectedPolicies in the data source, before and after the policy exists", []semStep{
			{"12 selects a key before the policy exists", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 12, Name: "untagged", Server: "db2.example.com",
					CreatedAt: t0, SelectedPolicies: []string{"os"}}))
				create(t, e, semPolicy("os", aAnyone(true), ownerSelected))
			}, []semWant{{bob, 12, read, sSub, sNone}, {bob, 11, none, sNone, sNone}}},
			{"11 selects it afterwards", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 11, Name: "campaigns", Tags: []string{"Marketing"},
					Server: "db2.example.com", CreatedAt: t0.AddDate(0, -1, 0), SelectedPolicies: []string{"os"}}))
			}, []semWant{{bob, 11, read, sSub, sNone}, {bob, 10, none, sNone, sNone}}},
			{"12 drops it", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 12, Name: "untagged", Server: "db2.example.com", CreatedAt: t0}))
			}, []semWant{{bob, 12, none, sNone, sNone}, {bob, 11, read, sSub, sNone}}},
		}, map[int64][]string{10: {}, 11: {"os"}, 12: {}}},
		{"an owner-selected policy selected but disabled does not apply", []semStep{
			{"select and disable", func(t *testing.T, e *engine.Engine, _ *clock) {
				create(t, e, semPolicy("os", aAnyone(true), ownerSelected))
				require.NoError(t, e.ApplyPolicy(engine.As(gov), 1, 12))
				require.NoError(t, e.DisablePolicy(engine.As(gov), 12, 1, "no"))
			}, []semWant{{bob, 12, none, sNone, sNone}}},
		}, map[int64][]string{12: {}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, c := semWorld(t)
			for _, st := range tc.steps {
				if st.do != nil {
					st.do(t, e, c)
				}
				for _, w := range st.want {
					d := e.Decide(w.user, w.ds)
					assert.Equal(t, w.grant, d.Grant, "%s: user %d ds %d grant", st.name, w.user, w.ds)
					assert.Equal(t, w.read, d.Read, "%s: user %d ds %d READ", st.name, w.user, w.ds)
					assert.Equal(t, w.write, d.Write, "%s: user %d ds %d WRITE", st.name, w.user, w.ds)
				}
			}
			for ds, keys := range tc.applied {
				assert.Equal(t, keys, appliedKeys(t, e, ds), "applied on %d", ds)
			}
		})
	}
}

// ---- expirations ----

func TestSemanticsExpirations(t *testing.T) {
	t.Parallel()
	none, read := engine.LevelNone, engine.LevelRead
	day := 24 * time.Hour
	at := func(ts time.Time) func(t *testing.T, e *engine.Engine, c *clock) {
		return func(_ *testing.T, _ *engine.Engine, c *clock) { c.now = ts }
	}
	cases := []struct {
		name  string
		steps []semStep
	}{
		{"a manual grant is expired at the instant", []semStep{
			{"grant until t0+1d", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordSubscribed, model.Read, t0.Add(day))
			}, []semWant{{bob, 12, read, sSub, sNone}}},
			{"one nanosecond before", at(t0.Add(day - time.Nanosecond)), []semWant{{bob, 12, read, sSub, sNone}}},
			{"at the instant", at(t0.Add(day)), []semWant{{bob, 12, none, sNone, sNone}}},
			{"after", at(t0.Add(2 * day)), []semWant{{bob, 12, none, sNone, sNone}}},
		}},
		{"a past expiration is accepted and gives nothing", []semStep{
			{"grant expired yesterday", func(t *testing.T, e *engine.Engine, _ *clock) {
				r := semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordSubscribed, model.Write, t0.Add(-day))
				assert.True(t, r.Expiration.Equal(t0.Add(-day)))
				require.Len(t, e.Records(), 1)
			}, []semWant{{bob, 12, none, sNone, sNone}}},
		}},
		{"an expired group grant reaches no member", []semStep{
			{"grant to finance until t0+1h", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 12, 0, 1, model.RecordSubscribed, model.Read, t0.Add(time.Hour))
			}, []semWant{{alice, 12, read, sSub, sNone}}},
			{"at the instant", at(t0.Add(time.Hour)), []semWant{{alice, 12, none, sNone, sNone}, {erin, 12, none, sNone, sNone}}},
		}},
		{"an owner-state grant stops making an owner at the instant", []semStep{
			{"owner grant until t0+1d", func(t *testing.T, e *engine.Engine, _ *clock) {
				semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordOwner, model.Read, t0.Add(day))
			}, []semWant{{bob, 12, read, sOwn, sNone}}},
			{"at the instant", at(t0.Add(day)), []semWant{{bob, 12, none, sNone, sNone}}},
		}},
		{"a self-subscription expires; a new request then makes a new record", []semStep{
			{"policy and request until t0+1h", func(t *testing.T, e *engine.Engine, _ *clock) {
				create(t, e, semPolicy("a", aAnyone(false)))
				r, err := e.Access(engine.As(bob), 12, engine.AccessRequest{Expiration: t0.Add(time.Hour)})
				require.NoError(t, err)
				assert.Equal(t, int64(1), r.ID)
			}, []semWant{{bob, 12, read, sSub, sNone}}},
			{"at the instant", at(t0.Add(time.Hour)), []semWant{{bob, 12, none, sElig, sNone}}},
			{"request again", func(t *testing.T, e *engine.Engine, _ *clock) {
				r := semRequest(t, e, bob, 12, model.Read)
				assert.Equal(t, int64(2), r.ID)
				assert.Equal(t, model.RecordSubscribed, r.State)
			}, []semWant{{bob, 12, read, sSub, sNone}}},
		}},
		{"an approved request's expiration", []semStep{
			{"approved until t0+1d", func(t *testing.T, e *engine.Engine, _ *clock) {
				create(t, e, semPolicy("ap", aApproval(model.Governance)))
				semRequest(t, e, bob, 12, model.Read)
				f, err := e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 1, Expiration: t0.Add(day)}})
				require.NoError(t, err)
				require.Empty(t, f)
			}, []semWant{{bob, 12, read, sSub, sNone}}},
			{"at the instant", at(t0.Add(day)), []semWant{{bob, 12, none, sReq, sNone}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runSemSteps(t, tc.steps)
		})
	}
}

// ---- recomputation ----

func TestSemanticsRecompute(t *testing.T) {
	t.Parallel()
	none, read, write := engine.LevelNone, engine.LevelRead, engine.LevelWrite
	cases := []struct {
		name  string
		steps []semStep
	}{
		{"policy update moves access", []semStep{
			{"finance automatic", policies(semPolicy("f", aGroups(true, "finance"))), []semWant{
				{alice, 12, read, sSub, sNone}, {bob, 12, none, sNone, sNone}}},
			{"update to marketing", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("f", aGroups(true, "marketing")))
			}, []semWant{{alice, 12, none, sNone, sNone}, {bob, 12, read, sSub, sNone}}},
			{"update to WRITE level", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("f", atWrite(aGroups(true, "marketing"))))
			}, []semWant{{bob, 12, write, sSub, sSub}}},
			{"update circumstances away from 12", func(t *testing.T, e *engine.Engine, _ *clock) {
				semUpdate(t, e, 1, semPolicy("f", atWrite(aGroups(true, "marketing")), onTag("Marketing")))
			}, []semWant{{bob, 12, none, sNone, sNone}, {bob, 11, write, sSub, sSub}}},
		}},
		{"policy delete drops access", []semStep{
			{"anyone automatic", policies(semPolicy("a", aAnyone(true))), []semWant{{bob, 12, read, sSub, sNone}}},
			{"delete", func(t *testing.T, e *engine.Engine, _ *clock) {
				_, err := e.DeletePolicy(engine.As(gov), 1)
				require.NoError(t, err)
			}, []semWant{{bob, 12, none, sNone, sNone}}},
		}},
		{"a user's groups change", []semStep{
			{"finance automatic", policies(semPolicy("f", aGroups(true, "finance"))), []semWant{
				{alice, 12, read, sSub, sNone}, {bob, 12, none, sNone, sNone}}},
			{"bob joins finance, alice leaves", func(t *testing.T, e *engine.Engine, _ *clock) {
				semEditUser(t, e, bob, func(u *model.User) { u.Groups = []string{"finance"} })
				semEditUser(t, e, alice, func(u *model.User) { u.Groups = []string{"marketing"} })
			}, []semWant{{alice, 12, none, sNone, sNone}, {bob, 12, read, sSub, sNone}}},
		}},
		{"a user's attributes change", []semStep{
			{"dept=eng automatic", policies(semPolicy("d", aAttr(true, "dept", "eng"))), []semWant{
				{alice, 12, read, sSub, sNone}, {bob, 12, none, sNone, sNone}}},
			{"alice moves to ops, bob to eng", func(t *testing.T, e *engine.Engine, _ *clock) {
				semEditUser(t, e, alice, func(u *model.User) { u.Attributes["dept"] = []string{"ops"} })
				semEditUser(t, e, bob, func(u *model.User) { u.Attributes["dept"] = []string{"eng"} })
			}, []semWant{{alice, 12, none, sNone, sNone}, {bob, 12, read, sSub, sNone}}},
		}},
		{"a group's attributes change (inherited attributes)", []semStep{
			{"region=eu automatic", policies(semPolicy("r", aAttr(true, "region", "eu"))), []semWant{
				{alice, 12, read, sSub, sNone}, {erin, 12, read, sSub, sNone}, {bob, 12, none, sNone, sNone}}},
			{"finance moves to us", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: 1, Name: "finance", Attributes: map[string][]string{"region": {"us"}}}))
			}, []semWant{{alice, 12, none, sNone, sNone}, {erin, 12, none, sNone, sNone}}},
			{"marketing gets eu", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutGroup(engine.As(erin), &model.Group{ID: 2, Name: "marketing", Attributes: map[string][]string{"region": {"eu"}}}))
			}, []semWant{{bob, 12, read, sSub, sNone}, {alice, 12, none, sNone, sNone}}},
			{"a new group a user already lists", func(t *testing.T, e *engine.Engine, _ *clock) {
				semEditUser(t, e, outsider, func(u *model.User) { u.Groups = []string{"later"} })
				require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: 3, Name: "later", Attributes: map[string][]string{"region": {"eu"}}}))
			}, []semWant{{outsider, 12, read, sSub, sNone}}},
			{"that group deleted", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.DeleteGroup(engine.SystemActor(), 3))
			}, []semWant{{outsider, 12, none, sNone, sNone}}},
		}},
		{"a data source's metadata changes", []semStep{
			{"policy on Finance", policies(semPolicy("f", aAnyone(true), onTag("Finance"))), []semWant{
				{bob, 10, read, sSub, sNone}, {bob, 12, none, sNone, sNone}}},
			{"12 gets a Finance tag, 10 loses it", func(t *testing.T, e *engine.Engine, _ *clock) {
				require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 12, Name: "untagged", Tags: []string{"Finance.X"}, CreatedAt: t0}))
				require.NoError(t, e.PutDataSource(engine.As(carol), &model.DataSource{ID: 10, Name: "payments", Owners: []int64{carol}, CreatedAt: t0}))
			}, []semWant{{bob, 10, none, sNone, sNone}, {bob, 12, read, sSub, sNone}, {carol, 10, read, sOwn, sNone}}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runSemSteps(t, tc.steps)
		})
	}
}

// Fail closed applies to subscription policies; a data policy never affects
// subscription decisions (docs/semantics.md, Dialects), a staged or disabled one applies
// nowhere (docs/semantics.md, Circumstances), even when its circumstance cannot be evaluated.
func TestSemanticsIndeterminateOnlyFromPoliciesThatCount(t *testing.T) {
	t.Parallel()
	evil := model.Circumstance{Type: model.CircumstanceColumnRegex, Regex: "(?=a)(a|aa)*$"}
	long := strings.Repeat("a", 40000) + "!"
	cases := []struct {
		name  string
		evil  func(e *engine.Engine) error
		grant engine.Level // bob's grant on data source 1 afterwards
	}{
		{"a subscription policy: fail closed", func(e *engine.Engine) error {
			_, _, err := e.CreatePolicy(engine.SystemActor(), semPolicy("evil", aAnyone(true), func(p *model.Policy) {
				p.Circumstances = []model.Circumstance{evil}
			}), engine.WriteOptions{})
			return err
		}, engine.LevelNone},
		{"a staged subscription policy applies nowhere", func(e *engine.Engine) error {
			_, _, err := e.CreatePolicy(engine.SystemActor(), semPolicy("evil", aManual(), staged, func(p *model.Policy) {
				p.Circumstances = []model.Circumstance{evil}
			}), engine.WriteOptions{})
			return err
		}, engine.LevelRead},
		{"a subscription policy disabled here applies nowhere here", func(e *engine.Engine) error {
			if err := e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 1, Name: "d", Owners: []int64{2},
				Columns:          []model.Column{{Name: long}},
				DisabledPolicies: []model.DisabledPolicy{{PolicyKey: "evil", Reason: "slow"}}}); err != nil {
				return err
			}
			_, _, err := e.CreatePolicy(engine.SystemActor(), semPolicy("evil", aManual(), func(p *model.Policy) {
				p.Circumstances = []model.Circumstance{evil}
			}), engine.WriteOptions{})
			return err
		}, engine.LevelRead},
		{"a data policy never affects subscription decisions", func(e *engine.Engine) error {
			_, _, err := e.CreatePolicy(engine.SystemActor(), dataPolicy("evil", evil), engine.WriteOptions{})
			return err
		}, engine.LevelRead},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := engine.New(engine.WithClock(func() time.Time { return t0 }), engine.WithRegexTimeout(time.Millisecond))
			require.NoError(t, e.PutUsers(engine.SystemActor(), []*model.User{{ID: bob, Name: "b"}, {ID: 2, Name: "owner"}}))
			require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 1, Name: "d", Owners: []int64{2},
				Columns: []model.Column{{Name: long}}}))
			_, _, err := e.CreatePolicy(engine.SystemActor(), semPolicy("anyone", aAnyone(true)), engine.WriteOptions{})
			require.NoError(t, err)
			require.Equal(t, engine.LevelRead, e.Decide(bob, 1).Grant)
			require.NoError(t, tc.evil(e))
			assert.Equal(t, tc.grant, e.Decide(bob, 1).Grant)
			assert.Equal(t, engine.LevelRead, e.Decide(2, 1).Grant, "the owner holds READ either way")
		})
	}
}
