package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// DefaultMaxBodyBytes is the default limit on a request body (1 MiB).
const DefaultMaxBodyBytes = 1 << 20

// Option configures a handler.
type Option func(*config)

type config struct {
	maxBody  int64
	limits   model.Limits
	logger   *slog.Logger
	tokenTTL time.Duration
	now      func() time.Time
}

// WithTokenTTL sets how long a token from POST /bim/apikey/authenticate is valid
// (default DefaultTokenTTL). d <= 0 keeps the default.
func WithTokenTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.tokenTTL = d
		}
	}
}

// WithClock sets the clock tokens expire by (default time.Now).
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.now = now
		}
	}
}

// WithMaxBodyBytes bounds a request body (default DefaultMaxBodyBytes); a larger
// body is answered 413. n <= 0 keeps the default.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxBody = n
		}
	}
}

// WithLimits sets the input limits passed to the model decoders (default
// model.DefaultLimits(), with MaxPayloadBytes following WithMaxBodyBytes).
func WithLimits(l model.Limits) Option { return func(c *config) { c.limits = l } }

// WithLogger logs one line per request (method, path, status, duration) and every
// recovered panic to l. Without it, requests are not logged and panics go to
// slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// NewHandler returns the REST API over e. auth maps API keys to users; a nil auth
// means EngineKeys(e). The handler is safe for concurrent use.
func NewHandler(e *engine.Engine, auth Authenticator, opts ...Option) http.Handler {
	cfg := config{maxBody: DefaultMaxBodyBytes, tokenTTL: DefaultTokenTTL, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.limits == (model.Limits{}) {
		cfg.limits = model.DefaultLimits()
		cfg.limits.MaxPayloadBytes = int(cfg.maxBody)
	}
	if auth == nil {
		auth = EngineKeys(e)
	}
	h := &handler{e: e, auth: auth, cfg: cfg, mux: http.NewServeMux(), tokens: newTokenStore(cfg.tokenTTL, cfg.now)}
	h.metrics = newMetrics(h)
	h.handlePublic("POST /bim/apikey/authenticate", h.authenticateKey)
	h.handlePublic("GET /healthz", h.healthz)
	h.handlePublic("GET /readyz", h.readyz)
	h.mux.Handle("GET /metrics", h.metrics.handler())
	h.mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	h.routes = append(h.routes, "GET /metrics", "GET /openapi.json")
	h.handle("POST /api/v2/policy", h.createPolicy(model.DialectV2, "dryRun", "reCertify"))
	h.handle("POST /policy/global", h.createPolicy(model.DialectV1))
	h.handle("GET /policy/global", h.listPolicies)
	h.handle("GET /policy/global/{policyId}", h.getPolicy)
	h.handle("GET /policy/global/appliedTo/{policyId}", h.appliedTo)
	h.handle("PUT /policy/global/{policyId}", h.updatePolicy)
	h.handle("DELETE /policy/global/{policyId}", h.deletePolicy)
	h.handle("POST /policy/global/applyPolicy", h.applyPolicy)
	h.handle("POST /dataSource/{id}/access", h.access)
	h.handle("GET /dataSource/{id}/access", h.listAccess)
	h.handle("PUT /dataSource/{id}/access/{recordId}", h.changeRecord)
	h.handle("DELETE /dataSource/{id}/unsubscribe", h.unsubscribe)
	h.handle("GET /subscription/getPendingRequestsForUser", h.pending)
	h.handle("POST /subscription/approve", h.approve)
	h.handle("POST /subscription/deny", h.deny)
	h.handle("GET /tollgate/v1/changes", h.changes)
	h.handle("PUT /tollgate/v1/dataSources/{id}", h.putDataSource)
	h.handle("DELETE /tollgate/v1/dataSources/{id}", h.deleteDataSource)
	h.handle("PUT /tollgate/v1/users/{id}", h.putUser)
	h.handle("DELETE /tollgate/v1/users/{id}", h.deleteUser)
	h.handle("PUT /tollgate/v1/groups/{id}", h.putGroup)
	h.handle("DELETE /tollgate/v1/groups/{id}", h.deleteGroup)
	h.handle("GET /tollgate/v1/decision", h.decision)
	h.handle("GET /tollgate/v1/users/{id}/dataSources", h.userDataSources)
	h.handle("GET /tollgate/v1/dataSources/{id}/users", h.dataSourceUsers)
	h.handle("GET /tollgate/v1/export", h.export)
	return h
}

type handler struct {
	routes  []string // every registered pattern
	metrics *metrics
	e       *engine.Engine
	auth    Authenticator
	tokens  *tokenStore
	cfg     config
	mux     *http.ServeMux
}

// endpointFunc serves one authenticated call and returns the response value.
type endpointFunc func(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error)

// handle registers an endpoint that needs credentials.
func (h *handler) handle(pattern string, fn endpointFunc) {
	h.handlePublic(pattern, func(w http.ResponseWriter, r *http.Request) (any, error) {
		id, err := h.authenticate(r)
		if err != nil {
			return nil, err
		}
		if err := h.awaitMinRevision(w, r); err != nil {
			return nil, err
		}
		return fn(w, r, engine.As(id))
	})
}

// handlePublic registers an endpoint anyone may call.
func (h *handler) handlePublic(pattern string, fn func(w http.ResponseWriter, r *http.Request) (any, error)) {
	h.routes = append(h.routes, pattern)
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		v, err := fn(w, r)
		if err != nil {
			status, msg := h.classify(err)
			if status >= 500 {
				h.log().Error("tollgate: unexpected error", "method", r.Method, "path", r.URL.Path, "err", err)
			}
			writeError(w, status, msg)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

func (h *handler) log() *slog.Logger {
	if h.cfg.logger != nil {
		return h.cfg.logger
	}
	return slog.Default()
}

// ServeHTTP routes r, answering unknown routes with a JSON 404 (or 405 with Allow),
// recovering panics as 500 and logging the request when a logger is set.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, revision: func() int64 { return h.e.Snapshot().Revision() }}
	_, route := h.mux.Handler(r)
	defer func() {
		h.metrics.observe(route, r.Method, sw.statusCode(), time.Since(start))
	}()
	defer func() {
		if p := recover(); p != nil {
			h.log().Error("tollgate: panic serving request", "method", r.Method, "path", r.URL.Path,
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			if !sw.wrote {
				writeError(sw, http.StatusInternalServerError, "internal error")
			}
		}
		if h.cfg.logger != nil {
			h.cfg.logger.Info("request", "method", r.Method, "path", r.URL.Path, "query", r.URL.RawQuery,
				"status", sw.statusCode(), "bytes", sw.n, "duration", time.Since(start))
		}
	}()
	if next, pattern := h.mux.Handler(r); pattern == "" {
		// No route: let the mux decide between 404, 405 and a redirect, then answer
		// errors in the API's JSON shape.
		cw := &captureWriter{header: http.Header{}}
		next.ServeHTTP(cw, r)
		status := cw.status
		if status == 0 {
			status = http.StatusOK
		}
		if status < 400 {
			for k, v := range cw.header {
				sw.Header()[k] = v
			}
			sw.WriteHeader(status)
			_, _ = sw.Write(cw.body.Bytes())
			return
		}
		if allow := cw.header.Get("Allow"); allow != "" {
			sw.Header().Set("Allow", allow)
		}
		msg := fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)
		if status == http.StatusMethodNotAllowed {
			msg = fmt.Sprintf("method %s not allowed on %s", r.Method, r.URL.Path)
		}
		writeError(sw, status, msg)
		return
	}
	h.mux.ServeHTTP(sw, r)
}

// ---- endpoints ----

func (h *handler) createPolicy(d model.Dialect, flags ...string) endpointFunc {
	return func(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
		if err := policyWriter(h.e.Snapshot(), actor); err != nil {
			return nil, err
		}
		q, err := query(r, flags...)
		if err != nil {
			return nil, err
		}
		dryRun, reCertify := q.boolean("dryRun"), q.boolean("reCertify")
		if err := q.err(); err != nil {
			return nil, err
		}
		p, err := h.policyBody(w, r)
		if err != nil {
			return nil, err
		}
		opts := engine.WriteOptions{DryRun: dryRun, ReCertify: reCertify}
		out, impact, err := h.e.CreatePolicy(actor, p, opts)
		if err != nil {
			return nil, err
		}
		if opts.DryRun {
			return dryRunResponse(out, d, impact)
		}
		return policyResponse(out, d)
	}
}

// policyBody reads the body of a policy write and decodes it (either dialect),
// reporting its structural and compile problems in one list.
func (h *handler) policyBody(w http.ResponseWriter, r *http.Request) (*model.Policy, error) {
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	return h.e.DecodePolicy(body, h.cfg.limits)
}

func (h *handler) getPolicy(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := h.policyID(r)
	if err != nil {
		return nil, err
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	p, ok := h.e.Snapshot().Policy(id)
	if !ok {
		return nil, statusError(http.StatusNotFound, "no policy %d", id)
	}
	return policyResponse(p, model.DialectV1)
}

func (h *handler) updatePolicy(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	if err := policyWriter(h.e.Snapshot(), actor); err != nil {
		return nil, err
	}
	id, err := h.policyID(r)
	if err != nil {
		return nil, err
	}
	q, err := query(r, "reCertify")
	if err != nil {
		return nil, err
	}
	reCertify := q.boolean("reCertify")
	if err := q.err(); err != nil {
		return nil, err
	}
	p, err := h.policyBody(w, r)
	if err != nil {
		return nil, err
	}
	out, _, err := h.e.UpdatePolicy(actor, id, p, engine.WriteOptions{ReCertify: reCertify})
	if err != nil {
		return nil, err
	}
	return policyResponse(out, model.DialectV1)
}

func (h *handler) deletePolicy(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	if err := policyWriter(h.e.Snapshot(), actor); err != nil {
		return nil, err
	}
	id, err := h.policyID(r)
	if err != nil {
		return nil, err
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	p, err := h.e.DeletePolicy(actor, id)
	if err != nil {
		return nil, err
	}
	return policyResponse(p, model.DialectV1)
}

type applyPolicyResponse struct {
	PolicyID     int64 `json:"policyId"`
	DataSourceID int64 `json:"dataSourceId"`
}

func (h *handler) applyPolicy(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	if _, err := query(r); err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	ap, err := model.DecodeApplyPolicy(body, h.cfg.limits)
	if err != nil {
		return nil, err
	}
	snap := h.e.Snapshot()
	if _, ok := snap.DataSource(ap.DataSourceID); !ok {
		return nil, statusError(http.StatusNotFound, "dataSourceId: no data source %d", ap.DataSourceID)
	}
	if err := manager(snap, actor, ap.DataSourceID, "applying a policy"); err != nil {
		return nil, err
	}
	if _, ok := snap.Policy(ap.PolicyID); !ok {
		return nil, statusError(http.StatusNotFound, "policyId: no policy %d", ap.PolicyID)
	}
	if err := h.e.ApplyPolicy(actor, ap.PolicyID, ap.DataSourceID); err != nil {
		return nil, err
	}
	return applyPolicyResponse{PolicyID: ap.PolicyID, DataSourceID: ap.DataSourceID}, nil
}

func (h *handler) access(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	ds, err := h.dataSourceID(r)
	if err != nil {
		return nil, err
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	req, err := model.DecodeAccessRequest(body, h.cfg.limits)
	if err != nil {
		return nil, err
	}
	rec, err := h.e.Access(actor, ds, accessRequest(req))
	if err != nil {
		return nil, err
	}
	return model.AccessRecordResponse(rec), nil
}

// accessRequest turns the decoded body of POST /dataSource/{id}/access into the
// engine's request (the decoder only lets positive ids through).
func accessRequest(b *model.AccessRequestBody) engine.AccessRequest {
	r := engine.AccessRequest{State: b.State, AccessGrant: b.AccessGrant, Expiration: b.Expiration}
	if b.ProfileID != nil {
		r.ProfileID = *b.ProfileID
	}
	if b.GroupID != nil {
		r.GroupID = *b.GroupID
	}
	for _, a := range b.Approvals {
		r.Approvers = append(r.Approvers, a.SpecificApprover)
	}
	return r
}

func (h *handler) changeRecord(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	ds, err := h.dataSourceID(r)
	if err != nil {
		return nil, err
	}
	if err := manager(h.e.Snapshot(), actor, ds, "changing an access record"); err != nil {
		return nil, err
	}
	rid, ok := parseID(r.PathValue("recordId"))
	if !ok || !h.hasRecord(ds, rid) {
		return nil, statusError(http.StatusNotFound, "no access record %s on data source %d", model.ClipInput(r.PathValue("recordId")), ds)
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	ch, err := model.DecodeRecordChange(body, h.cfg.limits)
	if err != nil {
		return nil, err
	}
	rec, err := h.e.ChangeRecord(actor, ds, rid, ch)
	if err != nil {
		return nil, err
	}
	return model.AccessRecordResponse(rec), nil
}

type failureJSON struct {
	ID     int64  `json:"id"`
	Reason string `json:"reason"`
}

type failuresResponse struct {
	Failures []failureJSON `json:"failures"`
}

func failures(fs []engine.Failure) failuresResponse {
	out := failuresResponse{Failures: make([]failureJSON, 0, len(fs))}
	for _, f := range fs {
		out.Failures = append(out.Failures, failureJSON{ID: f.ID, Reason: f.Reason})
	}
	return out
}

func (h *handler) approve(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	return perEntry(h, w, r, actor, model.DecodeApprove, h.e.Approve)
}

func (h *handler) deny(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	return perEntry(h, w, r, actor, model.DecodeDeny, h.e.Deny)
}

// perEntry serves approve and deny: a malformed body is 400 and changes nothing;
// otherwise the entries apply one by one and the refused ones are listed.
func perEntry[E any](h *handler, w http.ResponseWriter, r *http.Request, actor engine.Actor,
	decode func([]byte, model.Limits) ([]E, error),
	apply func(engine.Actor, []E) ([]engine.Failure, error)) (any, error) {
	if _, err := query(r); err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	entries, err := decode(body, h.cfg.limits)
	if err != nil {
		return nil, err
	}
	fs, err := apply(actor, entries)
	if err != nil {
		return nil, err
	}
	return failures(fs), nil
}

// ---- helpers ----

// policyID reads {policyId}; an id that is not a positive integer or names no live
// policy is 404.
func (h *handler) policyID(r *http.Request) (int64, error) {
	raw := r.PathValue("policyId")
	id, ok := parseID(raw)
	if _, live := h.e.Snapshot().Policy(id); !ok || !live {
		return 0, statusError(http.StatusNotFound, "no policy %s", model.ClipInput(raw))
	}
	return id, nil
}

// dataSourceID reads {id}; an unknown data source is 404.
func (h *handler) dataSourceID(r *http.Request) (int64, error) {
	raw := r.PathValue("id")
	id, ok := parseID(raw)
	if _, known := h.e.Snapshot().DataSource(id); !ok || !known {
		return 0, statusError(http.StatusNotFound, "no data source %s", model.ClipInput(raw))
	}
	return id, nil
}

// hasRecord reports whether record rid exists on data source ds.
func (h *handler) hasRecord(ds, rid int64) bool {
	r, ok := h.e.Snapshot().Record(rid)
	return ok && r.DataSourceID == ds
}

func parseID(s string) (int64, bool) {
	// Canonical decimals only: "01", "+1", " 1" and "1_0" name nothing (see
	// docs/security.md, Limits).
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false
	}
	return id, true
}

func urlQuery(r *http.Request) (map[string][]string, error) {
	v, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, model.ErrorList{model.Invalid(model.NewPath("query"), nil, "is malformed: "+err.Error())}
	}
	return v, nil
}

// readBody checks the media type (415) and reads at most the body limit (413). A
// YAML body is converted to JSON under the body limit (what it expands to, aliases
// included: 413 beyond); a JSON body must be valid JSON (400). A body without a
// Content-Type must be JSON: one starting with { or [ that does not parse is 400,
// anything else that is not JSON is 415 (see docs/api.md, Errors).
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	yamlBody, declared := false, false
	if ct := r.Header.Get("Content-Type"); ct != "" {
		declared = true
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			return nil, statusError(http.StatusUnsupportedMediaType, "Content-Type %q is malformed; use application/json, application/yaml or text/yaml", model.ClipInput(ct))
		}
		switch mt {
		case "application/json":
		case "application/yaml", "text/yaml":
			yamlBody = true
		default:
			return nil, statusError(http.StatusUnsupportedMediaType, "Content-Type %q is not supported; use application/json, application/yaml or text/yaml", model.ClipInput(mt))
		}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.maxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, statusError(http.StatusRequestEntityTooLarge, "request body exceeds the limit of %d bytes", h.cfg.maxBody)
		}
		return nil, statusError(http.StatusBadRequest, "reading the request body: %v", err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		// No body is an empty object: the decoders then name every required field
		// (and a request to POST /dataSource/{id}/access needs none).
		return []byte("{}"), nil
	}
	if yamlBody {
		if !utf8.Valid(data) {
			return nil, model.ErrorList{model.Invalid(model.Path(""), nil,
				fmt.Sprintf("body is not valid YAML: not valid UTF-8 (invalid byte at offset %d)", invalidOffset(data)))}
		}
		// Strict: a duplicate key is an error, as it is in JSON bodies.
		j, err := model.YAMLToJSON(data, int(h.cfg.maxBody))
		if err != nil {
			return nil, err
		}
		return j, nil
	}
	if !utf8.Valid(data) {
		// encoding/json would silently replace invalid bytes with U+FFFD.
		if p, found := invalidUTF8(data); found {
			return nil, model.ErrorList{model.Invalid(p, nil, "is not valid UTF-8")}
		}
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		if !declared && trimmed[0] != '{' && trimmed[0] != '[' {
			return nil, statusError(http.StatusUnsupportedMediaType, "body without a Content-Type is not JSON; send JSON, or YAML declared as application/yaml or text/yaml")
		}
		return nil, model.ErrorList{model.Invalid(model.Path(""), nil, "body is not valid JSON: "+model.ClipInput(err.Error()))}
	}
	return data, nil
}

// invalidUTF8 finds the first JSON string (key or value) holding invalid UTF-8 and
// returns the field path of its value (for a key: the path of that member). found is
// false when the invalid bytes are not inside a well-formed string (the JSON parser
// then reports them).
func invalidUTF8(data []byte) (model.Path, bool) {
	type frame struct {
		path      model.Path
		obj       bool
		expectKey bool
		key       string
		idx       int
	}
	var stack []frame
	valuePath := func() model.Path {
		if len(stack) == 0 {
			return ""
		}
		top := &stack[len(stack)-1]
		if top.obj {
			return top.path.Child(top.key)
		}
		return top.path.Index(top.idx)
	}
	advance := func() {
		if len(stack) == 0 {
			return
		}
		top := &stack[len(stack)-1]
		if top.obj {
			top.expectKey = true
		} else {
			top.idx++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return "", false
		}
		raw := data[start:dec.InputOffset()]
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				stack = append(stack, frame{path: valuePath(), obj: d == '{', expectKey: d == '{'})
			default:
				stack = stack[:len(stack)-1]
				advance()
			}
			continue
		}
		if n := len(stack); n > 0 && stack[n-1].obj && stack[n-1].expectKey {
			key, _ := tok.(string)
			if !utf8.Valid(raw) {
				return stack[n-1].path.Child(strings.ToValidUTF8(key, "\uFFFD")), true
			}
			stack[n-1].key, stack[n-1].expectKey = key, false
			continue
		}
		if !utf8.Valid(raw) {
			return valuePath(), true
		}
		advance()
	}
}

// invalidOffset is the offset of the first byte of data that is not valid UTF-8.
func invalidOffset(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// httpError is an error answered with a fixed status.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func statusError(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

// classify maps an error to a status and a message.
func (h *handler) classify(err error) (int, string) {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he.status, he.msg
	case errors.Is(err, model.ErrInvalid):
		if l := model.Errors(err); len(l) > 0 {
			if slices.ContainsFunc(l, func(e *model.FieldError) bool { return e.Code == model.CodeTooLarge }) {
				return http.StatusRequestEntityTooLarge, l.Error()
			}
			return http.StatusBadRequest, l.Error()
		}
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, engine.ErrUnauthenticated):
		return http.StatusUnauthorized, err.Error()
	case errors.Is(err, engine.ErrForbidden):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, engine.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, engine.ErrConflict):
		return http.StatusUnprocessableEntity, err.Error()
	case errors.Is(err, engine.ErrStore):
		return http.StatusServiceUnavailable, err.Error()
	}
	return http.StatusInternalServerError, "internal error: " + err.Error()
}

// errorBody is the API's error shape. A duplicate (422) adds the vendor's
// validation list.
type errorBody struct {
	StatusCode int              `json:"statusCode"`
	Error      string           `json:"error"`
	Message    string           `json:"message"`
	Validation []validationJSON `json:"validation,omitempty"`
}

// validationJSON is one entry of a 422 answer's validation list.
type validationJSON struct {
	Code    string `json:"code"`
	Path    string `json:"path"`
	Message string `json:"message"`
}

func statusText(status int) string {
	if status == http.StatusRequestEntityTooLarge {
		return "Payload Too Large"
	}
	return http.StatusText(status)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	body := errorBody{StatusCode: status, Error: statusText(status), Message: msg}
	if status == http.StatusUnprocessableEntity {
		// The only 422 is a taken policyKey (see docs/api.md, Errors).
		body.Validation = []validationJSON{{Code: "unique", Path: "policyKey", Message: msg}}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		data, _ = json.Marshal(errorBody{StatusCode: status, Error: statusText(status), Message: "encoding the response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(data)
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	revision func() int64
	status   int
	n        int
	wrote    bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
		if w.revision != nil && w.Header().Get(revisionHeader) == "" {
			w.Header().Set(revisionHeader, strconv.FormatInt(w.revision(), 10))
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

// revisionHeader carries the revision of the snapshot an answer reflects (the
// current one when the answer is written).
const revisionHeader = "X-Tollgate-Revision"

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += n
	return n, err
}

func (w *statusWriter) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// captureWriter buffers a response of the mux's fallback handlers.
type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
}
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
