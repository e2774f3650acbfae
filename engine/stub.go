package engine

import (
	"time"

	"github.com/tollgate-dev/tollgate/model"
)

// ---- contract stubs: replaced by the implementation ----

var errStub = ErrNotFound

// Engine holds the catalog, the directory, the policies and the access records.
type Engine struct{ cfg config }

// New returns an empty engine.
func New(opts ...Option) *Engine { return &Engine{} }

// Now returns the engine's clock reading.
func (e *Engine) Now() time.Time { return time.Time{} }

// LoadBundle sets up groups, users, data sources, policies (as System, ids 1, 2, ...)
// and grants from a bundle, all or nothing. A bundle with a state section is restored
// exactly (see Import).
func (e *Engine) LoadBundle(b *model.Bundle) error { return errStub }

// Export writes the whole state as a bundle.
func (e *Engine) Export() ([]byte, error) { return nil, errStub }

// Import replaces the state with an exported bundle, all or nothing.
func (e *Engine) Import(data []byte) error { return errStub }

// UserByAPIKey finds the user an API key authenticates.
func (e *Engine) UserByAPIKey(key string) (int64, bool) { return 0, false }

// CreatePolicy validates, compiles and stores a policy (or only computes the impact on a dry run).
func (e *Engine) CreatePolicy(a Actor, p *model.Policy, o WriteOptions) (*model.Policy, *Impact, error) {
	return nil, nil, errStub
}

// GetPolicy returns a stored policy.
func (e *Engine) GetPolicy(a Actor, id int64) (*model.Policy, error) { return nil, errStub }

// UpdatePolicy replaces a policy (PUT semantics).
func (e *Engine) UpdatePolicy(a Actor, id int64, p *model.Policy, o WriteOptions) (*model.Policy, *Impact, error) {
	return nil, nil, errStub
}

// DeletePolicy deletes a policy and returns it with Deleted set.
func (e *Engine) DeletePolicy(a Actor, id int64) (*model.Policy, error) { return nil, errStub }

// ApplyPolicy applies an owner-selected policy on a data source.
func (e *Engine) ApplyPolicy(a Actor, policyID, dataSourceID int64) error { return errStub }

// DisablePolicy disables a global policy on one data source.
func (e *Engine) DisablePolicy(a Actor, dataSourceID, policyID int64, reason string) error {
	return errStub
}

// EnablePolicy re-enables a disabled global policy on one data source.
func (e *Engine) EnablePolicy(a Actor, dataSourceID, policyID int64) error { return errStub }

// Access is POST /dataSource/{id}/access: a request (no State) or a manual grant.
func (e *Engine) Access(a Actor, dataSourceID int64, req *model.AccessRequest) (*model.AccessRecord, error) {
	return nil, errStub
}

// ChangeRecord is PUT /dataSource/{id}/access/{recordId}.
func (e *Engine) ChangeRecord(a Actor, dataSourceID, recordID int64, ch *model.RecordChange) (*model.AccessRecord, error) {
	return nil, errStub
}

// Approve fills approval slots, entry by entry.
func (e *Engine) Approve(a Actor, entries []model.ApproveEntry) ([]Failure, error) {
	return nil, errStub
}

// Deny denies pending requests, entry by entry.
func (e *Engine) Deny(a Actor, entries []model.DenyEntry) ([]Failure, error) { return nil, errStub }

// Records returns every access record in id order.
func (e *Engine) Records() []*model.AccessRecord { return nil }

// Decide returns what a user gets on a data source.
func (e *Engine) Decide(userID, dataSourceID int64) Decision { return Decision{} }

// AppliedPolicies returns the active policies applied on a data source, by id.
func (e *Engine) AppliedPolicies(dataSourceID int64) ([]*model.Policy, error) { return nil, errStub }

// PutDataSource inserts or replaces a data source.
func (e *Engine) PutDataSource(a Actor, ds *model.DataSource) error { return errStub }

// DeleteDataSource removes a data source and its records.
func (e *Engine) DeleteDataSource(a Actor, id int64) error { return errStub }

// PutUser inserts or replaces a user.
func (e *Engine) PutUser(a Actor, u *model.User) error { return errStub }

// DeleteUser removes a user.
func (e *Engine) DeleteUser(a Actor, id int64) error { return errStub }

// PutGroup inserts or replaces a group.
func (e *Engine) PutGroup(a Actor, g *model.Group) error { return errStub }

// DeleteGroup removes a group.
func (e *Engine) DeleteGroup(a Actor, id int64) error { return errStub }

// DataSourcesFor lists the data sources a user holds at least level on.
func (e *Engine) DataSourcesFor(userID int64, level Grant) []int64 { return nil }

// UsersFor lists the users holding at least level on a data source.
func (e *Engine) UsersFor(dataSourceID int64, level Grant) []int64 { return nil }

// CanWritePolicies reports whether a may create, update or delete policies:
// nil, ErrUnauthenticated or ErrForbidden. REST calls it before decoding a body so
// that 403 comes before 400.
func (e *Engine) CanWritePolicies(a Actor) error { return errStub }

// HasDataSource reports whether a data source exists.
func (e *Engine) HasDataSource(id int64) bool { return false }

// HasPolicy reports whether a live policy exists.
func (e *Engine) HasPolicy(id int64) bool { return false }
