package rest_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// yamlBomb500K is a 500 KB YAML alias bomb: one 500 KB string named 100 times,
// 50 MB once expanded.
func yamlBomb500K() []byte {
	return []byte("s: &s \"" + strings.Repeat("x", 500<<10) + "\"\nl: [" +
		strings.TrimSuffix(strings.Repeat("*s,", 100), ",") + "]\n")
}

// everyBodyEndpoint lists a call of every endpoint that takes a body, each by a
// caller allowed to make it.
func everyBodyEndpoint() []advReq {
	return []advReq{
		{method: "POST", path: "/api/v2/policy", key: kGov},
		{method: "POST", path: "/policy/global", key: kGov},
		{method: "PUT", path: "/policy/global/3", key: kGov},
		{method: "POST", path: "/policy/global/applyPolicy", key: kOwn},
		{method: "POST", path: "/dataSource/10/access", key: kOwn},
		{method: "PUT", path: "/dataSource/10/access/1", key: kOwn},
		{method: "POST", path: "/subscription/approve", key: kAppr},
		{method: "POST", path: "/subscription/deny", key: kAppr},
	}
}

// TestYAMLAliasBombIs413 (issue 12 item 1): a YAML body whose aliases expand past
// the body limit is answered 413 on every endpoint, before it is expanded, and
// changes nothing; the same bomb as a billion-laughs nest too.
func TestYAMLAliasBombIs413(t *testing.T) {
	t.Parallel()
	bombs := map[string][]byte{"wide 500 KB": yamlBomb500K(), "nested": []byte(billionLaughs())}
	for name, bomb := range bombs {
		for _, r := range everyBodyEndpoint() {
			r.ct, r.body = ctYAML, bomb
			t.Run(name+" "+r.method+" "+r.path, func(t *testing.T) {
				t.Parallel()
				e := advEngine(t)
				before, err := e.Export()
				require.NoError(t, err)
				a := advSend(t, advHandler(e), r)
				assert.Equal(t, 413, a.status, a.raw)
				assert.Equal(t, "Payload Too Large", a.body["error"])
				assert.Contains(t, a.message(), "expands (YAML aliases) to more than the limit of 1048576 bytes")
				after, err := e.Export()
				require.NoError(t, err)
				assert.Equal(t, string(before), string(after), "nothing changed")
			})
		}
	}
}

// TestBodyFormatStrictness (issue 12 item 3): a body that is declared JSON, or
// undeclared and starts with { or [, must be JSON; an undeclared body that is not
// JSON is 415; a YAML body is one document without explicit tags.
func TestBodyFormatStrictness(t *testing.T) {
	t.Parallel()
	failOpen := "{\"name\": \"open\", \"policyKey\": \"open\", \"type\": \"subscription\", \"actions\": {\"type\": \"anyone\"}, \"staged\": false #,\n \"circumstances\": [{\"type\": \"tags\", \"tag\": \"Marketing\"}]}"
	cases := []struct {
		name   string
		ct     string
		body   string
		status int
		msg    string
	}{
		{"undeclared broken JSON", "", failOpen, 400, "not valid JSON"},
		{"declared broken JSON", ctJSON, failOpen, 400, "not valid JSON"},
		{"undeclared YAML", "", "name: y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\n", 415, "Content-Type"},
		{"undeclared list start", "", "[name: y]", 400, "not valid JSON"},
		{"YAML second document", ctYAML, "name: y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\n---\nname: z\n", 400, "more than one document"},
		{"YAML binary tag", ctYAML, "name: y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\ndescription: !!binary /w==\n", 400, "explicit tags"},
		{"YAML python tag", "text/yaml", "name: !!python/name:os.system y\npolicyKey: y\ntype: subscription\nactions: {type: anyone}\n", 400, "explicit tags"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := advEngine(t)
			before, err := e.Export()
			require.NoError(t, err)
			a := advSend(t, advHandler(e), advReq{method: "POST", path: "/api/v2/policy", key: kGov, ct: tc.ct, body: []byte(tc.body)})
			assert.Equal(t, tc.status, a.status, a.raw)
			assert.Contains(t, a.message(), tc.msg)
			after, err := e.Export()
			require.NoError(t, err)
			assert.Equal(t, string(before), string(after), "nothing changed")
		})
	}
	// undeclared valid JSON is JSON
	e := advEngine(t)
	a := advSend(t, advHandler(e), advReq{method: "POST", path: "/api/v2/policy", key: kGov, body: []byte(v2Body("fine", ""))})
	assert.Equal(t, 200, a.status, a.raw)
}

// TestOutrightApprovalIsGovernanceOnly (issue 12 item 10): PUT {state: subscribed}
// on a pending request is for a GOVERNANCE user other than the requester (403 for an
// owner, who approves a slot with /subscription/approve, and for a GOVERNANCE
// requester), and fills every open slot with that approver.
func TestOutrightApprovalIsGovernanceOnly(t *testing.T) {
	t.Parallel()
	e := advEngine(t)
	h := advHandler(e)
	before, err := e.Export()
	require.NoError(t, err)
	a := advSend(t, h, jput("/dataSource/10/access/2", kOwn, `{"state":"subscribed"}`))
	assert.Equal(t, 403, a.status, a.raw)
	assert.Contains(t, a.message(), "GOVERNANCE")
	after, err := e.Export()
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "the owner's outright approval changed nothing")

	// a GOVERNANCE requester may not approve their own request outright
	a = advSend(t, h, jpost("/dataSource/10/access", kGov, `{"approvals":[{"specificApprover":8}]}`))
	require.Equal(t, 200, a.status, a.raw)
	require.Equal(t, "pending", a.body["state"])
	own := int64(a.body["id"].(float64))
	a = advSend(t, h, jput("/dataSource/10/access/"+itoa(own), kGov, `{"state":"subscribed"}`))
	assert.Equal(t, 403, a.status, a.raw)
	assert.Contains(t, a.message(), "own request")

	// another GOVERNANCE user approves outright: every slot approved by them
	a = advSend(t, h, jput("/dataSource/10/access/2", kGov, `{"state":"subscribed"}`))
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "subscribed", a.body["state"])
	slots := a.body["approvals"].([]any)
	require.Len(t, slots, 3)
	for _, s := range slots {
		assert.Equal(t, "approved", s.(map[string]any)["state"])
		assert.EqualValues(t, advGov, s.(map[string]any)["approver"])
	}
}

// TestDeniedIsFinal (issue 12 item 10): a denied record cannot be changed by PUT (a
// grant revoked, a request denied): 400, and it keeps its state and reasoning.
func TestDeniedIsFinal(t *testing.T) {
	t.Parallel()
	e := advEngine(t)
	h := advHandler(e)
	a := advSend(t, h, jpost("/subscription/deny", kAppr, `{"requests":[{"id":2,"denialReasoning":"not now"}]}`))
	require.Equal(t, 200, a.status, a.raw)
	require.Empty(t, a.body["failures"])
	a = advSend(t, h, jput("/dataSource/10/access/1", kOwn, `{"state":"denied"}`))
	require.Equal(t, 200, a.status, a.raw)
	before, err := e.Export()
	require.NoError(t, err)
	for _, c := range []struct{ rec, key, body string }{
		{"2", kGov, `{"state":"subscribed"}`},
		{"2", kGov, `{"expiration":"2027-01-01"}`},
		{"1", kOwn, `{"state":"subscribed"}`},
		{"1", kGov, `{"state":"owner"}`},
		{"1", kOwn, `{"state":"denied"}`},
	} {
		a = advSend(t, h, jput("/dataSource/10/access/"+c.rec, c.key, c.body))
		assert.Equal(t, 400, a.status, "%s %s: %s", c.rec, c.body, a.raw)
		assert.Contains(t, a.message(), "final")
	}
	after, err := e.Export()
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "nothing changed")
	r, ok := e.Snapshot().Record(2)
	require.True(t, ok)
	assert.Equal(t, "not now", r.DenialReasoning)
}

// TestApproveDenyDoNotLeakRecords (issue 12 item 11): an approve or deny entry naming
// a record the caller may not see fails exactly like an unknown id, so a user cannot
// enumerate record ids and states.
func TestApproveDenyDoNotLeakRecords(t *testing.T) {
	t.Parallel()
	e := advEngine(t)
	h := advHandler(e)
	// record 1: the plain user's grant on 10 (subscribed); record 2: the requester's
	// pending request on 10; 999: nothing.
	for _, call := range []struct{ path, entry string }{
		{"/subscription/approve", `{"id":%s}`},
		{"/subscription/deny", `{"id":%s,"denialReasoning":"x"}`},
	} {
		for _, key := range []string{kOther, kPlain, kReq} {
			body := `{"requests":[` + strings.ReplaceAll(call.entry, "%s", "1") + "," +
				strings.ReplaceAll(call.entry, "%s", "2") + "," + strings.ReplaceAll(call.entry, "%s", "999") + `]}`
			a := advSend(t, h, jpost(call.path, key, body))
			require.Equal(t, 200, a.status, a.raw)
			fs := a.body["failures"].([]any)
			require.Len(t, fs, 3, a.raw)
			reasons := map[string]string{}
			for _, f := range fs {
				m := f.(map[string]any)
				id := itoa(int64(m["id"].(float64)))
				reasons[id] = strings.ReplaceAll(m["reason"].(string), id, "N")
			}
			switch key {
			case kOther: // sees neither record
				assert.Equal(t, reasons["999"], reasons["1"], "%s by %s", call.path, key)
				assert.Equal(t, reasons["999"], reasons["2"], "%s by %s", call.path, key)
			case kPlain: // sees their own grant (1), not the request (2)
				assert.NotEqual(t, reasons["999"], reasons["1"], "%s by %s: their own record", call.path, key)
				assert.Equal(t, reasons["999"], reasons["2"], "%s by %s", call.path, key)
			case kReq: // sees their own request (2), not the grant (1)
				assert.Equal(t, reasons["999"], reasons["1"], "%s by %s", call.path, key)
				assert.Contains(t, reasons["2"], "own request")
			}
		}
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestPathIDsAreCanonical (issue 12 item 12): an id in a path is a canonical
// decimal; "01", "+1" and other spellings of 1 name nothing (404).
func TestPathIDsAreCanonical(t *testing.T) {
	t.Parallel()
	e := advEngine(t)
	h := advHandler(e)
	require.Equal(t, 200, advSend(t, h, advReq{method: "GET", path: "/policy/global/1", key: kGov}).status)
	for _, id := range []string{"01", "+1", "%2B1", "001", "1%20", "%201", "0x1", "1e0", "１"} {
		a := advSend(t, h, advReq{method: "GET", path: "/policy/global/" + id, key: kGov})
		assert.Equal(t, 404, a.status, "GET /policy/global/%s: %s", id, a.raw)
		a = advSend(t, h, jpost("/dataSource/0"+"10/access", kOwn, `{"profileId":3,"state":"subscribed"}`))
		assert.Equal(t, 404, a.status, a.raw)
		a = advSend(t, h, jput("/dataSource/10/access/"+id, kOwn, `{"state":"denied"}`))
		assert.Equal(t, 404, a.status, "PUT /dataSource/10/access/%s: %s", id, a.raw)
	}
}

// TestErrorsQuoteAtMost200Characters (issue 12 item 12): an error message quotes at
// most 200 characters of any input (a field name, a value, a path id, a policy
// key).
func TestErrorsQuoteAtMost200Characters(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Z", 5000)
	cases := []advReq{
		jpost("/api/v2/policy", kGov, v2Body("k", `"`+long+`":1`)),
		jpost("/api/v2/policy", kGov, `{"name":"n","policyKey":"k","type":"`+long+`","actions":{"type":"anyone"}}`),
		jpost("/api/v2/policy", kGov, timeBody(`"startDate":"`+long+`"`)),
		jpost("/api/v2/policy", kGov, v2Body("k", `"circumstances":[{"type":"columnRegex","regex":"(`+long+`"}]`)),
		jpost("/api/v2/policy?dryRun="+long, kGov, v2Body("k", "")),
		{method: "GET", path: "/policy/global/" + long, key: kGov},
		jput("/dataSource/10/access/"+long, kOwn, `{"state":"denied"}`),
		jput("/dataSource/10/access/1", kOwn, `{"state":"`+long+`"}`),
		{method: "POST", path: "/api/v2/policy", key: kGov, ct: ctYAML, body: []byte("name: n\npolicyKey: k\ntype: subscription\nactions: {type: anyone}\ndescription: !" + long + " x\n")},
	}
	for i, r := range cases {
		a := advSend(t, advHandler(advEngine(t)), r)
		assert.GreaterOrEqual(t, a.status, 400, "case %d: %.300s", i, a.raw)
		assert.False(t, strings.Contains(a.message(), strings.Repeat("Z", 201)), "case %d quotes more than 200 characters: %.400s", i, a.message())
	}
	// a duplicate long policy key is quoted clipped too
	e := advEngine(t)
	h := advHandler(e)
	require.Equal(t, 200, advSend(t, h, jpost("/api/v2/policy", kGov, v2Body(long, ""))).status)
	a := advSend(t, h, jpost("/api/v2/policy", kGov, v2Body(long, "")))
	assert.GreaterOrEqual(t, a.status, 400, "%.300s", a.raw)
	assert.False(t, strings.Contains(a.message(), strings.Repeat("Z", 201)), "%.400s", a.message())
}

// TestNamesRefuseNULAndBidi (issue 12 item 12): a NUL or a bidirectional override,
// embedding or isolate character in a policy's name or key is a 400 naming the
// field, and changes nothing.
func TestNamesRefuseNULAndBidi(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ body, field string }{
		"NUL in name":      {`{"name":"a\u0000b","policyKey":"k","type":"subscription","actions":{"type":"anyone"}}`, "name"},
		"RLO in name":      {`{"name":"invoice\u202Efdp.exe","policyKey":"k","type":"subscription","actions":{"type":"anyone"}}`, "name"},
		"NUL in policyKey": {`{"name":"n","policyKey":"k\u0000","type":"subscription","actions":{"type":"anyone"}}`, "policyKey"},
		"LRI in policyKey": {`{"name":"n","policyKey":"\u2066k","type":"subscription","actions":{"type":"anyone"}}`, "policyKey"},
		"PDF in v1 name":   {`{"name":"n\u202C","type":"subscription","actions":[{"type":"subscription","subscriptionType":"automatic"}]}`, "name"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := "/api/v2/policy"
			if strings.Contains(name, "v1") {
				path = "/policy/global"
			}
			refusedUnchanged(t, c.field+": ", jpost(path, kGov, c.body))
		})
	}
}

// TestDryRunUsersCapped (issue 12 item 7): a dry run lists at most the engine's
// impact user limit of user entries; the answer then carries usersTotal and
// truncated: true. Under the limit neither is given.
func TestDryRunUsersCapped(t *testing.T) {
	t.Parallel()
	// Automatic READ on a new data source 12 for everyone: the 8 users gain READ.
	body := `{"name":"all","policyKey":"all","type":"subscription","actions":{"type":"anyone","automaticSubscription":true},
		"circumstances":[{"type":"tags","tag":"Open"}]}`
	world := func(opts ...engine.Option) http.Handler {
		e := advEngine(t, opts...)
		require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 12, Name: "open", Tags: []string{"Open"}}))
		return advHandler(e)
	}
	a := advSend(t, world(engine.WithImpactUserLimit(5)), jpost("/api/v2/policy?dryRun=true", kGov, body))
	require.Equal(t, 200, a.status, a.raw)
	imp := a.body["impact"].(map[string]any)
	assert.Len(t, imp["users"], 5)
	assert.EqualValues(t, 8, imp["usersTotal"])
	assert.Equal(t, true, imp["truncated"])
	first := imp["users"].([]any)[0].(map[string]any)
	assert.EqualValues(t, advGov, first["profileId"], "the first entries in order are kept")

	a = advSend(t, world(), jpost("/api/v2/policy?dryRun=true", kGov, body))
	require.Equal(t, 200, a.status, a.raw)
	imp = a.body["impact"].(map[string]any)
	assert.Len(t, imp["users"], 8)
	assert.NotContains(t, imp, "usersTotal")
	assert.NotContains(t, imp, "truncated")
}

// TestRegexesAreDeterministic (issue 12 item 6): (a+)+$ runs on RE2, so even under
// a 1 ns timeout a column that makes a backtracking engine explode is a plain
// "does not apply" (the data source stays decided, the other policy's automatic
// READ holds); a pattern that needs the backtracking engine and nests unbounded
// quantifiers is refused at validation.
func TestRegexesAreDeterministic(t *testing.T) {
	t.Parallel()
	e := advEngine(t, engine.WithRegexTimeout(time.Nanosecond))
	h := advHandler(e)
	evil := strings.Repeat("a", 30000) + "!"
	require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 20, Name: "long", Owners: []int64{advOwner},
		Tags: []string{"Open"}, Columns: []model.Column{{Name: evil}, {Name: "aaa"}}}))
	a := advSend(t, h, jpost("/api/v2/policy", kGov, `{"name":"open","policyKey":"open","type":"subscription",
		"actions":{"type":"anyone","automaticSubscription":true},"circumstances":[{"type":"tags","tag":"Open"}]}`))
	require.Equal(t, 200, a.status, a.raw)
	a = advSend(t, h, jpost("/api/v2/policy", kGov, `{"name":"re2","policyKey":"re2","type":"subscription",
		"actions":{"type":"anyone","automaticSubscription":true},"circumstances":[{"type":"columnRegex","regex":"^(a+)+!$"}]}`))
	require.Equal(t, 200, a.status, a.raw)
	s := e.Snapshot()
	require.NoError(t, s.Indeterminate(20), "no timeout: RE2 needs none")
	applied, err := s.AppliedPolicies(20)
	require.NoError(t, err)
	var keys []string
	for _, p := range applied {
		keys = append(keys, p.Key)
	}
	assert.ElementsMatch(t, []string{"open", "re2"}, keys, "^(a+)+!$ matches the long column, deterministically")
	assert.Equal(t, engine.LevelRead, s.Decide(advPlain, 20).Grant)

	for _, re := range []string{`(?=a)(a+)+$`, `(?<!x)(\\w*)*`, `(a)\\1(b+)+`} {
		a = advSend(t, h, jpost("/api/v2/policy", kGov, `{"name":"n","policyKey":"n","type":"subscription","actions":{"type":"anyone"},
			"circumstances":[{"type":"columnRegex","regex":"`+re+`"}]}`))
		assert.Equal(t, 400, a.status, "%s: %s", re, a.raw)
		assert.Contains(t, a.message(), "circumstances[0].regex: nests unbounded quantifiers", re)
	}
}

// TestDeletedPrincipalsInheritNothing (issue 12 item 5), over HTTP: a user with a
// READ grant who is also in a group holding WRITE is deleted, the group too; a
// user and a group created again with the same ids decide NONE, and the records
// read as ended.
func TestDeletedPrincipalsInheritNothing(t *testing.T) {
	t.Parallel()
	e := advEngine(t)
	h := advHandler(e)
	a := advSend(t, h, jput("/tollgate/v1/users/4", kGov, `{"name":"Plain","groups":["analysts"],"apiKey":"k-plain"}`))
	require.Equal(t, 200, a.status, a.raw)
	a = advSend(t, h, jpost("/dataSource/10/access", kOwn, `{"groupId":1,"state":"subscribed","accessGrant":"WRITE"}`))
	require.Equal(t, 200, a.status, a.raw)
	groupRec := int64(a.body["id"].(float64))
	require.Equal(t, engine.LevelWrite, e.Snapshot().Decide(advPlain, 10).Grant)

	for _, p := range []string{"/tollgate/v1/users/4", "/tollgate/v1/groups/1"} {
		a = advSend(t, h, advReq{method: "DELETE", path: p, key: kGov})
		require.Equal(t, 200, a.status, "%s: %s", p, a.raw)
	}
	a = advSend(t, h, jput("/tollgate/v1/groups/1", kGov, `{"name":"analysts"}`))
	require.Equal(t, 200, a.status, a.raw)
	a = advSend(t, h, jput("/tollgate/v1/users/4", kGov, `{"name":"New plain","groups":["analysts"],"apiKey":"k-new"}`))
	require.Equal(t, 200, a.status, a.raw)
	a = advSend(t, h, advReq{method: "GET", path: "/tollgate/v1/decision?user=4&dataSource=10", key: kGov})
	require.Equal(t, 200, a.status, a.raw)
	assert.Equal(t, "NONE", a.body["grant"], "the new user 4 inherits neither the READ grant nor the group's WRITE")
	for _, id := range []int64{1, groupRec} {
		r, ok := e.Snapshot().Record(id)
		require.True(t, ok)
		assert.Equal(t, model.RecordDenied, r.State, "record %d", id)
		assert.Equal(t, engine.DenialPrincipalDeleted, r.DenialReasoning, "record %d", id)
	}
}
