package engine

import (
	"fmt"
	"sort"

	"github.com/tollgate-dev/tollgate/model"
)

// PutDataSource inserts or replaces a data source. Allowed to GOVERNANCE users, to
// an owner of the existing data source, and, for a new one, to CREATE_DATA_SOURCE
// users. Its applicability is computed through the policy index.
func (e *Engine) PutDataSource(a Actor, ds *model.DataSource) error {
	return e.PutDataSources(a, []*model.DataSource{ds})
}

// PutDataSources puts many data sources in one atomic write.
func (e *Engine) PutDataSources(a Actor, list []*model.DataSource) error {
	return e.write(a, "putDataSource", func(t *txn, ai actorInfo) error { return t.putDataSources(ai, list) })
}

func (t *txn) putDataSources(ai actorInfo, list []*model.DataSource) error {
	for _, ds := range list {
		if ai.has(permGovernance) || ds == nil {
			continue
		}
		if old, ok := t.dataSources.Get(ds.ID); ok {
			if !t.view().owns(ai.id, old, t.now) {
				return fmt.Errorf("%w: changing data source %d needs an owner or the GOVERNANCE permission", ErrForbidden, ds.ID)
			}
		} else if !ai.has(permCreateDataSource) {
			return fmt.Errorf("%w: creating a data source needs the CREATE_DATA_SOURCE or GOVERNANCE permission", ErrForbidden)
		}
	}
	return putAll(list, "dataSources", model.ValidateDataSource, t.putDS)
}

// putAll validates every item of list (at path name[i]) and, when all are valid,
// puts each one: all or nothing.
func putAll[T any](list []T, name string, validate func(T, model.Path) model.ErrorList, put func(T)) error {
	var errs model.ErrorList
	for i, v := range list {
		errs = append(errs, validate(v, model.NewPath(name).Index(i))...)
	}
	if len(errs) > 0 {
		return errs
	}
	for _, v := range list {
		put(v)
	}
	return nil
}

func cloneDataSource(ds *model.DataSource) *model.DataSource {
	c := *ds
	c.Owners = append([]int64(nil), ds.Owners...)
	c.Tags = append([]string(nil), ds.Tags...)
	c.Columns = append([]model.Column(nil), ds.Columns...)
	c.Domains = append([]model.Domain(nil), ds.Domains...)
	c.SelectedPolicies = append([]string(nil), ds.SelectedPolicies...)
	c.DisabledPolicies = append([]model.DisabledPolicy(nil), ds.DisabledPolicies...)
	return &c
}

// putDS stores a (validated) data source, keeping the writer-owned indexes in step.
func (t *txn) putDS(in *model.DataSource) {
	ds := cloneDataSource(in)
	if ds.CreatedAt.IsZero() {
		ds.CreatedAt = t.now
	}
	t.dirty = true
	old, ok := t.dataSources.Get(ds.ID)
	if ok {
		t.e.unindexKeys(old.ds)
	}
	t.e.indexKeys(ds)
	d := t.newDSState(ds, old)
	t.e.cix.Put(d.target)
	t.storeDS(d)
}

// DeleteDataSource removes a data source and every access record on it
// (GOVERNANCE or an owner).
func (e *Engine) DeleteDataSource(a Actor, id int64) error {
	return e.write(a, "deleteDataSource", func(t *txn, ai actorInfo) error {
		d, ok := t.dataSources.Get(id)
		if !ok {
			return fmt.Errorf("%w: no data source with id %d", ErrNotFound, id)
		}
		if err := t.base.ownerOrGovernance(ai, d, "deleting a data source"); err != nil {
			return err
		}
		t.dropDataSource(d)
		return nil
	})
}

// dropDataSource removes data source d, its index entries and every access record
// on it.
func (t *txn) dropDataSource(d *dsState) {
	id := d.ds.ID
	t.dirty = true
	t.e.unindexKeys(d.ds)
	t.e.cix.Remove(id)
	delete(t.e.indet, id)
	t.dataSources.Del(id)
	t.base.records.Each(func(rid int64, r *model.AccessRecord) bool {
		if r.DataSourceID == id {
			t.records.Del(rid)
			if r.Group == 0 {
				t.userRecs.Del(pairKey(id, r.Profile))
			}
		}
		return true
	})
}

// PutUser inserts or replaces a user (GOVERNANCE or USER_ADMIN). The engine keeps
// the user's APIKeyHash as given and never derives one: API keys are checked by the
// REST layer (see docs/security.md, Credentials).
func (e *Engine) PutUser(a Actor, u *model.User) error { return e.PutUsers(a, []*model.User{u}) }

// PutUsers puts many users in one atomic write.
func (e *Engine) PutUsers(a Actor, list []*model.User) error {
	return e.write(a, "putUser", func(t *txn, ai actorInfo) error { return t.putUsers(ai, list) })
}

func (t *txn) putUsers(ai actorInfo, list []*model.User) error {
	if err := directoryAdmin(ai, "users"); err != nil {
		return err
	}
	return putAll(list, "users", model.ValidateUser, t.putUser)
}

func cloneUser(u *model.User) *model.User {
	c := *u
	c.Permissions = append([]model.Permission(nil), u.Permissions...)
	c.Groups = append([]string(nil), u.Groups...)
	if u.Attributes != nil {
		c.Attributes = make(map[string][]string, len(u.Attributes))
		for k, v := range u.Attributes {
			c.Attributes[k] = append([]string(nil), v...)
		}
	}
	return &c
}

func (t *txn) putUser(in *model.User) {
	u := cloneUser(in)
	t.dirty = true
	if old, ok := t.users.Get(u.ID); ok {
		t.unindexUser(old)
	}
	for _, g := range u.Groups {
		addSet(t.e.members, g, u.ID)
	}
	t.users.Set(u.ID, t.userState(u))
}

// directoryAdmin is the permission of user and group writes: USER_ADMIN or GOVERNANCE.
func directoryAdmin(ai actorInfo, what string) error {
	if ai.has(permGovernance) || ai.has(permUserAdmin) {
		return nil
	}
	return fmt.Errorf("%w: managing %s needs the USER_ADMIN or GOVERNANCE permission", ErrForbidden, what)
}

// unindexUser drops a stored user from the group-member index.
func (t *txn) unindexUser(old *userState) {
	for _, g := range old.u.Groups {
		delSet(t.e.members, g, old.u.ID)
	}
}

// userState derives what rules evaluate from a user and the current groups.
func (t *txn) userState(u *model.User) *userState {
	byName := map[string]*model.Group{}
	var gids []int64
	for _, name := range u.Groups {
		if id, ok := t.groupByName.Get(name); ok {
			byName[name], _ = t.groups.Get(id)
			gids = append(gids, id)
		}
	}
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	return newUserState(u, t.e.syms.Subject(u, byName), gids)
}

// DeleteUser removes a user (GOVERNANCE or USER_ADMIN) and ends every access record
// naming them (state denied, denialReasoning "principal deleted"), so a user created
// later with the same id inherits nothing (see docs/semantics.md, Manual grants).
func (e *Engine) DeleteUser(a Actor, id int64) error {
	return e.write(a, "deleteUser", func(t *txn, ai actorInfo) error {
		if err := directoryAdmin(ai, "users"); err != nil {
			return err
		}
		old, ok := t.users.Get(id)
		if !ok {
			return fmt.Errorf("%w: no user with id %d", ErrNotFound, id)
		}
		t.dirty = true
		t.unindexUser(old)
		t.users.Del(id)
		t.endRecords(DenialPrincipalDeleted, func(r *model.AccessRecord) bool { return r.Group == 0 && r.Profile == id })
		return nil
	})
}

// DenialPrincipalDeleted is the denialReasoning of a record ended because the user
// or group it names was deleted.
const DenialPrincipalDeleted = "principal deleted"

// endRecords ends every record that is not denied yet and that naming selects:
// state denied, denialReasoning reason. It returns how many it ended.
func (t *txn) endRecords(reason string, naming func(r *model.AccessRecord) bool) int {
	var ended []*model.AccessRecord
	t.base.records.Each(func(_ int64, r *model.AccessRecord) bool {
		if r.State != model.RecordDenied && naming(r) {
			ended = append(ended, r)
		}
		return true
	})
	for _, r := range ended {
		c := cloneRecord(r)
		c.State, c.Approved, c.DenialReasoning, c.UpdatedAt = model.RecordDenied, false, reason, t.now
		t.storeRecord(c)
	}
	return len(ended)
}

// PutGroup inserts or replaces a group (GOVERNANCE or USER_ADMIN); its members'
// inherited attributes are recomputed.
func (e *Engine) PutGroup(a Actor, g *model.Group) error { return e.PutGroups(a, []*model.Group{g}) }

// PutGroups puts many groups in one atomic write.
func (e *Engine) PutGroups(a Actor, list []*model.Group) error {
	return e.write(a, "putGroup", func(t *txn, ai actorInfo) error { return t.putGroups(ai, list) })
}

func (t *txn) putGroups(ai actorInfo, list []*model.Group) error {
	if err := directoryAdmin(ai, "groups"); err != nil {
		return err
	}
	var errs model.ErrorList
	names := map[string]int64{}
	renames := map[int64]string{} // group id -> its name after this write
	for _, g := range list {
		if g != nil {
			renames[g.ID] = g.Name
		}
	}
	for i, g := range list {
		p := model.NewPath("groups").Index(i)
		errs = append(errs, model.ValidateGroup(g, p)...)
		if g == nil {
			continue
		}
		if other, ok := names[g.Name]; ok && other != g.ID {
			errs = append(errs, model.Duplicate(p.Child("name"), g.Name))
		}
		names[g.Name] = g.ID
		// The name of another stored group is free only when this write renames it.
		if other, ok := t.groupByName.Get(g.Name); ok && other != g.ID {
			if to, renamed := renames[other]; !renamed || to == g.Name {
				errs = append(errs, model.Invalid(p.Child("name"), g.Name, fmt.Sprintf("is already the name of group %d", other)))
			}
		}
	}
	if len(errs) > 0 {
		return errs
	}
	touched := map[int64]struct{}{}
	for _, in := range list {
		g := *in
		if old, ok := t.groups.Get(g.ID); ok {
			t.groupByName.Del(old.Name)
			for u := range t.e.members[old.Name] {
				touched[u] = struct{}{}
			}
		}
		t.groups.Set(g.ID, &g)
		t.groupByName.Set(g.Name, g.ID)
		for u := range t.e.members[g.Name] {
			touched[u] = struct{}{}
		}
	}
	t.refreshUsers(touched)
	return nil
}

func (t *txn) refreshUsers(ids map[int64]struct{}) {
	for id := range ids {
		if us, ok := t.users.Get(id); ok {
			t.users.Set(id, t.userState(us.u))
		}
	}
}

// DeleteGroup removes a group (GOVERNANCE or USER_ADMIN); members lose its attributes,
// and every access record granted to the group ends (state denied, denialReasoning
// "principal deleted"), so a group created later with the same id inherits nothing.
func (e *Engine) DeleteGroup(a Actor, id int64) error {
	return e.write(a, "deleteGroup", func(t *txn, ai actorInfo) error {
		if err := directoryAdmin(ai, "groups"); err != nil {
			return err
		}
		g, ok := t.groups.Get(id)
		if !ok {
			return fmt.Errorf("%w: no group with id %d", ErrNotFound, id)
		}
		t.groups.Del(id)
		t.groupByName.Del(g.Name)
		t.refreshUsers(t.e.members[g.Name])
		t.endRecords(DenialPrincipalDeleted, func(r *model.AccessRecord) bool { return r.Group == id })
		return nil
	})
}

// ApplyPolicy applies an owner-selected policy on a data source (an owner of it or
// GOVERNANCE). A policy that is not owner-selected is a validation error.
func (e *Engine) ApplyPolicy(a Actor, policyID, dataSourceID int64) error {
	return e.retry(func() error { return e.applyPolicyOnce(a, policyID, dataSourceID) })
}

// applyPolicyOnce is one attempt of ApplyPolicy (see retry).
func (e *Engine) applyPolicyOnce(a Actor, policyID, dataSourceID int64) (err error) {
	t := e.begin()
	defer t.end(&err)
	d, p, err := t.dsPolicyCall(a, dataSourceID, policyID, "applying a policy")
	if err == nil && !p.p.OwnerSelected() {
		err = model.ErrorList{model.Invalid("policyId", policyID, "is not an owner-selected policy (it has no circumstance of type null)")}
	}
	if err == nil && !selectedHere(d.ds, p.p.Key) {
		ds := cloneDataSource(d.ds)
		ds.SelectedPolicies = append(ds.SelectedPolicies, p.p.Key)
		t.putDS(ds)
	}
	return t.finish(a, "applyPolicy", err)
}

// dsPolicyCall runs the checks of a call on one data source and one policy in the
// order 401, 404 (data source), 403 (owner or GOVERNANCE), 404 (policy).
func (t *txn) dsPolicyCall(a Actor, dsID, policyID int64, what string) (*dsState, *policyState, error) {
	ai, d, err := t.base.actorOn(a, dsID)
	if err != nil {
		return nil, nil, err
	}
	if err := t.base.ownerOrGovernance(ai, d, what); err != nil {
		return nil, nil, err
	}
	p, ok := t.policies.Get(policyID)
	if !ok {
		return nil, nil, fmt.Errorf("%w: no policy with id %d", ErrNotFound, policyID)
	}
	return d, p, nil
}

// DisablePolicy disables a global policy on one data source, with a reason (an owner
// of it or GOVERNANCE). The policy then does not apply there.
func (e *Engine) DisablePolicy(a Actor, dataSourceID, policyID int64, reason string) error {
	return e.retry(func() error { return e.disablePolicyOnce(a, dataSourceID, policyID, reason) })
}

// disablePolicyOnce is one attempt of DisablePolicy (see retry).
func (e *Engine) disablePolicyOnce(a Actor, dataSourceID, policyID int64, reason string) (err error) {
	t := e.begin()
	defer t.end(&err)
	d, p, err := t.dsPolicyCall(a, dataSourceID, policyID, "disabling a policy")
	if err == nil && reason == "" {
		err = model.ErrorList{model.Required("reason", "a reason is required to disable a policy")}
	}
	if err == nil {
		ds := cloneDataSource(d.ds)
		kept := ds.DisabledPolicies[:0]
		for _, x := range ds.DisabledPolicies {
			if x.PolicyKey != p.p.Key {
				kept = append(kept, x)
			}
		}
		ds.DisabledPolicies = append(kept, model.DisabledPolicy{PolicyKey: p.p.Key, Reason: reason})
		t.putDS(ds)
	}
	return t.finish(a, "disablePolicy", err)
}

// EnablePolicy re-enables a global policy disabled on one data source.
func (e *Engine) EnablePolicy(a Actor, dataSourceID, policyID int64) error {
	return e.retry(func() error { return e.enablePolicyOnce(a, dataSourceID, policyID) })
}

// enablePolicyOnce is one attempt of EnablePolicy (see retry).
func (e *Engine) enablePolicyOnce(a Actor, dataSourceID, policyID int64) (err error) {
	t := e.begin()
	defer t.end(&err)
	d, p, err := t.dsPolicyCall(a, dataSourceID, policyID, "enabling a policy")
	if err == nil && disabledHere(d.ds, p.p.Key) {
		ds := cloneDataSource(d.ds)
		kept := ds.DisabledPolicies[:0]
		for _, x := range ds.DisabledPolicies {
			if x.PolicyKey != p.p.Key {
				kept = append(kept, x)
			}
		}
		ds.DisabledPolicies = kept
		t.putDS(ds)
	}
	return t.finish(a, "enablePolicy", err)
}

// AppliedPolicies returns the active policies applied on a data source, by id.
func (e *Engine) AppliedPolicies(dataSourceID int64) ([]*model.Policy, error) {
	return e.cur.Load().AppliedPolicies(dataSourceID)
}

// AppliedPolicies returns the active policies applied on a data source, by id.
func (s *Snapshot) AppliedPolicies(dataSourceID int64) ([]*model.Policy, error) {
	d, ok := s.dataSources.Get(dataSourceID)
	if !ok {
		return nil, fmt.Errorf("%w: no data source with id %d", ErrNotFound, dataSourceID)
	}
	out := make([]*model.Policy, 0, d.appliedCount())
	d.eachApplied(func(p *policyState) { out = append(out, p.p) })
	return out, nil
}

// Indeterminate returns the error that makes a data source indeterminate, or nil.
func (s *Snapshot) Indeterminate(dataSourceID int64) error {
	d, ok := s.dataSources.Get(dataSourceID)
	if !ok || len(d.indet()) == 0 {
		return nil
	}
	return d.indet()[0].err
}
