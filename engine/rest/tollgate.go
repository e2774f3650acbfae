package rest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// Tollgate's own endpoints under /tollgate/v1 (see docs/api.md, Tollgate
// endpoints).

// has reports whether the caller holds one of perms.
func has(s *engine.Snapshot, a engine.Actor, perms ...model.Permission) bool {
	u, ok := s.User(a.ID)
	return ok && slices.ContainsFunc(u.Permissions, func(p model.Permission) bool { return slices.Contains(perms, p) })
}

// pathID reads the {id} of a /tollgate/v1 path; a non-canonical or non-positive id
// names nothing (404, what names it).
func pathID(r *http.Request, what string) (int64, error) {
	raw := r.PathValue("id")
	id, ok := parseID(raw)
	if !ok || strconv.FormatInt(id, 10) != raw {
		return 0, statusError(http.StatusNotFound, "no %s %s", what, model.ClipInput(raw))
	}
	return id, nil
}

// manages reports whether, in snapshot s, the caller owns data source ds or holds
// GOVERNANCE.
func manages(s *engine.Snapshot, a engine.Actor, ds int64) bool {
	return manager(s, a, ds, "") == nil
}

func (h *handler) putDataSource(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := pathID(r, "data source")
	if err != nil {
		return nil, err
	}
	s := h.e.Snapshot()
	if _, exists := s.DataSource(id); exists {
		if !manages(s, actor, id) {
			return nil, fmt.Errorf("%w: changing data source %d needs an owner of it or the GOVERNANCE permission", engine.ErrForbidden, id)
		}
	} else if !has(s, actor, model.Governance, model.CreateDataSource) {
		return nil, fmt.Errorf("%w: creating a data source needs the CREATE_DATA_SOURCE or GOVERNANCE permission", engine.ErrForbidden)
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	ds, err := model.DecodeDataSource(body, h.cfg.limits, id)
	if err != nil {
		return nil, err
	}
	if err := h.e.PutDataSource(actor, ds); err != nil {
		return nil, err
	}
	stored, ok := h.e.Snapshot().DataSource(id)
	if !ok {
		return nil, errors.New("the stored data source is gone")
	}
	return model.DataSourceResponse(stored), nil
}

// deletedJSON answers a DELETE under /tollgate/v1.
type deletedJSON struct {
	ID      int64 `json:"id"`
	Deleted bool  `json:"deleted"`
}

func (h *handler) deleteDataSource(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := idCall(r, "data source")
	if err != nil {
		return nil, err
	}
	if err := h.e.DeleteDataSource(actor, id); err != nil {
		return nil, err
	}
	return deletedJSON{ID: id, Deleted: true}, nil
}

// directoryCall runs the checks of a user or group call in order: 403 for a caller
// without USER_ADMIN or GOVERNANCE (before the id and the body are looked at), then
// the path id (404), then the query. what names the kind ("user", "group").
func (h *handler) directoryCall(r *http.Request, a engine.Actor, what string) (int64, error) {
	if !has(h.e.Snapshot(), a, model.UserAdmin, model.Governance) {
		return 0, fmt.Errorf("%w: managing %ss needs the USER_ADMIN or GOVERNANCE permission", engine.ErrForbidden, what)
	}
	return idCall(r, what)
}

// idCall reads the path id of a /tollgate/v1 call (404 when it names nothing) and
// checks its query (no parameters known: unknown ones are ignored, see query).
func idCall(r *http.Request, what string) (int64, error) {
	id, err := pathID(r, what)
	if err != nil {
		return 0, err
	}
	if _, err := query(r); err != nil {
		return 0, err
	}
	return id, nil
}

func (h *handler) putUser(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := h.directoryCall(r, actor, "user")
	if err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	u, err := model.DecodeUser(body, h.cfg.limits, id)
	if err != nil {
		return nil, err
	}
	if u.APIKeyHash == "" {
		// The key is write-only, so a read-modify-write cannot carry it: a body
		// without apiKey or apiKeyHash keeps the user's key.
		if old, ok := h.e.Snapshot().User(id); ok {
			u.APIKeyHash = old.APIKeyHash
		}
	}
	if err := h.e.PutUser(actor, u); err != nil {
		return nil, err
	}
	return model.UserResponse(u), nil
}

func (h *handler) deleteUser(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := h.directoryCall(r, actor, "user")
	if err != nil {
		return nil, err
	}
	if err := h.e.DeleteUser(actor, id); err != nil {
		return nil, err
	}
	return deletedJSON{ID: id, Deleted: true}, nil
}

func (h *handler) putGroup(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := h.directoryCall(r, actor, "group")
	if err != nil {
		return nil, err
	}
	body, err := h.readBody(w, r)
	if err != nil {
		return nil, err
	}
	g, err := model.DecodeGroup(body, h.cfg.limits, id)
	if err != nil {
		return nil, err
	}
	if err := h.e.PutGroup(actor, g); err != nil {
		return nil, err
	}
	return model.GroupResponse(g), nil
}

func (h *handler) deleteGroup(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := h.directoryCall(r, actor, "group")
	if err != nil {
		return nil, err
	}
	if err := h.e.DeleteGroup(actor, id); err != nil {
		return nil, err
	}
	return deletedJSON{ID: id, Deleted: true}, nil
}

// decisionJSON is the answer of GET /tollgate/v1/decision.
type decisionJSON struct {
	User         int64        `json:"user"`
	DataSource   int64        `json:"dataSource"`
	Grant        string       `json:"grant"`
	Read         string       `json:"read"`
	Write        string       `json:"write"`
	Discoverable bool         `json:"discoverable"`
	Revision     int64        `json:"revision"`
	Reasons      []reasonJSON `json:"reasons"`
}

// reasonJSON is one reason of a decision.
type reasonJSON struct {
	Kind      string `json:"kind"`
	Level     string `json:"level,omitempty"`
	PolicyKey string `json:"policyKey,omitempty"`
	PolicyID  int64  `json:"policyId,omitempty"`
	RecordID  int64  `json:"recordId,omitempty"`
	Outcome   string `json:"outcome,omitempty"`
	Detail    string `json:"detail"`
}

var reasonKinds = map[engine.ReasonKind]string{engine.ReasonPolicy: "policy", engine.ReasonRecord: "record",
	engine.ReasonOwner: "owner", engine.ReasonIndeterminate: "indeterminate", engine.ReasonNoPolicy: "noPolicy",
	engine.ReasonUnknown: "unknown"}

// mayInspect refuses (403) a caller who is not the user themself, GOVERNANCE,
// AUDIT or (when ds > 0) an owner of data source ds.
func (h *handler) mayInspect(s *engine.Snapshot, a engine.Actor, user, ds int64, what string) error {
	if a.ID == user || has(s, a, model.Governance, model.Audit) || ds > 0 && manages(s, a, ds) {
		return nil
	}
	return fmt.Errorf("%w: %s needs to be the user themself, an owner of the data source, or GOVERNANCE or AUDIT", engine.ErrForbidden, what)
}

func (h *handler) decision(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	q, err := query(r, "user", "dataSource")
	if err != nil {
		return nil, err
	}
	user, okU := q.id("user")
	ds, okD := q.id("dataSource")
	if err := q.err(); err != nil {
		return nil, err
	}
	var missing model.ErrorList
	if !okU {
		missing = append(missing, model.Required("query.user", ""))
	}
	if !okD {
		missing = append(missing, model.Required("query.dataSource", ""))
	}
	if len(missing) > 0 {
		return nil, missing
	}
	s := h.e.Snapshot()
	if _, ok := s.DataSource(ds); !ok {
		return nil, statusError(http.StatusNotFound, "no data source %d", ds)
	}
	if err := h.mayInspect(s, actor, user, ds, "reading a decision"); err != nil {
		return nil, err
	}
	if _, ok := s.User(user); !ok {
		return nil, statusError(http.StatusNotFound, "no user %d", user)
	}
	d, reasons := s.Explain(user, ds)
	h.metrics.decisions.WithLabelValues(d.Grant.String()).Inc()
	out := decisionJSON{User: user, DataSource: ds, Grant: d.Grant.String(), Read: d.Read.String(),
		Write: d.Write.String(), Discoverable: d.Discoverable, Revision: s.Revision(), Reasons: make([]reasonJSON, len(reasons))}
	for i, rs := range reasons {
		detail := rs.Detail
		if rs.Err != nil {
			detail += ": " + rs.Err.Error()
		}
		out.Reasons[i] = reasonJSON{Kind: reasonKinds[rs.Kind], Level: string(rs.Level), PolicyKey: rs.PolicyKey,
			PolicyID: rs.PolicyID, RecordID: rs.RecordID, Outcome: rs.Outcome, Detail: detail}
	}
	return out, nil
}

// levelParam reads ?level=READ|WRITE (default READ).
func levelParam(r *http.Request) (engine.Level, error) {
	q, err := query(r, "level")
	if err != nil {
		return 0, err
	}
	lv := q.enum("level", []string{"READ", "WRITE"}, "READ")
	if err := q.err(); err != nil {
		return 0, err
	}
	if lv == "WRITE" {
		return engine.LevelWrite, nil
	}
	return engine.LevelRead, nil
}

type dataSourceIDsJSON struct {
	DataSourceIDs []int64 `json:"dataSourceIds"`
}

type userIDsJSON struct {
	UserIDs []int64 `json:"userIds"`
}

func (h *handler) userDataSources(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := pathID(r, "user")
	if err != nil {
		return nil, err
	}
	s := h.e.Snapshot()
	if err := h.mayInspect(s, actor, id, 0, "listing a user's data sources"); err != nil {
		return nil, err
	}
	if _, ok := s.User(id); !ok {
		return nil, statusError(http.StatusNotFound, "no user %d", id)
	}
	lv, err := levelParam(r)
	if err != nil {
		return nil, err
	}
	ids := append([]int64{}, s.DataSourcesFor(id, lv)...)
	slices.Sort(ids)
	return dataSourceIDsJSON{DataSourceIDs: ids}, nil
}

func (h *handler) dataSourceUsers(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := pathID(r, "data source")
	if err != nil {
		return nil, err
	}
	s := h.e.Snapshot()
	if _, ok := s.DataSource(id); !ok {
		return nil, statusError(http.StatusNotFound, "no data source %d", id)
	}
	if !has(s, actor, model.Governance, model.Audit) && !manages(s, actor, id) {
		return nil, fmt.Errorf("%w: listing who holds a data source needs an owner of it, GOVERNANCE or AUDIT", engine.ErrForbidden)
	}
	lv, err := levelParam(r)
	if err != nil {
		return nil, err
	}
	ids := append([]int64{}, s.UsersFor(id, lv)...)
	slices.Sort(ids)
	return userIDsJSON{UserIDs: ids}, nil
}

// rawJSON is an answer already encoded.
type rawJSON []byte

// MarshalJSON returns the bytes.
func (b rawJSON) MarshalJSON() ([]byte, error) { return b, nil }

func (h *handler) export(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	s := h.e.Snapshot()
	if !has(s, actor, model.Governance) {
		return nil, fmt.Errorf("%w: exporting needs the GOVERNANCE permission", engine.ErrForbidden)
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	data, err := s.Export()
	if err != nil {
		return nil, err
	}
	return rawJSON(data), nil
}
