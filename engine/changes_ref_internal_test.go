package engine

import (
	"bytes"
	"encoding/json"
	"maps"

	"github.com/tollgate-dev/tollgate/engine/internal/cowmap"
	"github.com/tollgate-dev/tollgate/model"
)

// This file keeps the eager encoding of a write's mutations the engine used before
// the change log became lazy (every changed value encoded at commit): the lazy
// log must read back exactly what it gives.

// refAddEncoded adds the mutations of ps, whose encoded values are listed in order in
// before (one per pair with a before value) and after (one per pair with an after).
func refAddEncoded[V any](add func(Kind, string, json.RawMessage, json.RawMessage), kind Kind, ps []pair[V], before, after []json.RawMessage) {
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

// refChangedPairs returns the keys whose values differ by identity (same reports
// whether two values are the very same stored value).
func refChangedPairs[V any](b, a cowmap.Map[V], keys []int64, same func(x, y V) bool) []pair[V] {
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

// eagerMutations computes what changed from base to next among the keys k names, in
// the order of the kinds' declaration and ascending ids. Values equal by their JSON
// are not changes.
func eagerMutations(base, next *Snapshot, k touchedKeys) ([]Mutation, error) {
	var out []Mutation
	add := func(kind Kind, id string, b, a json.RawMessage) {
		if b != nil && a != nil && bytes.Equal(b, a) {
			return
		}
		out = append(out, Mutation{Kind: kind, ID: id, Before: b, After: a})
	}
	// Policies.
	for _, p := range refChangedPairs(base.policies, next.policies, k.policies, func(x, y *policyState) bool { return x.p == y.p }) {
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
	gs := refChangedPairs(base.groups, next.groups, k.groups, func(x, y *model.Group) bool { return x == y })
	us := refChangedPairs(base.users.m, next.users.m, k.users, func(x, y userSlot) bool { return x.st.u == y.st.u })
	ds := refChangedPairs(base.dataSources, next.dataSources, k.dataSources, func(x, y *dsState) bool { return x.ds == y.ds })
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
			bb.Users = append(bb.Users, *p.before.st.u)
		}
		if p.hasA {
			ab.Users = append(ab.Users, *p.after.st.u)
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
	refAddEncoded(add, KindGroup, gs, be.Groups, ae.Groups)
	refAddEncoded(add, KindUser, us, be.Users, ae.Users)
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
	for _, p := range refChangedPairs(base.records, next.records, k.records, func(x, y *model.AccessRecord) bool { return x == y }) {
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
