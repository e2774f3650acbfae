package engine

import (
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/tollgate-dev/tollgate/internal/rule"
	"github.com/tollgate-dev/tollgate/model"
)

// actorOn resolves the actor and the data source of a call on one data source, in
// the order 401 (ErrUnauthenticated), 404 (ErrNotFound).
func (s *Snapshot) actorOn(a Actor, dataSourceID int64) (actorInfo, *dsState, error) {
	ai, err := s.actor(a)
	if err != nil {
		return ai, nil, err
	}
	d, ok := s.dataSources.Get(dataSourceID)
	if !ok {
		return ai, nil, fmt.Errorf("%w: no data source with id %d", ErrNotFound, dataSourceID)
	}
	return ai, d, nil
}

// ownerOrGovernance is the permission of grants, record changes, applyPolicy and
// disables: an owner of the data source or a GOVERNANCE user.
func (s *Snapshot) ownerOrGovernance(ai actorInfo, d *dsState, what string) error {
	if ai.has(permGovernance) || s.owns(ai.id, d, s.cfg.now()) {
		return nil
	}
	return fmt.Errorf("%w: %s needs an owner of data source %d or the GOVERNANCE permission", ErrForbidden, what, d.ds.ID)
}

// Access is POST /dataSource/{id}/access (see docs/semantics.md, Requests and Manual grants): without a State it is
// a request by a for themselves, judged against the policies; with a State it is a
// manual grant to req.ProfileID or req.GroupID (default: a), allowed to owners and
// GOVERNANCE users. A request when a already has a live record of their own at that
// level returns that record and creates nothing.
func (e *Engine) Access(a Actor, dataSourceID int64, req AccessRequest) (rec *model.AccessRecord, err error) {
	err = e.retry(func() error { rec, err = e.accessOnce(a, dataSourceID, req); return err })
	return rec, err
}

// accessOnce is one attempt of Access (see retry).
func (e *Engine) accessOnce(a Actor, dataSourceID int64, req AccessRequest) (_ *model.AccessRecord, err error) {
	t := e.begin()
	defer t.end(&err)
	s := t.base
	ai, d, err := s.actorOn(a, dataSourceID)
	if err != nil {
		return nil, err
	}
	if req.State != "" {
		if err := s.ownerOrGovernance(ai, d, "a manual grant"); err != nil {
			return nil, err
		}
	}
	level := req.AccessGrant
	if level == "" {
		level = model.Read
	}
	if level != model.Read && level != model.Write {
		return nil, model.ErrorList{model.NotSupported("accessGrant", string(level), []string{"READ", "WRITE"})}
	}
	var rec *model.AccessRecord
	created := true
	if req.State == "" {
		rec, created, err = t.request(ai, d, level, &req)
	} else {
		rec, err = t.grant(ai, d, level, &req)
	}
	if err != nil || !created {
		return rec, err
	}
	if err := t.commit(a, "access"); err != nil {
		return nil, err
	}
	return rec, nil
}

func (t *txn) newRecordID() int64 {
	id := t.nextRecord
	t.nextRecord++
	return id
}

// storeRecord stores a new or changed record and keeps the per-user and per-group
// lists in step.
func (t *txn) storeRecord(r *model.AccessRecord) {
	old, existed := t.records.Get(r.ID)
	t.records.Set(r.ID, r)
	if r.Group != 0 {
		d, ok := t.dataSources.Get(r.DataSourceID)
		if !ok {
			return
		}
		nd := d.clone()
		grants := replaceRecord(d.groupGrants(), r, existed && old.Group != 0)
		nd.setRare(func(x *dsRare) { x.groupGrants = grants })
		t.dataSources.Set(nd.ds.ID, nd)
		return
	}
	k := pairKey(r.DataSourceID, r.Profile)
	list, _ := t.userRecs.Get(k)
	t.userRecs.Set(k, replaceRecord(list, r, existed))
	if !existed {
		if d, ok := t.dataSources.Get(r.DataSourceID); ok {
			nd := d.clone()
			nd.setRare(func(x *dsRare) { x.userRecords++ })
			t.dataSources.Set(nd.ds.ID, nd)
		}
	}
}

func replaceRecord(list []*model.AccessRecord, r *model.AccessRecord, existed bool) []*model.AccessRecord {
	out := make([]*model.AccessRecord, 0, len(list)+1)
	for _, x := range list {
		if existed && x.ID == r.ID {
			continue
		}
		out = append(out, x)
	}
	out = append(out, r)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (t *txn) request(ai actorInfo, d *dsState, level model.AccessGrant, req *AccessRequest) (*model.AccessRecord, bool, error) {
	s := t.view()
	var errs model.ErrorList
	if req.ProfileID != 0 && req.ProfileID != ai.id {
		errs = append(errs, model.Invalid("profileId", req.ProfileID, "is not the caller: a request is made by the caller for themselves (a grant needs state)"))
	}
	if req.GroupID != 0 {
		errs = append(errs, model.Forbidden("groupId", "a request is made by the caller for themselves; a grant to a group needs state"))
	}
	if len(errs) > 0 {
		return nil, false, errs
	}
	u, ok := s.users.Get(ai.id)
	if !ok {
		return nil, false, fmt.Errorf("%w: the built-in actor cannot request access", ErrForbidden)
	}
	// A live record of the caller's own at this level is answered as it is.
	recs, _ := s.userRecs.Get(pairKey(d.ds.ID, ai.id))
	for _, r := range recs {
		if r.Profile != ai.id || r.DataSourceID != d.ds.ID || r.AccessGrant != level {
			continue
		}
		// A pending request past its expiration is no longer pending: a new request
		// makes a new record (see docs/semantics.md, Expirations).
		if (r.State == model.RecordPending || r.State == model.RecordSubscribed) && live(r, t.now) {
			return r, false, nil
		}
	}
	res := s.levelResult(u, d, level)
	rec := &model.AccessRecord{DataSourceID: d.ds.ID, Profile: ai.id, Policy: true,
		AccessGrant: level, CreatedAt: t.now, UpdatedAt: t.now, Expiration: req.Expiration}
	switch res.Outcome {
	case rule.Satisfied:
		if len(req.Approvers) > 0 {
			return nil, false, model.ErrorList{model.Invalid("approvals", nil,
				fmt.Sprintf("names %d specific approvers; the request needs none (its outcome needs no approval)", len(req.Approvers)))}
		}
		rec.State, rec.Approved = model.RecordSubscribed, true
	case rule.NeedsApproval:
		slots, err := t.slots(ai, d, res.Slots, req.Approvers)
		if err != nil {
			return nil, false, err
		}
		rec.State, rec.Approvals = model.RecordPending, slots
	default:
		why := "no subscription policy lets this user subscribe"
		if in := d.indet(); len(in) > 0 {
			why = "the data source is indeterminate: " + in[0].err.Error()
		} else if res.Outcome == rule.NeedsManual {
			why = "access needs a manual grant by an owner"
		} else if d.nRead+d.nWrite > 0 {
			why = "the user does not meet the policies of data source"
		}
		return nil, false, fmt.Errorf("%w: %s (level %s)", ErrForbidden, why, level)
	}
	rec.ID = t.newRecordID()
	t.storeRecord(rec)
	return rec, true, nil
}

// slots builds the approval slots of a new request, checking the named specific
// approvers: one per slot that requires one, in slot order; each must exist, hold the
// slot's permission and not be the requester.
func (t *txn) slots(ai actorInfo, d *dsState, need []model.Approval, named []int64) ([]model.ApprovalSlot, error) {
	s := t.view()
	var errs model.ErrorList
	nSpecific := 0
	for _, a := range need {
		if a.SpecificApproverRequired {
			nSpecific++
		}
	}
	if len(named) != nSpecific {
		return nil, model.ErrorList{model.Invalid("approvals", nil,
			fmt.Sprintf("names %d specific approvers; the request needs exactly %d (one per approval slot with specificApproverRequired, in slot order)", len(named), nSpecific))}
	}
	out := make([]model.ApprovalSlot, len(need))
	j := 0
	for i, a := range need {
		out[i] = model.ApprovalSlot{RequiredPermission: a.RequiredPermission, SpecificApproverRequired: a.SpecificApproverRequired, State: model.SlotPending}
		if !a.SpecificApproverRequired {
			continue
		}
		id := named[j]
		p := model.NewPath("approvals").Index(j).Child("specificApprover")
		j++
		switch {
		case id == ai.id:
			errs = append(errs, model.Invalid(p, id, "is the requester, who cannot approve their own request"))
		case !s.canFill(id, d, a.RequiredPermission):
			if _, ok := s.users.Get(id); !ok {
				errs = append(errs, model.Invalid(p, id, "is not a user"))
			} else {
				errs = append(errs, model.Invalid(p, id, fmt.Sprintf("does not hold the permission %s the approval slot requires", a.RequiredPermission)))
			}
		}
		out[i].SpecificApprover = id
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}

// canFill reports whether user id holds perm on d (OWNER = an owner of d).
func (s *Snapshot) canFill(id int64, d *dsState, perm model.Permission) bool {
	u, ok := s.users.Get(id)
	if !ok {
		return false
	}
	if perm == model.Owner {
		return s.owns(id, d, s.cfg.now())
	}
	return u.perms&permBit(perm) != 0
}

func (t *txn) grant(ai actorInfo, d *dsState, level model.AccessGrant, req *AccessRequest) (*model.AccessRecord, error) {
	s := t.view()
	if err := s.ownerOrGovernance(ai, d, "a manual grant"); err != nil {
		return nil, err
	}
	switch req.State {
	case model.RecordSubscribed, model.RecordExpert, model.RecordOwner:
	default:
		return nil, model.ErrorList{model.NotSupported("state", string(req.State), []string{"subscribed", "expert", "owner"})}
	}
	rec := &model.AccessRecord{DataSourceID: d.ds.ID, State: req.State, IsSubscriptionOverride: true,
		Approved: true, AccessGrant: level, Expiration: req.Expiration, CreatedAt: t.now, UpdatedAt: t.now}
	admin := ai.id
	rec.Admin = &admin
	switch {
	case req.ProfileID != 0 && req.GroupID != 0:
		return nil, model.ErrorList{model.Forbidden("groupId", "give profileId or groupId, not both")}
	case req.GroupID != 0:
		if _, ok := s.groups.Get(req.GroupID); !ok {
			return nil, model.ErrorList{model.Invalid("groupId", req.GroupID, "is not a group")}
		}
		rec.Group = req.GroupID
	case req.ProfileID != 0:
		if _, ok := s.users.Get(req.ProfileID); !ok {
			return nil, model.ErrorList{model.Invalid("profileId", req.ProfileID, "is not a user")}
		}
		rec.Profile = req.ProfileID
	default:
		if ai.system {
			return nil, model.ErrorList{model.Required("profileId", "is required when the caller is not a user (or give groupId)")}
		}
		rec.Profile = ai.id
	}
	rec.ID = t.newRecordID()
	t.storeRecord(rec)
	return rec, nil
}

// ChangeRecord is PUT /dataSource/{id}/access/{recordId} by an owner or a GOVERNANCE
// user: state denied revokes the record; state subscribed on a pending request
// approves it outright; expiration, when given, is set.
func (e *Engine) ChangeRecord(a Actor, dataSourceID, recordID int64, ch *model.RecordChange) (rec *model.AccessRecord, err error) {
	err = e.retry(func() error { rec, err = e.changeRecordOnce(a, dataSourceID, recordID, ch); return err })
	return rec, err
}

// changeRecordOnce is one attempt of ChangeRecord (see retry).
func (e *Engine) changeRecordOnce(a Actor, dataSourceID, recordID int64, ch *model.RecordChange) (_ *model.AccessRecord, err error) {
	if ch == nil {
		ch = &model.RecordChange{}
	}
	t := e.begin()
	defer t.end(&err)
	s := t.base
	ai, d, err := s.actorOn(a, dataSourceID)
	if err != nil {
		return nil, err
	}
	if err := s.ownerOrGovernance(ai, d, "changing an access record"); err != nil {
		return nil, err
	}
	old, ok := s.records.Get(recordID)
	if !ok || old.DataSourceID != dataSourceID {
		return nil, fmt.Errorf("%w: no access record %d on data source %d", ErrNotFound, recordID, dataSourceID)
	}
	if old.State == model.RecordDenied {
		return nil, model.ErrorList{model.Invalid("state", nil, fmt.Sprintf(
			"access record %d is denied, which is final; a new grant or request makes a new record", recordID))}
	}
	if ch.State == model.RecordSubscribed && old.State == model.RecordPending && !old.IsSubscriptionOverride {
		// Approving a request outright: GOVERNANCE only, never the requester (owners
		// approve their slot with POST /subscription/approve).
		if !ai.has(permGovernance) {
			return nil, fmt.Errorf("%w: approving request %d outright needs the GOVERNANCE permission; "+
				"approve a slot with POST /subscription/approve", ErrForbidden, recordID)
		}
		if !ai.system && old.Profile == ai.id {
			return nil, fmt.Errorf("%w: a requester cannot approve their own request", ErrForbidden)
		}
	}
	r := cloneRecord(old)
	switch ch.State {
	case "":
	case model.RecordDenied:
		r.State, r.Approved = model.RecordDenied, false
	case model.RecordSubscribed, model.RecordExpert, model.RecordOwner:
		if r.State == model.RecordPending && !live(r, t.now) {
			return nil, model.ErrorList{model.Invalid("state", string(ch.State),
				fmt.Sprintf("the request expired at %s: it is no longer pending and cannot be approved", model.FormatDate(r.Expiration)))}
		}
		if !r.IsSubscriptionOverride && ch.State != model.RecordSubscribed {
			return nil, model.ErrorList{model.Invalid("state", string(ch.State), "is not a state of a request (subscribed or denied)")}
		}
		if r.State == model.RecordPending {
			for i := range r.Approvals {
				if r.Approvals[i].State != model.SlotApproved {
					r.Approvals[i].State = model.SlotApproved
					if !ai.system {
						r.Approvals[i].Approver = ai.id
					}
				}
			}
		}
		r.State, r.Approved = ch.State, true
	default:
		return nil, model.ErrorList{model.NotSupported("state", string(ch.State), []string{"subscribed", "expert", "owner", "denied"})}
	}
	if ch.HasExpiration {
		r.Expiration = ch.Expiration
	}
	r.UpdatedAt = t.now
	t.storeRecord(r)
	if err := t.commit(a, "changeRecord"); err != nil {
		return nil, err
	}
	return r, nil
}

func cloneRecord(r *model.AccessRecord) *model.AccessRecord {
	c := *r
	c.Approvals = append([]model.ApprovalSlot(nil), r.Approvals...)
	if r.Admin != nil {
		a := *r.Admin
		c.Admin = &a
	}
	return &c
}

// openSlot returns the first open slot of r that ai may fill, or -1.
func (s *Snapshot) openSlot(ai actorInfo, r *model.AccessRecord, d *dsState) int {
	for _, sl := range r.Approvals {
		if sl.State == model.SlotApproved && sl.Approver == ai.id && !ai.system {
			return -1 // one user fills at most one slot of a request
		}
	}
	for i, sl := range r.Approvals {
		if sl.State == model.SlotApproved {
			continue
		}
		if sl.SpecificApproverRequired {
			if sl.SpecificApprover == ai.id {
				return i
			}
			continue
		}
		if sl.RequiredPermission == model.Owner {
			if s.owns(ai.id, d, s.cfg.now()) {
				return i
			}
			continue
		}
		if ai.has(permBit(sl.RequiredPermission)) {
			return i
		}
	}
	return -1
}

// maySee reports whether ai may see record r on data source d: the system, a
// GOVERNANCE, USER_ADMIN or AUDIT user, an owner of d, the record's own user, or a
// user who could fill an open approval slot of it (as GET
// /dataSource/{id}/access and the pending-request queue show records).
func (s *Snapshot) maySee(ai actorInfo, r *model.AccessRecord, d *dsState, now time.Time) bool {
	switch {
	case ai.has(permGovernance | permUserAdmin | permAudit):
		return true
	case r.Group == 0 && r.Profile == ai.id:
		return true
	case s.owns(ai.id, d, now):
		return true
	}
	return r.State == model.RecordPending && s.openSlot(ai, r, d) >= 0
}

// judge finds the pending request of an approve or deny entry and the slot ai may fill.
func (t *txn) judge(ai actorInfo, id int64) (*model.AccessRecord, int, string) {
	s := t.view()
	r, ok := s.records.Get(id)
	var d *dsState
	if ok {
		d, ok = s.dataSources.Get(r.DataSourceID)
	}
	if !ok || !s.maySee(ai, r, d, t.now) {
		// A record the caller may not see fails exactly like an unknown id.
		return nil, -1, fmt.Sprintf("no access record with id %d", id)
	}
	if r.State != model.RecordPending {
		return nil, -1, fmt.Sprintf("access record %d is not pending (state %s)", id, r.State)
	}
	if !live(r, t.now) {
		return nil, -1, fmt.Sprintf("access record %d is no longer pending: it expired at %s", id, model.FormatDate(r.Expiration))
	}
	if r.Profile == ai.id && !ai.system {
		return nil, -1, "a requester cannot approve or deny their own request"
	}
	slot := s.openSlot(ai, r, d)
	if slot < 0 {
		return nil, -1, "the caller may not fill any open approval slot of this request"
	}
	return r, slot, ""
}

// Approve fills, for each entry, the first open approval slot of the request that a
// may fill; a request whose slots are all approved becomes subscribed. Entries are
// applied one by one; refused entries are returned as failures.
func (e *Engine) Approve(a Actor, entries []model.ApproveEntry) ([]Failure, error) {
	return e.perEntry(a, "approve", len(entries), func(i int) int64 { return entries[i].ID },
		func(t *txn, ai actorInfo, i int, r *model.AccessRecord, slot int) {
			r.Approvals[slot].State = model.SlotApproved
			r.Approvals[slot].Approver = ai.id
			all := true
			for _, sl := range r.Approvals {
				all = all && sl.State == model.SlotApproved
			}
			if all {
				r.State, r.Approved = model.RecordSubscribed, true
			}
			if x := entries[i].Expiration; !x.IsZero() {
				r.Expiration = x
			}
		})
}

// Deny denies, for each entry, a pending request that a could approve a slot of.
// Entries are applied one by one; refused entries are returned as failures.
func (e *Engine) Deny(a Actor, entries []model.DenyEntry) ([]Failure, error) {
	return e.perEntry(a, "deny", len(entries), func(i int) int64 { return entries[i].ID },
		func(t *txn, ai actorInfo, i int, r *model.AccessRecord, _ int) {
			r.State, r.Approved, r.DenialReasoning = model.RecordDenied, false, entries[i].DenialReasoning
		})
}

// perEntry applies n approve or deny entries one by one in one write: an entry
// whose request a may not judge is a failure; the others change a copy of the
// request (with the slot a may fill) that is then stored.
func (e *Engine) perEntry(a Actor, op string, n int, id func(int) int64,
	change func(t *txn, ai actorInfo, i int, r *model.AccessRecord, slot int)) ([]Failure, error) {
	var failures []Failure
	err := e.write(a, op, func(t *txn, ai actorInfo) error {
		failures = []Failure{} // a write run again after a conflict starts over
		for i := 0; i < n; i++ {
			r, slot, why := t.judge(ai, id(i))
			if r == nil {
				failures = append(failures, Failure{ID: id(i), Reason: why})
				continue
			}
			r = cloneRecord(r)
			change(t, ai, i, r, slot)
			r.UpdatedAt = t.now
			t.storeRecord(r)
		}
		if n > 0 && len(failures) == n {
			return errEveryEntryRefused // changes nothing; judged again on a newer state, if any
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEveryEntryRefused) {
		return nil, err
	}
	return failures, nil
}

// errEveryEntryRefused ends an approve or deny whose every entry failed: it changes
// nothing, and on a shared store runs again when other instances wrote meanwhile
// (see retry).
var errEveryEntryRefused = errors.New("every entry was refused")

// Records returns every access record in id order.
func (e *Engine) Records() []*model.AccessRecord { return e.cur.Load().Records() }

// Records returns every access record in id order.
func (s *Snapshot) Records() []*model.AccessRecord {
	ids := s.records.Keys()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]*model.AccessRecord, len(ids))
	for i, id := range ids {
		out[i], _ = s.records.Get(id)
	}
	return out
}

// Record returns an access record by id.
func (s *Snapshot) Record(id int64) (*model.AccessRecord, bool) { return s.records.Get(id) }
