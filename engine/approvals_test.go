package engine_test

// Tables for docs/semantics.md, Requests, Approvals and Manual grants: requests, approval slots, specific approvers,
// approve and deny, record changes, manual grants and record ids. Every expected
// value is worked out by hand from docs/semantics.md.

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

func mustExport(t testing.TB, e *engine.Engine) string {
	t.Helper()
	b, err := e.Export()
	require.NoError(t, err)
	return string(b)
}

func slotPerms(r *model.AccessRecord) []model.Permission {
	out := []model.Permission{}
	for _, s := range r.Approvals {
		out = append(out, s.RequiredPermission)
	}
	return out
}

func record(t testing.TB, e *engine.Engine, id int64) *model.AccessRecord {
	t.Helper()
	for _, r := range e.Records() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no record %d", id)
	return nil
}

func approve(t testing.TB, e *engine.Engine, actor int64, ids ...int64) []engine.Failure {
	t.Helper()
	var en []model.ApproveEntry
	for _, id := range ids {
		en = append(en, model.ApproveEntry{ID: id})
	}
	f, err := e.Approve(engine.As(actor), en)
	require.NoError(t, err)
	return f
}

func deny(t testing.TB, e *engine.Engine, actor int64, ids ...int64) []engine.Failure {
	t.Helper()
	var en []model.DenyEntry
	for _, id := range ids {
		en = append(en, model.DenyEntry{ID: id, DenialReasoning: "not needed"})
	}
	f, err := e.Deny(engine.As(actor), en)
	require.NoError(t, err)
	return f
}

func failedIDs(f []engine.Failure) []int64 {
	out := []int64{}
	for _, x := range f {
		out = append(out, x.ID)
	}
	return out
}

func slotsOf(specific bool, perms ...model.Permission) []model.Approval {
	var out []model.Approval
	for _, p := range perms {
		out = append(out, model.Approval{RequiredPermission: p, SpecificApproverRequired: specific})
	}
	return out
}

func aSlots(slots ...model.Approval) model.Action {
	return model.Action{Type: model.ActionApproval, Approvals: slots}
}

// A satisfied request is a subscribed record now.
func TestApprovalsSatisfiedRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policies []*model.Policy
		user, ds int64
		level    model.AccessGrant
		before   engine.State // the level's state before the request
	}{
		{"anyone, not automatic", []*model.Policy{semPolicy("a", aAnyone(false))}, bob, 12, model.Read, sElig},
		{"entitlements held", []*model.Policy{semPolicy("f", aGroups(false, "finance"))}, alice, 12, model.Read, sElig},
		{"already held through an automatic policy", []*model.Policy{semPolicy("a", aAnyone(true))}, bob, 12, model.Read, sSub},
		{"already held as the owner", []*model.Policy{semPolicy("a", aAnyone(false))}, carol, 10, model.Read, sOwn},
		{"WRITE", []*model.Policy{semPolicy("w", atWrite(aAnyone(false)))}, bob, 12, model.Write, sElig},
		{"READ satisfied through a WRITE policy", []*model.Policy{semPolicy("w", atWrite(aAnyone(false)))}, bob, 12, model.Read, sElig},
		{"READ satisfied through WRITE while READ needs approval", []*model.Policy{
			semPolicy("r", aApproval(model.Governance)), semPolicy("w", atWrite(aAnyone(false)))}, bob, 12, model.Read, sElig},
		{"AND with a share-responsibility OR", []*model.Policy{
			semPolicy("a", aAnyone(false)), semPolicy("s1", shared(aManual())), semPolicy("s2", shared(aAnyone(false)))}, bob, 12, model.Read, sElig},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			d := e.Decide(tc.user, tc.ds)
			if tc.level == model.Write {
				assert.Equal(t, tc.before, d.Write)
			} else {
				assert.Equal(t, tc.before, d.Read)
			}
			r := semRequest(t, e, tc.user, tc.ds, tc.level)
			assert.Equal(t, int64(1), r.ID)
			assert.Equal(t, tc.ds, r.DataSourceID)
			assert.Equal(t, tc.user, r.Profile)
			assert.Zero(t, r.Group)
			assert.Equal(t, model.RecordSubscribed, r.State)
			assert.True(t, r.Approved)
			assert.True(t, r.Policy)
			assert.False(t, r.IsSubscriptionOverride)
			assert.Nil(t, r.Admin)
			assert.Equal(t, tc.level, r.AccessGrant)
			assert.Empty(t, r.Approvals)
			assert.True(t, r.CreatedAt.Equal(t0))
			require.Len(t, e.Records(), 1)
			d = e.Decide(tc.user, tc.ds)
			if tc.level == model.Write {
				assert.Equal(t, engine.LevelWrite, d.Grant)
			} else {
				assert.GreaterOrEqual(t, d.Grant, engine.LevelRead)
			}
		})
	}
	t.Run("accessGrant defaults to READ", func(t *testing.T) {
		t.Parallel()
		e, _ := semWorld(t)
		create(t, e, semPolicy("a", aAnyone(false)))
		r, err := e.Access(engine.As(bob), 12, engine.AccessRequest{})
		require.NoError(t, err)
		assert.Equal(t, model.Read, r.AccessGrant)
	})
	t.Run("profileId of the caller is a request; of another user or a groupId is 400", func(t *testing.T) {
		t.Parallel()
		e, _ := semWorld(t)
		create(t, e, semPolicy("a", aAnyone(false)))
		before := mustExport(t, e)
		other, g := int64(alice), int64(2)
		_, err := e.Access(engine.As(bob), 12, engine.AccessRequest{ProfileID: other})
		require.ErrorIs(t, err, model.ErrInvalid)
		_, err = e.Access(engine.As(bob), 12, engine.AccessRequest{GroupID: g})
		require.ErrorIs(t, err, model.ErrInvalid)
		assert.Equal(t, before, mustExport(t, e))
		self := int64(bob)
		r, err := e.Access(engine.As(bob), 12, engine.AccessRequest{ProfileID: self})
		require.NoError(t, err)
		assert.Equal(t, int64(1), r.ID)
		assert.False(t, r.IsSubscriptionOverride)
	})
}

// A request that needs approval is pending with one slot per approval entry of the
// merged outcome.
func TestApprovalsSlots(t *testing.T) {
	t.Parallel()
	G, O, A, U := model.Governance, model.Owner, model.Audit, model.UserAdmin
	cases := []struct {
		name     string
		policies []*model.Policy
		level    model.AccessGrant
		want     []model.Permission
		ordered  bool // the order is fixed by docs/semantics.md, Approvals (one policy's own entries)
	}{
		{"one policy, two entries", []*model.Policy{semPolicy("a", aApproval(G, O))}, model.Read, []model.Permission{G, O}, true},
		{"one policy, entries in its order", []*model.Policy{semPolicy("a", aApproval(A, G, O))}, model.Read, []model.Permission{A, G, O}, true},
		{"AND of two approval policies: both sets", []*model.Policy{
			semPolicy("a", aApproval(G)), semPolicy("b", aApproval(O, A))}, model.Read, []model.Permission{G, O, A}, false},
		{"AND of approval and satisfied: the approval's slots", []*model.Policy{
			semPolicy("a", aAnyone(true)), semPolicy("b", aApproval(U))}, model.Read, []model.Permission{U}, true},
		{"OR keeps the lower id's slots", []*model.Policy{
			semPolicy("a", shared(aApproval(G))), semPolicy("b", shared(aApproval(O)))}, model.Read, []model.Permission{G}, true},
		{"OR keeps the lower id's slots (other way round)", []*model.Policy{
			semPolicy("a", shared(aApproval(O, A))), semPolicy("b", shared(aApproval(G)))}, model.Read, []model.Permission{O, A}, true},
		{"OR: a manual policy carries no slots", []*model.Policy{
			semPolicy("m", shared(aManual())), semPolicy("a", shared(aApproval(A))), semPolicy("b", shared(aApproval(G)))}, model.Read, []model.Permission{A}, true},
		{"always approval AND OR of two approvals", []*model.Policy{
			semPolicy("a", aApproval(A)), semPolicy("b", shared(aApproval(G))), semPolicy("c", shared(aApproval(O)))}, model.Read, []model.Permission{A, G}, false},
		{"always approval AND OR satisfied: the always slots only", []*model.Policy{
			semPolicy("a", aApproval(G)), semPolicy("b", shared(aAnyone(true))), semPolicy("c", shared(aApproval(O)))}, model.Read, []model.Permission{G}, true},
		{"always satisfied AND OR approval", []*model.Policy{
			semPolicy("a", aAnyone(true)), semPolicy("b", shared(aApproval(O))), semPolicy("c", shared(aNobody(true)))}, model.Read, []model.Permission{O}, true},
		{"tie READ/WRITE: READ request needs the READ level's slots", []*model.Policy{
			semPolicy("r", aApproval(G)), semPolicy("w", atWrite(aApproval(O)))}, model.Read, []model.Permission{G}, true},
		{"tie READ/WRITE: WRITE request needs the WRITE level's slots", []*model.Policy{
			semPolicy("r", aApproval(G)), semPolicy("w", atWrite(aApproval(O)))}, model.Write, []model.Permission{O}, true},
		{"WRITE higher than READ: READ request needs WRITE's slots", []*model.Policy{
			semPolicy("r", aManual()), semPolicy("w", atWrite(aApproval(O)))}, model.Read, []model.Permission{O}, true},
		{"READ higher than WRITE: READ's slots", []*model.Policy{
			semPolicy("r", aApproval(A)), semPolicy("w", atWrite(aNobody(true)))}, model.Read, []model.Permission{A}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			r := semRequest(t, e, bob, 10, tc.level)
			assert.Equal(t, model.RecordPending, r.State)
			assert.False(t, r.Approved)
			assert.True(t, r.Policy)
			assert.False(t, r.IsSubscriptionOverride)
			assert.Equal(t, tc.level, r.AccessGrant)
			if tc.ordered {
				assert.Equal(t, tc.want, slotPerms(r))
			} else {
				assert.ElementsMatch(t, tc.want, slotPerms(r))
			}
			for i, s := range r.Approvals {
				assert.Equal(t, model.SlotPending, s.State, "slot %d", i)
				assert.False(t, s.SpecificApproverRequired, "slot %d", i)
				assert.Zero(t, s.Approver, "slot %d", i)
				assert.Zero(t, s.SpecificApprover, "slot %d", i)
			}
			d := e.Decide(bob, 10)
			if tc.level == model.Write {
				assert.Equal(t, engine.StatePending, d.Write)
			} else {
				assert.Equal(t, engine.StatePending, d.Read)
			}
			assert.Equal(t, engine.LevelNone, d.Grant)
		})
	}
}

// specificApproverRequired: one named approver per such slot, in slot order, who
// exists, holds the permission and is not the requester; else 400 and nothing stored.
func TestApprovalsSpecificApprover(t *testing.T) {
	t.Parallel()
	G, O, A := model.Governance, model.Owner, model.Audit
	govThenOwner := []model.Approval{{RequiredPermission: G, SpecificApproverRequired: true}, {RequiredPermission: O, SpecificApproverRequired: true}}
	mixed := []model.Approval{{RequiredPermission: G}, {RequiredPermission: A, SpecificApproverRequired: true}}
	ownerGrant := func(t *testing.T, e *engine.Engine) {
		semGrant(t, e, engine.As(gov), 10, semGrantOwner, 0, model.RecordOwner, model.Read, time.Time{})
	}
	cases := []struct {
		name      string
		approvals []model.Approval
		requester int64
		setup     func(t *testing.T, e *engine.Engine)
		named     []int64
		ok        bool
	}{
		{"both named, in order", govThenOwner, bob, nil, []int64{gov, carol}, true},
		{"another GOVERNANCE user and an owner by grant", govThenOwner, bob, ownerGrant, []int64{semGov2, semGrantOwner}, true},
		{"none named", govThenOwner, bob, nil, nil, false},
		{"one short", govThenOwner, bob, nil, []int64{gov}, false},
		{"one too many", govThenOwner, bob, nil, []int64{gov, carol, carol}, false},
		{"wrong order", govThenOwner, bob, nil, []int64{carol, gov}, false},
		{"unknown user", govThenOwner, bob, nil, []int64{999, carol}, false},
		{"lacks the permission (AUDIT for GOVERNANCE)", govThenOwner, bob, nil, []int64{dave, carol}, false},
		{"not an owner for OWNER", govThenOwner, bob, nil, []int64{gov, alice}, false},
		{"GOVERNANCE is not OWNER", govThenOwner, bob, nil, []int64{gov, semGov2}, false},
		{"the requester names themselves", govThenOwner, gov, nil, []int64{gov, carol}, false},
		{"a GOVERNANCE requester names another", govThenOwner, gov, nil, []int64{semGov2, carol}, true},
		{"the owner requester names themselves for OWNER", govThenOwner, carol, nil, []int64{gov, carol}, false},
		{"mixed: one specific slot, one name", mixed, bob, nil, []int64{dave}, true},
		{"mixed: a name for the non-specific slot too", mixed, bob, nil, []int64{gov, dave}, false},
		{"mixed: nobody named", mixed, bob, nil, nil, false},
		{"mixed: wrong permission", mixed, bob, nil, []int64{gov}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			create(t, e, semPolicy("sp", aSlots(tc.approvals...), onTag("Finance")))
			if tc.setup != nil {
				tc.setup(t, e)
			}
			before := mustExport(t, e)
			nRec := len(e.Records())
			req := engine.AccessRequest{}
			for _, id := range tc.named {
				req.Approvers = append(req.Approvers, id)
			}
			r, err := e.Access(engine.As(tc.requester), 10, req)
			if !tc.ok {
				require.ErrorIs(t, err, model.ErrInvalid)
				var list model.ErrorList
				require.True(t, errors.As(err, &list), "a model.ErrorList")
				require.NotEmpty(t, list)
				for _, fe := range list {
					assert.True(t, strings.HasPrefix(string(fe.Path), "approvals"), "path %q names the approvals", fe.Path)
				}
				assert.Equal(t, before, mustExport(t, e), "nothing stored")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, int64(nRec+1), r.ID)
			assert.Equal(t, model.RecordPending, r.State)
			require.Len(t, r.Approvals, len(tc.approvals))
			j := 0
			for i, s := range r.Approvals {
				assert.Equal(t, tc.approvals[i].RequiredPermission, s.RequiredPermission)
				assert.Equal(t, tc.approvals[i].SpecificApproverRequired, s.SpecificApproverRequired)
				if s.SpecificApproverRequired {
					assert.Equal(t, tc.named[j], s.SpecificApprover, "slot %d", i)
					j++
				} else {
					assert.Zero(t, s.SpecificApprover)
				}
			}
		})
	}

	t.Run("only the named approver fills a specific slot", func(t *testing.T) {
		t.Parallel()
		e, _ := semWorld(t)
		create(t, e, semPolicy("sp", aSlots(govThenOwner...), onTag("Finance")))
		ownerGrant(t, e) // record 1
		_, err := e.Access(engine.As(bob), 10, engine.AccessRequest{Approvers: []int64{semGov2, semGrantOwner}})
		require.NoError(t, err)
		assert.Equal(t, []int64{2}, failedIDs(approve(t, e, gov, 2)), "gov holds GOVERNANCE but is not the named approver")
		assert.Equal(t, []int64{2}, failedIDs(approve(t, e, carol, 2)), "carol owns 10 but is not the named approver")
		assert.Empty(t, approve(t, e, semGrantOwner, 2))
		assert.Equal(t, model.RecordPending, record(t, e, 2).State)
		assert.Empty(t, approve(t, e, semGov2, 2))
		r := record(t, e, 2)
		assert.Equal(t, model.RecordSubscribed, r.State)
		assert.True(t, r.Approved)
		assert.Equal(t, int64(semGov2), r.Approvals[0].Approver)
		assert.Equal(t, int64(semGrantOwner), r.Approvals[1].Approver)
		assert.Equal(t, engine.LevelRead, e.Decide(bob, 10).Grant)
	})
}

// Unsatisfied (or needs a manual grant): 403, nothing stored, no id used.
func TestApprovalsRefusedRequest(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policies []*model.Policy
		user, ds int64
		level    model.AccessGrant
	}{
		{"no policy", nil, bob, 12, model.Read},
		{"owner, no policy", nil, carol, 10, model.Read},
		{"manual", []*model.Policy{semPolicy("m", aManual())}, bob, 12, model.Read},
		{"entitlements not held", []*model.Policy{semPolicy("f", aGroups(false, "finance"))}, bob, 12, model.Read},
		{"AND with manual", []*model.Policy{semPolicy("a", aAnyone(false)), semPolicy("m", aManual())}, bob, 12, model.Read},
		{"AND approval with unsatisfied", []*model.Policy{semPolicy("a", aApproval(model.Governance)), semPolicy("u", aNobody(false))}, bob, 12, model.Read},
		{"WRITE with only a READ policy", []*model.Policy{semPolicy("a", aAnyone(false))}, bob, 12, model.Write},
		{"policy elsewhere", []*model.Policy{semPolicy("a", aAnyone(false), onTag("Marketing"))}, bob, 12, model.Read},
		{"staged policy", []*model.Policy{semPolicy("a", aAnyone(false), staged)}, bob, 12, model.Read},
		{"data policy", []*model.Policy{dataPolicy("d")}, bob, 12, model.Read},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			before := mustExport(t, e)
			_, err := e.Access(engine.As(tc.user), tc.ds, engine.AccessRequest{AccessGrant: tc.level})
			require.ErrorIs(t, err, engine.ErrForbidden)
			assert.Equal(t, before, mustExport(t, e))
			// No id was used: a later grant is record 1.
			r := semGrant(t, e, engine.As(gov), tc.ds, tc.user, 0, model.RecordSubscribed, model.Read, time.Time{})
			assert.Equal(t, int64(1), r.ID)
		})
	}
}

// A repeat request with a live own record at that level answers it and creates nothing.
func TestApprovalsRepeatRequest(t *testing.T) {
	t.Parallel()
	type call struct {
		user   int64
		level  model.AccessGrant
		wantID int64
		state  model.RecordState
	}
	cases := []struct {
		name     string
		policies []*model.Policy
		calls    []call
		between  func(t *testing.T, e *engine.Engine, c *clock, i int) // after call i
		records  int
	}{
		{"pending twice", []*model.Policy{semPolicy("a", aApproval(model.Governance))},
			[]call{{bob, model.Read, 1, model.RecordPending}, {bob, model.Read, 1, model.RecordPending}}, nil, 1},
		{"subscribed twice", []*model.Policy{semPolicy("a", aAnyone(false))},
			[]call{{bob, model.Read, 1, model.RecordSubscribed}, {bob, model.Read, 1, model.RecordSubscribed}}, nil, 1},
		{"another user's record does not count", []*model.Policy{semPolicy("a", aAnyone(false))},
			[]call{{bob, model.Read, 1, model.RecordSubscribed}, {alice, model.Read, 2, model.RecordSubscribed}}, nil, 2},
		{"after a denial a new request is made", []*model.Policy{semPolicy("a", aApproval(model.Governance))},
			[]call{{bob, model.Read, 1, model.RecordPending}, {bob, model.Read, 2, model.RecordPending}},
			func(t *testing.T, e *engine.Engine, _ *clock, i int) { require.Empty(t, deny(t, e, gov, 1)) }, 2},
		{"after a revocation a new request is made", []*model.Policy{semPolicy("a", aAnyone(false))},
			[]call{{bob, model.Read, 1, model.RecordSubscribed}, {bob, model.Read, 2, model.RecordSubscribed}},
			func(t *testing.T, e *engine.Engine, _ *clock, i int) {
				_, err := e.ChangeRecord(engine.As(gov), 12, 1, &model.RecordChange{State: model.RecordDenied})
				require.NoError(t, err)
			}, 2},
		{"a pending WRITE request does not block a READ request", []*model.Policy{
			semPolicy("r", aAnyone(false)), semPolicy("w", atWrite(aApproval(model.Governance)))},
			[]call{{bob, model.Write, 1, model.RecordPending}, {bob, model.Read, 2, model.RecordSubscribed}}, nil, 2},
		{"a pending READ request does not block a WRITE request", []*model.Policy{
			semPolicy("r", aApproval(model.Governance)), semPolicy("w", atWrite(aApproval(model.Owner)))},
			[]call{{bob, model.Read, 1, model.RecordPending}, {bob, model.Write, 2, model.RecordPending}}, nil, 2},
		{"a subscribed READ record does not block a WRITE request", []*model.Policy{
			semPolicy("r", aAnyone(false)), semPolicy("w", atWrite(aAnyone(false)))},
			[]call{{bob, model.Read, 1, model.RecordSubscribed}, {bob, model.Write, 2, model.RecordSubscribed}}, nil, 2},
		{"holding through an automatic policy does not stop a request", []*model.Policy{semPolicy("a", aAnyone(true))},
			[]call{{bob, model.Read, 1, model.RecordSubscribed}, {bob, model.Read, 1, model.RecordSubscribed}}, nil, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, c := semWorld(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			for i, cl := range tc.calls {
				r := semRequest(t, e, cl.user, 12, cl.level)
				assert.Equal(t, cl.wantID, r.ID, "call %d", i)
				assert.Equal(t, cl.state, r.State, "call %d", i)
				assert.Equal(t, cl.level, r.AccessGrant, "call %d", i)
				if tc.between != nil && i == 0 {
					tc.between(t, e, c, i)
				}
			}
			assert.Len(t, e.Records(), tc.records)
		})
	}

	t.Run("an expired subscription does not count; a pending one keeps the level pending", func(t *testing.T) {
		t.Parallel()
		e, c := semWorld(t)
		create(t, e, semPolicy("r", aApproval(model.Governance)))
		create(t, e, semPolicy("w", atWrite(aApproval(model.Governance))))
		semRequest(t, e, bob, 12, model.Write) // 1, pending at WRITE
		d := e.Decide(bob, 12)
		assert.Equal(t, engine.StateRequestable, d.Read, "a pending WRITE request does not make READ pending")
		assert.Equal(t, engine.StatePending, d.Write)
		r := semRequest(t, e, bob, 12, model.Read) // 2, pending at READ
		assert.Equal(t, int64(2), r.ID)
		assert.Equal(t, engine.StatePending, e.Decide(bob, 12).Read)
		f, err := e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 2, Expiration: t0.Add(time.Hour)}})
		require.NoError(t, err)
		require.Empty(t, f)
		assert.Equal(t, int64(2), semRequest(t, e, bob, 12, model.Read).ID, "live subscribed record answered")
		c.now = t0.Add(time.Hour)
		r = semRequest(t, e, bob, 12, model.Read)
		assert.Equal(t, int64(3), r.ID, "the expired record does not count")
		assert.Equal(t, model.RecordPending, r.State)
	})
}

// Approve: the first open slot the caller may fill; one slot per user; never the
// requester; approved when every slot is.
func TestApprovalsApprove(t *testing.T) {
	t.Parallel()
	G, O, A, U := model.Governance, model.Owner, model.Audit, model.UserAdmin
	type step struct {
		actor  int64
		fail   bool
		filled []int64 // approver per slot after the step (0 = open)
		done   bool    // the request is subscribed
	}
	cases := []struct {
		name      string
		ds        int64
		requester int64
		slots     []model.Permission
		setup     func(t *testing.T, e *engine.Engine)
		steps     []step
	}{
		{"first open slot the caller may fill", 10, bob, []model.Permission{G, O, G}, nil, []step{
			{semGov2, false, []int64{semGov2, 0, 0}, false},
			{gov, false, []int64{semGov2, 0, gov}, false},
			{carol, false, []int64{semGov2, carol, gov}, true},
		}},
		{"the owner goes first", 10, bob, []model.Permission{G, O}, nil, []step{
			{carol, false, []int64{0, carol}, false},
			{gov, false, []int64{gov, carol}, true},
		}},
		{"one user fills at most one slot", 12, bob, []model.Permission{G, G}, nil, []step{
			{gov, false, []int64{gov, 0}, false},
			{gov, true, []int64{gov, 0}, false},
			{semGov2, false, []int64{gov, semGov2}, true},
		}},
		{"a user holding two permissions fills the first slot only", 13, bob, []model.Permission{O, G}, nil, []step{
			{semGovOwner, false, []int64{semGovOwner, 0}, false},
			{semGovOwner, true, []int64{semGovOwner, 0}, false},
			{gov, false, []int64{semGovOwner, gov}, true},
		}},
		{"the requester never approves their own request", 12, gov, []model.Permission{G}, nil, []step{
			{gov, true, []int64{0}, false},
			{semGov2, false, []int64{semGov2}, true},
		}},
		{"GOVERNANCE does not fill an OWNER slot", 12, bob, []model.Permission{O}, nil, []step{
			{gov, true, []int64{0}, false},
		}},
		{"an owner by an owner-state grant fills an OWNER slot", 12, bob, []model.Permission{O},
			func(t *testing.T, e *engine.Engine) {
				semGrant(t, e, engine.As(gov), 12, semGrantOwner, 0, model.RecordOwner, model.Read, time.Time{})
			}, []step{
				{carol, true, []int64{0}, false},
				{semGrantOwner, false, []int64{semGrantOwner}, true},
			}},
		{"a member of a group with an owner-state grant fills an OWNER slot", 12, bob, []model.Permission{O},
			func(t *testing.T, e *engine.Engine) {
				semGrant(t, e, engine.As(gov), 12, 0, 1, model.RecordOwner, model.Read, time.Time{}) // finance
			}, []step{
				{outsider, true, []int64{0}, false},
				{alice, false, []int64{alice}, true},
			}},
		{"an expired owner-state grant fills nothing", 12, bob, []model.Permission{O},
			func(t *testing.T, e *engine.Engine) {
				semGrant(t, e, engine.As(gov), 12, semGrantOwner, 0, model.RecordOwner, model.Read, t0)
			}, []step{
				{semGrantOwner, true, []int64{0}, false},
			}},
		{"AUDIT and USER_ADMIN slots", 12, bob, []model.Permission{A, U}, nil, []step{
			{gov, true, []int64{0, 0}, false},
			{erin, false, []int64{0, erin}, false},
			{dave, false, []int64{dave, erin}, true},
		}},
		{"a plain user fills nothing", 12, bob, []model.Permission{G, O, A, U}, nil, []step{
			{outsider, true, []int64{0, 0, 0, 0}, false},
			{alice, true, []int64{0, 0, 0, 0}, false},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			create(t, e, semPolicy("ap", aApproval(tc.slots...)))
			if tc.setup != nil {
				tc.setup(t, e)
			}
			req := semRequest(t, e, tc.requester, tc.ds, model.Read)
			for i, st := range tc.steps {
				f := approve(t, e, st.actor, req.ID)
				if st.fail {
					require.Len(t, f, 1, "step %d", i)
					assert.Equal(t, req.ID, f[0].ID)
					assert.NotEmpty(t, f[0].Reason)
				} else {
					assert.Empty(t, f, "step %d", i)
				}
				r := record(t, e, req.ID)
				require.Len(t, r.Approvals, len(tc.slots))
				for j, s := range r.Approvals {
					assert.Equal(t, st.filled[j], s.Approver, "step %d slot %d approver", i, j)
					if st.filled[j] != 0 {
						assert.Equal(t, model.SlotApproved, s.State, "step %d slot %d", i, j)
					} else {
						assert.Equal(t, model.SlotPending, s.State, "step %d slot %d", i, j)
					}
				}
				d := e.Decide(tc.requester, tc.ds)
				if st.done {
					assert.Equal(t, model.RecordSubscribed, r.State, "step %d", i)
					assert.True(t, r.Approved, "step %d", i)
					assert.Equal(t, engine.StateSubscribed, d.Read, "step %d", i)
				} else {
					assert.Equal(t, model.RecordPending, r.State, "step %d", i)
					assert.False(t, r.Approved, "step %d", i)
					if tc.requester != carol {
						assert.Equal(t, engine.StatePending, d.Read, "step %d", i)
					}
				}
			}
		})
	}

	t.Run("an approved request cannot be approved again", func(t *testing.T) {
		t.Parallel()
		e, _ := semWorld(t)
		create(t, e, semPolicy("ap", aApproval(G)))
		semRequest(t, e, bob, 12, model.Read)
		require.Empty(t, approve(t, e, gov, 1))
		assert.Equal(t, []int64{1}, failedIDs(approve(t, e, semGov2, 1)))
	})
}

// Deny: anyone who could fill an open slot; nobody else; never the requester.
func TestApprovalsDeny(t *testing.T) {
	t.Parallel()
	G, O := model.Governance, model.Owner
	cases := []struct {
		name      string
		requester int64
		slots     []model.Permission
		before    []int64 // approvers who approve first
		denier    int64
		ok        bool
	}{
		{"a GOVERNANCE user for a GOVERNANCE slot", bob, []model.Permission{G, O}, nil, gov, true},
		{"the owner for an OWNER slot", bob, []model.Permission{G, O}, nil, carol, true},
		{"the owner after GOVERNANCE approved", bob, []model.Permission{G, O}, []int64{gov}, carol, true},
		{"an AUDIT user who could fill nothing", bob, []model.Permission{G, O}, nil, dave, false},
		{"a plain user", bob, []model.Permission{G, O}, nil, outsider, false},
		{"GOVERNANCE after filling its slot: no open slot it may fill", bob, []model.Permission{G, O}, []int64{gov}, gov, false},
		{"GOVERNANCE after filling one of two GOVERNANCE slots", bob, []model.Permission{G, G}, []int64{gov}, gov, false},
		{"another GOVERNANCE user for the second GOVERNANCE slot", bob, []model.Permission{G, G}, []int64{gov}, semGov2, true},
		{"the requester", gov, []model.Permission{G}, nil, gov, false},
		{"another for the requester's request", gov, []model.Permission{G}, nil, semGov2, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			create(t, e, semPolicy("ap", aApproval(tc.slots...), onTag("Finance")))
			semRequest(t, e, tc.requester, 10, model.Read)
			for _, a := range tc.before {
				require.Empty(t, approve(t, e, a, 1))
			}
			prev := *record(t, e, 1)
			f, err := e.Deny(engine.As(tc.denier), []model.DenyEntry{{ID: 1, DenialReasoning: "no need to know"}})
			require.NoError(t, err)
			r := record(t, e, 1)
			if tc.ok {
				assert.Empty(t, f)
				assert.Equal(t, model.RecordDenied, r.State)
				assert.False(t, r.Approved)
				assert.Equal(t, "no need to know", r.DenialReasoning)
				d := e.Decide(tc.requester, 10)
				assert.Equal(t, engine.LevelNone, d.Grant)
				if tc.requester == bob {
					assert.Equal(t, engine.StateRequestable, d.Read, "denied: requestable again")
				}
				// A denied request is no longer pending.
				assert.Equal(t, []int64{1}, failedIDs(deny(t, e, gov, 1)))
				assert.Equal(t, []int64{1}, failedIDs(approve(t, e, semGov2, 1)))
				return
			}
			require.Len(t, f, 1)
			assert.Equal(t, int64(1), f[0].ID)
			assert.NotEmpty(t, f[0].Reason)
			assert.Equal(t, model.RecordPending, r.State)
			assert.Equal(t, prev.Approvals, r.Approvals)
			assert.Empty(t, r.DenialReasoning)
		})
	}
}

// Per-entry failures: unknown id, not pending, caller not allowed; the rest apply.
func TestApprovalsPerEntryFailures(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) *engine.Engine {
		e, _ := semWorld(t)
		create(t, e, semPolicy("ap", aApproval(model.Governance), onTag("Finance"))) // on 10
		create(t, e, semPolicy("own", aApproval(model.Owner), onTag("Marketing")))   // on 11
		create(t, e, semPolicy("any", aAnyone(false)))                               // everywhere
		semRequest(t, e, bob, 10, model.Read)                                        // 1: pending, GOVERNANCE slot
		semRequest(t, e, bob, 12, model.Read)                                        // 2: subscribed (not pending)
		semRequest(t, e, bob, 11, model.Read)                                        // 3: pending, OWNER slot (11 has no owner)
		semRequest(t, e, alice, 10, model.Read)                                      // 4: pending, GOVERNANCE slot
		return e
	}
	t.Run("approve", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		f, err := e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 99}, {ID: 1}, {ID: 2}, {ID: 3}, {ID: 4}})
		require.NoError(t, err)
		assert.Equal(t, []int64{99, 2, 3}, failedIDs(f))
		for _, x := range f {
			assert.NotEmpty(t, x.Reason)
		}
		assert.Equal(t, model.RecordSubscribed, record(t, e, 1).State)
		assert.Equal(t, model.RecordSubscribed, record(t, e, 2).State)
		assert.Equal(t, model.RecordPending, record(t, e, 3).State)
		assert.Equal(t, model.RecordSubscribed, record(t, e, 4).State)
	})
	t.Run("deny", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		f, err := e.Deny(engine.As(gov), []model.DenyEntry{{ID: 1, DenialReasoning: "x"}, {ID: 99, DenialReasoning: "x"},
			{ID: 2, DenialReasoning: "x"}, {ID: 3, DenialReasoning: "x"}})
		require.NoError(t, err)
		assert.Equal(t, []int64{99, 2, 3}, failedIDs(f))
		assert.Equal(t, model.RecordDenied, record(t, e, 1).State)
		assert.Equal(t, model.RecordSubscribed, record(t, e, 2).State)
		assert.Equal(t, model.RecordPending, record(t, e, 3).State)
		assert.Equal(t, model.RecordPending, record(t, e, 4).State)
	})
	t.Run("every entry failing is still an answer, and changes nothing", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		before := mustExport(t, e)
		f, err := e.Approve(engine.As(outsider), []model.ApproveEntry{{ID: 1}, {ID: 3}, {ID: 7}})
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 3, 7}, failedIDs(f))
		f, err = e.Deny(engine.As(dave), []model.DenyEntry{{ID: 1, DenialReasoning: "x"}, {ID: 4, DenialReasoning: "x"}})
		require.NoError(t, err)
		assert.Equal(t, []int64{1, 4}, failedIDs(f))
		assert.Equal(t, before, mustExport(t, e))
	})
	t.Run("an unknown actor is refused as a whole", func(t *testing.T) {
		t.Parallel()
		e := setup(t)
		before := mustExport(t, e)
		_, err := e.Approve(engine.As(404), []model.ApproveEntry{{ID: 1}})
		require.ErrorIs(t, err, engine.ErrUnauthenticated)
		_, err = e.Deny(engine.As(404), []model.DenyEntry{{ID: 1, DenialReasoning: "x"}})
		require.ErrorIs(t, err, engine.ErrUnauthenticated)
		assert.Equal(t, before, mustExport(t, e))
	})
}

// Expiration given on approval is set on the record.
func TestApprovalsExpirationOnApproval(t *testing.T) {
	t.Parallel()
	exp := t0.Add(48 * time.Hour)
	cases := []struct {
		name    string
		approve func(t *testing.T, e *engine.Engine)
	}{
		{"approve entry", func(t *testing.T, e *engine.Engine) {
			f, err := e.Approve(engine.As(gov), []model.ApproveEntry{{ID: 1, Expiration: exp}})
			require.NoError(t, err)
			require.Empty(t, f)
		}},
		{"record change to subscribed", func(t *testing.T, e *engine.Engine) {
			_, err := e.ChangeRecord(engine.As(gov), 12, 1, &model.RecordChange{State: model.RecordSubscribed, Expiration: exp, HasExpiration: true})
			require.NoError(t, err)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, c := semWorld(t)
			create(t, e, semPolicy("ap", aApproval(model.Governance)))
			semRequest(t, e, bob, 12, model.Read)
			tc.approve(t, e)
			r := record(t, e, 1)
			assert.Equal(t, model.RecordSubscribed, r.State)
			assert.True(t, r.Expiration.Equal(exp), "expiration %v", r.Expiration)
			c.now = exp.Add(-time.Nanosecond)
			assert.Equal(t, engine.LevelRead, e.Decide(bob, 12).Grant)
			c.now = exp
			assert.Equal(t, engine.LevelNone, e.Decide(bob, 12).Grant)
		})
	}
}

// ChangeRecord: denied revokes; subscribed on a pending request approves it outright;
// a record of another data source is 404.
func TestApprovalsChangeRecord(t *testing.T) {
	t.Parallel()
	noExp := time.Time{}
	cases := []struct {
		name   string
		setup  func(t *testing.T, e *engine.Engine) (ds int64, user int64)
		change model.RecordState
		grant  engine.Level
		read   engine.State
		onTen  bool // the record is on data source 10, which carol owns
	}{
		{"denied revokes a manual grant to a user", func(t *testing.T, e *engine.Engine) (int64, int64) {
			semGrant(t, e, engine.As(carol), 10, bob, 0, model.RecordSubscribed, model.Write, noExp)
			return 10, bob
		}, model.RecordDenied, engine.LevelNone, sNone, true},
		{"denied revokes a manual grant to a group", func(t *testing.T, e *engine.Engine) (int64, int64) {
			semGrant(t, e, engine.As(gov), 12, 0, 1, model.RecordSubscribed, model.Read, noExp)
			return 12, alice
		}, model.RecordDenied, engine.LevelNone, sNone, false},
		{"denied revokes a self-subscription", func(t *testing.T, e *engine.Engine) (int64, int64) {
			create(t, e, semPolicy("a", aAnyone(false)))
			semRequest(t, e, bob, 12, model.Read)
			return 12, bob
		}, model.RecordDenied, engine.LevelNone, sElig, false},
		{"denied revokes an approved request", func(t *testing.T, e *engine.Engine) (int64, int64) {
			create(t, e, semPolicy("a", aApproval(model.Governance)))
			semRequest(t, e, bob, 12, model.Read)
			require.Empty(t, approve(t, e, gov, 1))
			return 12, bob
		}, model.RecordDenied, engine.LevelNone, sReq, false},
		{"denied refuses a pending request", func(t *testing.T, e *engine.Engine) (int64, int64) {
			create(t, e, semPolicy("a", aApproval(model.Governance)))
			semRequest(t, e, bob, 12, model.Read)
			return 12, bob
		}, model.RecordDenied, engine.LevelNone, sReq, false},
		{"denied revokes an owner-state grant", func(t *testing.T, e *engine.Engine) (int64, int64) {
			semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordOwner, model.Read, noExp)
			return 12, bob
		}, model.RecordDenied, engine.LevelNone, sNone, false},
		{"subscribed approves a pending request outright", func(t *testing.T, e *engine.Engine) (int64, int64) {
			create(t, e, semPolicy("a", aApproval(model.Governance, model.Owner), onTag("Finance")))
			semRequest(t, e, bob, 10, model.Read)
			return 10, bob
		}, model.RecordSubscribed, engine.LevelRead, sSub, true},
		{"subscribed approves a partly approved request outright", func(t *testing.T, e *engine.Engine) (int64, int64) {
			create(t, e, semPolicy("a", aApproval(model.Governance, model.Owner), onTag("Finance")))
			semRequest(t, e, bob, 10, model.Read)
			require.Empty(t, approve(t, e, gov, 1))
			return 10, bob
		}, model.RecordSubscribed, engine.LevelRead, sSub, true},
	}
	for _, actor := range []int64{gov, carol} {
		for _, tc := range cases {
			if actor == carol && (!tc.onTen || tc.change == model.RecordSubscribed) {
				continue // carol owns only data source 10; outright approval is GOVERNANCE's
			}
			t.Run(fmt.Sprintf("%s, by user %d", tc.name, actor), func(t *testing.T) {
				t.Parallel()
				e, _ := semWorld(t)
				ds, user := tc.setup(t, e)
				r, err := e.ChangeRecord(engine.As(actor), ds, 1, &model.RecordChange{State: tc.change})
				require.NoError(t, err)
				assert.Equal(t, tc.change, r.State)
				if tc.change == model.RecordSubscribed {
					assert.True(t, r.Approved)
				}
				assert.Equal(t, tc.change, record(t, e, 1).State)
				d := e.Decide(user, ds)
				assert.Equal(t, tc.grant, d.Grant)
				assert.Equal(t, tc.read, d.Read)
				assert.Len(t, e.Records(), 1)
			})
		}
	}

	t.Run("a record of another data source, or no record, is 404 and changes nothing", func(t *testing.T) {
		t.Parallel()
		e, _ := semWorld(t)
		semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordSubscribed, model.Read, noExp)   // 1 on 12
		semGrant(t, e, engine.As(carol), 10, bob, 0, model.RecordSubscribed, model.Read, noExp) // 2 on 10
		before := mustExport(t, e)
		_, err := e.ChangeRecord(engine.As(gov), 10, 1, &model.RecordChange{State: model.RecordDenied})
		require.ErrorIs(t, err, engine.ErrNotFound)
		_, err = e.ChangeRecord(engine.As(carol), 10, 1, &model.RecordChange{State: model.RecordDenied})
		require.ErrorIs(t, err, engine.ErrNotFound, "carol owns 10, record 1 is on 12")
		_, err = e.ChangeRecord(engine.As(gov), 12, 99, &model.RecordChange{State: model.RecordDenied})
		require.ErrorIs(t, err, engine.ErrNotFound)
		_, err = e.ChangeRecord(engine.As(gov), 999, 1, &model.RecordChange{State: model.RecordDenied})
		require.ErrorIs(t, err, engine.ErrNotFound)
		assert.Equal(t, before, mustExport(t, e))
		assert.Equal(t, engine.LevelRead, e.Decide(bob, 12).Grant)
	})

	t.Run("an expiration change is set", func(t *testing.T) {
		t.Parallel()
		e, c := semWorld(t)
		semGrant(t, e, engine.As(gov), 12, bob, 0, model.RecordSubscribed, model.Read, noExp)
		exp := t0.Add(time.Hour)
		r, err := e.ChangeRecord(engine.As(gov), 12, 1, &model.RecordChange{Expiration: exp, HasExpiration: true})
		require.NoError(t, err)
		assert.True(t, r.Expiration.Equal(exp))
		assert.Equal(t, model.RecordSubscribed, r.State)
		c.now = exp
		assert.Equal(t, engine.LevelNone, e.Decide(bob, 12).Grant)
	})
}

// Manual grants: record fields; a grant to a group is one record reaching every member.
func TestApprovalsManualGrants(t *testing.T) {
	t.Parallel()
	noExp := time.Time{}
	cases := []struct {
		name          string
		actor         int64
		ds            int64
		profile       int64
		group         int64
		state         model.RecordState
		level         model.AccessGrant
		wantProfile   int64
		wantGroup     int64
		reach, notYet []int64 // users holding the level after the grant / not
	}{
		{"to a user, by the owner", carol, 10, bob, 0, model.RecordSubscribed, model.Read, bob, 0, []int64{bob}, []int64{alice}},
		{"to a user, by GOVERNANCE, WRITE", gov, 12, bob, 0, model.RecordExpert, model.Write, bob, 0, []int64{bob}, []int64{alice}},
		{"to the caller by default", carol, 10, 0, 0, model.RecordSubscribed, model.Write, carol, 0, []int64{carol}, []int64{bob}},
		{"to a group", gov, 12, 0, 1, model.RecordSubscribed, model.Read, 0, 1, []int64{alice, erin}, []int64{bob, gov}},
		{"to a group, WRITE, by the owner", carol, 10, 0, 2, model.RecordSubscribed, model.Write, 0, 2, []int64{bob}, []int64{alice, erin}},
		{"owner state to a user", gov, 12, outsider, 0, model.RecordOwner, model.Read, outsider, 0, []int64{outsider}, []int64{bob}},
		{"by an owner through an owner-state grant", semGrantOwner, 10, bob, 0, model.RecordSubscribed, model.Read, bob, 0, []int64{bob}, []int64{alice}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			semGrant(t, e, engine.As(gov), 10, semGrantOwner, 0, model.RecordOwner, model.Read, noExp) // record 1
			r, err := e.Access(engine.As(tc.actor), tc.ds, engine.AccessRequest{ProfileID: tc.profile, GroupID: tc.group,
				State: tc.state, AccessGrant: tc.level})
			require.NoError(t, err)
			assert.Equal(t, int64(2), r.ID)
			assert.Equal(t, tc.ds, r.DataSourceID)
			assert.Equal(t, tc.state, r.State)
			assert.Equal(t, tc.wantProfile, r.Profile)
			assert.Equal(t, tc.wantGroup, r.Group)
			assert.True(t, r.IsSubscriptionOverride)
			assert.False(t, r.Policy)
			assert.True(t, r.Approved)
			require.NotNil(t, r.Admin)
			assert.Equal(t, tc.actor, *r.Admin)
			assert.Equal(t, tc.level, r.AccessGrant)
			assert.Empty(t, r.Approvals)
			assert.Len(t, e.Records(), 2, "one record, even for a group")
			want := engine.LevelRead
			if tc.level == model.Write {
				want = engine.LevelWrite
			}
			for _, u := range tc.reach {
				assert.Equal(t, want, e.Decide(u, tc.ds).Grant, "user %d", u)
			}
			for _, u := range tc.notYet {
				if u == carol && tc.ds == 10 {
					continue
				}
				assert.Equal(t, engine.LevelNone, e.Decide(u, tc.ds).Grant, "user %d", u)
			}
		})
	}

	t.Run("a group grant reaches members who join later", func(t *testing.T) {
		t.Parallel()
		e, _ := semWorld(t)
		g := int64(1)
		_, err := e.Access(engine.As(gov), 12, engine.AccessRequest{GroupID: g, State: model.RecordSubscribed, AccessGrant: model.Write})
		require.NoError(t, err)
		assert.Equal(t, engine.LevelNone, e.Decide(outsider, 12).Grant)
		semEditUser(t, e, outsider, func(u *model.User) { u.Groups = []string{"finance"} })
		assert.Equal(t, engine.LevelWrite, e.Decide(outsider, 12).Grant)
		require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 30, Name: "New", Groups: []string{"finance"}}))
		assert.Equal(t, engine.LevelWrite, e.Decide(30, 12).Grant)
	})
}

// Record ids are assigned from 1 in order; refused calls use up none.
func TestApprovalsRecordIDs(t *testing.T) {
	t.Parallel()
	e, _ := semWorld(t)
	create(t, e, semPolicy("ap", aApproval(model.Governance), onTag("Finance")))             // on 10
	create(t, e, semPolicy("sp", aSlots(slotsOf(true, model.Audit)...), onTag("Marketing"))) // on 11
	create(t, e, semPolicy("any", aAnyone(false), onTag("Finance")))
	bobID := int64(bob)
	steps := []struct {
		name   string
		call   func() (*model.AccessRecord, error)
		wantID int64 // 0: refused
	}{
		{"request needing approval", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(bob), 10, engine.AccessRequest{})
		}, 1},
		{"refused: nothing applies on 12", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(bob), 12, engine.AccessRequest{})
		}, 0},
		{"refused: a grant by a plain user", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(alice), 12, engine.AccessRequest{ProfileID: bobID, State: model.RecordSubscribed})
		}, 0},
		{"refused: a bad specific approver", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(bob), 11, engine.AccessRequest{Approvers: []int64{gov}})
		}, 0},
		{"refused: unknown data source", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(bob), 999, engine.AccessRequest{})
		}, 0},
		{"refused: unknown actor", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(404), 10, engine.AccessRequest{})
		}, 0},
		{"a grant", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(carol), 10, engine.AccessRequest{ProfileID: bobID, State: model.RecordSubscribed, AccessGrant: model.Write})
		}, 2},
		{"a repeat request answers record 1", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(bob), 10, engine.AccessRequest{})
		}, 1},
		{"a specific approver request", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(bob), 11, engine.AccessRequest{Approvers: []int64{dave}})
		}, 3},
		{"another user's request", func() (*model.AccessRecord, error) {
			return e.Access(engine.As(alice), 10, engine.AccessRequest{})
		}, 4},
	}
	for _, st := range steps {
		before := mustExport(t, e)
		r, err := st.call()
		if st.wantID == 0 {
			require.Error(t, err, st.name)
			assert.Equal(t, before, mustExport(t, e), st.name)
			continue
		}
		require.NoError(t, err, st.name)
		assert.Equal(t, st.wantID, r.ID, st.name)
	}
	// Approve and deny calls, even failing, use up no record id.
	approve(t, e, gov, 1, 99)
	deny(t, e, outsider, 4)
	r, err := e.Access(engine.As(erin), 10, engine.AccessRequest{})
	require.NoError(t, err)
	assert.Equal(t, int64(5), r.ID)
	ids := []int64{}
	for _, x := range e.Records() {
		ids = append(ids, x.ID)
	}
	assert.Equal(t, []int64{1, 2, 3, 4, 5}, ids)
}

// Only a live own record in state subscribed, or a pending one, answers a repeat
// request; being an owner (here through an owner-state grant) or holding an
// expert-state grant does not stop a request: it is judged as usual.
func TestApprovalsRequestBesideOwnManualGrant(t *testing.T) {
	t.Parallel()
	cases := []struct {
		state model.RecordState
	}{
		{model.RecordExpert},
		{model.RecordOwner},
	}
	for _, tc := range cases {
		t.Run(string(tc.state), func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			create(t, e, semPolicy("a", aAnyone(false)))
			semGrant(t, e, engine.As(gov), 12, bob, 0, tc.state, model.Read, time.Time{}) // record 1
			r := semRequest(t, e, bob, 12, model.Read)
			assert.Equal(t, int64(2), r.ID)
			assert.Equal(t, model.RecordSubscribed, r.State)
			assert.True(t, r.Policy)
			assert.False(t, r.IsSubscriptionOverride)
			assert.Len(t, e.Records(), 2)
		})
	}
}

// Naming specific approvers when the outcome needs none (satisfied) is a 400 and
// stores nothing; an empty list is fine. A refused outcome stays a 403 whatever the
// list names.
func TestApprovalsNamedApproversWithoutSlots(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policies []*model.Policy
		level    model.AccessGrant
		named    []int64
		want     error // nil: a subscribed record
	}{
		{"satisfied, one named", []*model.Policy{semPolicy("a", aAnyone(false))}, model.Read,
			[]int64{gov}, model.ErrInvalid},
		{"satisfied through WRITE, one named", []*model.Policy{semPolicy("w", atWrite(aAnyone(false)))}, model.Read,
			[]int64{gov}, model.ErrInvalid},
		{"satisfied, empty list", []*model.Policy{semPolicy("a", aAnyone(false))}, model.Read,
			[]int64{}, nil},
		{"approval without specific slots, one named", []*model.Policy{semPolicy("p", aApproval(model.Governance))}, model.Read,
			[]int64{gov}, model.ErrInvalid},
		{"unsatisfied, one named", []*model.Policy{semPolicy("u", aNobody(false))}, model.Read,
			[]int64{gov}, engine.ErrForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e, _ := semWorld(t)
			for _, p := range tc.policies {
				create(t, e, p)
			}
			before := mustExport(t, e)
			r, err := e.Access(engine.As(bob), 12, engine.AccessRequest{AccessGrant: tc.level, Approvers: tc.named})
			if tc.want == nil {
				require.NoError(t, err)
				assert.Equal(t, model.RecordSubscribed, r.State)
				return
			}
			require.ErrorIs(t, err, tc.want)
			if tc.want == model.ErrInvalid {
				var list model.ErrorList
				require.True(t, errors.As(err, &list))
				require.Len(t, list, 1)
				assert.Equal(t, model.Path("approvals"), list[0].Path)
			}
			assert.Equal(t, before, mustExport(t, e), "nothing stored")
		})
	}
}

// A pending request past its expiration is no longer pending: it does not make the
// level pending, cannot be approved or denied, and a new request makes a new record.
func TestApprovalsExpiredPendingRequest(t *testing.T) {
	t.Parallel()
	e, c := semWorld(t)
	create(t, e, semPolicy("p", aApproval(model.Governance)))
	r, err := e.Access(engine.As(bob), 12, engine.AccessRequest{Expiration: t0.Add(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, int64(1), r.ID)
	assert.Equal(t, int64(1), semRequest(t, e, bob, 12, model.Read).ID, "a live pending record answers a repeat")
	assert.Equal(t, engine.StatePending, e.Decide(bob, 12).Read)

	c.now = t0.Add(time.Hour) // at the expiration: expired
	assert.Equal(t, engine.StateRequestable, e.Decide(bob, 12).Read)
	assert.Equal(t, []int64{1}, failedIDs(approve(t, e, gov, 1)), "an expired request cannot be approved")
	assert.Equal(t, []int64{1}, failedIDs(deny(t, e, gov, 1)), "nor denied")
	_, err = e.ChangeRecord(engine.As(gov), 12, 1, &model.RecordChange{State: model.RecordSubscribed})
	require.ErrorIs(t, err, model.ErrInvalid, "nor approved outright")
	assert.Equal(t, model.RecordPending, record(t, e, 1).State)

	r = semRequest(t, e, bob, 12, model.Read)
	assert.Equal(t, int64(2), r.ID, "a new request makes a new record")
	assert.Equal(t, model.RecordPending, r.State)
	assert.True(t, r.Expiration.IsZero())
	assert.Len(t, e.Records(), 2)
	assert.Equal(t, engine.StatePending, e.Decide(bob, 12).Read)
	assert.Empty(t, approve(t, e, gov, 2))
	assert.Equal(t, engine.LevelRead, e.Decide(bob, 12).Grant)
}
