package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/tollgate-dev/tollgate/model"
)

// StateVersion is the version of the export's state section.
const StateVersion = 1

// exportState is the versioned state section of an export: everything a bundle's
// other sections do not hold.
type exportState struct {
	Version        int                          `json:"version"`
	NextPolicyID   int64                        `json:"nextPolicyId"`
	NextRecordID   int64                        `json:"nextRecordId"`
	Revision       int64                        `json:"revision"`
	Records        []exportRecord               `json:"records"`
	Certifications map[string]map[string]string `json:"certifications,omitempty"`
}

type exportSlot struct {
	RequiredPermission       model.Permission `json:"requiredPermission"`
	SpecificApproverRequired bool             `json:"specificApproverRequired"`
	SpecificApprover         int64            `json:"specificApprover,omitempty"`
	Approver                 int64            `json:"approver,omitempty"`
	State                    model.SlotState  `json:"state"`
}

type exportRecord struct {
	ID                     int64             `json:"id"`
	DataSourceID           int64             `json:"dataSourceId"`
	State                  model.RecordState `json:"state"`
	Profile                int64             `json:"profile,omitempty"`
	Group                  int64             `json:"group,omitempty"`
	Admin                  *int64            `json:"admin,omitempty"`
	Policy                 bool              `json:"policy"`
	IsSubscriptionOverride bool              `json:"isSubscriptionOverride"`
	Expiration             *time.Time        `json:"expiration,omitempty"`
	DenialReasoning        string            `json:"denialReasoning,omitempty"`
	AccessGrant            model.AccessGrant `json:"accessGrant"`
	Approved               bool              `json:"approved"`
	Approvals              []exportSlot      `json:"approvals,omitempty"`
	CreatedAt              time.Time         `json:"createdAt"`
	UpdatedAt              time.Time         `json:"updatedAt"`
}

// policyMeta is the response metadata an exported policy carries.
type policyMeta struct {
	ID            *int64    `json:"id"`
	CreatedBy     int64     `json:"createdBy"`
	CreatedByName string    `json:"createdByName"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// Export writes the whole state as a bundle (the scenario format without steps and
// expect): groups, users, data sources (with selected and disabled policies), the
// policies in the v2 shape carrying their ids, and a versioned state section with
// the access records, certifications and the next ids. The output is deterministic;
// Import restores an engine that answers every call identically.
func (e *Engine) Export() ([]byte, error) { return e.cur.Load().Export() }

// Export writes the snapshot as a bundle; see Engine.Export.
func (s *Snapshot) Export() ([]byte, error) {
	b := &model.Bundle{Name: "tollgate-export"}
	gids := s.groups.Keys()
	sort.Slice(gids, func(i, j int) bool { return gids[i] < gids[j] })
	// the sections are sized at once: growing them copies every element again
	b.Groups = make([]model.Group, 0, len(gids))
	for _, id := range gids {
		g, _ := s.groups.Get(id)
		b.Groups = append(b.Groups, *g)
	}
	uids := s.UserIDs()
	b.Users = make([]model.User, 0, len(uids))
	for _, id := range uids {
		u, _ := s.users.Get(id)
		b.Users = append(b.Users, *u.u)
	}
	dsids := s.DataSourceIDs()
	b.DataSources = make([]model.DataSource, 0, len(dsids))
	for _, id := range dsids {
		d, _ := s.dataSources.Get(id)
		b.DataSources = append(b.DataSources, *d.ds)
	}
	for _, p := range s.Policies() {
		raw, err := model.EncodePolicy(p, model.DialectV2)
		if err != nil {
			return nil, fmt.Errorf("export policy %d: %w", p.ID, err)
		}
		b.Policies = append(b.Policies, raw)
	}
	st := exportState{Version: StateVersion, NextPolicyID: s.nextPolicyID, NextRecordID: s.nextRecordID,
		Revision: s.revision, Records: []exportRecord{}}
	for _, r := range s.Records() {
		st.Records = append(st.Records, recordRow(r))
	}
	if len(s.certs) > 0 {
		st.Certifications = map[string]map[string]string{}
		for pid, m := range s.certs {
			mm := map[string]string{}
			for ds, v := range m {
				mm[fmt.Sprint(ds)] = v
			}
			st.Certifications[fmt.Sprint(pid)] = mm
		}
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	b.State = raw
	return model.EncodeBundle(b)
}

// recordRow is an access record as the export's state section (and a store's
// record rows) hold it.
func recordRow(r *model.AccessRecord) exportRecord {
	er := exportRecord{ID: r.ID, DataSourceID: r.DataSourceID, State: r.State, Profile: r.Profile, Group: r.Group,
		Admin: r.Admin, Policy: r.Policy, IsSubscriptionOverride: r.IsSubscriptionOverride,
		DenialReasoning: r.DenialReasoning, AccessGrant: r.AccessGrant, Approved: r.Approved,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if !r.Expiration.IsZero() {
		x := r.Expiration.UTC()
		er.Expiration = &x
	}
	for _, sl := range r.Approvals {
		er.Approvals = append(er.Approvals, exportSlot(sl))
	}
	return er
}

// Import replaces the whole state with a bundle (an export, or any bundle), all or
// nothing: on error the engine is unchanged.
func (e *Engine) Import(data []byte) error {
	b, err := model.DecodeBundle(data, BundleLimits(e.cfg.limits))
	if err != nil {
		// An export is JSON. A document that starts like JSON but is not valid JSON is
		// refused as such (the decoder never reads it as YAML, where a corrupted byte
		// could turn the rest of a line into a comment and silently drop a field).
		if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') && !json.Valid(t) {
			var v any
			err := json.Unmarshal(t, &v)
			return model.ErrorList{model.Invalid("", nil, "is not valid JSON: "+err.Error())}
		}
		return err
	}
	return e.ApplyBundle(b)
}

// BundleLimits returns l with the payload and list limits raised for whole bundles
// (exports of large engines): 4 GiB and 16,777,216 elements. String, depth and
// per-policy limits stay as they are.
func BundleLimits(l model.Limits) model.Limits {
	if l.MaxPayloadBytes < 4<<30 {
		l.MaxPayloadBytes = 4 << 30
	}
	if l.MaxListLen < 1<<24 {
		l.MaxListLen = 1 << 24
	}
	return l
}

// ApplyBundle replaces the whole state with a bundle, all or nothing. Without a state
// section it is set up as a scenario is: groups, users, data sources, then the
// policies created in order by the system actor (ids 1, 2, ...), then the grants made by
// the system actor (record ids 1, 2, ...). With a state section (an export) the policies keep
// their ids and the records, certifications and id counters are restored. It is one
// write (op "load"): its revision is the next one, or the export's revision when
// that is higher. The bundle's data sources are stored as given, not copied (the
// engine never modifies stored values): the caller must not modify b afterwards.
// The work is spread over every core (see docs/performance.md, Loading).
func (e *Engine) ApplyBundle(b *model.Bundle) error {
	return e.retry(func() error { return e.applyBundleOnce(b) })
}

// applyBundleOnce is one attempt of ApplyBundle (see retry).
func (e *Engine) applyBundleOnce(b *model.Bundle) error {
	n, err := e.fresh(b)
	if err != nil {
		return err
	}
	ch, p, err := e.swap(n)
	if err != nil {
		return err
	}
	if err := e.await(p); err != nil {
		return err
	}
	e.notify(ch)
	return nil
}

// swap makes n's state e's as one write (op "load") and takes over n's indexes; the
// write is queued for the store (await p).
func (e *Engine) swap(n *Engine) (ch entry, p *pending, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: a load panicked and changed nothing: %v", ErrInternal, r)
		}
	}()
	base, next := e.head, n.cur.Load()
	rev := max(base.revision+1, next.revision)
	ch, err = e.change(base, next, allKeys(base, next), Change{Revision: rev, Time: e.cfg.now().UTC(), Actor: SystemActor(), Op: "load"})
	if err != nil {
		return ch, nil, fmt.Errorf("%w: encoding the change: %w", ErrStore, err)
	}
	p = e.enqueue(base, next, ch)
	e.takeIndexes(n)
	return ch, p, nil
}

// fresh returns a new engine with e's configuration holding bundle b; its snapshot
// has the revision of b's state section (0 without one).
func (e *Engine) fresh(b *model.Bundle) (n *Engine, err error) {
	n = &Engine{cfg: e.cfg, syms: e.syms, keys: e.keys} // one interner per engine: adopted rules, subjects and targets share it
	n.cfg.onChange = nil
	n.resetIndexes()
	n.head = &Snapshot{cfg: &e.cfg, nextPolicyID: 1, nextRecordID: 1}
	n.cur.Store(n.head)
	t := n.begin()
	defer t.end(&err)
	if err = t.load(b); err != nil {
		return nil, err
	}
	s := t.view()
	s.bulk = t.syncBulk()
	s.revision = t.loadRev
	n.cur.Store(s)
	t.done = true
	n.mu.Unlock()
	return n, nil
}

// adopt takes over n's state and indexes (n must not be used afterwards).
func (e *Engine) adopt(n *Engine) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.takeIndexes(n)
	e.head = n.cur.Load()
	e.cur.Store(e.head)
}

func (t *txn) load(b *model.Bundle) error {
	sys := actorInfo{system: true}
	groups := make([]*model.Group, len(b.Groups))
	for i := range b.Groups {
		groups[i] = &b.Groups[i]
	}
	if err := t.putGroups(sys, groups); err != nil {
		return fmt.Errorf("groups: %w", err)
	}
	users := make([]*model.User, len(b.Users))
	for i := range b.Users {
		users[i] = &b.Users[i]
	}
	if err := t.putLoadedUsers(users); err != nil {
		return fmt.Errorf("users: %w", err)
	}
	dss := make([]*model.DataSource, len(b.DataSources))
	for i := range b.DataSources {
		dss[i] = &b.DataSources[i]
		if dss[i].CreatedAt.IsZero() && !b.Now.IsZero() {
			c := *dss[i]
			c.CreatedAt = b.Now
			dss[i] = &c
		}
	}
	// The data sources are validated first (their errors come before the policies'),
	// but stored after the policies: each then goes through the policy index once,
	// instead of every policy revisiting the data sources it applies to.
	found := make([]model.ErrorList, len(dss))
	parallel(len(dss), 4096, func(i int) {
		if model.ValidateDataSource(dss[i], "") != nil { // the paths only for the invalid
			found[i] = model.ValidateDataSource(dss[i], model.NewPath("dataSources").Index(i))
		}
	})
	var errs model.ErrorList
	for _, l := range found {
		errs = append(errs, l...)
	}
	if len(errs) > 0 {
		return fmt.Errorf("dataSources: %w", errs)
	}
	restore := len(b.State) > 0
	// The policies are decoded and compiled on every core (nothing writes the state
	// meanwhile), then stored in order; errors are reported in order.
	type prepared struct {
		np  *model.Policy
		ps  *policyState
		id  int64
		err error
	}
	preps := make([]prepared, len(b.Policies))
	parallel(len(b.Policies), 16, func(i int) {
		raw := b.Policies[i]
		pr := &preps[i]
		p, err := t.e.DecodePolicy(raw, t.e.cfg.limits)
		if err != nil {
			pr.err = fmt.Errorf("policies[%d]: %w", i, err)
			return
		}
		if restore {
			var m policyMeta
			if err := json.Unmarshal(raw, &m); err != nil || m.ID == nil || *m.ID < 1 {
				pr.err = fmt.Errorf("policies[%d]: an exported policy needs its integer id", i)
				return
			}
			pr.id = *m.ID
			p.CreatedBy, p.CreatedByName, p.CreatedAt, p.UpdatedAt = m.CreatedBy, m.CreatedByName, m.CreatedAt, m.UpdatedAt
		}
		if pr.np, pr.ps, err = t.preparePolicy(sys, p, pr.id); err != nil {
			pr.err = fmt.Errorf("policies[%d]: %w", i, err)
		}
	})
	for i, pr := range preps {
		if pr.err != nil {
			return pr.err
		}
		if _, dup := t.policies.Get(pr.id); restore && dup {
			return fmt.Errorf("policies[%d]: duplicate policy id %d", i, pr.id)
		}
		if _, _, err := t.storeNewPolicy(pr.np, pr.ps, pr.id, false); err != nil {
			return fmt.Errorf("policies[%d]: %w", i, err)
		}
	}
	t.putLoaded(dss)
	if restore {
		if err := t.restoreState(b.State); err != nil {
			return fmt.Errorf("state: %w", err)
		}
	}
	for i, g := range b.Grants {
		req := &AccessRequest{State: g.State, AccessGrant: g.AccessGrant, Expiration: g.Expiration,
			ProfileID: g.ProfileID, GroupID: g.GroupID}
		d, ok := t.dataSources.Get(g.DataSourceID)
		if !ok {
			return fmt.Errorf("grants[%d].dataSourceId: %w: no data source with id %d", i, ErrNotFound, g.DataSourceID)
		}
		level := g.AccessGrant
		if level == "" {
			level = model.Read
		}
		if _, err := t.grant(sys, d, level, req); err != nil {
			return fmt.Errorf("grants[%d]: %w", i, err)
		}
	}
	return nil
}

func (t *txn) restoreState(raw json.RawMessage) error {
	var st exportState
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return err
	}
	if st.Version != StateVersion {
		return fmt.Errorf("version %d is not supported (want %d)", st.Version, StateVersion)
	}
	for i, er := range st.Records {
		if er.ID < 1 {
			return fmt.Errorf("records[%d].id: must be a positive integer", i)
		}
		if _, dup := t.records.Get(er.ID); dup {
			return fmt.Errorf("records[%d].id: duplicate record id %d", i, er.ID)
		}
		if _, ok := t.dataSources.Get(er.DataSourceID); !ok {
			return fmt.Errorf("records[%d].dataSourceId: no data source with id %d", i, er.DataSourceID)
		}
		if err := validRecord(er, model.NewPath("records").Index(i)); err != nil {
			return err
		}
		r := recordOfRow(er)
		t.storeRecord(r)
		if r.ID >= t.nextRecord {
			t.nextRecord = r.ID + 1
		}
	}
	if st.NextRecordID > t.nextRecord {
		t.nextRecord = st.NextRecordID
	}
	if st.Revision < 0 {
		return fmt.Errorf("revision: must be 0 or more")
	}
	t.loadRev = st.Revision
	if st.NextPolicyID > t.nextPolicy {
		t.nextPolicy = st.NextPolicyID
	}
	if len(st.Certifications) > 0 {
		t.copyCerts()
		for pk, m := range st.Certifications {
			var pid int64
			if _, err := fmt.Sscan(pk, &pid); err != nil {
				return fmt.Errorf("certifications: bad policy id %q", pk)
			}
			mm := map[int64]string{}
			for dk, v := range m {
				var did int64
				if _, err := fmt.Sscan(dk, &did); err != nil {
					return fmt.Errorf("certifications: bad data source id %q", dk)
				}
				mm[did] = v
			}
			t.certs[pid] = mm
		}
	}
	return nil
}

// validRecord checks an exported record as the API would have made it.
func validRecord(er exportRecord, p model.Path) error {
	var errs model.ErrorList
	switch {
	case er.IsSubscriptionOverride && er.Policy:
		errs = append(errs, model.Invalid(p.Child("policy"), nil, "a record is either a manual grant (isSubscriptionOverride) or a request (policy), not both"))
	case er.IsSubscriptionOverride:
		switch er.State {
		case model.RecordSubscribed, model.RecordExpert, model.RecordOwner, model.RecordDenied:
		default:
			errs = append(errs, model.NotSupported(p.Child("state"), string(er.State), []string{"subscribed", "expert", "owner", "denied"}))
		}
		if (er.Profile == 0) == (er.Group == 0) {
			errs = append(errs, model.Invalid(p.Child("profile"), nil, "a manual grant names exactly one of profile and group"))
		}
		if len(er.Approvals) > 0 {
			errs = append(errs, model.Forbidden(p.Child("approvals"), "a manual grant has no approval slots"))
		}
	case er.Policy:
		switch er.State {
		case model.RecordSubscribed, model.RecordPending, model.RecordDenied:
		default:
			errs = append(errs, model.NotSupported(p.Child("state"), string(er.State), []string{"subscribed", "pending", "denied"}))
		}
		if er.Profile < 1 || er.Group != 0 {
			errs = append(errs, model.Invalid(p.Child("profile"), nil, "a request names its requester's profile and no group"))
		}
	default:
		errs = append(errs, model.Required(p.Child("policy"), "a record is a manual grant (isSubscriptionOverride) or a request (policy)"))
	}
	if er.Profile < 0 || er.Group < 0 {
		errs = append(errs, model.Invalid(p.Child("profile"), nil, "ids are positive"))
	}
	if er.AccessGrant != model.Read && er.AccessGrant != model.Write {
		errs = append(errs, model.NotSupported(p.Child("accessGrant"), string(er.AccessGrant), []string{"READ", "WRITE"}))
	}
	if er.CreatedAt.IsZero() {
		errs = append(errs, model.Required(p.Child("createdAt"), ""))
	}
	for j, sl := range er.Approvals {
		sp := p.Child("approvals").Index(j)
		switch sl.RequiredPermission {
		case model.Owner, model.UserAdmin, model.Governance, model.Audit:
		default:
			errs = append(errs, model.NotSupported(sp.Child("requiredPermission"), string(sl.RequiredPermission), []string{"OWNER", "USER_ADMIN", "GOVERNANCE", "AUDIT"}))
		}
		switch sl.State {
		case model.SlotPending, model.SlotApproved:
		default:
			errs = append(errs, model.NotSupported(sp.Child("state"), string(sl.State), []string{"pending", "approved"}))
		}
	}
	return errs.Err()
}
