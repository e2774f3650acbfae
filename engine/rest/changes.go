package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// MaxChangesWait is the longest wait GET /tollgate/v1/changes accepts.
const MaxChangesWait = 50 * time.Second

// ChangesJSON is the answer of GET /tollgate/v1/changes: the engine's revision when
// it answered and the log entries after since, in revision order.
type ChangesJSON struct {
	Revision int64           `json:"revision"`
	Changes  []engine.Change `json:"changes"`
}

// changes is GET /tollgate/v1/changes?since=&limit=&wait= for GOVERNANCE and AUDIT
// users: the change feed (see docs/api.md, Tollgate endpoints). wait (a duration
// such as 30s, at most MaxChangesWait) long-polls when nothing is newer than since.
// A since older than the retained log is 410: reload from the export.
func (h *handler) changes(_ http.ResponseWriter, r *http.Request, actor engine.Actor) (any, error) {
	u, ok := h.e.Snapshot().User(actor.ID)
	if !ok || !(hasPermission(u, model.Governance) || hasPermission(u, model.Audit)) {
		return nil, fmt.Errorf("%w: the change feed needs the GOVERNANCE or AUDIT permission", engine.ErrForbidden)
	}
	q, err := query(r, "since", "limit", "wait")
	if err != nil {
		return nil, err
	}
	since, _ := q.integer("since")
	limit := engine.MaxChanges
	if n, ok := q.integer("limit"); ok {
		if n < 1 || n > engine.MaxChanges {
			q.errs = append(q.errs, model.Invalid(model.NewPath("query").Child("limit"), n, fmt.Sprintf("must be from 1 to %d", engine.MaxChanges)))
		}
		limit = n
	}
	var wait time.Duration
	if s, ok := q.str("wait"); ok {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > MaxChangesWait {
			q.errs = append(q.errs, model.Invalid(model.NewPath("query").Child("wait"), s, fmt.Sprintf("must be a duration from 0s to %s, e.g. 30s", MaxChangesWait)))
		}
		wait = d
	}
	if err := q.err(); err != nil {
		return nil, err
	}
	rev := h.e.Snapshot().Revision()
	var list []engine.Change
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		list, err = h.e.WaitChanges(ctx, int64(since), limit)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
			err = nil
		}
		rev = h.e.Snapshot().Revision()
	} else {
		list, err = h.e.Changes(int64(since), limit)
	}
	if errors.Is(err, engine.ErrFellBehind) {
		return nil, statusError(http.StatusGone, "since %d is older than the retained change log; reload the state (GET /tollgate/v1/export) and follow from its revision", since)
	}
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []engine.Change{}
	}
	if n := len(list); n > 0 && list[n-1].Revision > rev {
		rev = list[n-1].Revision
	}
	return ChangesJSON{Revision: rev, Changes: list}, nil
}

func hasPermission(u *model.User, p model.Permission) bool {
	for _, x := range u.Permissions {
		if x == p {
			return true
		}
	}
	return false
}
