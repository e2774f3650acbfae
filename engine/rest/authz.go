package rest

import (
	"fmt"
	"slices"

	"github.com/tollgate-dev/tollgate/engine"
	"github.com/tollgate-dev/tollgate/model"
)

// The role checks REST makes before it reads a body, so that what the caller's
// role alone refuses (403) comes before 404 and 400 (see docs/api.md, Errors). They
// read one engine snapshot; the engine checks again when it writes.

// caller returns the user an actor is; a caller that is not a user is
// ErrUnauthenticated.
func caller(s *engine.Snapshot, a engine.Actor) (*model.User, error) {
	u, ok := s.User(a.ID)
	if !ok || a.ID == 0 {
		return nil, fmt.Errorf("%w: no user with id %d", engine.ErrUnauthenticated, a.ID)
	}
	return u, nil
}

// policyWriter refuses a caller who may not create, update or delete policies
// (GOVERNANCE only).
func policyWriter(s *engine.Snapshot, a engine.Actor) error {
	u, err := caller(s, a)
	if err != nil {
		return err
	}
	if !slices.Contains(u.Permissions, model.Governance) {
		return fmt.Errorf("%w: managing global policies needs the GOVERNANCE permission", engine.ErrForbidden)
	}
	return nil
}

// manager refuses a caller who is neither a GOVERNANCE user nor an owner of data
// source ds (which must exist: ErrNotFound otherwise); what names the operation.
func manager(s *engine.Snapshot, a engine.Actor, ds int64, what string) error {
	u, err := caller(s, a)
	if err != nil {
		return err
	}
	if _, ok := s.DataSource(ds); !ok {
		return fmt.Errorf("%w: no data source with id %d", engine.ErrNotFound, ds)
	}
	if slices.Contains(u.Permissions, model.Governance) || s.Owns(a.ID, ds) {
		return nil
	}
	return fmt.Errorf("%w: %s on data source %d needs an owner of it or the GOVERNANCE permission", engine.ErrForbidden, what, ds)
}
