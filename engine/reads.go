package engine

import (
	"slices"

	"github.com/tollgate-dev/tollgate/engine/internal/cowmap"
	"github.com/tollgate-dev/tollgate/model"
)

// The read API. Every read is a method of Snapshot: take one with Engine.Snapshot
// and ask it several questions to get answers that agree with each other. The
// values returned are the stored ones, shared and never modified: treat them as
// read-only. Engine's read methods are shorthands that read the current snapshot.

// sortedKeys returns the keys of m, ascending.
func sortedKeys[V any](m cowmap.Map[V]) []int64 {
	ids := m.Keys()
	slices.Sort(ids)
	return ids
}

// values returns the values of m in ascending key order, through get.
func values[V, T any](m cowmap.Map[V], get func(V) T) []T {
	ids := sortedKeys(m)
	out := make([]T, len(ids))
	for i, id := range ids {
		v, _ := m.Get(id)
		out[i] = get(v)
	}
	return out
}

// Policies returns every live policy (staged included), ascending by id.
func (s *Snapshot) Policies() []*model.Policy {
	return values(s.policies, func(p *policyState) *model.Policy { return p.p })
}

// Policy returns the live policy with id.
func (s *Snapshot) Policy(id int64) (*model.Policy, bool) {
	p, ok := s.policies.Get(id)
	if !ok {
		return nil, false
	}
	return p.p, true
}

// PolicyByKey returns the live policy whose policyKey is key.
func (s *Snapshot) PolicyByKey(key string) (*model.Policy, bool) {
	id, ok := s.keys.Get(key)
	if !ok {
		return nil, false
	}
	return s.Policy(id)
}

// Groups returns every group, ascending by id.
func (s *Snapshot) Groups() []*model.Group {
	return values(s.groups, func(g *model.Group) *model.Group { return g })
}

// Group returns the group with id.
func (s *Snapshot) Group(id int64) (*model.Group, bool) { return s.groups.Get(id) }

// GroupByName returns the group named name.
func (s *Snapshot) GroupByName(name string) (*model.Group, bool) {
	id, ok := s.groupByName.Get(name)
	if !ok {
		return nil, false
	}
	return s.groups.Get(id)
}

// DataSources returns every data source, ascending by id.
func (s *Snapshot) DataSources() []*model.DataSource {
	return values(s.dataSources, func(d *dsState) *model.DataSource { return d.ds })
}

// DataSource returns the data source with id.
func (s *Snapshot) DataSource(id int64) (*model.DataSource, bool) {
	d, ok := s.dataSources.Get(id)
	if !ok {
		return nil, false
	}
	return d.ds, true
}

// DataSourceIDs returns every data source id, ascending.
func (s *Snapshot) DataSourceIDs() []int64 { return sortedKeys(s.dataSources) }

// Users returns every user, ascending by id.
func (s *Snapshot) Users() []*model.User {
	return values(s.users.m, func(u userSlot) *model.User { return u.st.u })
}

// User returns the user with id.
func (s *Snapshot) User(id int64) (*model.User, bool) {
	u, ok := s.users.Get(id)
	if !ok {
		return nil, false
	}
	return u.u, true
}

// UserIDs returns every user id, ascending.
func (s *Snapshot) UserIDs() []int64 { return sortedKeys(s.users.m) }

// Owns reports whether user userID owns data source dataSourceID: listed among its
// owners, or holding a live manual grant with state owner (directly or through a
// group), at the engine clock's current time.
func (s *Snapshot) Owns(userID, dataSourceID int64) bool {
	d, ok := s.dataSources.Get(dataSourceID)
	return ok && userID != 0 && s.owns(userID, d, s.cfg.now())
}

// DataSourcesFor is Snapshot().DataSourcesFor.
func (e *Engine) DataSourcesFor(userID int64, level Level) []int64 {
	return e.Snapshot().DataSourcesFor(userID, level)
}

// UsersFor is Snapshot().UsersFor.
func (e *Engine) UsersFor(dataSourceID int64, level Level) []int64 {
	return e.Snapshot().UsersFor(dataSourceID, level)
}
