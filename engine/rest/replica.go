package rest

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Read your writes across replicas (see docs/operations.md, Replicas): every answer
// carries X-Tollgate-Revision; an authenticated request with X-Tollgate-Min-Revision:
// n is answered only once this instance's state is at revision n or later (the
// header is checked after authentication, so nobody unauthenticated makes the server
// wait).

const minRevisionHeader = "X-Tollgate-Min-Revision"

// MinRevisionWait is how long a request with X-Tollgate-Min-Revision waits for this
// instance to reach that revision before it is answered 503.
const MinRevisionWait = 5 * time.Second

// ReplicaLagBound is how long ago an engine that follows its store (several
// instances on one database) may have last synced with it and still be ready
// (GET /readyz).
const ReplicaLagBound = 5 * time.Second

// awaitMinRevision waits for the revision an authenticated request asks for, if
// any: a 400 error for a bad header, a 503 one (with Retry-After) when the revision
// is not reached in time.
func (h *handler) awaitMinRevision(w http.ResponseWriter, r *http.Request) error {
	vals := r.Header.Values(minRevisionHeader)
	if len(vals) == 0 {
		return nil
	}
	if len(vals) > 1 {
		return statusError(http.StatusBadRequest, "header %s: given more than once", minRevisionHeader)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(vals[0]), 10, 64)
	if err != nil || n < 0 {
		return statusError(http.StatusBadRequest, "header %s: must be a revision (an integer, 0 or more), got %s",
			minRevisionHeader, quoteShort(vals[0]))
	}
	if h.e.Snapshot().Revision() >= n {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), MinRevisionWait)
	defer cancel()
	if _, err := h.e.WaitRevision(ctx, n); err != nil {
		w.Header().Set("Retry-After", "1")
		return statusError(http.StatusServiceUnavailable, "this instance is at revision %d and did not reach revision %d within %v",
			h.e.Snapshot().Revision(), n, MinRevisionWait)
	}
	return nil
}

// quoteShort quotes at most 40 bytes of an input.
func quoteShort(s string) string {
	if len(s) > 40 {
		return strconv.Quote(s[:40]) + "..."
	}
	return strconv.Quote(s)
}

// replicaProblem says why an engine following its store is not ready ("" when it
// is, or when it does not follow a store).
func (h *handler) replicaProblem() string {
	st := h.e.ReplicaStatus()
	if !st.Following {
		return ""
	}
	if st.LastError != nil {
		return "the store is unreachable: " + st.LastError.Error()
	}
	if st.LastSync.IsZero() {
		return "not synced with the store yet"
	}
	if lag := time.Since(st.LastSync); lag > ReplicaLagBound {
		return fmt.Sprintf("last synced with the store %v ago (bound %v)", lag.Round(time.Millisecond), ReplicaLagBound)
	}
	return ""
}
