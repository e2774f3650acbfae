package rest

import (
	"cmp"
	"net/http"
	"slices"
	"strings"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// Immuta's read endpoints and unsubscribe (see docs/api.md, Policies, Access
// records and Approvals).

var (
	sortOrders       = []string{"asc", "desc"}
	policySortFields = []string{"id", "name", "createdAt"}
	recordSortFields = []string{"id", "createdAt", "state"}
	recordStates     = []string{string(model.RecordSubscribed), string(model.RecordExpert), string(model.RecordOwner),
		string(model.RecordPending), string(model.RecordDenied)}
	memberTypes = []string{"profile", "group"}
)

// policyNameJSON is one element of GET /policy/global?nameOnly=true.
type policyNameJSON struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// listPolicies serves GET /policy/global: the live global policies as a JSON array
// in the GET shape, filtered, sorted and paged.
func (h *handler) listPolicies(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	q, err := query(r, "offset", "size", "sortField", "sortOrder", "searchText", "type", "nameOnly", "templates", "ignoreStaged")
	if err != nil {
		return nil, err
	}
	field := q.enum("sortField", policySortFields, "id")
	desc := q.enum("sortOrder", sortOrders, "asc") == "desc"
	search, _ := q.str("searchText")
	typ := q.enum("type", []string{string(model.PolicySubscription), string(model.PolicyData)}, "")
	nameOnly, templates, ignoreStaged := q.boolean("nameOnly"), q.boolean("templates"), q.boolean("ignoreStaged")
	q.page(0) // validates offset and size; applied below
	if err := q.err(); err != nil {
		return nil, err
	}
	search = strings.ToLower(search)
	var list []*model.Policy
	for _, p := range h.e.Snapshot().Policies() {
		switch {
		case search != "" && !strings.Contains(strings.ToLower(p.Name), search):
		case typ != "" && string(p.Type) != typ:
		case templates && !p.Template:
		case ignoreStaged && p.Staged:
		default:
			list = append(list, p)
		}
	}
	slices.SortStableFunc(list, func(a, b *model.Policy) int {
		var c int
		switch field {
		case "name":
			c = cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		case "createdAt":
			c = a.CreatedAt.Compare(b.CreatedAt)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		return c
	})
	lo, hi := q.page(len(list))
	list = list[lo:hi]
	if nameOnly {
		out := make([]policyNameJSON, len(list))
		for i, p := range list {
			out[i] = policyNameJSON{ID: p.ID, Name: p.Name}
		}
		return out, nil
	}
	out := make([]any, len(list))
	for i, p := range list {
		out[i] = model.PolicyResponse(p, model.DialectV1)
	}
	return out, nil
}

// appliedToJSON is the answer of GET /policy/global/appliedTo/{policyId}.
type appliedToJSON struct {
	Count         int     `json:"count"`
	DataSourceIDs []int64 `json:"dataSourceIds"`
}

func (h *handler) appliedTo(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	id, err := h.policyID(r)
	if err != nil {
		return nil, err
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	ids, ok := h.e.Snapshot().PolicyDataSources(id)
	if !ok {
		return nil, statusError(http.StatusNotFound, "no policy %d", id)
	}
	return appliedToJSON{Count: len(ids), DataSourceIDs: ids}, nil
}

// hitsJSON is a paged list of access records.
type hitsJSON struct {
	Count int   `json:"count"`
	Hits  []any `json:"hits"`
}

// listAccess serves GET /dataSource/{id}/access: the records the caller may see
// there, filtered, sorted and paged.
func (h *handler) listAccess(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	ds, err := h.dataSourceID(r)
	if err != nil {
		return nil, err
	}
	q, err := query(r, "states", "memberTypes", "approved", "searchText", "size", "offset", "sortField", "sortOrder", "expandGroups")
	if err != nil {
		return nil, err
	}
	states := q.list("states", recordStates)
	members := q.list("memberTypes", memberTypes)
	approved, approvedGiven := q.optBoolean("approved")
	search, _ := q.str("searchText")
	expand := q.boolean("expandGroups")
	field := q.enum("sortField", recordSortFields, "id")
	desc := q.enum("sortOrder", sortOrders, "asc") == "desc"
	q.page(0)
	if err := q.err(); err != nil {
		return nil, err
	}
	s := h.e.Snapshot()
	recs, err := s.AccessRecords(actor, ds)
	if err != nil {
		return nil, err
	}
	search = strings.ToLower(search)
	var out []*model.AccessRecord
	for _, rec := range recs {
		kind := "profile"
		if rec.Group != 0 {
			kind = "group"
		}
		switch {
		case len(states) > 0 && !slices.Contains(states, string(rec.State)):
			continue
		case len(members) > 0 && !slices.Contains(members, kind):
			continue
		case approvedGiven && rec.Approved != approved:
			continue
		}
		if rec.Group != 0 && expand {
			for _, m := range groupMembers(s, rec.Group) {
				c := *rec
				c.Profile = m.ID
				if search == "" || strings.Contains(strings.ToLower(m.Name), search) || strings.Contains(strings.ToLower(groupName(s, rec.Group)), search) {
					out = append(out, &c)
				}
			}
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(principalName(s, rec)), search) {
			continue
		}
		out = append(out, rec)
	}
	return pagedRecords(q, out, field, desc), nil
}

// pending serves GET /subscription/getPendingRequestsForUser: the pending requests
// the caller may approve or deny now.
func (h *handler) pending(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	q, err := query(r, "size", "offset", "profileId", "sortField", "sortOrder")
	if err != nil {
		return nil, err
	}
	profile, byProfile := q.id("profileId")
	field := q.enum("sortField", recordSortFields, "id")
	desc := q.enum("sortOrder", sortOrders, "asc") == "desc"
	q.page(0)
	if err := q.err(); err != nil {
		return nil, err
	}
	recs, err := h.e.Snapshot().PendingFor(actor)
	if err != nil {
		return nil, err
	}
	if byProfile {
		recs = slices.DeleteFunc(recs, func(rec *model.AccessRecord) bool { return rec.Profile != profile })
	}
	return pagedRecords(q, recs, field, desc), nil
}

// countJSON is the answer of DELETE /dataSource/{id}/unsubscribe.
type countJSON struct {
	Count int `json:"count"`
}

func (h *handler) unsubscribe(w http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	ds, err := h.dataSourceID(r)
	if err != nil {
		return nil, err
	}
	if _, err := query(r); err != nil {
		return nil, err
	}
	n, err := h.e.Unsubscribe(actor, ds)
	if err != nil {
		return nil, err
	}
	return countJSON{Count: n}, nil
}

// pagedRecords sorts recs, counts them, pages them and renders the page.
func pagedRecords(q *params, recs []*model.AccessRecord, field string, desc bool) hitsJSON {
	slices.SortStableFunc(recs, func(a, b *model.AccessRecord) int {
		var c int
		switch field {
		case "createdAt":
			c = a.CreatedAt.Compare(b.CreatedAt)
		case "state":
			c = cmp.Compare(a.State, b.State)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
			if c == 0 {
				c = cmp.Compare(a.Profile, b.Profile)
			}
		}
		if desc {
			c = -c
		}
		return c
	})
	lo, hi := q.page(len(recs))
	out := hitsJSON{Count: len(recs), Hits: make([]any, 0, hi-lo)}
	for _, rec := range recs[lo:hi] {
		out.Hits = append(out.Hits, model.AccessRecordResponse(rec))
	}
	return out
}

// groupMembers returns the users in group id, ascending by id.
func groupMembers(s *engine.Snapshot, id int64) []*model.User {
	name := groupName(s, id)
	if name == "" {
		return nil
	}
	var out []*model.User
	for _, uid := range s.UserIDs() {
		if u, ok := s.User(uid); ok && slices.Contains(u.Groups, name) {
			out = append(out, u)
		}
	}
	return out
}

func groupName(s *engine.Snapshot, id int64) string {
	if g, ok := s.Group(id); ok {
		return g.Name
	}
	return ""
}

// principalName is the name of the user or group a record names.
func principalName(s *engine.Snapshot, rec *model.AccessRecord) string {
	if rec.Group != 0 {
		return groupName(s, rec.Group)
	}
	if u, ok := s.User(rec.Profile); ok {
		return u.Name
	}
	return ""
}
