package model_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/model"
)

const seedDir = "../testdata/seeds"

func readSeed(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, name))
	require.NoError(t, err)
	return b
}

func compactJSON(t testing.TB, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Compact(&buf, b))
	return buf.String()
}

// canonical strips what a round trip through a response does not carry: response
// metadata, the dialect and whether the key was defaulted.
func canonical(p *model.Policy) model.Policy {
	c := *p
	c.ID, c.CreatedBy, c.CreatedByName = 0, 0, ""
	c.CreatedAt, c.UpdatedAt, c.Deleted = time.Time{}, time.Time{}, false
	c.Dialect, c.KeyDefaulted = 0, false
	return c
}

// v2Expressible drops what v2 cannot carry: the informational v1 tag fields.
func v2Expressible(p model.Policy) model.Policy {
	if len(p.Circumstances) > 0 {
		cs := make([]model.Circumstance, len(p.Circumstances))
		copy(cs, p.Circumstances)
		for i := range cs {
			cs[i].TagDisplayName, cs[i].TagHasLeafNodes = "", nil
		}
		p.Circumstances = cs
	}
	return p
}

// v1Expressible drops what v1 cannot carry: the circumstance operator when there
// is no circumstance or only one owner-selected circumstance.
func v1Expressible(p model.Policy) model.Policy {
	if len(p.Circumstances) == 0 || len(p.Circumstances) == 1 && p.Circumstances[0].Type == model.CircumstanceOwnerSelected {
		p.CircumstanceOperator = model.Any
	}
	return p
}

// requireRoundTrip checks that p encodes and decodes back to its canonical content
// in both dialects.
func requireRoundTrip(t testing.TB, p *model.Policy) {
	t.Helper()
	for _, d := range []model.Dialect{model.DialectV1, model.DialectV2} {
		b, err := model.EncodePolicy(p, d)
		require.NoError(t, err)
		q, err := model.DecodePolicy(b, model.Limits{MaxPayloadBytes: 16 << 20})
		require.NoError(t, err, "dialect %s: %s", d, b)
		require.Equal(t, d, q.Dialect)
		want := canonical(p)
		if d == model.DialectV2 {
			want = v2Expressible(want)
		} else {
			want = v1Expressible(want)
		}
		if p.Type == model.PolicyData && p.Dialect != d {
			want.DataActions = convertDataActions(p.DataActions, d)
		}
		require.Equal(t, want, canonical(q), "dialect %s: %s", d, b)
	}
}

func TestSeedPolicies(t *testing.T) {
	t.Parallel()
	desc := func(s string) *string { return &s }
	f := false
	cases := []struct {
		file string
		want model.Policy
	}{
		{"v1-create-write-policy.request.json", model.Policy{
			Key: "Allow users with specific entitlements to have write access", KeyDefaulted: true,
			Name: "Allow users with specific entitlements to have write access", Type: model.PolicySubscription,
			CircumstanceOperator: model.Any, Dialect: model.DialectV1,
			Action: model.Action{Type: model.ActionEntitlements, AccessGrant: model.Write,
				Entitlements: &model.Entitlements{Operator: model.All, Attributes: []model.Attribute{{Name: "has", Value: "write"}}}},
		}},
		{"v1-policy.response.json", model.Policy{
			Key: "Manual global write policy", Name: "Manual global write policy", Type: model.PolicySubscription,
			Template: true, CircumstanceOperator: model.Any, Dialect: model.DialectV1,
			Circumstances: []model.Circumstance{{Type: model.CircumstanceOwnerSelected}},
			Action:        model.Action{Type: model.ActionManual, AccessGrant: model.Write},
		}},
		{"v1-update-policy.request.json", model.Policy{
			Key: "Manual global write policy", KeyDefaulted: true, Name: "Manual global write policy",
			Type: model.PolicySubscription, Template: true, CircumstanceOperator: model.Any, Dialect: model.DialectV1,
			Circumstances: []model.Circumstance{{Type: model.CircumstanceColumnTags, ColumnTag: "Discovered.Healthcare NPI",
				TagDisplayName: "Discovered . Healthcare NPI", TagHasLeafNodes: &f}},
			Action: model.Action{Type: model.ActionManual, AccessGrant: model.Write,
				Description: desc("This updated policy only applies to data sources tagged Discovered.Healthcare NPI.")},
		}},
		{"v2-create-anyone.request.yaml", model.Policy{
			Key: "subscription anyone", Name: "Anyone", Type: model.PolicySubscription,
			CircumstanceOperator: model.Any, Dialect: model.DialectV2,
			Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: "Discovered"}},
			Action:        model.Action{Type: model.ActionAnyone, AccessGrant: model.Read, Description: desc("Rationale")},
		}},
		{"v2-create-anyone.request.json", model.Policy{
			Key: "subscription anyone", Name: "Anyone", Type: model.PolicySubscription,
			CircumstanceOperator: model.Any, Dialect: model.DialectV2,
			Circumstances: []model.Circumstance{{Type: model.CircumstanceTags, Tag: "Discovered"}},
			Action:        model.Action{Type: model.ActionAnyone, AccessGrant: model.Read, Description: desc("Rationale")},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			p, err := model.DecodePolicy(readSeed(t, tc.file), model.DefaultLimits())
			require.NoError(t, err)
			require.Equal(t, tc.want, *p)
			require.Nil(t, model.ValidatePolicy(p))
			requireRoundTrip(t, p)
		})
	}
}

// The v1 GET response of the seed is reproduced byte for byte (modulo whitespace).
func TestSeedPolicyResponseV1(t *testing.T) {
	t.Parallel()
	seed := readSeed(t, "v1-policy.response.json")
	p, err := model.DecodePolicy(seed, model.Limits{})
	require.NoError(t, err)
	p.ID, p.CreatedBy, p.CreatedByName = 4, 2, "Taylor"
	p.CreatedAt = time.Date(2023, 10, 10, 13, 18, 37, 270e6, time.UTC)
	p.UpdatedAt = p.CreatedAt
	got, err := model.EncodePolicy(p, model.DialectV1)
	require.NoError(t, err)
	assert.Equal(t, compactJSON(t, seed), string(got))
}

// The YAML and JSON forms of the v2 seed are the same policy, and its v2 response
// lists every default.
func TestSeedV2YAMLEqualsJSON(t *testing.T) {
	t.Parallel()
	py, err := model.DecodePolicy(readSeed(t, "v2-create-anyone.request.yaml"), model.Limits{})
	require.NoError(t, err)
	pj, err := model.DecodePolicy(readSeed(t, "v2-create-anyone.request.json"), model.Limits{})
	require.NoError(t, err)
	require.Equal(t, pj, py)
	py.ID = 1
	got, err := model.EncodePolicy(py, model.DialectV2)
	require.NoError(t, err)
	assert.JSONEq(t, `{"policyKey":"subscription anyone","name":"Anyone","type":"subscription","staged":false,
		"template":false,"certification":null,"circumstanceOperator":"any",
		"circumstances":[{"type":"tags","tag":"Discovered"}],
		"actions":{"type":"anyone","automaticSubscription":false,"allowDiscovery":false,"description":"Rationale",
			"accessGrant":"READ","shareResponsibility":false},
		"id":1,"createdBy":0,"createdByName":"","createdAt":null,"updatedAt":null,"deleted":false,
		"systemGenerated":false,"clonedFrom":null,"metadata":null,"ownerRestrictions":null}`, string(got))
}

func TestSeedManualGrantRequest(t *testing.T) {
	t.Parallel()
	r, err := model.DecodeAccessRequest(readSeed(t, "v1-manual-write-grant.request.json"), model.Limits{})
	require.NoError(t, err)
	three := int64(3)
	require.Equal(t, &model.AccessRequestBody{ProfileID: &three, State: model.RecordSubscribed, AccessGrant: model.Write}, r)
}

// The access record of the seed is reproduced byte for byte (modulo whitespace).
func TestSeedAccessRecordResponse(t *testing.T) {
	t.Parallel()
	admin := int64(2)
	at := time.Date(2023, 10, 11, 14, 43, 0, 726e6, time.UTC)
	r := &model.AccessRecord{ID: 23, DataSourceID: 6, State: model.RecordSubscribed, Profile: 3, Admin: &admin,
		IsSubscriptionOverride: true, AccessGrant: model.Write, Approved: true, CreatedAt: at, UpdatedAt: at}
	got, err := json.Marshal(model.AccessRecordResponse(r))
	require.NoError(t, err)
	assert.Equal(t, compactJSON(t, readSeed(t, "access-record.response.json")), string(got))
}

func TestAccessRecordResponseRequest(t *testing.T) {
	t.Parallel()
	at := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &model.AccessRecord{ID: 7, DataSourceID: 12, State: model.RecordDenied, Profile: 5, Policy: true,
		DenialReasoning: "no", Expiration: at, AccessGrant: model.Read, CreatedAt: at, UpdatedAt: at,
		Approvals: []model.ApprovalSlot{
			{RequiredPermission: model.Owner, State: model.SlotApproved, Approver: 2},
			{RequiredPermission: model.Governance, SpecificApproverRequired: true, SpecificApprover: 9, State: model.SlotPending},
		}}
	got, err := json.Marshal(model.AccessRecordResponse(r))
	require.NoError(t, err)
	assert.Equal(t, `{"isSubscriptionOverride":false,"id":7,"modelId":"12","modelType":"datasource","state":"denied",`+
		`"metadata":{},"admin":null,"denialReasoning":"no","profile":5,"group":null,"policy":true,`+
		`"expiration":"2024-01-02T03:04:05.000Z","acknowledgeRequired":false,"createdAt":"2024-01-02T03:04:05.000Z",`+
		`"updatedAt":"2024-01-02T03:04:05.000Z","accessGrant":"READ","approved":false,"approvals":[`+
		`{"requiredPermission":"OWNER","specificApproverRequired":false,"specificApprover":null,"approver":2,"state":"approved"},`+
		`{"requiredPermission":"GOVERNANCE","specificApproverRequired":true,"specificApprover":9,"approver":null,"state":"pending"}]}`,
		string(got))
	// a request without slots still lists them (empty); a grant never does
	r.Approvals = nil
	got, _ = json.Marshal(model.AccessRecordResponse(r))
	assert.Contains(t, string(got), `"approvals":[]`)
	r.Policy = false
	got, _ = json.Marshal(model.AccessRecordResponse(r))
	assert.NotContains(t, string(got), `approvals`)
}

// Every seed file decodes with the decoder of its kind.
func TestSeedFilesAllDecode(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(seedDir, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		name := filepath.Base(f)
		data := readSeed(t, name)
		switch {
		case name == "access-record.response.json":
			var m map[string]any
			require.NoError(t, json.Unmarshal(data, &m))
		case name == "v1-manual-write-grant.request.json":
			_, err := model.DecodeAccessRequest(data, model.Limits{})
			require.NoError(t, err, name)
		case filepath.Ext(name) == ".yaml" && name[:6] == "bundle":
			_, err := model.DecodeBundle(data, model.Limits{})
			require.NoError(t, err, name)
		default:
			_, err := model.DecodePolicy(data, model.Limits{})
			require.NoError(t, err, name)
		}
	}
}
