package model

import (
	"encoding/json"
	"errors"
	"time"
)

// This file holds the decoding and encoding entry points. The bodies below marked
// "contract stub" are placeholders being replaced by the full implementation.

var errNotYet = errors.New("model: not implemented yet")

// Bundle is a catalog, a directory, policies and grants: the scenario format of
// spec/SCENARIOS.md without steps and expect, and what an engine exports.
type Bundle struct {
	Name        string
	Description string
	// Now is the clock; zero means the default 2026-01-01T00:00:00Z.
	Now         time.Time
	Groups      []Group
	Users       []User
	DataSources []DataSource
	// Policies are policy payloads kept verbatim (v1 or v2), decoded by DecodePolicy.
	Policies []json.RawMessage
	Grants   []Grant
	// State is the engine's versioned export state, verbatim; nil when absent.
	State json.RawMessage
}

// Grant is a manual grant made during bundle setup.
type Grant struct {
	DataSourceID int64
	// ProfileID or GroupID (exactly one is non-zero).
	ProfileID   int64
	GroupID     int64
	State       RecordState
	AccessGrant AccessGrant
	// Expiration is zero for none.
	Expiration time.Time
}

// AccessRequest is the body of POST /dataSource/{id}/access: a request (no State)
// or a manual grant (State set).
type AccessRequest struct {
	ProfileID   *int64
	GroupID     *int64
	State       RecordState
	AccessGrant AccessGrant
	Expiration  time.Time
	// Approvals names specific approvers, one per slot that requires one, in slot order.
	Approvals []SpecificApprover
}

// SpecificApprover names the approver of one approval slot.
type SpecificApprover struct {
	SpecificApprover int64
}

// RecordChange is the body of PUT /dataSource/{id}/access/{recordId}.
type RecordChange struct {
	State      RecordState
	Expiration time.Time
	// HasExpiration is true when the body named expiration (even as null).
	HasExpiration bool
}

// ApproveEntry is one entry of POST /subscription/approve.
type ApproveEntry struct {
	ID         int64
	Expiration time.Time
}

// DenyEntry is one entry of POST /subscription/deny.
type DenyEntry struct {
	ID              int64
	DenialReasoning string
}

// ApplyPolicy is the body of POST /policy/global/applyPolicy.
type ApplyPolicy struct {
	PolicyID     int64
	DataSourceID int64
}

// ---- contract stubs (replaced by the full implementation) ----

// DecodeBundle decodes and validates a bundle (JSON or YAML).
func DecodeBundle(data []byte, lim Limits) (*Bundle, error) { return nil, errNotYet }

// EncodeBundle renders b as deterministic, indented JSON that DecodeBundle reads back.
func EncodeBundle(b *Bundle) ([]byte, error) { return nil, errNotYet }

// DecodeAccessRequest decodes the body of POST /dataSource/{id}/access.
func DecodeAccessRequest(data []byte, lim Limits) (*AccessRequest, error) { return nil, errNotYet }

// DecodeRecordChange decodes the body of PUT /dataSource/{id}/access/{recordId}.
func DecodeRecordChange(data []byte, lim Limits) (*RecordChange, error) { return nil, errNotYet }

// DecodeApprove decodes the body of POST /subscription/approve.
func DecodeApprove(data []byte, lim Limits) ([]ApproveEntry, error) { return nil, errNotYet }

// DecodeDeny decodes the body of POST /subscription/deny.
func DecodeDeny(data []byte, lim Limits) ([]DenyEntry, error) { return nil, errNotYet }

// DecodeApplyPolicy decodes the body of POST /policy/global/applyPolicy.
func DecodeApplyPolicy(data []byte, lim Limits) (*ApplyPolicy, error) { return nil, errNotYet }

// ValidateDataSource checks a data source built in Go (path prefixes every problem).
func ValidateDataSource(ds *DataSource, p Path) ErrorList { return nil }

// ValidateUser checks a user built in Go.
func ValidateUser(u *User, p Path) ErrorList { return nil }

// ValidateGroup checks a group built in Go.
func ValidateGroup(g *Group, p Path) ErrorList { return nil }
