package model

import (
	"encoding/json"
	"time"
)

// Dialect names one of the two payload dialects of the policy API.
type Dialect uint8

const (
	// DialectV2 is the /api/v2/policy dialect: actions is an object.
	DialectV2 Dialect = iota
	// DialectV1 is the /policy/global dialect: actions is a list of one element.
	DialectV1
)

// String returns "v1" or "v2".
func (d Dialect) String() string {
	if d == DialectV1 {
		return "v1"
	}
	return "v2"
}

// PolicyType is the top-level type of a policy.
type PolicyType string

// Policy types.
const (
	PolicySubscription PolicyType = "subscription"
	PolicyData         PolicyType = "data"
)

// ActionType is who is eligible under a subscription policy (v2 names).
type ActionType string

// Action types. v1 subscriptionType automatic = Anyone, policy = Entitlements.
const (
	ActionAnyone       ActionType = "anyone"
	ActionApproval     ActionType = "approval"
	ActionEntitlements ActionType = "entitlements"
	ActionManual       ActionType = "manual"
)

// AccessGrant is a level of access to a data source.
type AccessGrant string

// Access levels. WRITE implies READ.
const (
	Read  AccessGrant = "READ"
	Write AccessGrant = "WRITE"
)

// Operator combines several conditions: All (v1 "and") or Any (v1 "or").
type Operator string

// Operators.
const (
	All Operator = "all"
	Any Operator = "any"
)

// Permission is a user permission, or the OWNER pseudo-permission of approval slots.
type Permission string

// Permissions. Owner is valid only as an approval slot's required permission;
// CreateDataSource only as a user permission.
const (
	Owner            Permission = "OWNER"
	UserAdmin        Permission = "USER_ADMIN"
	Governance       Permission = "GOVERNANCE"
	Audit            Permission = "AUDIT"
	CreateDataSource Permission = "CREATE_DATA_SOURCE"
)

// CircumstanceType says how a circumstance selects data sources.
type CircumstanceType string

// Circumstance types. OwnerSelected is the API's null type.
const (
	CircumstanceTags        CircumstanceType = "tags"
	CircumstanceColumnTags  CircumstanceType = "columnTags"
	CircumstanceColumnRegex CircumstanceType = "columnRegex"
	CircumstanceDomains     CircumstanceType = "domains"
	CircumstanceServer      CircumstanceType = "server"
	CircumstanceTime        CircumstanceType = "time"
	// CircumstanceNoTags applies to data sources without any tag (on the data
	// source or on a column); CircumstanceAnyTag to those with at least one.
	CircumstanceNoTags        CircumstanceType = "noTags"
	CircumstanceAnyTag        CircumstanceType = "anyTag"
	CircumstanceOwnerSelected CircumstanceType = "null"
)

// Policy is the canonical form of a global policy, whichever dialect it was written in.
// Values are treated as immutable once handed to an engine.
type Policy struct {
	// ID is assigned by the engine (from 1); 0 means not stored.
	ID int64
	// Key uniquely identifies a live policy (v1 defaults it to Name).
	Key string
	// KeyDefaulted is true when a v1 payload named no policyKey and Key was defaulted
	// to Name; an update then keeps the stored policy's key.
	KeyDefaulted bool
	// Name is the display name.
	Name string
	// Type is subscription or data.
	Type PolicyType
	// Staged policies apply nowhere.
	Staged bool
	// Template is informational.
	Template bool
	// Certification is optional.
	Certification *Certification
	// Circumstances select the data sources. Empty means every data source. An
	// owner-selected circumstance (v1 circumstances: null) has Type CircumstanceOwnerSelected.
	Circumstances []Circumstance
	// CircumstanceOperator combines Circumstances: All or Any (the default).
	CircumstanceOperator Operator
	// Action is the subscription rule (Type subscription only).
	Action Action
	// DataActions holds a data policy's actions verbatim (Type data only).
	DataActions json.RawMessage
	// Dialect is the dialect the payload was written in.
	Dialect Dialect

	// Response metadata, set by the engine.

	// CreatedBy is the profile id of the creator.
	CreatedBy int64
	// CreatedByName is the creator's name.
	CreatedByName string
	// CreatedAt is when the policy was created.
	CreatedAt time.Time
	// UpdatedAt is when the policy was last changed.
	UpdatedAt time.Time
	// Deleted is true on the answer of a delete.
	Deleted bool
	// OwnerRestrictions is the vendor's ownerRestrictions object, kept verbatim
	// (compact JSON) and echoed in responses; nil when absent or null. It is
	// informational: it never decides anything.
	OwnerRestrictions json.RawMessage
}

// OwnerSelected reports whether the policy has an owner-selected circumstance.
func (p *Policy) OwnerSelected() bool {
	for i := range p.Circumstances {
		if p.Circumstances[i].Type == CircumstanceOwnerSelected {
			return true
		}
	}
	return false
}

// Certification is a policy's certification requirement.
type Certification struct {
	// Text is shown when an owner certifies (required).
	Text string
	// Label is shown once certified (required).
	Label string
	// Tags are tags that affect the certification.
	Tags []string
	// Recertify asks owners to re-certify.
	Recertify bool
}

// Action is the canonical subscription rule of a policy.
type Action struct {
	// Type is who is eligible.
	Type ActionType
	// AccessGrant is READ (default) or WRITE.
	AccessGrant AccessGrant
	// AutomaticSubscription subscribes eligible users without a request.
	AutomaticSubscription bool
	// AllowDiscovery makes data sources discoverable to everyone.
	AllowDiscovery bool
	// ShareResponsibility makes the policy merge with OR instead of AND.
	ShareResponsibility bool
	// Description is the rationale; nil when absent.
	Description *string
	// Advanced is the advanced DSL expression, "" when absent (entitlements only).
	Advanced string
	// Approvals are the approval slots (approval only).
	Approvals []Approval
	// Entitlements are the groups and attributes (entitlements only); nil when absent.
	Entitlements *Entitlements
}

// Approval is one approval slot of an approval policy.
type Approval struct {
	// RequiredPermission is what the approver must hold (OWNER = an owner of the data source).
	RequiredPermission Permission
	// SpecificApproverRequired makes the requester name the approver.
	SpecificApproverRequired bool
}

// Entitlements are the conditions of an entitlements policy: each group and each
// attribute pair is one condition, combined with Operator.
type Entitlements struct {
	// Operator is All or Any.
	Operator Operator
	// Groups are group names.
	Groups []string
	// Attributes are name=value pairs.
	Attributes []Attribute
	// GroupInfo, when not nil, parallels Groups with the informational fields of
	// each v1 group condition (its group id, iam and field).
	GroupInfo []ConditionInfo
	// AttributeInfo, when not nil, parallels Attributes with the informational
	// fields of each v1 authorization condition (iam and field).
	AttributeInfo []ConditionInfo
}

// ConditionInfo holds the vendor's informational fields of one v1 condition
// (see docs/semantics.md, Dialects). A group condition given by id alone is
// resolved to the name of the directory group of that id when the policy is
// written; otherwise groups are matched by name and these fields are echoed only.
type ConditionInfo struct {
	// GroupID is the group's id (group conditions only); 0 when absent.
	GroupID int64
	// IAM is the identity manager the group or authorization comes from.
	IAM string
	// Field is the condition's field.
	Field string
}

// Attribute is one attribute name=value pair.
type Attribute struct {
	// Name is the attribute's name, Value one of its values.
	Name  string
	Value string
}

// Circumstance is one condition on data sources. Only the fields of its Type are set.
type Circumstance struct {
	// Type selects the rule.
	Type CircumstanceType
	// Tag is the tag of a tags circumstance.
	Tag string
	// ColumnTag is the tag of a columnTags circumstance.
	ColumnTag string
	// TagDisplayName and TagHasLeafNodes are informational v1 tag-object fields.
	TagDisplayName string
	// TagHasLeafNodes is informational (v1); nil when absent.
	TagHasLeafNodes *bool
	// TagSource is the informational v1 tag-object source (e.g. "curated").
	TagSource string
	// Regex is the pattern of a columnRegex circumstance.
	Regex string
	// CaseInsensitive makes the regex ignore case.
	CaseInsensitive bool
	// Domains are the domains of a domains circumstance.
	Domains []Domain
	// Server is the host of a server circumstance.
	Server string
	// StartDate is the inclusive start of a time circumstance.
	StartDate time.Time
	// EndDate is the exclusive end of a time circumstance; zero means open-ended.
	EndDate time.Time
}

// Domain identifies a domain by ID (preferred when set) or Name.
type Domain struct {
	// ID is the domain's id ("" when not given); an integer id is kept as its
	// decimal string.
	ID string
	// Name is the domain's name.
	Name string
}

// Column is a column of a data source.
type Column struct {
	// Name is the column's name (columnRegex circumstances match it).
	Name string
	// Tags are the column's tags (columnTags circumstances match them).
	Tags []string
}

// DisabledPolicy records that an owner disabled a global policy on one data source.
type DisabledPolicy struct {
	// PolicyKey names the policy.
	PolicyKey string
	// Reason is the owner's reason.
	Reason string
}

// DataSource is a catalog entry.
type DataSource struct {
	// ID is the data source's id (positive).
	ID int64
	// Name is the data source's name.
	Name string
	// Owners are the profile ids of its owners.
	Owners []int64
	// Tags are the data source's tags (dot-separated hierarchies).
	Tags []string
	// Columns are its columns, with their tags.
	Columns []Column
	// Domains are the domains it belongs to.
	Domains []Domain
	// Server, Database, Schema and Table locate it; server circumstances match
	// Server, and the advanced DSL's @hostname, @database, @schema and @table
	// read them.
	Server   string
	Database string
	Schema   string
	Table    string
	// CreatedAt is when the data source was created (time circumstances).
	CreatedAt time.Time
	// SelectedPolicies are policy keys owners applied (owner-selected policies).
	SelectedPolicies []string
	// DisabledPolicies are global policies owners disabled here.
	DisabledPolicies []DisabledPolicy
}

// User is a profile of the directory.
type User struct {
	// ID is the user's profile id (positive).
	ID int64
	// Name is the user's name.
	Name string
	// APIKeyHash is the lowercase hex SHA-256 of the user's API key (HashAPIKey);
	// empty, the user cannot authenticate with a key. The key itself is never
	// stored (see docs/security.md, Credentials).
	APIKeyHash string
	// Permissions are the user's permissions (GOVERNANCE, USER_ADMIN, AUDIT,
	// CREATE_DATA_SOURCE); they give no data access by themselves.
	Permissions []Permission
	// Groups are the names of the user's groups.
	Groups []string
	// Attributes maps an attribute name to its values (not including group attributes).
	Attributes map[string][]string
}

// Group is a group of the directory. Members inherit its attributes.
type Group struct {
	// ID is the group's id (positive).
	ID int64
	// Name is the group's name, unique in the directory.
	Name string
	// Attributes maps an attribute name to its values; members inherit them.
	Attributes map[string][]string
}

// RecordState is the state of an access record.
type RecordState string

// Record states. Subscribed, Expert and Owner give access; Pending awaits approval;
// Denied is revoked or refused.
const (
	RecordSubscribed RecordState = "subscribed"
	RecordExpert     RecordState = "expert"
	RecordOwner      RecordState = "owner"
	RecordPending    RecordState = "pending"
	RecordDenied     RecordState = "denied"
)

// SlotState is the state of one approval slot of a request.
type SlotState string

// Slot states.
const (
	SlotPending  SlotState = "pending"
	SlotApproved SlotState = "approved"
)

// ApprovalSlot is one approval a request needs.
type ApprovalSlot struct {
	// RequiredPermission is what the approver must hold (OWNER = an owner of the
	// data source).
	RequiredPermission Permission
	// SpecificApproverRequired is true when only SpecificApprover may approve.
	SpecificApproverRequired bool
	// SpecificApprover is the approver the requester named (0 when none).
	SpecificApprover int64
	// Approver is who approved the slot (0 while pending).
	Approver int64
	// State is pending or approved.
	State SlotState
}

// AccessRecord is a request or a manual grant on one data source.
type AccessRecord struct {
	// ID is the record's id; DataSourceID the data source it is on.
	ID           int64
	DataSourceID int64
	// State is subscribed, expert, owner, pending or denied.
	State RecordState
	// Profile is the user the record is for (0 when it is a group grant).
	Profile int64
	// Group is the group id of a group grant (0 otherwise).
	Group int64
	// Admin is who made a manual grant (nil for requests; the scenario setup actor is 0).
	Admin *int64
	// Policy is true for requests (judged against policies).
	Policy bool
	// IsSubscriptionOverride is true for manual grants.
	IsSubscriptionOverride bool
	// Expiration is when the record stops giving access; zero means never.
	Expiration time.Time
	// DenialReasoning is set when a request was denied.
	DenialReasoning string
	// AccessGrant is the level the record is for (READ or WRITE).
	AccessGrant AccessGrant
	// Approved is true once the record gives access (every slot approved, or a
	// grant).
	Approved bool
	// Approvals are the approval slots of a request.
	Approvals []ApprovalSlot
	// CreatedAt and UpdatedAt are the engine clock's times of the record's
	// creation and last change.
	CreatedAt time.Time
	UpdatedAt time.Time
}
