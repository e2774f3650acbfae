package rest_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/engine/rest"
	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// advBundle is the small world of the adversarial catalogue and the permission
// matrix. Data source 10 (owner 2, Sensitive) has the approval policy "sensitive"
// with three slots: OWNER, USER_ADMIN and AUDIT with a specific approver. Data
// source 11 is owned by 3. Policy 1 is owner-selected, policy 3 lets anyone
// subscribe to Marketing. Record 1 is a manual grant to the plain user on 10;
// advEngine adds record 2, the requester's pending request on 10 naming the
// approver (8) for the AUDIT slot.
const advBundle = `
name: adversarial
now: 2026-01-01T00:00:00Z
users:
  - {id: 1, name: Gov, apiKey: k-gov, permissions: [GOVERNANCE]}
  - {id: 2, name: Owner, apiKey: k-own}
  - {id: 3, name: Other owner, apiKey: k-other}
  - {id: 4, name: Plain, apiKey: k-plain}
  - {id: 5, name: User admin, apiKey: k-uadm, permissions: [USER_ADMIN]}
  - {id: 6, name: Auditor, apiKey: k-audit, permissions: [AUDIT]}
  - {id: 7, name: Requester, apiKey: k-req}
  - {id: 8, name: Approver, apiKey: k-appr, permissions: [AUDIT]}
groups:
  - {id: 1, name: analysts}
dataSources:
  - {id: 10, name: payments, owners: [2], tags: [Sensitive], columns: [{name: iban}]}
  - {id: 11, name: campaigns, owners: [3], tags: [Marketing]}
policies:
  - name: Owner selected
    policyKey: os
    type: subscription
    actions: {type: anyone}
    circumstances: [{type: null}]
  - name: Sensitive approval
    policyKey: sensitive
    type: subscription
    actions:
      type: approval
      approvals:
        - {requiredPermissions: OWNER, specificApproverRequired: false}
        - {requiredPermissions: USER_ADMIN, specificApproverRequired: false}
        - {requiredPermissions: AUDIT, specificApproverRequired: true}
    circumstances: [{type: tags, tag: Sensitive}]
  - name: Marketing anyone
    policyKey: mkt
    type: subscription
    actions: {type: anyone}
    circumstances: [{type: tags, tag: Marketing}]
grants:
  - {dataSourceId: 10, profileId: 4, state: subscribed}
`

// Users of advBundle.
const (
	advGov       = 1
	advOwner     = 2
	advOther     = 3
	advPlain     = 4
	advUserAdmin = 5
	advAudit     = 6
	advRequester = 7
	advApprover  = 8
)

// API keys of advBundle's users.
const (
	kGov   = "k-gov"
	kOwn   = "k-own"
	kOther = "k-other"
	kPlain = "k-plain"
	kUadm  = "k-uadm"
	kAudit = "k-audit"
	kReq   = "k-req"
	kAppr  = "k-appr"
)

var advNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// advEngine returns a fresh engine loaded from advBundle, with record 2: the
// requester's pending request on data source 10.
func advEngine(t testing.TB, opts ...engine.Option) *engine.Engine {
	t.Helper()
	b, err := model.DecodeBundle([]byte(advBundle), model.DefaultLimits())
	require.NoError(t, err)
	all := append([]engine.Option{engine.WithClock(func() time.Time { return advNow })}, opts...)
	e := engine.New(all...)
	require.NoError(t, e.ApplyBundle(b))
	rec, err := e.Access(engine.As(advRequester), 10, engine.AccessRequest{
		Approvers: []int64{advApprover}})
	require.NoError(t, err)
	require.Equal(t, int64(2), rec.ID)
	require.Equal(t, model.RecordPending, rec.State)
	require.Len(t, rec.Approvals, 3)
	return e
}

func advHandler(e *engine.Engine) http.Handler {
	return rest.NewHandler(e, nil, rest.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
}

// advReq is one HTTP call.
type advReq struct {
	method, path string
	key          string // Authorization; "" sends none
	ct           string // Content-Type; "" sends none
	body         []byte
}

// advResp is an answer, decoded.
type advResp struct {
	status int
	raw    string
	body   map[string]any
}

func (a advResp) message() string { s, _ := a.body["message"].(string); return s }

// advSend serves r and checks what every answer must be: JSON, and for errors the
// API's error shape.
func advSend(t testing.TB, h http.Handler, r advReq) advResp {
	t.Helper()
	req := httptest.NewRequest(r.method, r.path, bytes.NewReader(r.body))
	if r.key != "" {
		req.Header.Set("Authorization", r.key)
	}
	if r.ct != "" {
		req.Header.Set("Content-Type", r.ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := advResp{status: rec.Code, raw: rec.Body.String()}
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"), "every answer is JSON: %s", a.raw)
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &a.body), "body: %.300s", a.raw)
	if a.status >= 400 {
		assert.EqualValues(t, a.status, a.body["statusCode"], "error body statusCode")
		assert.NotEmpty(t, a.body["error"], "error body error")
		assert.NotEmpty(t, a.body["message"], "error body message")
	}
	return a
}

// badInput is one malformed or hostile call: it must be answered with status (a
// 4xx) and a message containing msg, and change nothing.
type badInput struct {
	name   string
	req    advReq
	status int
	msg    string
}

const (
	ctJSON = "application/json"
	ctYAML = "application/yaml"
)

func jpost(path, key, body string) advReq {
	return advReq{method: "POST", path: path, key: key, ct: ctJSON, body: []byte(body)}
}

func jput(path, key, body string) advReq {
	return advReq{method: "PUT", path: path, key: key, ct: ctJSON, body: []byte(body)}
}

func withCT(r advReq, ct string) advReq { r.ct = ct; return r }

// v2Body is a valid v2 policy with extra top-level fields spliced in.
func v2Body(key, extra string) string {
	if extra != "" {
		extra = "," + extra
	}
	return `{"name":"N","policyKey":"` + key + `","type":"subscription","actions":{"type":"anyone"}` + extra + `}`
}

// timeBody is a v2 policy with a time circumstance.
func timeBody(circ string) string {
	return `{"name":"T","policyKey":"t","type":"subscription","actions":{"type":"anyone"},"circumstances":[{"type":"time",` + circ + `}]}`
}

func repeatJoin(item string, n int) string {
	return strings.TrimSuffix(strings.Repeat(item+",", n), ",")
}

// nested returns n levels of open, then mid, then n levels of close.
func nested(open, mid, close string, n int) string {
	return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
}

// billionLaughs is a YAML alias bomb: 9 levels of 9 references.
func billionLaughs() string {
	var b strings.Builder
	b.WriteString(`a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	for i := 1; i <= 9; i++ {
		ref := fmt.Sprintf("*a%d", i-1)
		fmt.Fprintf(&b, "a%d: &a%d [%s]\n", i, i, repeatJoin(ref, 9))
	}
	b.WriteString("name: bomb\npolicyKey: bomb\ntype: subscription\nactions: {type: anyone}\n")
	return b.String()
}

// inlineBadInputs is the inline part of the catalogue.
func inlineBadInputs() []badInput {
	const pv2, pv1, apply, appr, deny = "/api/v2/policy", "/policy/global", "/policy/global/applyPolicy", "/subscription/approve", "/subscription/deny"
	const acc, rec1 = "/dataSource/10/access", "/dataSource/10/access/1"
	huge := bytes.Repeat([]byte(" "), rest.DefaultMaxBodyBytes+1)
	hugeBody := func(prefix string) []byte { return append(append([]byte(prefix), huge...), '}') }
	validV1 := `{"name":"V1","type":"subscription","actions":[{"type":"subscription","subscriptionType":"automatic"}]}`
	orTerms := repeatJoin("@hasAttribute('a','b')", 200)
	return []badInput{
		// ---- POST /api/v2/policy: wrong types
		{"v2 name is a number", jpost(pv2, kGov, `{"name":5,"policyKey":"k","type":"subscription","actions":{"type":"anyone"}}`), 400, "name"},
		{"v2 actions is a string", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":"anyone"}`), 400, "actions"},
		{"v2 type not in enum", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscriptions","actions":{"type":"anyone"}}`), 400, "type"},
		{"v2 staged is a string", jpost(pv2, kGov, v2Body("k", `"staged":"yes"`)), 400, "staged"},
		{"v2 accessGrant is a number", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"anyone","accessGrant":1}}`), 400, "actions.accessGrant"},
		{"v2 accessGrant lower case", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"anyone","accessGrant":"write"}}`), 400, "actions.accessGrant"},
		{"v2 policyKey is a list", jpost(pv2, kGov, `{"name":"n","policyKey":["k"],"type":"subscription","actions":{"type":"anyone"}}`), 400, "policyKey"},
		{"v2 circumstance without type", jpost(pv2, kGov, v2Body("k", `"circumstances":[{"tag":"A"}]`)), 400, "circumstances[0].type"},
		{"v2 tag value is an object", jpost(pv2, kGov, v2Body("k", `"circumstances":[{"type":"tags","tag":{"name":"A"}}]`)), 400, "circumstances[0].tag"},
		{"v2 regex on a tags circumstance", jpost(pv2, kGov, v2Body("k", `"circumstances":[{"type":"tags","tag":"A","regex":"x"}]`)), 400, "circumstances[0].regex"},
		{"v2 domain without id or name", jpost(pv2, kGov, v2Body("k", `"circumstances":[{"type":"domains","domains":[{}]}]`)), 400, "domains"},
		{"v2 misspelt circumstanceOperator", jpost(pv2, kGov, v2Body("k", `"circumstanceOperater":"all"`)), 400, "circumstanceOperater"},
		{"v2 approvals on anyone", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"anyone","approvals":[{"requiredPermissions":"GOVERNANCE"}]}}`), 400, "approvals"},
		{"v2 unknown permission", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"approval","approvals":[{"requiredPermissions":"ROOT"}]}}`), 400, "requiredPermissions"},
		{"v2 empty entitlements", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"entitlements","entitlements":{}}}`), 400, "entitlements"},
		{"v2 staged owner-selected", jpost(pv2, kGov, v2Body("k", `"staged":true,"circumstances":[{"type":null}]`)), 400, "staged"},
		// ---- huge lists, deep nesting, long strings
		{"v2 1001 circumstances", jpost(pv2, kGov, v2Body("k", `"circumstances":[`+repeatJoin(`{"type":"tags","tag":"A"}`, 1001)+`]`)), 400, "circumstances"},
		{"v2 5000 entitlement groups", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"entitlements","entitlements":{"groups":[`+repeatJoin(`"g"`, 5000)+`]}}}`), 400, "actions.entitlements.groups"},
		{"v2 lists nested 200 deep", jpost(pv2, kGov, v2Body("k", `"description":`+nested("[", "1", "]", 200))), 400, "nested deeper"},
		{"v2 objects nested 200 deep", jpost(pv2, kGov, v2Body("k", `"metadata":`+nested(`{"a":`, "1", "}", 200))), 400, "nested deeper"},
		{"v2 yaml nested 200 deep", advReq{method: "POST", path: pv2, key: kGov, ct: ctYAML, body: []byte("name: n\npolicyKey: k\ntype: subscription\nactions: {type: anyone}\nmetadata: " + nested("[", "1", "]", 200) + "\n")}, 400, "nested deeper"},
		{"v2 name over 64 KiB", jpost(pv2, kGov, `{"name":"`+strings.Repeat("n", 70<<10)+`","policyKey":"k","type":"subscription","actions":{"type":"anyone"}}`), 400, "name"},
		{"v2 advanced over 4096 characters", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"entitlements","advanced":"`+strings.Repeat("@hasAttribute('a','b') OR ", 200)+`@hasAttribute('a','b')"}}`), 400, "actions.advanced"},
		{"v2 yaml alias bomb", advReq{method: "POST", path: pv2, key: kGov, ct: ctYAML, body: []byte(billionLaughs())}, 413, "expands (YAML aliases) to more than the limit"},
		{"v2 body over the size limit", advReq{method: "POST", path: pv2, key: kGov, ct: ctJSON, body: hugeBody(`{"name":"n",`)}, 413, "bytes"},
		// ---- syntax, encodings, duplicates
		{"v2 raw 0xff byte", jpost(pv2, kGov, "{\"name\":\xff}"), 400, "JSON"},
		{"v2 NUL byte between tokens", jpost(pv2, kGov, "{\"name\":\"n\",\x00\"type\":\"subscription\"}"), 400, "JSON"},
		{"v2 duplicate key", jpost(pv2, kGov, `{"name":"a","name":"b","policyKey":"k","type":"subscription","actions":{"type":"anyone"}}`), 400, "name: duplicate key"},
		{"v2 duplicate nested key", jpost(pv2, kGov, `{"name":"a","policyKey":"k","type":"subscription","actions":{"type":"anyone","type":"manual"}}`), 400, "actions.type: duplicate key"},
		{"v2 trailing garbage", jpost(pv2, kGov, v2Body("k", "")+` {"x":1}`), 400, "JSON"},
		{"v2 truncated", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscr`), 400, "JSON"},
		{"v2 yaml with a tab indent", advReq{method: "POST", path: pv2, key: kGov, ct: ctYAML, body: []byte("name: n\nactions:\n\ttype: anyone\n")}, 400, "YAML"},
		{"v2 body null", jpost(pv2, kGov, `null`), 400, "object"},
		{"v2 body a list", jpost(pv2, kGov, `[]`), 400, "object"},
		{"v2 body a number", jpost(pv2, kGov, `42`), 400, "object"},
		{"v2 empty body", jpost(pv2, kGov, ``), 400, "name: is required"},
		{"v2 whitespace body", jpost(pv2, kGov, " \n\t "), 400, "name: is required"},
		// ---- dates out of range
		{"time month 13", jpost(pv2, kGov, timeBody(`"startDate":"2026-13-01"`)), 400, "startDate"},
		{"time February 30", jpost(pv2, kGov, timeBody(`"startDate":"2026-02-30"`)), 400, "startDate"},
		{"time year 10000", jpost(pv2, kGov, timeBody(`"startDate":"10000-01-01"`)), 400, "startDate"},
		{"time hour 25", jpost(pv2, kGov, timeBody(`"startDate":"2026-01-01T25:00:00Z"`)), 400, "startDate"},
		{"time negative year", jpost(pv2, kGov, timeBody(`"startDate":"-0001-01-01"`)), 400, "startDate"},
		{"time end before start", jpost(pv2, kGov, timeBody(`"startDate":"2026-02-01","endDate":"2026-01-01"`)), 400, "endDate"},
		{"time end equals start", jpost(pv2, kGov, timeBody(`"startDate":"2026-02-01","endDate":"2026-02-01"`)), 400, "endDate"},
		{"time startDate a number", jpost(pv2, kGov, timeBody(`"startDate":20260101`)), 400, "startDate"},
		// ---- what only a compiler can check
		{"regex does not compile", jpost(pv2, kGov, v2Body("k", `"circumstances":[{"type":"columnRegex","regex":"(a"}]`)), 400, "circumstances[0].regex"},
		{"advanced unbalanced", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"entitlements","advanced":"@hasAttribute('a'"}}`), 400, "actions.advanced"},
		{"advanced unknown function", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"entitlements","advanced":"@exec('rm -rf /')"}}`), 400, "exec"},
		{"advanced raw CEL", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"entitlements","advanced":"1 == 1"}}`), 400, "actions.advanced"},
		{"advanced on anyone", jpost(pv2, kGov, `{"name":"n","policyKey":"k","type":"subscription","actions":{"type":"anyone","advanced":"`+orTerms[:60]+`"}}`), 400, "advanced"},
		// ---- query and media type
		{"v2 case variant of a parameter", jpost(pv2+"?DryRun=true", kGov, v2Body("k", "")), 400, "query.DryRun: is not a parameter of this endpoint; the parameter is spelt dryRun"},
		{"v2 dryRun=1", jpost(pv2+"?dryRun=1", kGov, v2Body("k", "")), 400, "query.dryRun"},
		{"v2 dryRun empty", jpost(pv2+"?dryRun=", kGov, v2Body("k", "")), 400, "query.dryRun"},
		{"v2 dryRun without value", jpost(pv2+"?dryRun", kGov, v2Body("k", "")), 400, "query.dryRun"},
		{"v2 dryRun=yes", jpost(pv2+"?dryRun=yes", kGov, v2Body("k", "")), 400, "query.dryRun"},
		{"v2 reCertify=maybe", jpost(pv2+"?reCertify=maybe", kGov, v2Body("k", "")), 400, "query.reCertify"},
		{"v2 dryRun twice", jpost(pv2+"?dryRun=true&dryRun=true", kGov, v2Body("k", "")), 400, "query.dryRun"},
		{"v2 malformed query escape", jpost(pv2+"?dryRun=%zz", kGov, v2Body("k", "")), 400, "query"},
		{"v2 text/plain", withCT(jpost(pv2, kGov, v2Body("k", "")), "text/plain"), 415, "text/plain"},
		{"v2 form encoded", withCT(jpost(pv2, kGov, "name=n"), "application/x-www-form-urlencoded"), 415, "application/x-www-form-urlencoded"},
		{"v2 malformed content type", withCT(jpost(pv2, kGov, v2Body("k", "")), "application/json;;;="), 415, "Content-Type"},
		{"v2 duplicate policyKey", jpost(pv2, kGov, v2Body("mkt", "")), 422, "mkt"},
		// ---- POST /policy/global (v1)
		{"v1 exceptions on automatic", jpost(pv1, kGov, `{"name":"n","type":"subscription","actions":[{"type":"subscription","subscriptionType":"automatic","exceptions":{"operator":"and","conditions":[{"type":"groups","group":{"name":"g"}}]}}]}`), 400, "exceptions"},
		{"v1 mixed and/or", jpost(pv1, kGov, `{"name":"n","type":"subscription","actions":[{"type":"subscription","subscriptionType":"automatic"}],"circumstances":[{"operator":"and","type":"tags","tag":{"name":"A"}},{"operator":"or","type":"tags","tag":{"name":"B"}}]}`), 400, "circumstances"},
		{"v1 circumstanceOperator is unknown", jpost(pv1, kGov, strings.TrimSuffix(validV1, "}")+`,"circumstanceOperator":"all"}`), 400, "circumstanceOperator"},
		{"v1 dryRun is no flag here", jpost(pv1+"?dryRun=true", kGov, validV1), 400, "query.dryRun"},
		{"v1 tag value is a string", jpost(pv1, kGov, strings.TrimSuffix(validV1, "}")+`,"circumstances":[{"type":"tags","tag":"A"}]}`), 400, "tag"},
		{"v1 two actions", jpost(pv1, kGov, `{"name":"n","type":"subscription","actions":[{"type":"subscription","subscriptionType":"automatic"},{"type":"subscription","subscriptionType":"manual"}]}`), 400, "actions"},
		{"v1 no action", jpost(pv1, kGov, `{"name":"n","type":"subscription","actions":[]}`), 400, "actions"},
		{"v1 subscriptionType not in enum", jpost(pv1, kGov, `{"name":"n","type":"subscription","actions":[{"type":"subscription","subscriptionType":"everyone"}]}`), 400, "subscriptionType"},
		{"v1 action type is not subscription", jpost(pv1, kGov, `{"name":"n","type":"subscription","actions":[{"type":"data","subscriptionType":"automatic"}]}`), 400, "actions[0].type"},
		{"v1 text/html", withCT(jpost(pv1, kGov, validV1), "text/html"), 415, "text/html"},
		// ---- PUT /policy/global/{id}
		{"put negative id", jput("/policy/global/-1", kGov, validV1), 404, "-1"},
		{"put id zero", jput("/policy/global/0", kGov, validV1), 404, "0"},
		{"put id in exponent form", jput("/policy/global/1e3", kGov, validV1), 404, "1e3"},
		{"put id overflows int64", jput("/policy/global/99999999999999999999", kGov, validV1), 404, "99999999999999999999"},
		{"put wrong type", jput("/policy/global/3", kGov, `{"name":true,"type":"subscription","actions":{"type":"anyone"}}`), 400, "name"},
		{"put dryRun is no flag here", jput("/policy/global/3?dryRun=true", kGov, validV1), 400, "query.dryRun"},
		{"put reCertify=2", jput("/policy/global/3?reCertify=2", kGov, validV1), 400, "query.reCertify"},
		{"put invalid yaml", withCT(jput("/policy/global/3", kGov, "name: [unclosed\n"), "text/yaml"), 400, "YAML"},
		{"put staged owner-selected", jput("/policy/global/1", kGov, `{"name":"os","type":"subscription","staged":true,"actions":{"type":"anyone"},"circumstances":[{"type":null}]}`), 400, "staged"},
		{"put takes a used policyKey", jput("/policy/global/3", kGov, v2Body("sensitive", "")), 422, "sensitive"},
		// ---- POST /policy/global/applyPolicy
		{"apply negative policyId", jpost(apply, kOwn, `{"policyId":-1,"dataSourceId":10}`), 400, "policyId"},
		{"apply policyId a string", jpost(apply, kOwn, `{"policyId":"1","dataSourceId":10}`), 400, "policyId"},
		{"apply policyId a fraction", jpost(apply, kOwn, `{"policyId":1.5,"dataSourceId":10}`), 400, "policyId"},
		{"apply policyId 1e30", jpost(apply, kOwn, `{"policyId":1e30,"dataSourceId":10}`), 400, "policyId"},
		{"apply without dataSourceId", jpost(apply, kOwn, `{"policyId":1}`), 400, "dataSourceId"},
		{"apply unknown field", jpost(apply, kOwn, `{"policyId":1,"dataSourceId":10,"force":true}`), 400, "force"},
		{"apply body a list", jpost(apply, kOwn, `[1,10]`), 400, "object"},
		{"apply not owner-selected", jpost(apply, kOwn, `{"policyId":2,"dataSourceId":10}`), 400, "policyId"},
		{"apply unknown policy", jpost(apply, kOwn, `{"policyId":99,"dataSourceId":10}`), 404, "99"},
		{"apply dryRun is no flag here", jpost(apply+"?dryRun=true", kOwn, `{"policyId":1,"dataSourceId":10}`), 400, "query.dryRun"},
		// ---- POST /dataSource/{id}/access
		{"grant negative profileId", jpost(acc, kOwn, `{"profileId":-3,"state":"subscribed"}`), 400, "profileId"},
		{"grant profileId a string", jpost(acc, kOwn, `{"profileId":"3","state":"subscribed"}`), 400, "profileId"},
		{"grant groupId zero", jpost(acc, kOwn, `{"groupId":0,"state":"subscribed"}`), 400, "groupId"},
		{"grant profileId and groupId", jpost(acc, kOwn, `{"profileId":3,"groupId":1,"state":"subscribed"}`), 400, "groupId"},
		{"grant state not in enum", jpost(acc, kOwn, `{"profileId":3,"state":"boss"}`), 400, "state"},
		{"grant state denied", jpost(acc, kOwn, `{"profileId":3,"state":"denied"}`), 400, "state"},
		{"grant accessGrant ADMIN", jpost(acc, kOwn, `{"profileId":3,"state":"subscribed","accessGrant":"ADMIN"}`), 400, "accessGrant"},
		{"grant expiration February 30", jpost(acc, kOwn, `{"profileId":3,"state":"subscribed","expiration":"2026-02-30"}`), 400, "expiration"},
		{"grant expiration year 10000", jpost(acc, kOwn, `{"profileId":3,"state":"subscribed","expiration":"10000-01-01"}`), 400, "expiration"},
		{"grant expiration a number", jpost(acc, kOwn, `{"profileId":3,"state":"subscribed","expiration":12345}`), 400, "expiration"},
		{"grant with approvals", jpost(acc, kOwn, `{"profileId":3,"state":"subscribed","approvals":[{"specificApprover":8}]}`), 400, "approvals"},
		{"grant to an unknown user", jpost(acc, kOwn, `{"profileId":999,"state":"subscribed"}`), 400, "profileId"},
		{"grant to an unknown group", jpost(acc, kOwn, `{"groupId":999,"state":"subscribed"}`), 400, "groupId"},
		{"access negative data source", jpost("/dataSource/-1/access", kOwn, `{"profileId":3,"state":"subscribed"}`), 404, "-1"},
		{"access hex data source", jpost("/dataSource/0x0A/access", kOwn, `{"profileId":3,"state":"subscribed"}`), 404, "0x0A"},
		{"access DRYRUN is no flag here", jpost(acc+"?force=true&DRYRUN=true", kOwn, `{"profileId":3,"state":"subscribed"}`), 400, "query.DRYRUN"},
		{"access multipart", withCT(jpost(acc, kOwn, `{}`), "multipart/form-data; boundary=x"), 415, "multipart/form-data"},
		{"request for another profile", jpost(acc, kAudit, `{"profileId":4}`), 400, "profileId"},
		{"request for a group", jpost(acc, kAudit, `{"groupId":1}`), 400, "groupId"},
		{"request without the specific approver", jpost(acc, kAudit, `{}`), 400, "approvals"},
		{"request naming the requester", jpost(acc, kAppr, `{"approvals":[{"specificApprover":8}]}`), 400, "approvals[0].specificApprover"},
		{"request naming an unknown approver", jpost(acc, kAudit, `{"approvals":[{"specificApprover":999}]}`), 400, "approvals[0].specificApprover"},
		{"request naming an approver without AUDIT", jpost(acc, kAudit, `{"approvals":[{"specificApprover":4}]}`), 400, "approvals[0].specificApprover"},
		{"request 1001 approvals", jpost(acc, kAudit, `{"approvals":[`+repeatJoin(`{"specificApprover":8}`, 1001)+`]}`), 400, "approvals"},
		{"request body over the size limit", advReq{method: "POST", path: acc, key: kAudit, ct: ctJSON, body: hugeBody(`{"accessGrant":"READ",`)}, 413, "bytes"},
		// ---- PUT /dataSource/{id}/access/{recordId}
		{"change state pending", jput(rec1, kOwn, `{"state":"pending"}`), 400, "state"},
		{"change empty object", jput(rec1, kOwn, `{}`), 400, "state"},
		{"change state a number", jput(rec1, kOwn, `{"state":1}`), 400, "state"},
		{"change expiration yesterday", jput(rec1, kOwn, `{"expiration":"yesterday"}`), 400, "expiration"},
		{"change unknown field", jput(rec1, kOwn, `{"state":"denied","reason":"x"}`), 400, "reason"},
		{"change dryRun is no flag here", jput(rec1+"?dryRun=true", kOwn, `{"state":"denied"}`), 400, "query.dryRun"},
		{"change request to expert", jput("/dataSource/10/access/2", kOwn, `{"state":"expert"}`), 400, "state"},
		{"change negative record", jput("/dataSource/10/access/-1", kOwn, `{"state":"denied"}`), 404, "-1"},
		{"change record not a number", jput("/dataSource/10/access/abc", kOwn, `{"state":"denied"}`), 404, "abc"},
		{"change record of another data source", jput("/dataSource/11/access/1", kOther, `{"state":"denied"}`), 404, "1"},
		{"change application/xml", withCT(jput(rec1, kOwn, `<state>denied</state>`), "application/xml"), 415, "application/xml"},
		// ---- POST /subscription/approve
		{"approve without requests", jpost(appr, kAppr, `{}`), 400, "requests"},
		{"approve empty requests", jpost(appr, kAppr, `{"requests":[]}`), 400, "requests"},
		{"approve requests a string", jpost(appr, kAppr, `{"requests":"2"}`), 400, "requests"},
		{"approve negative id", jpost(appr, kAppr, `{"requests":[{"id":-1}]}`), 400, "requests[0].id"},
		{"approve id a string", jpost(appr, kAppr, `{"requests":[{"id":"2"}]}`), 400, "requests[0].id"},
		{"approve expiration month 99", jpost(appr, kAppr, `{"requests":[{"id":2,"expiration":"2026-99-01"}]}`), 400, "requests[0].expiration"},
		{"approve 1001 entries", jpost(appr, kAppr, `{"requests":[`+repeatJoin(`{"id":2}`, 1001)+`]}`), 400, "requests"},
		{"approve unknown entry field", jpost(appr, kAppr, `{"requests":[{"id":2,"x":1}]}`), 400, "requests[0].x"},
		{"approve good entry then bad entry", jpost(appr, kAppr, `{"requests":[{"id":2},{"id":-5}]}`), 400, "requests[1].id"},
		{"approve dryrun is no flag here", jpost(appr+"?x=1&dryrun=1", kAppr, `{"requests":[{"id":2}]}`), 400, "query.dryrun"},
		{"approve text/plain", withCT(jpost(appr, kAppr, `{"requests":[{"id":2}]}`), "text/plain"), 415, "text/plain"},
		// ---- POST /subscription/deny
		{"deny without denialReasoning", jpost(deny, kAppr, `{"requests":[{"id":2}]}`), 400, "requests[0].denialReasoning"},
		{"deny empty denialReasoning", jpost(deny, kAppr, `{"requests":[{"id":2,"denialReasoning":""}]}`), 400, "requests[0].denialReasoning"},
		{"deny denialReasoning a number", jpost(deny, kAppr, `{"requests":[{"id":2,"denialReasoning":5}]}`), 400, "requests[0].denialReasoning"},
		{"deny id zero", jpost(deny, kAppr, `{"requests":[{"id":0,"denialReasoning":"no"}]}`), 400, "requests[0].id"},
		{"deny good entry then bad entry", jpost(deny, kAppr, `{"requests":[{"id":2,"denialReasoning":"no"},{"id":"y"}]}`), 400, "requests[1].id"},
		{"deny yaml alias bomb", advReq{method: "POST", path: deny, key: kAppr, ct: ctYAML, body: []byte(billionLaughs())}, 413, "expands (YAML aliases) to more than the limit"},
	}
}

// fileBadInputs reads the file part of the catalogue: testdata/bad/*.txt, each a
// header of "# key: value" lines (call, as, content-type, status, error), a line
// "---", then the body verbatim (bytes kept as they are, invalid UTF-8 included).
func fileBadInputs(t *testing.T) []badInput {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "bad", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "the catalogue files in testdata/bad")
	var out []badInput
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(t, err)
		head, body, ok := bytes.Cut(data, []byte("\n---\n"))
		require.True(t, ok, "%s: no --- line", name)
		bi := badInput{name: filepath.Base(name), req: advReq{body: body}}
		sc := bufio.NewScanner(bytes.NewReader(head))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" {
				continue
			}
			k, v, ok := strings.Cut(strings.TrimPrefix(line, "#"), ":")
			require.True(t, ok, "%s: header line %q", name, line)
			v = strings.TrimSpace(v)
			switch strings.TrimSpace(k) {
			case "call":
				m, p, ok := strings.Cut(v, " ")
				require.True(t, ok, "%s: call %q", name, v)
				bi.req.method, bi.req.path = m, p
			case "as":
				bi.req.key = v
			case "content-type":
				bi.req.ct = v
			case "status":
				bi.status, err = strconv.Atoi(v)
				require.NoError(t, err, name)
			case "error":
				bi.msg = v
			default:
				t.Fatalf("%s: unknown header %q", name, k)
			}
		}
		require.NotZero(t, bi.status, "%s: status", name)
		require.NotEmpty(t, bi.msg, "%s: error", name)
		out = append(out, bi)
	}
	return out
}

// TestBadInputCatalogue sends every malformed or hostile input of the catalogue to
// the REST handler: each is answered with its 4xx (never 5xx), an error message
// naming the problem, and leaves the engine's Export byte-identical.
func TestBadInputCatalogue(t *testing.T) {
	t.Parallel()
	files := fileBadInputs(t)
	cases := append(inlineBadInputs(), files...)
	t.Logf("bad-input catalogue: %d inputs (%d files)", len(cases), len(files))
	require.GreaterOrEqual(t, len(files), 100, "testdata/bad holds at least 100 cases")
	require.GreaterOrEqual(t, len(cases), 200)
	seen := map[string]bool{}
	for _, tc := range cases {
		require.False(t, seen[tc.name], "duplicate case name %q", tc.name)
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.True(t, tc.status >= 400 && tc.status < 500, "the catalogue expects 4xx only")
			e := advEngine(t)
			h := advHandler(e)
			before, err := e.Export()
			require.NoError(t, err)
			a := advSend(t, h, tc.req)
			assert.Less(t, a.status, 500, "never 5xx: %.300s", a.raw)
			assert.Equal(t, tc.status, a.status, "status; answer %.300s", a.raw)
			assert.Contains(t, a.message(), tc.msg, "the message names the problem")
			after, err := e.Export()
			require.NoError(t, err)
			assert.True(t, bytes.Equal(before, after), "a refused call changes nothing (Export differs)")
		})
	}
}

// refusedUnchanged sends each call, which must be refused with 400 and a message
// containing msg, and checks the engine's Export is unchanged.
func refusedUnchanged(t *testing.T, msg string, reqs ...advReq) {
	t.Helper()
	e := advEngine(t)
	h := advHandler(e)
	before, err := e.Export()
	require.NoError(t, err)
	for _, r := range reqs {
		a := advSend(t, h, r)
		assert.Equal(t, 400, a.status, "%s %s: %.300s", r.method, r.path, a.raw)
		assert.Contains(t, a.message(), msg)
	}
	after, err := e.Export()
	require.NoError(t, err)
	assert.True(t, bytes.Equal(before, after), "Export differs")
}

// TestBadInputInvalidUTF8InStrings (a regression test): a string holding invalid UTF-8 (a lone 0xff, a
// truncated sequence, an overlong encoding, a UTF-16 surrogate) is refused with 400
// naming UTF-8, and changes nothing (rather than being stored with U+FFFD).
func TestBadInputInvalidUTF8InStrings(t *testing.T) {
	t.Parallel()
	for name, bad := range map[string]string{
		"lone 0xff":          "\xff",
		"truncated sequence": "\xe2\x82",
		"overlong slash":     "\xc0\xaf",
		"surrogate":          "\xed\xa0\x80",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			refusedUnchanged(t, "UTF-8",
				jpost("/api/v2/policy", kGov, `{"name":"n`+bad+`","policyKey":"k","type":"subscription","actions":{"type":"anyone"}}`),
				jpost("/subscription/deny", kAppr, `{"requests":[{"id":2,"denialReasoning":"no`+bad+`"}]}`),
				advReq{method: "POST", path: "/dataSource/10/access", key: kOwn, ct: ctYAML,
					body: []byte("profileId: 5\nstate: subscribed\nexpiration: \"2026-03-01" + bad + "\"\n")})
		})
	}
}

// TestBadInputYAMLDuplicateKeys (a regression test): a YAML body with a duplicate key is refused with
// 400 naming the key, as a JSON body is (the last value must not silently win).
func TestBadInputYAMLDuplicateKeys(t *testing.T) {
	t.Parallel()
	refusedUnchanged(t, "already set",
		advReq{method: "POST", path: "/api/v2/policy", key: kGov, ct: ctYAML,
			body: []byte("name: a\nname: b\npolicyKey: k\ntype: subscription\nactions: {type: anyone}\n")},
		advReq{method: "PUT", path: "/dataSource/10/access/1", key: kOwn, ct: "text/yaml",
			body: []byte("state: subscribed\nstate: denied\n")},
		advReq{method: "POST", path: "/subscription/approve", key: kAppr, ct: ctYAML,
			body: []byte("requests:\n  - id: 3\n    id: 2\n")})
}

// TestCatastrophicRegexAcceptedButIndeterminate: a regex that backtracks
// catastrophically compiles, so the policy is created (200, and the call returns:
// every match runs under the regex timeout); on a data source whose column makes it
// backtrack the match times out, and that data source is indeterminate: the
// subscription the plain user held through another policy is gone, a new request is
// refused with the reason, while the owner and a manual grant still hold.
func TestCatastrophicRegexAcceptedButIndeterminate(t *testing.T) {
	t.Parallel()
	e := advEngine(t, engine.WithRegexTimeout(time.Millisecond))
	h := advHandler(e)
	evil := strings.Repeat("a", 30000) + "!"
	require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 20, Name: "evil", Owners: []int64{advOwner},
		Tags: []string{"Marketing"}, Columns: []model.Column{{Name: evil}}}))
	// Before: the plain user subscribes through the Marketing policy; the owner
	// grants the auditor READ.
	a := advSend(t, h, jpost("/dataSource/20/access", kPlain, `{}`))
	require.Equal(t, 200, a.status, a.raw)
	require.Equal(t, "subscribed", a.body["state"])
	a = advSend(t, h, jpost("/dataSource/20/access", kOwn, `{"profileId":6,"state":"subscribed"}`))
	require.Equal(t, 200, a.status, a.raw)
	require.Equal(t, engine.LevelRead, e.Decide(advPlain, 20).Grant)

	a = advSend(t, h, jpost("/api/v2/policy", kGov, `{"name":"evil","policyKey":"evil","type":"subscription",
		"actions":{"type":"anyone","automaticSubscription":true},
		"circumstances":[{"type":"columnRegex","regex":"(?=a)(a|aa)*$"}]}`))
	require.Equal(t, 200, a.status, a.raw)

	s := e.Snapshot()
	require.Error(t, s.Indeterminate(20), "data source 20 is indeterminate")
	assert.NoError(t, s.Indeterminate(10), "data source 10 (column iban) is decided as usual")
	d := s.Decide(advPlain, 20)
	assert.Equal(t, engine.LevelNone, d.Grant, "policy-derived access fails closed")
	assert.True(t, hasReason(d.Reasons(), engine.ReasonIndeterminate), "the reason is given: %+v", d.Reasons())
	assert.Equal(t, engine.LevelNone, s.Decide(advUserAdmin, 20).Grant, "the evil policy gives nobody anything")
	assert.Equal(t, engine.LevelRead, s.Decide(advOwner, 20).Grant, "the owner still holds READ")
	assert.Equal(t, engine.LevelRead, s.Decide(advAudit, 20).Grant, "the manual grant still holds")

	r := advSend(t, h, jpost("/dataSource/20/access", kUadm, `{}`))
	assert.Equal(t, 403, r.status, r.raw)
	assert.Contains(t, r.message(), "indeterminate")
}

// TestCostLimitFailsClosed: an advanced expression that exceeds the engine's cost
// limit is accepted at create, and its evaluation fails closed: the user who meets
// it without the limit gets nothing, with the cost error among the reasons, and a
// request is refused.
func TestCostLimitFailsClosed(t *testing.T) {
	t.Parallel()
	// 40 terms; the user holds only the last one, so every term is evaluated.
	var terms []string
	for i := 0; i < 40; i++ {
		terms = append(terms, fmt.Sprintf("@hasAttribute('clearance','L%d')", i))
	}
	body := `{"name":"costly","policyKey":"costly","type":"subscription",
		"actions":{"type":"entitlements","automaticSubscription":true,"advanced":"` + strings.Join(terms, " OR ") + `"},
		"circumstances":[{"type":"tags","tag":"Costly"}]}`
	run := func(opts ...engine.Option) (*engine.Engine, http.Handler) {
		e := advEngine(t, opts...)
		require.NoError(t, e.PutUser(engine.SystemActor(), &model.User{ID: 9, Name: "Cleared", APIKeyHash: model.HashAPIKey("k-9"),
			Attributes: map[string][]string{"clearance": {"L39"}}}))
		require.NoError(t, e.PutDataSource(engine.SystemActor(), &model.DataSource{ID: 21, Name: "costly", Tags: []string{"Costly"}}))
		h := advHandler(e)
		a := advSend(t, h, jpost("/api/v2/policy", kGov, body))
		require.Equal(t, 200, a.status, a.raw)
		return e, h
	}
	free, _ := run()
	require.Equal(t, engine.LevelRead, free.Decide(9, 21).Grant, "without a small limit the user meets the policy")

	e, h := run(engine.WithCostLimit(10))
	d := e.Decide(9, 21)
	assert.Equal(t, engine.LevelNone, d.Grant, "over the cost limit the policy is unsatisfied")
	var found bool
	for _, r := range d.Reasons() {
		if r.Kind == engine.ReasonPolicy && r.PolicyKey == "costly" {
			found = true
			assert.Equal(t, "unsatisfied", r.Outcome)
			assert.True(t, errors.Is(r.Err, rule.ErrCostLimitExceeded), "reason error: %v", r.Err)
		}
	}
	assert.True(t, found, "the policy's reason is given: %+v", d.Reasons())
	a := advSend(t, h, jpost("/dataSource/21/access", "k-9", `{}`))
	assert.Equal(t, 403, a.status, a.raw)
}

func hasReason(rs []engine.Reason, k engine.ReasonKind) bool {
	for _, r := range rs {
		if r.Kind == k {
			return true
		}
	}
	return false
}
