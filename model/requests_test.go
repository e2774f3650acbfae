package model_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

func ptr(i int64) *int64 { return &i }

func TestDecodeAccessRequest(t *testing.T) {
	t.Parallel()
	r, err := model.DecodeAccessRequest([]byte("approvals:\n  - specificApprover: 4\n"), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, &model.AccessRequestBody{AccessGrant: model.Read, Approvals: []model.SpecificApprover{{SpecificApprover: 4}}}, r)

	r, err = model.DecodeAccessRequest([]byte(`{"groupId": 2, "state": "owner", "accessGrant": "WRITE", "expiration": "2024-05-01"}`), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, &model.AccessRequestBody{GroupID: ptr(2), State: model.RecordOwner, AccessGrant: model.Write,
		Expiration: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}, r)

	r, err = model.DecodeAccessRequest([]byte(`{"expiration": null}`), model.Limits{})
	require.NoError(t, err)
	assert.True(t, r.Expiration.IsZero())

	for _, tc := range []struct {
		in   string
		want []problem
	}{
		{`{"profileId": 1, "groupId": 2}`, []problem{{"groupId", forb}}},
		{`{"profileId": 1.5, "groupId": 0}`, []problem{{"profileId", inv}, {"groupId", inv}}},
		{`{"state": "pending", "accessGrant": "read", "expiration": "later", "reason": "x"}`,
			[]problem{{"state", nsup}, {"accessGrant", nsup}, {"expiration", inv}, {"reason", unk}}},
		{`{"state": "subscribed", "approvals": [{"specificApprover": 3}]}`, []problem{{"approvals", forb}}},
		{`{"approvals": [{}, {"specificApprover": "3"}, {"specificApprover": 3, "slot": 1}, 4]}`,
			[]problem{{"approvals[0].specificApprover", req}, {"approvals[1].specificApprover", typ},
				{"approvals[2].slot", unk}, {"approvals[3]", typ}}},
		{`[]`, []problem{{"", typ}}},
	} {
		r, err := model.DecodeAccessRequest([]byte(tc.in), model.Limits{})
		assert.Nil(t, r, tc.in)
		assert.ElementsMatch(t, tc.want, problems(err), tc.in)
	}
}

func TestDecodeRecordChange(t *testing.T) {
	t.Parallel()
	r, err := model.DecodeRecordChange([]byte(`{"state": "denied"}`), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, &model.RecordChange{State: model.RecordDenied}, r)
	r, err = model.DecodeRecordChange([]byte("expiration: null\n"), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, &model.RecordChange{HasExpiration: true}, r)
	r, err = model.DecodeRecordChange([]byte(`{"state": "subscribed", "expiration": "2024-01-01T10:00:00+02:00"}`), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, &model.RecordChange{State: model.RecordSubscribed, HasExpiration: true,
		Expiration: time.Date(2024, 1, 1, 8, 0, 0, 0, time.UTC)}, r)
	for _, tc := range []struct {
		in   string
		want []problem
	}{
		{`{}`, []problem{{"state", req}}},
		{`{"state": "pending", "approved": true}`, []problem{{"state", nsup}, {"approved", unk}}},
		{`{"state": 1, "expiration": 5}`, []problem{{"state", typ}, {"expiration", typ}}},
	} {
		r, err := model.DecodeRecordChange([]byte(tc.in), model.Limits{})
		assert.Nil(t, r, tc.in)
		assert.ElementsMatch(t, tc.want, problems(err), tc.in)
	}
}

func TestDecodeApproveDeny(t *testing.T) {
	t.Parallel()
	a, err := model.DecodeApprove([]byte("requests:\n  - id: 3\n  - id: 4\n    expiration: 2025-01-01\n"), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, []model.ApproveEntry{{ID: 3}, {ID: 4, Expiration: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}}, a)
	d, err := model.DecodeDeny([]byte(`{"requests": [{"id": 3, "denialReasoning": "no"}]}`), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, []model.DenyEntry{{ID: 3, DenialReasoning: "no"}}, d)

	for _, tc := range []struct {
		in      string
		approve []problem
		deny    []problem
	}{
		{`{}`, []problem{{"requests", req}}, []problem{{"requests", req}}},
		{`{"requests": []}`, []problem{{"requests", req}}, []problem{{"requests", req}}},
		{`{"requests": {"id": 1}}`, []problem{{"requests", typ}}, []problem{{"requests", typ}}},
		{`{"requests": [{"expiration": "2024-01-01"}]}`, []problem{{"requests[0].id", req}},
			[]problem{{"requests[0].id", req}, {"requests[0].expiration", unk}, {"requests[0].denialReasoning", req}}},
		{`{"requests": [{"id": 1, "denialReasoning": ""}, {"id": "2"}]}`,
			[]problem{{"requests[0].denialReasoning", unk}, {"requests[1].id", typ}},
			[]problem{{"requests[0].denialReasoning", req}, {"requests[1].id", typ}, {"requests[1].denialReasoning", req}}},
		{`{"requests": [{"id": 1}], "all": true}`, []problem{{"all", unk}}, []problem{{"requests[0].denialReasoning", req}, {"all", unk}}},
	} {
		a, err := model.DecodeApprove([]byte(tc.in), model.Limits{})
		assert.Nil(t, a, tc.in)
		assert.ElementsMatch(t, tc.approve, problems(err), "approve %s", tc.in)
		d, err := model.DecodeDeny([]byte(tc.in), model.Limits{})
		assert.Nil(t, d, tc.in)
		assert.ElementsMatch(t, tc.deny, problems(err), "deny %s", tc.in)
	}
}

func TestDecodeApplyPolicy(t *testing.T) {
	t.Parallel()
	a, err := model.DecodeApplyPolicy([]byte("policyId: 2\ndataSourceId: 6\n"), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, &model.ApplyPolicy{PolicyID: 2, DataSourceID: 6}, a)
	a, err = model.DecodeApplyPolicy([]byte(`{"policyId": "2", "extra": 1}`), model.Limits{})
	assert.Nil(t, a)
	assert.ElementsMatch(t, []problem{{"policyId", typ}, {"dataSourceId", req}, {"extra", unk}}, problems(err))
	_, err = model.DecodeApplyPolicy([]byte(`{"policyId": 1e2, "dataSourceId": -1}`), model.Limits{})
	assert.ElementsMatch(t, []problem{{"policyId", inv}, {"dataSourceId", inv}}, problems(err))
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Time{
		"2024-02-29":                  time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"2024-02-29T10:11:12Z":        time.Date(2024, 2, 29, 10, 11, 12, 0, time.UTC),
		"2024-02-29T10:11:12.5-01:00": time.Date(2024, 2, 29, 11, 11, 12, 5e8, time.UTC),
		// RFC 3339 section 5.6: "T" and "Z" may be lower case.
		"2025-06-01t00:00:00z":      time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		"2025-06-01t10:00:00+02:00": time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC),
		"2025-06-01T10:00:00.25z":   time.Date(2025, 6, 1, 10, 0, 0, 25e7, time.UTC),
	} {
		got, err := model.ParseDate(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		back, err := model.ParseDate(model.FormatDate(got))
		require.NoError(t, err)
		assert.Equal(t, got, back)
	}
	for _, in := range []string{"", "2024-02-30", "2024-2-1", "yesterday", "2024-01-01 10:00:00", "2024-01-01T10:00:00",
		"2025-06-01t10:00:00", "2025-06-01x10:00:00z", "2025-06-01z", "2025-06-01t"} {
		_, err := model.ParseDate(in)
		assert.Error(t, err, in)
	}
}

// TestLowerCaseRFC3339Fields checks that every date field a payload carries accepts
// RFC 3339 with a lower-case "t" and "z" (RFC 3339 section 5.6).
func TestLowerCaseRFC3339Fields(t *testing.T) {
	t.Parallel()
	jun1 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	jul1 := time.Date(2025, 7, 1, 12, 30, 0, 0, time.UTC)

	p, err := model.DecodePolicy([]byte(`{"name": "t", "policyKey": "t", "type": "subscription",
		"actions": {"type": "anyone"},
		"circumstances": [{"type": "time", "startDate": "2025-06-01t00:00:00z", "endDate": "2025-07-01t12:30:00z"}]}`), model.Limits{})
	require.NoError(t, err)
	require.Len(t, p.Circumstances, 1)
	assert.Equal(t, jun1, p.Circumstances[0].StartDate)
	assert.Equal(t, jul1, p.Circumstances[0].EndDate)

	r, err := model.DecodeAccessRequest([]byte(`{"expiration": "2025-06-01t00:00:00z"}`), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, jun1, r.Expiration)

	ch, err := model.DecodeRecordChange([]byte(`{"expiration": "2025-07-01t12:30:00z"}`), model.Limits{})
	require.NoError(t, err)
	assert.Equal(t, jul1, ch.Expiration)

	a, err := model.DecodeApprove([]byte(`{"requests": [{"id": 1, "expiration": "2025-06-01t00:00:00z"}]}`), model.Limits{})
	require.NoError(t, err)
	require.Len(t, a, 1)
	assert.Equal(t, jun1, a[0].Expiration)
}
