package engine_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

const principalsBundle = `
name: principals
users:
  - {id: 1, name: Gov, apiKey: k-gov, permissions: [GOVERNANCE]}
  - {id: 5, name: Writer, apiKey: k-5}
  - {id: 6, name: Member, apiKey: k-6, groups: [analysts]}
  - {id: 7, name: Asker, apiKey: k-7}
groups:
  - {id: 3, name: analysts}
dataSources:
  - {id: 10, name: payments, owners: [1], tags: [Approval]}
policies:
  - name: approval
    policyKey: approval
    type: subscription
    actions: {type: approval, approvals: [{requiredPermissions: GOVERNANCE, specificApproverRequired: false}]}
    circumstances: [{type: tags, tag: Approval}]
grants:
  - {dataSourceId: 10, profileId: 5, state: subscribed, accessGrant: WRITE}
  - {dataSourceId: 10, groupId: 3, state: subscribed}
`

// TestDeletedPrincipalsEndTheirRecords (issue 12 item 5): deleting a user with a
// WRITE grant, a user with a pending request and a group with a READ grant ends
// their records (denied, "principal deleted"); a user and a group created later
// with the same ids start with nothing.
func TestDeletedPrincipalsEndTheirRecords(t *testing.T) {
	t.Parallel()
	b, err := model.DecodeBundle([]byte(principalsBundle), model.DefaultLimits())
	require.NoError(t, err)
	e := engine.New(engine.WithClock(func() time.Time { return t0 }))
	require.NoError(t, e.ApplyBundle(b))
	req, err := e.Access(engine.As(7), 10, engine.AccessRequest{})
	require.NoError(t, err)
	require.Equal(t, model.RecordPending, req.State)
	require.Equal(t, engine.LevelWrite, e.Decide(5, 10).Grant)
	require.Equal(t, engine.LevelRead, e.Decide(6, 10).Grant)

	require.NoError(t, e.DeleteUser(engine.SystemActor(), 5))
	require.NoError(t, e.DeleteUser(engine.SystemActor(), 7))
	require.NoError(t, e.DeleteGroup(engine.SystemActor(), 3))
	for _, r := range e.Records() {
		assert.Equal(t, model.RecordDenied, r.State, "record %d", r.ID)
		assert.Equal(t, engine.DenialPrincipalDeleted, r.DenialReasoning, "record %d", r.ID)
		assert.False(t, r.Approved, "record %d", r.ID)
	}
	assert.Equal(t, engine.LevelNone, e.Decide(6, 10).Grant, "the group's grant ended")

	require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 5, Name: "New five"}))
	require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 7, Name: "New seven"}))
	require.NoError(t, e.PutGroup(engine.SystemActor(), &model.Group{ID: 3, Name: "analysts"}))
	assert.Equal(t, engine.LevelNone, e.Decide(5, 10).Grant, "the new user 5 inherits no WRITE")
	assert.Equal(t, engine.LevelNone, e.Decide(6, 10).Grant, "the new group 3 inherits no READ")
	assert.Equal(t, engine.LevelNone, e.Decide(7, 10).Grant)
	assert.NotEqual(t, engine.StatePending, e.Decide(7, 10).Read, "the new user 7 has no pending request")
	fs, err := e.Approve(engine.As(1), []model.ApproveEntry{{ID: req.ID}})
	require.NoError(t, err)
	require.Len(t, fs, 1, "the ended request cannot be approved")
}

// TestGroupNamesStayUnique: a group cannot take the name another stored group
// has, unless the same write renames that group; a swap of two names in one write
// is fine. The refused write changes nothing, and every export stays importable.
func TestGroupNamesStayUnique(t *testing.T) {
	t.Parallel()
	sys := engine.SystemActor()
	e := engine.New()
	require.NoError(t, e.PutGroups(sys, []*model.Group{{ID: 1, Name: "g1"}, {ID: 2, Name: "g2"}}))

	err := e.PutGroup(sys, &model.Group{ID: 3, Name: "g1"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "is already the name of group 1")
	err = e.PutGroup(sys, &model.Group{ID: 2, Name: "g1"})
	require.Error(t, err, "renaming onto a taken name")
	_, ok := e.Snapshot().GroupByName("g1")
	require.True(t, ok)
	assert.Len(t, e.Snapshot().Groups(), 2, "refused writes change nothing")

	require.NoError(t, e.PutGroups(sys, []*model.Group{{ID: 1, Name: "g2"}, {ID: 2, Name: "g1"}}), "a swap in one write")
	g, ok := e.Snapshot().GroupByName("g1")
	require.True(t, ok)
	assert.Equal(t, int64(2), g.ID)
	require.NoError(t, e.PutGroups(sys, []*model.Group{{ID: 1, Name: "g3"}, {ID: 3, Name: "g2"}}), "a name freed in the same write")

	out, err := e.Export()
	require.NoError(t, err)
	require.NoError(t, engine.New().Import(out), "the export reads back")
}
