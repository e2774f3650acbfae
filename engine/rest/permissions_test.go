package rest_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/model"
)

// cell is the expected answer of one endpoint to one role.
type cell int

const (
	cUnauth  cell = iota // 401, nothing changes
	cForbid              // 403, nothing changes
	cBad                 // 400, nothing changes
	cDone                // 200, the state changes
	cSame                // 200, nothing changes (a read, a dry run, a request answered with the caller's live record)
	cRefused             // 200 with the entry among the failures, nothing changes
)

func (c cell) String() string {
	return [...]string{"401", "403", "400", "200 (changes)", "200 (no change)", "200 (entry cRefused)"}[c]
}

func (c cell) status() int {
	return [...]int{401, 403, 400, 200, 200, 200}[c]
}

// permRole is a caller of the matrix; id 0 for the anonymous and unknown callers.
type permRole struct {
	name string
	key  string
	id   int64
}

// permRoles are the columns of the matrix, in order.
var permRoles = []permRole{
	{"anonymous", "", 0},
	{"unknown key", "k-nobody", 0},
	{"plain user", kPlain, advPlain},
	{"owner of another data source", kOther, advOther},
	{"owner of this data source", kOwn, advOwner},
	{"USER_ADMIN", kUadm, advUserAdmin},
	{"AUDIT", kAudit, advAudit},
	{"GOVERNANCE", kGov, advGov},
	{"the requester", kReq, advRequester},
	{"the named approver", kAppr, advApprover},
}

// permEndpoint is one row: a call (its key set per role) and the expected cell for
// each role, in permRoles order.
type permEndpoint struct {
	name  string
	req   advReq
	cells [10]cell
	// check, when set, verifies the effect of a 200 for the role.
	check func(t *testing.T, e *engine.Engine, r permRole, a advResp)
}

// permMatrix is docs/semantics.md (Requests, Approvals, Manual grants) and
// docs/api.md (Errors) worked out by hand for advBundle (data
// source 10, owner 2; record 1 a manual grant to the plain user; record 2 the
// requester's pending request with slots OWNER, USER_ADMIN, AUDIT-named-8):
//   - policy create/update/delete: GOVERNANCE only; a dry run stores nothing;
//   - GET policy: any authenticated user;
//   - applyPolicy, manual grants (access with state), record changes: an owner of
//     the data source or GOVERNANCE;
//   - a request (no state): any user for themselves (a user with a live record at
//     the level gets it back; naming oneself as the specific approver is a 400;
//     a profileId other than the caller's is a 400);
//   - approve/deny: 200 always; the entry is refused unless the caller may fill an
//     open slot (OWNER slot: an owner; USER_ADMIN slot: USER_ADMIN; the AUDIT slot:
//     only the named approver 8; never the requester).
func permMatrix() []permEndpoint {
	v2 := `{"name":"N","policyKey":"new","type":"subscription","actions":{"type":"anyone"}}`
	v1 := `{"name":"N1","type":"subscription","actions":[{"type":"subscription","subscriptionType":"automatic"}]}`
	slotFilledBy := func(t *testing.T, e *engine.Engine, r permRole, _ advResp) {
		rec := permRecord(t, e, 2)
		var by []int64
		for _, sl := range rec.Approvals {
			if sl.State == model.SlotApproved {
				by = append(by, sl.Approver)
			}
		}
		assert.Equal(t, []int64{r.id}, by, "exactly one slot, filled by the caller")
		assert.Equal(t, model.RecordPending, rec.State, "two slots remain open")
	}
	// one letter per cell, in permRoles order
	u, f, b, d, s, r := cUnauth, cForbid, cBad, cDone, cSame, cRefused
	return []permEndpoint{
		// cells:         anon unk plain other owner uadm audit gov req appr
		{name: "POST /api/v2/policy", req: jpost("/api/v2/policy", "", v2),
			cells: [10]cell{u, u, f, f, f, f, f, d, f, f}},
		{name: "POST /api/v2/policy?dryRun=true", req: jpost("/api/v2/policy?dryRun=true", "", v2),
			cells: [10]cell{u, u, f, f, f, f, f, s, f, f}},
		{name: "POST /policy/global", req: jpost("/policy/global", "", v1),
			cells: [10]cell{u, u, f, f, f, f, f, d, f, f}},
		{name: "PUT /policy/global/3", req: jput("/policy/global/3", "", v2),
			cells: [10]cell{u, u, f, f, f, f, f, d, f, f}},
		{name: "DELETE /policy/global/3", req: advReq{method: "DELETE", path: "/policy/global/3"},
			cells: [10]cell{u, u, f, f, f, f, f, d, f, f},
			check: func(t *testing.T, e *engine.Engine, _ permRole, _ advResp) { assert.False(t, hasPolicy(e, 3)) }},
		{name: "GET /policy/global/2", req: advReq{method: "GET", path: "/policy/global/2"},
			cells: [10]cell{u, u, s, s, s, s, s, s, s, s},
			check: func(t *testing.T, _ *engine.Engine, _ permRole, a advResp) {
				assert.Equal(t, "sensitive", a.body["policyKey"])
			}},
		{name: "POST /policy/global/applyPolicy", req: jpost("/policy/global/applyPolicy", "", `{"policyId":1,"dataSourceId":10}`),
			cells: [10]cell{u, u, f, f, d, f, f, d, f, f},
			check: func(t *testing.T, e *engine.Engine, _ permRole, _ advResp) {
				ps, err := e.AppliedPolicies(10)
				require.NoError(t, err)
				var keys []string
				for _, p := range ps {
					keys = append(keys, p.Key)
				}
				assert.Contains(t, keys, "os")
			}},
		{name: "POST /dataSource/10/access grant to a user", req: jpost("/dataSource/10/access", "", `{"profileId":6,"state":"subscribed","accessGrant":"WRITE"}`),
			cells: [10]cell{u, u, f, f, d, f, f, d, f, f},
			check: func(t *testing.T, e *engine.Engine, _ permRole, _ advResp) {
				assert.Equal(t, engine.LevelWrite, e.Decide(advAudit, 10).Grant)
			}},
		{name: "POST /dataSource/10/access owner grant to a group", req: jpost("/dataSource/10/access", "", `{"groupId":1,"state":"owner"}`),
			cells: [10]cell{u, u, f, f, d, f, f, d, f, f}},
		{name: "POST /dataSource/10/access request for oneself", req: jpost("/dataSource/10/access", "", `{"approvals":[{"specificApprover":8}]}`),
			cells: [10]cell{u, u, s, d, d, d, d, d, s, b},
			check: func(t *testing.T, e *engine.Engine, r permRole, a advResp) {
				assert.EqualValues(t, r.id, a.body["profile"], "the record is the caller's")
				if r.id != advPlain {
					assert.Equal(t, "pending", a.body["state"], "the request awaits approval")
				}
			}},
		{name: "POST /dataSource/10/access request for the requester", req: jpost("/dataSource/10/access", "", `{"profileId":7}`),
			cells: [10]cell{u, u, b, b, b, b, b, b, s, b}},
		{name: "PUT /dataSource/10/access/1 revoke", req: jput("/dataSource/10/access/1", "", `{"state":"denied"}`),
			cells: [10]cell{u, u, f, f, d, f, f, d, f, f},
			check: func(t *testing.T, e *engine.Engine, _ permRole, _ advResp) {
				assert.Equal(t, engine.LevelNone, e.Decide(advPlain, 10).Grant)
			}},
		{name: "PUT /dataSource/10/access/2 approve outright", req: jput("/dataSource/10/access/2", "", `{"state":"subscribed"}`),
			cells: [10]cell{u, u, f, f, f, f, f, d, f, f},
			check: func(t *testing.T, e *engine.Engine, _ permRole, _ advResp) {
				assert.Equal(t, engine.LevelRead, e.Decide(advRequester, 10).Grant)
			}},
		{name: "POST /subscription/approve", req: jpost("/subscription/approve", "", `{"requests":[{"id":2}]}`),
			cells: [10]cell{u, u, r, r, d, d, r, r, r, d},
			check: slotFilledBy},
		{name: "POST /subscription/deny", req: jpost("/subscription/deny", "", `{"requests":[{"id":2,"denialReasoning":"no"}]}`),
			cells: [10]cell{u, u, r, r, d, d, r, r, r, d},
			check: func(t *testing.T, e *engine.Engine, _ permRole, _ advResp) {
				assert.Equal(t, model.RecordDenied, permRecord(t, e, 2).State)
			}},
	}
}

func permRecord(t *testing.T, e *engine.Engine, id int64) *model.AccessRecord {
	t.Helper()
	for _, r := range e.Records() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no record %d", id)
	return nil
}

// TestPermissionMatrix runs every mutating endpoint (and GET policy) as every role,
// each cell on a fresh engine, and checks the status, the failures of approve and
// deny, and that the state changed exactly when the cell says so.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	rows := permMatrix()
	cells := 0
	for _, row := range rows {
		for i, role := range permRoles {
			want := row.cells[i]
			cells++
			t.Run(row.name+"/"+role.name, func(t *testing.T) {
				t.Parallel()
				e := advEngine(t)
				h := advHandler(e)
				before, err := e.Export()
				require.NoError(t, err)
				req := row.req
				req.key = role.key
				a := advSend(t, h, req)
				require.Equal(t, want.status(), a.status, "want %s; answer %.300s", want, a.raw)
				after, err := e.Export()
				require.NoError(t, err)
				changed := !bytes.Equal(before, after)
				assert.Equal(t, want == cDone, changed, "want %s: state changed = %v", want, changed)
				switch want {
				case cRefused, cDone, cSame:
					if fs, isApproval := a.body["failures"]; isApproval {
						list, _ := fs.([]any)
						if want == cRefused {
							require.Len(t, list, 1, "the entry is cRefused: %s", a.raw)
							f := list[0].(map[string]any)
							assert.EqualValues(t, 2, f["id"])
							assert.NotEmpty(t, f["reason"])
						} else {
							assert.Empty(t, list, "no failure: %s", a.raw)
						}
					} else {
						require.NotEqual(t, cRefused, want, "approve and deny answer failures")
					}
					if want != cRefused && row.check != nil {
						row.check(t, e, role, a)
					}
				}
			})
		}
	}
	t.Logf("permission matrix: %d endpoints x %d roles = %d cells", len(rows), len(permRoles), cells)
}

// orderCase checks which error wins when a call has several problems: 401, 403 (what
// the caller's role alone refuses), 404, 400, 422; on one data source an unknown data
// source is 404 before any owner check.
type orderCase struct {
	name   string
	req    advReq
	status int
}

func TestPermissionCheckOrder(t *testing.T) {
	t.Parallel()
	bodyV2 := `{"name":"N","policyKey":"new","type":"subscription","actions":{"type":"anyone"}}`
	invalidTaken := `{"policyKey":"sensitive","type":"subscription","actions":{"type":"anyone"}}` // no name, key taken
	cases := []orderCase{
		{"401 before 403 and 415", withCT(jpost("/api/v2/policy", "k-nobody", "{"), "text/plain"), 401},
		{"401 before 404", jput("/policy/global/99", "", bodyV2), 401},
		{"401 before 400 on approve", jpost("/subscription/approve", "k-nobody", `{}`), 401},
		{"403 before 400 and 415", withCT(jpost("/api/v2/policy", kPlain, "{"), "text/plain"), 403},
		{"403 before 400 on a dry run", jpost("/api/v2/policy?dryRun=maybe", kOwn, `{}`), 403},
		{"403 before 404 on PUT policy", jput("/policy/global/99", kPlain, bodyV2), 403},
		{"403 before 404 on DELETE policy", advReq{method: "DELETE", path: "/policy/global/99", key: kAudit}, 403},
		{"404 before 400 on PUT policy", jput("/policy/global/99", kGov, "{"), 404},
		{"400 before 422 on create", jpost("/api/v2/policy", kGov, invalidTaken), 400},
		{"400 before 422 on PUT", jput("/policy/global/3", kGov, invalidTaken), 400},
		{"unknown data source 404 before the owner check (grant)", jpost("/dataSource/99/access", kPlain, `{"profileId":4,"state":"owner"}`), 404},
		{"unknown data source 404 before the owner check (change)", jput("/dataSource/99/access/1", kPlain, `{"state":"denied"}`), 404},
		{"unknown data source 404 before the owner check (apply)", jpost("/policy/global/applyPolicy", kPlain, `{"policyId":1,"dataSourceId":99}`), 404},
		{"owner: not owner-selected is 400", jpost("/policy/global/applyPolicy", kOwn, `{"policyId":2,"dataSourceId":10}`), 400},
		{"non-owner grant is 403", jpost("/dataSource/10/access", kPlain, `{"profileId":4,"state":"owner"}`), 403},
		// Regressions: a non-owner is refused before the record or the body is read.
		{"non-owner changing an unknown record is 403", jput("/dataSource/10/access/999", kPlain, `{"state":"denied"}`), 403},
		{"non-owner changing with a malformed body is 403", jput("/dataSource/10/access/1", kPlain, `{`), 403},
		{"non-owner changing with an unknown media type is 403", withCT(jput("/dataSource/10/access/1", kPlain, `x`), "text/plain"), 403},
		{"non-owner applying an unknown policy is 403", jpost("/policy/global/applyPolicy", kPlain, `{"policyId":99,"dataSourceId":10}`), 403},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := advEngine(t)
			h := advHandler(e)
			before, err := e.Export()
			require.NoError(t, err)
			a := advSend(t, h, tc.req)
			assert.Equal(t, tc.status, a.status, "answer %.300s", a.raw)
			after, err := e.Export()
			require.NoError(t, err)
			assert.True(t, bytes.Equal(before, after), "a refused call changes nothing")
		})
	}
}

// TestPermissionMatrixIsComplete guards the matrix itself: every route of the
// handler that changes state has a row, so a new endpoint cannot go untested.
func TestPermissionMatrixIsComplete(t *testing.T) {
	t.Parallel()
	have := map[string]bool{}
	for _, row := range permMatrix() {
		have[row.req.method+" "+routeOf(row.req.path)] = true
	}
	for _, route := range []string{
		"POST /api/v2/policy", "POST /policy/global", "GET /policy/global/{policyId}",
		"PUT /policy/global/{policyId}", "DELETE /policy/global/{policyId}",
		"POST /policy/global/applyPolicy", "POST /dataSource/{id}/access",
		"PUT /dataSource/{id}/access/{recordId}", "POST /subscription/approve", "POST /subscription/deny",
	} {
		assert.True(t, have[route], "no matrix row for %s", route)
	}
	// The matrix's view of the roles matches the bundle.
	keys := rest.EngineKeys(advEngine(t))
	for _, r := range permRoles[2:] {
		id, ok := keys.Authenticate(r.key)
		require.True(t, ok, r.name)
		assert.Equal(t, r.id, id, r.name)
	}
	_, ok := keys.Authenticate(permRoles[1].key)
	assert.False(t, ok, "the unknown key authenticates nobody")
}

// routeOf maps a concrete path to its route pattern.
func routeOf(path string) string {
	path, _, _ = strings.Cut(path, "?")
	seg := strings.Split(path, "/")
	switch {
	case len(seg) == 4 && seg[1] == "policy" && seg[2] == "global" && seg[3] != "applyPolicy":
		return "/policy/global/{policyId}"
	case len(seg) == 4 && seg[1] == "dataSource" && seg[3] == "access":
		return "/dataSource/{id}/access"
	case len(seg) == 5 && seg[1] == "dataSource" && seg[3] == "access":
		return "/dataSource/{id}/access/{recordId}"
	}
	return path
}
