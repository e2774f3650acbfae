package engine

import "github.com/tollgate-dev/tollgate/model"

// Owner selections and disables name a policy key on a data source (its
// SelectedPolicies and DisabledPolicies) but follow the policy: a key change carries
// them along, a delete removes them; a key no policy has yet takes effect when a
// policy gets it. See docs/semantics.md, Owner-selected policies.

// indexKeys adds the keys a data source selects and disables to the writer-owned
// key indexes.
func (e *Engine) indexKeys(ds *model.DataSource) {
	for _, k := range ds.SelectedPolicies {
		addSet(e.selectedBy, k, ds.ID)
	}
	for _, d := range ds.DisabledPolicies {
		addSet(e.disabledBy, d.PolicyKey, ds.ID)
	}
}

// unindexKeys removes what indexKeys added for ds.
func (e *Engine) unindexKeys(ds *model.DataSource) {
	for _, k := range ds.SelectedPolicies {
		delSet(e.selectedBy, k, ds.ID)
	}
	for _, d := range ds.DisabledPolicies {
		delSet(e.disabledBy, d.PolicyKey, ds.ID)
	}
}

// rekey rewrites every selection and disable naming the key from: to the key to (a
// policy update that changes its key), or away when to is "" (a policy delete). Only
// the data sources' lists and the key indexes change; the caller recomputes
// applicability (rewire). A data source naming to already keeps one entry; for a
// disable, the moved one (with its reason) replaces the one that named to before.
func (t *txn) rekey(from, to string) {
	ids := map[int64]struct{}{}
	if t.shadow { // no writer-owned index: scan the snapshot
		for _, id := range t.base.dataSources.Keys() {
			if d, ok := t.dataSources.Get(id); ok && (selectedHere(d.ds, from) || disabledHere(d.ds, from)) {
				ids[id] = struct{}{}
			}
		}
	} else {
		for id := range t.e.selectedBy[from] {
			ids[id] = struct{}{}
		}
		for id := range t.e.disabledBy[from] {
			ids[id] = struct{}{}
		}
	}
	if len(ids) == 0 {
		return
	}
	t.dirty = !t.shadow
	for _, id := range sortedSet(ids) {
		d, ok := t.dataSources.Get(id)
		if !ok {
			continue
		}
		ds := cloneDataSource(d.ds)
		ds.SelectedPolicies = rekeySelected(ds.SelectedPolicies, from, to)
		ds.DisabledPolicies = rekeyDisabled(ds.DisabledPolicies, from, to)
		if !t.shadow {
			t.e.unindexKeys(d.ds)
			t.e.indexKeys(ds)
		}
		nd := d.clone()
		nd.ds = ds
		t.dataSources.Set(id, nd)
	}
}

// rekeySelected renames (or, with to "", drops) the key from in a selection list,
// keeping the first entry of each key.
func rekeySelected(list []string, from, to string) []string {
	out := make([]string, 0, len(list))
	for _, k := range list {
		if k == from {
			if to == "" {
				continue
			}
			k = to
		}
		if !contains(out, k) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// rekeyDisabled renames (or, with to "", drops) the key from in a disable list; a
// moved disable replaces an entry that already named to.
func rekeyDisabled(list []model.DisabledPolicy, from, to string) []model.DisabledPolicy {
	moved := false
	for _, d := range list {
		moved = moved || d.PolicyKey == from
	}
	out := make([]model.DisabledPolicy, 0, len(list))
	seen := map[string]bool{}
	for _, d := range list {
		switch {
		case d.PolicyKey == from && to == "":
			continue
		case d.PolicyKey == from:
			d.PolicyKey = to
		case d.PolicyKey == to && moved:
			continue
		}
		if !seen[d.PolicyKey] {
			seen[d.PolicyKey] = true
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
