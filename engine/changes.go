package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/tollgate-dev/tollgate/engine/internal/cowmap"
	"github.com/tollgate-dev/tollgate/model"
)

// Kind names the kind of stored value a Mutation changes. The kinds are also the
// kinds of a store's rows (see docs/operations.md, Stores).
type Kind string

// The kinds of stored values.
const (
	// KindPolicy: a policy (ID its id), in the v2 shape with its id and metadata.
	KindPolicy Kind = "policy"
	// KindDataSource: a data source (ID its id) in the bundle shape, without its
	// disabled policies (those are KindDisable).
	KindDataSource Kind = "dataSource"
	// KindUser: a user (ID its profile id) in the bundle shape.
	KindUser Kind = "user"
	// KindGroup: a group (ID its id) in the bundle shape.
	KindGroup Kind = "group"
	// KindRecord: an access record (ID its id) as the export's state section holds it.
	KindRecord Kind = "record"
	// KindDisable: the global policies disabled on one data source (ID the data
	// source id): a list of {policyKey, reason}; absent when none is disabled.
	KindDisable Kind = "disable"
	// KindCertification: the certification states of one policy (ID the policy id):
	// a map from data source id to state.
	KindCertification Kind = "certification"
	// KindCounter: the next id of a sequence (ID "policy" or "record"): a number.
	KindCounter Kind = "counter"
)

// Mutation is one stored value a write changed. Before and After are the stored
// values as JSON; Before is absent for a creation, After for a deletion.
type Mutation struct {
	Kind   Kind            `json:"kind"`
	ID     string          `json:"id"`
	Before json.RawMessage `json:"before,omitempty"`
	After  json.RawMessage `json:"after,omitempty"`
}

// Change is one committed write: the entry of the change log (the feed of
// Engine.Changes and Engine.Watch, and the audit trail). Every committed write that
// changes stored values gets the next revision (1, 2, ...).
type Change struct {
	// Revision is the revision the write made.
	Revision int64 `json:"revision"`
	// Time is the engine clock's reading when the write ran.
	Time time.Time `json:"time"`
	// Actor made it.
	Actor Actor `json:"actor"`
	// Op names the operation, e.g. "createPolicy"; "load" replaces the whole state
	// (a bundle or an import).
	Op string `json:"op"`
	// Changes are the stored values it changed, by kind then id.
	Changes []Mutation `json:"changes"`
}

// MarshalJSON writes the actor as its profile id: 0 is the system actor (the zero
// Actor, nobody, never makes a change).
func (a Actor) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, a.ID, 10), nil }

// UnmarshalJSON reads an actor written by MarshalJSON.
func (a *Actor) UnmarshalJSON(b []byte) error {
	id, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("actor: %q is not a profile id", b)
	}
	if id == 0 {
		*a = SystemActor()
		return nil
	}
	*a = As(id)
	return nil
}

// Revision returns the revision of the snapshot: the revision of the last write it
// includes (0 for an engine nothing was ever written to).
func (s *Snapshot) Revision() int64 { return s.revision }

// touchedKeys lists what a write may have changed: the keys its edits set or
// deleted, per map, and whether it copied the certifications.
type touchedKeys struct {
	policies, dataSources, users, groups, records []int64
	certs                                         bool
}

func (t *txn) touched() touchedKeys {
	return touchedKeys{policies: t.policies.TouchedKeys(), dataSources: t.dataSources.TouchedKeys(),
		users: t.users.TouchedKeys(), groups: t.groups.TouchedKeys(), records: t.records.TouchedKeys(),
		certs: t.ownCerts}
}

// allKeys lists every key of a and b: what a load may have changed.
func allKeys(a, b *Snapshot) touchedKeys {
	return touchedKeys{policies: unionKeys(a.policies, b.policies), dataSources: unionKeys(a.dataSources, b.dataSources),
		users: unionKeys(a.users, b.users), groups: unionKeys(a.groups, b.groups), records: unionKeys(a.records, b.records),
		certs: true}
}

func unionKeys[V any](a, b cowmap.Map[V]) []int64 {
	set := make(map[int64]struct{}, a.Len()+b.Len())
	a.Each(func(k int64, _ V) bool { set[k] = struct{}{}; return true })
	b.Each(func(k int64, _ V) bool { set[k] = struct{}{}; return true })
	return sortedSet(set)
}

// pair is one key whose value may differ between two snapshots.
type pair[V any] struct {
	id            int64
	before, after V
	hasB, hasA    bool
}

// addEncoded adds the mutations of ps, whose encoded values are listed in order in
// before (one per pair with a before value) and after (one per pair with an after).
func addEncoded[V any](add func(Kind, string, json.RawMessage, json.RawMessage), kind Kind, ps []pair[V], before, after []json.RawMessage) {
	var bi, ai int
	for _, p := range ps {
		var b, a json.RawMessage
		if p.hasB {
			b, bi = before[bi], bi+1
		}
		if p.hasA {
			a, ai = after[ai], ai+1
		}
		add(kind, idString(p.id), b, a)
	}
}

// changedPairs returns the keys whose values differ by identity (same reports
// whether two values are the very same stored value).
func changedPairs[V any](b, a cowmap.Map[V], keys []int64, same func(x, y V) bool) []pair[V] {
	var out []pair[V]
	for _, k := range keys {
		p := pair[V]{id: k}
		p.before, p.hasB = b.Get(k)
		p.after, p.hasA = a.Get(k)
		if p.hasB == p.hasA && (!p.hasB || same(p.before, p.after)) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// mutations computes what changed from base to next among the keys k names, in
// the order of the kinds' declaration and ascending ids. Values equal by their JSON
// are not changes.
func mutations(base, next *Snapshot, k touchedKeys) ([]Mutation, error) {
	var out []Mutation
	add := func(kind Kind, id string, b, a json.RawMessage) {
		if b != nil && a != nil && bytes.Equal(b, a) {
			return
		}
		out = append(out, Mutation{Kind: kind, ID: id, Before: b, After: a})
	}
	// Policies.
	for _, p := range changedPairs(base.policies, next.policies, k.policies, func(x, y *policyState) bool { return x.p == y.p }) {
		var b, a json.RawMessage
		var err error
		if p.hasB {
			if b, err = policyRow(p.before.p); err != nil {
				return nil, err
			}
		}
		if p.hasA {
			if a, err = policyRow(p.after.p); err != nil {
				return nil, err
			}
		}
		add(KindPolicy, idString(p.id), b, a)
	}
	// Directory and catalog, encoded in the bundle's shapes.
	gs := changedPairs(base.groups, next.groups, k.groups, func(x, y *model.Group) bool { return x == y })
	us := changedPairs(base.users, next.users, k.users, func(x, y *userState) bool { return x.u == y.u })
	ds := changedPairs(base.dataSources, next.dataSources, k.dataSources, func(x, y *dsState) bool { return x.ds == y.ds })
	var bb, ab model.Bundle
	for _, p := range gs {
		if p.hasB {
			bb.Groups = append(bb.Groups, *p.before)
		}
		if p.hasA {
			ab.Groups = append(ab.Groups, *p.after)
		}
	}
	for _, p := range us {
		if p.hasB {
			bb.Users = append(bb.Users, *p.before.u)
		}
		if p.hasA {
			ab.Users = append(ab.Users, *p.after.u)
		}
	}
	for _, p := range ds {
		if p.hasB {
			bb.DataSources = append(bb.DataSources, *p.before.ds)
		}
		if p.hasA {
			ab.DataSources = append(ab.DataSources, *p.after.ds)
		}
	}
	be, err := encodeParts(&bb)
	if err != nil {
		return nil, err
	}
	ae, err := encodeParts(&ab)
	if err != nil {
		return nil, err
	}
	addEncoded(add, KindGroup, gs, be.Groups, ae.Groups)
	addEncoded(add, KindUser, us, be.Users, ae.Users)
	var bi, ai int
	var disables []Mutation
	for _, p := range ds {
		var b, a, bd, ad json.RawMessage
		if p.hasB {
			b, bd, bi = be.DataSources[bi], be.disables[bi], bi+1
		}
		if p.hasA {
			a, ad, ai = ae.DataSources[ai], ae.disables[ai], ai+1
		}
		add(KindDataSource, idString(p.id), b, a)
		if (bd != nil || ad != nil) && !bytes.Equal(bd, ad) {
			disables = append(disables, Mutation{Kind: KindDisable, ID: idString(p.id), Before: bd, After: ad})
		}
	}
	out = append(out, disables...)
	// Certifications.
	if k.certs {
		ids := map[int64]struct{}{}
		for id := range base.certs {
			ids[id] = struct{}{}
		}
		for id := range next.certs {
			ids[id] = struct{}{}
		}
		for _, id := range sortedSet(ids) {
			bm, hasB := base.certs[id]
			am, hasA := next.certs[id]
			if hasB == hasA && maps.Equal(bm, am) {
				continue
			}
			var b, a json.RawMessage
			if hasB {
				b = certRow(bm)
			}
			if hasA {
				a = certRow(am)
			}
			add(KindCertification, idString(id), b, a)
		}
	}
	// Records.
	for _, p := range changedPairs(base.records, next.records, k.records, func(x, y *model.AccessRecord) bool { return x == y }) {
		var b, a json.RawMessage
		if p.hasB {
			if b, err = json.Marshal(recordRow(p.before)); err != nil {
				return nil, err
			}
		}
		if p.hasA {
			if a, err = json.Marshal(recordRow(p.after)); err != nil {
				return nil, err
			}
		}
		add(KindRecord, idString(p.id), b, a)
	}
	// Counters.
	if base.nextPolicyID != next.nextPolicyID {
		add(KindCounter, counterPolicy, counterRow(base.nextPolicyID), counterRow(next.nextPolicyID))
	}
	if base.nextRecordID != next.nextRecordID {
		add(KindCounter, counterRecord, counterRow(base.nextRecordID), counterRow(next.nextRecordID))
	}
	return out, nil
}

// The ids of the counter rows.
const (
	counterPolicy = "policy"
	counterRecord = "record"
)

func idString(id int64) string { return strconv.FormatInt(id, 10) }

func counterRow(n int64) json.RawMessage { return strconv.AppendInt(nil, n, 10) }

func certRow(m map[int64]string) json.RawMessage {
	mm := make(map[string]string, len(m))
	for ds, v := range m {
		mm[idString(ds)] = v
	}
	b, _ := json.Marshal(mm) // a map of strings always encodes
	return b
}

func policyRow(p *model.Policy) (json.RawMessage, error) {
	b, err := model.EncodePolicy(p, model.DialectV2)
	if err != nil {
		return nil, fmt.Errorf("policy %d: %w", p.ID, err)
	}
	return compact(b)
}

func compact(b []byte) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// bundleParts is a bundle's groups, users and data sources, each element encoded
// (compact) in the bundle's shape; data sources without their disabled policies,
// which are in disables (nil where none is disabled).
type bundleParts struct {
	Groups      []json.RawMessage `json:"groups"`
	Users       []json.RawMessage `json:"users"`
	DataSources []json.RawMessage `json:"dataSources"`
	disables    []json.RawMessage
}

type disabledRow struct {
	PolicyKey string `json:"policyKey"`
	Reason    string `json:"reason,omitempty"`
}

func encodeParts(b *model.Bundle) (*bundleParts, error) {
	out := &bundleParts{}
	if len(b.Groups)+len(b.Users)+len(b.DataSources) == 0 {
		return out, nil
	}
	dss := make([]model.DataSource, len(b.DataSources))
	out.disables = make([]json.RawMessage, len(b.DataSources))
	for i, d := range b.DataSources {
		if len(d.DisabledPolicies) > 0 {
			rows := make([]disabledRow, len(d.DisabledPolicies))
			for j, x := range d.DisabledPolicies {
				rows[j] = disabledRow(x)
			}
			raw, err := json.Marshal(rows)
			if err != nil {
				return nil, err
			}
			out.disables[i] = raw
		}
		d.DisabledPolicies = nil
		dss[i] = d
	}
	var err error
	out.Groups, out.Users, out.DataSources, err = model.EncodeBundleElements(&model.Bundle{
		Groups: b.Groups, Users: b.Users, DataSources: dss})
	if err != nil {
		return nil, err
	}
	if len(out.Groups) != len(b.Groups) || len(out.Users) != len(b.Users) || len(out.DataSources) != len(b.DataSources) {
		return nil, fmt.Errorf("encoding rows: element counts differ")
	}
	return out, nil
}

// idLess orders ids numerically when both are numbers, else as strings.
func idLess(a, b string) bool {
	x, errA := strconv.ParseInt(a, 10, 64)
	y, errB := strconv.ParseInt(b, 10, 64)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}
