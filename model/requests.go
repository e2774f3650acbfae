package model

import "time"

// AccessRequest is the body of POST /dataSource/{id}/access: a request (no State)
// or a manual grant (State set).
type AccessRequestBody struct {
	// ProfileID is the profile a grant is for (nil: not given).
	ProfileID *int64
	// GroupID is the group a grant is for (nil: not given).
	GroupID *int64
	// State is "" for a request, or subscribed, expert or owner for a manual grant.
	State RecordState
	// AccessGrant is READ (the default) or WRITE.
	AccessGrant AccessGrant
	// Expiration is zero for none.
	Expiration time.Time
	// Approvals names specific approvers, one per slot that requires one, in slot order.
	Approvals []SpecificApprover
}

// SpecificApprover names the approver of one approval slot.
type SpecificApprover struct {
	// SpecificApprover is the approver's profile id.
	SpecificApprover int64
}

// RecordChange is the body of PUT /dataSource/{id}/access/{recordId}.
type RecordChange struct {
	// State is the new state ("" leaves it unchanged); denied revokes the record.
	State RecordState
	// Expiration is the new expiration (zero: none), when HasExpiration.
	Expiration time.Time
	// HasExpiration is true when the body named expiration (even as null).
	HasExpiration bool
}

// ApproveEntry is one entry of POST /subscription/approve.
type ApproveEntry struct {
	// ID is the access record id of the request.
	ID int64
	// Expiration is set on the record when non-zero.
	Expiration time.Time
}

// DenyEntry is one entry of POST /subscription/deny.
type DenyEntry struct {
	// ID is the access record id of the request.
	ID int64
	// DenialReasoning says why (required).
	DenialReasoning string
}

// ApplyPolicy is the body of POST /policy/global/applyPolicy.
type ApplyPolicy struct {
	// PolicyID is the owner-selected policy to apply.
	PolicyID int64
	// DataSourceID is where to apply it.
	DataSourceID int64
}

// decodeBody parses a request body (JSON or YAML) as an object and runs read on
// it; the result is returned only when no problem was found.
func decodeBody[T any](data []byte, lim Limits, read func(o *object) T) (T, error) {
	var zero T
	v, errs := parseDocument(data, lim)
	if errs != nil {
		return zero, errs
	}
	w := &walker{}
	o, ok := w.asObject("", v)
	if !ok {
		return zero, w.errs
	}
	out := read(o)
	o.finish()
	if len(w.errs) > 0 {
		return zero, w.errs
	}
	return out, nil
}

// positiveID reads an optional id that must be >= 1 when given; required reports
// its absence.
func positiveID(o *object, key string, required bool) (int64, bool) {
	id, ok := o.integer(key)
	if !ok {
		if _, present := o.get(key); !present && required {
			o.w.add(Required(o.at(key), ""))
		}
		return 0, false
	}
	if id < 1 {
		o.w.add(Invalid(o.at(key), id, "must be at least 1"))
		return 0, false
	}
	return id, true
}

// enumField reads an optional string field that must be one of valid.
func enumField(o *object, key string, valid []string) (string, bool) {
	s, ok := o.str(key)
	if !ok {
		return "", false
	}
	if !oneOf(s, valid) {
		o.w.add(NotSupported(o.at(key), s, valid))
		return "", false
	}
	return s, true
}

// DecodeAccessRequest decodes the body of POST /dataSource/{id}/access (JSON or
// YAML, unknown fields rejected): profileId, groupId (not both), state (subscribed,
// expert or owner; absent for a request), accessGrant (READ or WRITE, default
// READ), expiration (YYYY-MM-DD, RFC 3339 or null) and approvals
// [{specificApprover}] (requests only).
func DecodeAccessRequest(data []byte, lim Limits) (*AccessRequestBody, error) {
	return decodeBody(data, lim, func(o *object) *AccessRequestBody {
		r := &AccessRequestBody{AccessGrant: Read}
		if id, ok := positiveID(o, "profileId", false); ok {
			r.ProfileID = &id
		}
		if id, ok := positiveID(o, "groupId", false); ok {
			r.GroupID = &id
			if r.ProfileID != nil {
				o.w.add(Forbidden(o.at("groupId"), "only one of profileId and groupId may be given"))
			}
		}
		s, _ := enumField(o, "state", grantStates)
		r.State = RecordState(s)
		if g, ok := enumField(o, "accessGrant", accessGrants); ok {
			r.AccessGrant = AccessGrant(g)
		}
		r.Expiration, _ = o.date("expiration")
		if list, ok := o.list("approvals"); ok && len(list) > 0 {
			if _, hasState := o.get("state"); hasState {
				o.w.add(Forbidden(o.at("approvals"), "is only allowed on a request (without state)"))
			}
			r.Approvals = make([]SpecificApprover, len(list))
			for i, v := range list {
				ao, ok := o.w.asObject(o.at("approvals").Index(i), v)
				if !ok {
					continue
				}
				r.Approvals[i].SpecificApprover, _ = positiveID(ao, "specificApprover", true)
				ao.finish()
			}
		}
		return r
	})
}

// DecodeRecordChange decodes the body of PUT /dataSource/{id}/access/{recordId}:
// state (subscribed, expert, owner or denied) and expiration (YYYY-MM-DD, RFC 3339
// or null). At least one of them is required.
func DecodeRecordChange(data []byte, lim Limits) (*RecordChange, error) {
	return decodeBody(data, lim, func(o *object) *RecordChange {
		r := &RecordChange{}
		s, _ := enumField(o, "state", recordChangeStates)
		r.State = RecordState(s)
		_, r.HasExpiration = o.raw("expiration")
		r.Expiration, _ = o.date("expiration")
		if _, hasState := o.raw("state"); !hasState && !r.HasExpiration {
			o.w.add(Required(o.at("state"), "state or expiration is required"))
		}
		return r
	})
}

// requestEntries reads the required, non-empty requests list of approve and deny.
func requestEntries(o *object, read func(eo *object)) {
	list, ok := o.list("requests")
	if !ok {
		if _, present := o.get("requests"); !present {
			o.w.add(Required(o.at("requests"), ""))
		}
		return
	}
	if len(list) == 0 {
		o.w.add(Required(o.at("requests"), "must not be empty"))
	}
	for i, v := range list {
		eo, ok := o.w.asObject(o.at("requests").Index(i), v)
		if !ok {
			continue
		}
		read(eo)
		eo.finish()
	}
}

// DecodeApprove decodes the body of POST /subscription/approve:
// {requests: [{id, expiration?}]}. A missing or empty requests list, or an entry
// without id, is an error.
func DecodeApprove(data []byte, lim Limits) ([]ApproveEntry, error) {
	return decodeBody(data, lim, func(o *object) []ApproveEntry {
		var out []ApproveEntry
		requestEntries(o, func(eo *object) {
			var e ApproveEntry
			e.ID, _ = positiveID(eo, "id", true)
			e.Expiration, _ = eo.date("expiration")
			out = append(out, e)
		})
		return out
	})
}

// DecodeDeny decodes the body of POST /subscription/deny:
// {requests: [{id, denialReasoning}]}; both are required, denialReasoning non-empty.
func DecodeDeny(data []byte, lim Limits) ([]DenyEntry, error) {
	return decodeBody(data, lim, func(o *object) []DenyEntry {
		var out []DenyEntry
		requestEntries(o, func(eo *object) {
			var e DenyEntry
			e.ID, _ = positiveID(eo, "id", true)
			e.DenialReasoning, _ = eo.str("denialReasoning")
			if e.DenialReasoning == "" {
				if v, _ := eo.get("denialReasoning"); v == nil || v == "" {
					eo.w.add(Required(eo.at("denialReasoning"), ""))
				}
			}
			out = append(out, e)
		})
		return out
	})
}

// DecodeApplyPolicy decodes the body of POST /policy/global/applyPolicy:
// {policyId, dataSourceId}, both required.
func DecodeApplyPolicy(data []byte, lim Limits) (*ApplyPolicy, error) {
	return decodeBody(data, lim, func(o *object) *ApplyPolicy {
		r := &ApplyPolicy{}
		r.PolicyID, _ = positiveID(o, "policyId", true)
		r.DataSourceID, _ = positiveID(o, "dataSourceId", true)
		return r
	})
}
