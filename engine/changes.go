package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"reflect"
	"slices"
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
	var ds []int64
	if _, ok := t.rewritten(); !ok { // else only rewire wrote data sources: no stored one changed
		ds = t.dataSources.TouchedKeys()
	}
	return touchedKeys{policies: t.policies.TouchedKeys(), dataSources: ds,
		users: t.users.TouchedKeys(), groups: t.groups.TouchedKeys(), records: t.records.TouchedKeys(),
		certs: t.ownCerts}
}

// allKeys lists every key of a and b: what a load may have changed.
func allKeys(a, b *Snapshot) touchedKeys {
	return touchedKeys{policies: unionKeys(a.policies, b.policies), dataSources: unionKeys(a.dataSources, b.dataSources),
		users: unionKeys(a.users.m, b.users.m), groups: unionKeys(a.groups, b.groups), records: unionKeys(a.records, b.records),
		certs: true}
}

func unionKeys[V any](a, b cowmap.Map[V]) []int64 {
	keys := append(a.Keys(), b.Keys()...)
	slices.Sort(keys)
	return slices.Compact(keys)
}

// pair is one key whose stored value differs between two snapshots: before and
// after are the values (hasB, hasA false where the key is absent).
type pair[V any] struct {
	id            int64
	before, after V
	hasB, hasA    bool
}

// delta is what one write changed, before encoding: the changed stored values
// themselves, per kind in ascending ids. Stored values are immutable, so encoding
// them later gives the very bytes encoding them at commit gives. Pairs whose two
// values encode the same are left out (they are not changes), so an empty delta is
// a write that changed nothing. The change log holds deltas and encodes them only
// when read (encode): a write that creates or deletes many values encodes nothing
// at commit unless a store or the change callback needs the encoding.
type delta struct {
	policies    []pair[*model.Policy]
	groups      []pair[*model.Group]
	users       []pair[*model.User]
	dataSources []pair[*model.DataSource]
	certs       []pair[map[int64]string]
	records     []pair[*model.AccessRecord]
	// The next policy and record ids; hasB and hasA set when changed.
	policyIDs, recordIDs pair[int64]
}

// empty reports whether the write changed no stored value.
func (d *delta) empty() bool {
	return len(d.policies)+len(d.groups)+len(d.users)+len(d.dataSources)+len(d.certs)+len(d.records) == 0 &&
		!d.policyIDs.hasA && !d.recordIDs.hasA
}

// changedValues returns the pairs of the keys whose values (val of the state) are
// not the very same stored value in b and a.
func changedValues[S any, V comparable](b, a cowmap.Map[S], keys []int64, val func(S) V) []pair[V] {
	out := make([]pair[V], 0, len(keys))
	for _, k := range keys {
		sb, hasB := b.Get(k)
		sa, hasA := a.Get(k)
		p := pair[V]{id: k, hasB: hasB, hasA: hasA}
		if hasB {
			p.before = val(sb)
		}
		if hasA {
			p.after = val(sa)
		}
		if hasB == hasA && (!hasB || p.before == p.after) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// dropEqual leaves out of ps the pairs with both values that are equal by their
// JSON: those deeply equal (reflect.DeepEqual: the same contents encode the same),
// and those equal reports equal (it gets the other pairs with both values in order
// and answers for each, by encoding them).
func dropEqual[V any](ps []pair[V], equal func(both []pair[V]) ([]bool, error)) ([]pair[V], error) {
	var same []bool // per pair with both values
	var rest []pair[V]
	var at []int // the index in same of each of rest
	for _, p := range ps {
		if p.hasB && p.hasA {
			deep := reflect.DeepEqual(p.before, p.after)
			if !deep {
				rest, at = append(rest, p), append(at, len(same))
			}
			same = append(same, deep)
		}
	}
	if len(rest) > 0 {
		eq, err := equal(rest)
		if err != nil {
			return nil, err
		}
		for i, j := range at {
			same[j] = eq[i]
		}
	}
	if len(same) > 0 {
		out, i := ps[:0], 0
		for _, p := range ps {
			if p.hasB && p.hasA {
				i++
				if same[i-1] {
					continue
				}
			}
			out = append(out, p)
		}
		ps = out
	}
	if cap(ps) > 2*len(ps)+8 {
		ps = slices.Clone(ps) // the log keeps it: no room for the keys that did not change
	}
	return ps, nil
}

// equalRows compares, element by element, the rows (as rows picks them out of the
// encoded parts) of bundles b and a, which list the same number of elements.
func equalRows(b, a *model.Bundle, rows func(*bundleParts) ([]json.RawMessage, []json.RawMessage)) ([]bool, error) {
	be, err := encodeParts(b)
	if err != nil {
		return nil, err
	}
	ae, err := encodeParts(a)
	if err != nil {
		return nil, err
	}
	br, bx := rows(be)
	ar, ax := rows(ae)
	eq := make([]bool, len(br))
	for i := range eq {
		eq[i] = bytes.Equal(br[i], ar[i]) && (bx == nil || bytes.Equal(bx[i], ax[i]))
	}
	return eq, nil
}

// equalEach compares each pair's two values encoded by enc.
func equalEach[V any](both []pair[V], enc func(V) (json.RawMessage, error)) ([]bool, error) {
	eq := make([]bool, len(both))
	for i, p := range both {
		b, err := enc(p.before)
		if err != nil {
			return nil, err
		}
		a, err := enc(p.after)
		if err != nil {
			return nil, err
		}
		eq[i] = bytes.Equal(b, a)
	}
	return eq, nil
}

func recordJSON(r *model.AccessRecord) (json.RawMessage, error) { return json.Marshal(recordRow(r)) }

// diff computes what changed from base to next among the keys k names. Of the
// changed values only those with both a before and an after value are encoded (to
// leave out the pairs equal by their JSON); creations and deletions are not.
func diff(base, next *Snapshot, k touchedKeys) (*delta, error) {
	d := &delta{}
	var err error
	d.policies, err = dropEqual(changedValues(base.policies, next.policies, k.policies, func(s *policyState) *model.Policy { return s.p }),
		func(both []pair[*model.Policy]) ([]bool, error) { return equalEach(both, policyRow) })
	if err != nil {
		return nil, err
	}
	d.groups, err = dropEqual(changedValues(base.groups, next.groups, k.groups, func(g *model.Group) *model.Group { return g }),
		func(both []pair[*model.Group]) ([]bool, error) {
			b := model.Bundle{Groups: make([]model.Group, 0, len(both))}
			a := model.Bundle{Groups: make([]model.Group, 0, len(both))}
			for _, p := range both {
				b.Groups, a.Groups = append(b.Groups, *p.before), append(a.Groups, *p.after)
			}
			return equalRows(&b, &a, func(e *bundleParts) ([]json.RawMessage, []json.RawMessage) { return e.Groups, nil })
		})
	if err != nil {
		return nil, err
	}
	d.users, err = dropEqual(changedValues(base.users.m, next.users.m, k.users, func(s userSlot) *model.User { return s.st.u }),
		func(both []pair[*model.User]) ([]bool, error) {
			b := model.Bundle{Users: make([]model.User, 0, len(both))}
			a := model.Bundle{Users: make([]model.User, 0, len(both))}
			for _, p := range both {
				b.Users, a.Users = append(b.Users, *p.before), append(a.Users, *p.after)
			}
			return equalRows(&b, &a, func(e *bundleParts) ([]json.RawMessage, []json.RawMessage) { return e.Users, nil })
		})
	if err != nil {
		return nil, err
	}
	// A data source changes when its row or its disabled policies (a row of their
	// own) do.
	d.dataSources, err = dropEqual(changedValues(base.dataSources, next.dataSources, k.dataSources, func(s *dsState) *model.DataSource { return s.ds }),
		func(both []pair[*model.DataSource]) ([]bool, error) {
			b := model.Bundle{DataSources: make([]model.DataSource, 0, len(both))}
			a := model.Bundle{DataSources: make([]model.DataSource, 0, len(both))}
			for _, p := range both {
				b.DataSources, a.DataSources = append(b.DataSources, *p.before), append(a.DataSources, *p.after)
			}
			return equalRows(&b, &a, func(e *bundleParts) ([]json.RawMessage, []json.RawMessage) { return e.DataSources, e.disables })
		})
	if err != nil {
		return nil, err
	}
	if k.certs {
		// Certification maps are equal by their JSON exactly when they are equal.
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
			d.certs = append(d.certs, pair[map[int64]string]{id: id, before: bm, after: am, hasB: hasB, hasA: hasA})
		}
	}
	d.records, err = dropEqual(changedValues(base.records, next.records, k.records, func(r *model.AccessRecord) *model.AccessRecord { return r }),
		func(both []pair[*model.AccessRecord]) ([]bool, error) { return equalEach(both, recordJSON) })
	if err != nil {
		return nil, err
	}
	if base.nextPolicyID != next.nextPolicyID {
		d.policyIDs = pair[int64]{before: base.nextPolicyID, after: next.nextPolicyID, hasB: true, hasA: true}
	}
	if base.nextRecordID != next.nextRecordID {
		d.recordIDs = pair[int64]{before: base.nextRecordID, after: next.nextRecordID, hasB: true, hasA: true}
	}
	return d, nil
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

// encode returns the mutations of d, in the order of the kinds policy, group,
// user, data source, disable, certification, record, counter, and ascending ids.
func (d *delta) encode() ([]Mutation, error) {
	out := make([]Mutation, 0, len(d.policies)+len(d.groups)+len(d.users)+len(d.dataSources)+len(d.certs)+len(d.records)+2)
	add := func(kind Kind, id string, b, a json.RawMessage) {
		if b != nil && a != nil && bytes.Equal(b, a) {
			return // a data source whose disabled policies alone changed
		}
		out = append(out, Mutation{Kind: kind, ID: id, Before: b, After: a})
	}
	for _, p := range d.policies {
		var b, a json.RawMessage
		var err error
		if p.hasB {
			if b, err = policyRow(p.before); err != nil {
				return nil, err
			}
		}
		if p.hasA {
			if a, err = policyRow(p.after); err != nil {
				return nil, err
			}
		}
		add(KindPolicy, idString(p.id), b, a)
	}
	// Directory and catalog, encoded in the bundle's shapes.
	bb, ab := model.Bundle{Groups: make([]model.Group, 0, len(d.groups)), Users: make([]model.User, 0, len(d.users)),
		DataSources: make([]model.DataSource, 0, len(d.dataSources))}, model.Bundle{Groups: make([]model.Group, 0, len(d.groups)),
		Users: make([]model.User, 0, len(d.users)), DataSources: make([]model.DataSource, 0, len(d.dataSources))}
	for _, p := range d.groups {
		if p.hasB {
			bb.Groups = append(bb.Groups, *p.before)
		}
		if p.hasA {
			ab.Groups = append(ab.Groups, *p.after)
		}
	}
	for _, p := range d.users {
		if p.hasB {
			bb.Users = append(bb.Users, *p.before)
		}
		if p.hasA {
			ab.Users = append(ab.Users, *p.after)
		}
	}
	for _, p := range d.dataSources {
		if p.hasB {
			bb.DataSources = append(bb.DataSources, *p.before)
		}
		if p.hasA {
			ab.DataSources = append(ab.DataSources, *p.after)
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
	addEncoded(add, KindGroup, d.groups, be.Groups, ae.Groups)
	addEncoded(add, KindUser, d.users, be.Users, ae.Users)
	var bi, ai int
	var disables []Mutation
	for _, p := range d.dataSources {
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
	for _, p := range d.certs {
		var b, a json.RawMessage
		if p.hasB {
			b = certRow(p.before)
		}
		if p.hasA {
			a = certRow(p.after)
		}
		add(KindCertification, idString(p.id), b, a)
	}
	for _, p := range d.records {
		var b, a json.RawMessage
		if p.hasB {
			if b, err = recordJSON(p.before); err != nil {
				return nil, err
			}
		}
		if p.hasA {
			if a, err = recordJSON(p.after); err != nil {
				return nil, err
			}
		}
		add(KindRecord, idString(p.id), b, a)
	}
	if p := d.policyIDs; p.hasA {
		add(KindCounter, counterPolicy, counterRow(p.before), counterRow(p.after))
	}
	if p := d.recordIDs; p.hasA {
		add(KindCounter, counterRecord, counterRow(p.before), counterRow(p.after))
	}
	return out, nil
}

// mutations computes what changed from base to next among the keys k names, in
// the order of encode. Values equal by their JSON are not changes.
func mutations(base, next *Snapshot, k touchedKeys) ([]Mutation, error) {
	d, err := diff(base, next, k)
	if err != nil {
		return nil, err
	}
	return d.encode()
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
