package engine

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/tollgate-dev/tollgate/model"
)

// AccessRecords returns the access records of a data source that actor a may see,
// ascending by id: all of them for an owner of the data source and for GOVERNANCE,
// USER_ADMIN and AUDIT users; otherwise the caller's own records and the pending
// requests whose open approval slot the caller could fill. Errors:
// ErrUnauthenticated, ErrNotFound (no such data source).
func (s *Snapshot) AccessRecords(a Actor, dataSourceID int64) ([]*model.AccessRecord, error) {
	ai, err := s.actor(a)
	if err != nil {
		return nil, err
	}
	d, ok := s.dataSources.Get(dataSourceID)
	if !ok {
		return nil, fmt.Errorf("%w: no data source with id %d", ErrNotFound, dataSourceID)
	}
	now := s.cfg.now()
	var out []*model.AccessRecord
	s.records.Each(func(_ int64, r *model.AccessRecord) bool {
		if r.DataSourceID == dataSourceID && s.maySee(ai, r, d, now) {
			out = append(out, r)
		}
		return true
	})
	slices.SortFunc(out, func(x, y *model.AccessRecord) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

// PendingFor returns the live pending requests actor a could approve or deny now
// (one of their open approval slots the caller may fill; never the caller's own),
// ascending by id. Errors: ErrUnauthenticated.
func (s *Snapshot) PendingFor(a Actor) ([]*model.AccessRecord, error) {
	ai, err := s.actor(a)
	if err != nil {
		return nil, err
	}
	now := s.cfg.now()
	var out []*model.AccessRecord
	s.records.Each(func(_ int64, r *model.AccessRecord) bool {
		if r.State != model.RecordPending || !live(r, now) || (r.Profile == ai.id && r.Group == 0 && !ai.system) {
			return true
		}
		if d, ok := s.dataSources.Get(r.DataSourceID); ok && s.openSlot(ai, r, d) >= 0 {
			out = append(out, r)
		}
		return true
	})
	slices.SortFunc(out, func(x, y *model.AccessRecord) int { return cmp.Compare(x.ID, y.ID) })
	return out, nil
}

// PolicyDataSources returns the ids of the data sources a live policy applies to
// now (as AppliedPolicies counts it), ascending; ok is false for an unknown policy.
func (s *Snapshot) PolicyDataSources(policyID int64) (ids []int64, ok bool) {
	if _, ok := s.policies.Get(policyID); !ok {
		return nil, false
	}
	ids = []int64{}
	s.dataSources.Each(func(id int64, d *dsState) bool {
		if d.hasApplied(policyID) {
			ids = append(ids, id)
		}
		return true
	})
	slices.Sort(ids)
	return ids, true
}

// DenialUnsubscribed is the denialReasoning of a record its user ended with
// Unsubscribe.
const DenialUnsubscribed = "unsubscribed"

// Unsubscribe ends actor a's own subscriptions and pending requests on a data
// source: each of the caller's records there that is subscribed (or expert or
// owner) or pending becomes denied with denialReasoning DenialUnsubscribed. Group
// grants and owner status are untouched. It returns how many records ended.
// Errors: ErrUnauthenticated, ErrNotFound (no such data source).
func (e *Engine) Unsubscribe(a Actor, dataSourceID int64) (n int, err error) {
	err = e.write(a, "unsubscribe", func(t *txn, ai actorInfo) error {
		if _, ok := t.base.dataSources.Get(dataSourceID); !ok {
			return fmt.Errorf("%w: no data source with id %d", ErrNotFound, dataSourceID)
		}
		n = t.endRecords(DenialUnsubscribed, func(r *model.AccessRecord) bool {
			return r.DataSourceID == dataSourceID && r.Group == 0 && r.Profile == ai.id
		})
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
