package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// PolicyJSONV1 is a policy in the v1 (/policy/global) response shape of the seed
// documentation, every default filled in. Fields marshal in the seed's order. To
// add fields to a response, embed a *PolicyJSONV1 in another struct.
type PolicyJSONV1 struct {
	PolicyKey       string             `json:"policyKey"`
	Name            string             `json:"name"`
	Type            PolicyType         `json:"type"`
	Template        bool               `json:"template"`
	Staged          bool               `json:"staged"`
	SystemGenerated bool               `json:"systemGenerated"`
	Deleted         bool               `json:"deleted"`
	Certification   *certificationJSON `json:"certification"`
	// Actions is a []actionJSONV1 of one element, or a data policy's actions verbatim.
	Actions any `json:"actions"`
	// Circumstances is [] for every data source, null for owner-selected only.
	Circumstances     []circumstanceJSON `json:"circumstances"`
	Metadata          *struct{}          `json:"metadata"`
	ClonedFrom        *int64             `json:"clonedFrom"`
	CreatedBy         int64              `json:"createdBy"`
	ID                *int64             `json:"id"`
	CreatedAt         *string            `json:"createdAt"`
	UpdatedAt         *string            `json:"updatedAt"`
	CreatedByName     string             `json:"createdByName"`
	OwnerRestrictions json.RawMessage    `json:"ownerRestrictions"`
}

// PolicyJSONV2 is a policy in the v2 (/api/v2/policy) payload shape, every default
// filled in, followed by the response-only fields. To add fields to a response (a
// dry run's impact), embed a *PolicyJSONV2 in another struct.
type PolicyJSONV2 struct {
	PolicyKey            string             `json:"policyKey"`
	Name                 string             `json:"name"`
	Type                 PolicyType         `json:"type"`
	Staged               bool               `json:"staged"`
	Template             bool               `json:"template"`
	Certification        *certificationJSON `json:"certification"`
	CircumstanceOperator Operator           `json:"circumstanceOperator"`
	// Circumstances is [] for every data source; owner-selected is {"type": null}.
	Circumstances []circumstanceJSON `json:"circumstances"`
	// Actions is an *actionJSONV2, or a data policy's actions verbatim.
	Actions           any             `json:"actions"`
	ID                *int64          `json:"id"`
	CreatedBy         int64           `json:"createdBy"`
	CreatedByName     string          `json:"createdByName"`
	CreatedAt         *string         `json:"createdAt"`
	UpdatedAt         *string         `json:"updatedAt"`
	Deleted           bool            `json:"deleted"`
	SystemGenerated   bool            `json:"systemGenerated"`
	ClonedFrom        *int64          `json:"clonedFrom"`
	Metadata          *struct{}       `json:"metadata"`
	OwnerRestrictions json.RawMessage `json:"ownerRestrictions"`
}

type certificationJSON struct {
	Text      string   `json:"text"`
	Label     string   `json:"label"`
	Tags      []string `json:"tags"`
	Recertify bool     `json:"recertify"`
}

type tagJSONV1 struct {
	Name         string `json:"name"`
	DisplayName  string `json:"displayName,omitempty"`
	HasLeafNodes *bool  `json:"hasLeafNodes,omitempty"`
	Source       string `json:"source,omitempty"`
}

// columnRegexJSON is the vendor's v1 form of a columnRegex circumstance's pattern.
type columnRegexJSON struct {
	Regex           string `json:"regex"`
	CaseInsensitive bool   `json:"caseInsensitive"`
}

type domainJSON struct {
	ID   string `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
}

// circumstanceJSON serves both dialects: Operator is set in v1 only; Tag and
// ColumnTag hold a string (v2) or a tagJSONV1 (v1).
type circumstanceJSON struct {
	Operator        string           `json:"operator,omitempty"`
	Type            *string          `json:"type"`
	Tag             any              `json:"tag,omitempty"`
	ColumnTag       any              `json:"columnTag,omitempty"`
	Regex           *string          `json:"regex,omitempty"`
	CaseInsensitive *bool            `json:"caseInsensitive,omitempty"`
	ColumnRegex     *columnRegexJSON `json:"columnRegex,omitempty"`
	Domains         []domainJSON     `json:"domains,omitempty"`
	Server          *string          `json:"server,omitempty"`
	StartDate       *string          `json:"startDate,omitempty"`
	EndDate         *string          `json:"endDate,omitempty"`
}

type actionJSONV1 struct {
	Type                  string        `json:"type"`
	AccessGrant           AccessGrant   `json:"accessGrant"`
	Description           *string       `json:"description"`
	AllowDiscovery        bool          `json:"allowDiscovery"`
	SubscriptionType      string        `json:"subscriptionType"`
	ShareResponsibility   bool          `json:"shareResponsibility"`
	AutomaticSubscription bool          `json:"automaticSubscription"`
	Approvals             []approvalV1  `json:"approvals,omitempty"`
	Exceptions            *exceptionsV1 `json:"exceptions,omitempty"`
	Advanced              string        `json:"advanced,omitempty"`
}

type approvalV1 struct {
	SpecificApproverRequired bool       `json:"specificApproverRequired"`
	RequiredPermission       Permission `json:"requiredPermission"`
}

type exceptionsV1 struct {
	Operator   string        `json:"operator"`
	Conditions []conditionV1 `json:"conditions"`
}

type conditionV1 struct {
	Type          string           `json:"type"`
	Group         *groupV1         `json:"group,omitempty"`
	Authorization *authorizationV1 `json:"authorization,omitempty"`
	Field         string           `json:"field,omitempty"`
}

type groupV1 struct {
	ID   int64  `json:"id,omitempty"`
	Name string `json:"name"`
	IAM  string `json:"iam,omitempty"`
}

type authorizationV1 struct {
	Auth  string `json:"auth"`
	Value string `json:"value"`
	IAM   string `json:"iam,omitempty"`
}

type actionJSONV2 struct {
	Type                  ActionType        `json:"type"`
	AutomaticSubscription bool              `json:"automaticSubscription"`
	AllowDiscovery        bool              `json:"allowDiscovery"`
	Description           *string           `json:"description"`
	AccessGrant           AccessGrant       `json:"accessGrant"`
	ShareResponsibility   bool              `json:"shareResponsibility"`
	Approvals             []approvalV2      `json:"approvals,omitempty"`
	Entitlements          *entitlementsJSON `json:"entitlements,omitempty"`
	Advanced              string            `json:"advanced,omitempty"`
}

type approvalV2 struct {
	SpecificApproverRequired bool       `json:"specificApproverRequired"`
	RequiredPermissions      Permission `json:"requiredPermissions"`
}

type entitlementsJSON struct {
	Operator   Operator        `json:"operator"`
	Groups     []string        `json:"groups"`
	Attributes []attributeJSON `json:"attributes"`
}

type attributeJSON struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// actionToV1 maps canonical action types to v1 subscriptionType values.
var actionToV1 = map[ActionType]string{ActionAnyone: "automatic", ActionApproval: "approval",
	ActionEntitlements: "policy", ActionManual: "manual"}

// PolicyResponse returns the response value of p in dialect d, for json.Marshal: a
// *PolicyJSONV1 or a *PolicyJSONV2. id is null when p.ID is 0 (a dry run);
// createdAt and updatedAt are null when zero.
//
// v1 renders every data source as circumstances [] and owner-selected only as
// circumstances null. v1 has no syntax for an owner-selected circumstance among
// others: it is rendered as an element {"operator": ..., "type": null}, which
// DecodePolicy accepts in both dialects. v1 carries the circumstance operator on
// each circumstance, so with no circumstances or owner-selected only it decodes
// back as Any. A data policy's actions are rendered verbatim, except that a v2
// object is wrapped in a list for v1 and a v1 list of one object is unwrapped for
// v2; other v1 lists cannot be expressed in v2 and are rendered verbatim (such a
// v2 response does not decode back).
func PolicyResponse(p *Policy, d Dialect) any {
	if d == DialectV1 {
		return policyV1(p)
	}
	return policyV2(p)
}

// EncodePolicy renders p in the response shape of dialect d (see PolicyResponse).
// DecodePolicy reads it back to an equal canonical policy, response metadata,
// Dialect and KeyDefaulted aside, with the exceptions PolicyResponse lists (and v2
// drops the informational v1 tag displayName and hasLeafNodes).
func EncodePolicy(p *Policy, d Dialect) ([]byte, error) {
	if p == nil {
		return nil, errors.New("model: EncodePolicy of a nil policy")
	}
	return marshal(PolicyResponse(p, d))
}

// marshal renders v as compact JSON without HTML escaping and without a trailing
// newline.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func idOrNull(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func certificationOf(c *Certification) *certificationJSON {
	if c == nil {
		return nil
	}
	tags := c.Tags
	if tags == nil {
		tags = []string{}
	}
	return &certificationJSON{Text: c.Text, Label: c.Label, Tags: tags, Recertify: c.Recertify}
}

// dataActions renders a data policy's actions in dialect d: verbatim, except that
// an object (v2) is wrapped in a list for v1 and a list of exactly one object (v1)
// is unwrapped for v2, so that the response reads back in its own dialect.
func dataActions(p *Policy, d Dialect) json.RawMessage {
	raw := bytes.TrimSpace(p.DataActions)
	switch {
	case len(raw) == 0 && d == DialectV1:
		return json.RawMessage("[]")
	case len(raw) == 0:
		return json.RawMessage("{}")
	case d == DialectV1 && raw[0] == '{':
		return json.RawMessage("[" + string(raw) + "]")
	case d == DialectV2 && raw[0] == '[':
		var elems []json.RawMessage
		if json.Unmarshal(raw, &elems) == nil && len(elems) == 1 {
			if e := bytes.TrimSpace(elems[0]); len(e) > 0 && e[0] == '{' {
				return e
			}
		}
	}
	return raw
}

// ownerRestrictions is the echoed ownerRestrictions, JSON null when absent.
func ownerRestrictions(p *Policy) json.RawMessage {
	if len(p.OwnerRestrictions) == 0 {
		return json.RawMessage("null")
	}
	return p.OwnerRestrictions
}

func policyV1(p *Policy) *PolicyJSONV1 {
	r := &PolicyJSONV1{
		PolicyKey: p.Key, Name: p.Name, Type: p.Type, Template: p.Template, Staged: p.Staged,
		Deleted: p.Deleted, Certification: certificationOf(p.Certification),
		CreatedBy: p.CreatedBy, ID: idOrNull(p.ID), CreatedAt: responseTime(p.CreatedAt),
		UpdatedAt: responseTime(p.UpdatedAt), CreatedByName: p.CreatedByName,
		OwnerRestrictions: ownerRestrictions(p),
	}
	switch {
	case len(p.Circumstances) == 0:
		r.Circumstances = []circumstanceJSON{}
	case len(p.Circumstances) == 1 && p.Circumstances[0].Type == CircumstanceOwnerSelected:
		r.Circumstances = nil
	default:
		op := "or"
		if p.CircumstanceOperator == All {
			op = "and"
		}
		r.Circumstances = make([]circumstanceJSON, len(p.Circumstances))
		for i := range p.Circumstances {
			r.Circumstances[i] = circumstanceOf(&p.Circumstances[i], DialectV1)
			r.Circumstances[i].Operator = op
		}
	}
	if p.Type == PolicyData {
		r.Actions = dataActions(p, DialectV1)
		return r
	}
	a := &p.Action
	st, ok := actionToV1[a.Type]
	if !ok {
		st = string(a.Type)
	}
	act := actionJSONV1{Type: "subscription", SubscriptionType: st, AccessGrant: a.AccessGrant,
		Description: a.Description, AllowDiscovery: a.AllowDiscovery,
		ShareResponsibility: a.ShareResponsibility, AutomaticSubscription: a.AutomaticSubscription,
		Advanced: a.Advanced}
	for _, s := range a.Approvals {
		act.Approvals = append(act.Approvals, approvalV1{SpecificApproverRequired: s.SpecificApproverRequired, RequiredPermission: s.RequiredPermission})
	}
	if e := a.Entitlements; e != nil {
		ex := &exceptionsV1{Operator: "or", Conditions: []conditionV1{}}
		if e.Operator == All {
			ex.Operator = "and"
		}
		for i, g := range e.Groups {
			info := infoAt(e.GroupInfo, i)
			ex.Conditions = append(ex.Conditions, conditionV1{Type: "groups", Field: info.Field,
				Group: &groupV1{ID: info.GroupID, Name: g, IAM: info.IAM}})
		}
		for i, at := range e.Attributes {
			info := infoAt(e.AttributeInfo, i)
			ex.Conditions = append(ex.Conditions, conditionV1{Type: "authorizations", Field: info.Field,
				Authorization: &authorizationV1{Auth: at.Name, Value: at.Value, IAM: info.IAM}})
		}
		act.Exceptions = ex
	}
	r.Actions = []actionJSONV1{act}
	return r
}

func policyV2(p *Policy) *PolicyJSONV2 {
	r := &PolicyJSONV2{
		PolicyKey: p.Key, Name: p.Name, Type: p.Type, Staged: p.Staged, Template: p.Template,
		Certification: certificationOf(p.Certification), CircumstanceOperator: p.CircumstanceOperator,
		Circumstances: make([]circumstanceJSON, len(p.Circumstances)),
		ID:            idOrNull(p.ID), CreatedBy: p.CreatedBy, CreatedByName: p.CreatedByName,
		CreatedAt: responseTime(p.CreatedAt), UpdatedAt: responseTime(p.UpdatedAt), Deleted: p.Deleted,
		OwnerRestrictions: ownerRestrictions(p),
	}
	if r.CircumstanceOperator == "" {
		r.CircumstanceOperator = Any
	}
	for i := range p.Circumstances {
		r.Circumstances[i] = circumstanceOf(&p.Circumstances[i], DialectV2)
	}
	if p.Type == PolicyData {
		r.Actions = dataActions(p, DialectV2)
		return r
	}
	a := &p.Action
	act := &actionJSONV2{Type: a.Type, AutomaticSubscription: a.AutomaticSubscription,
		AllowDiscovery: a.AllowDiscovery, Description: a.Description, AccessGrant: a.AccessGrant,
		ShareResponsibility: a.ShareResponsibility, Advanced: a.Advanced}
	for _, s := range a.Approvals {
		act.Approvals = append(act.Approvals, approvalV2{SpecificApproverRequired: s.SpecificApproverRequired, RequiredPermissions: s.RequiredPermission})
	}
	if e := a.Entitlements; e != nil {
		ej := &entitlementsJSON{Operator: e.Operator, Groups: e.Groups, Attributes: []attributeJSON{}}
		if ej.Groups == nil {
			ej.Groups = []string{}
		}
		for _, at := range e.Attributes {
			ej.Attributes = append(ej.Attributes, attributeJSON(at))
		}
		act.Entitlements = ej
	}
	r.Actions = act
	return r
}

// infoAt is l[i], or the zero ConditionInfo past its end.
func infoAt(l []ConditionInfo, i int) ConditionInfo {
	if i < len(l) {
		return l[i]
	}
	return ConditionInfo{}
}

func circumstanceOf(c *Circumstance, d Dialect) circumstanceJSON {
	var r circumstanceJSON
	if c.Type != CircumstanceOwnerSelected {
		t := string(c.Type)
		r.Type = &t
	}
	tag := func(name string) any {
		if d == DialectV2 {
			return name
		}
		return &tagJSONV1{Name: name, DisplayName: c.TagDisplayName, HasLeafNodes: c.TagHasLeafNodes, Source: c.TagSource}
	}
	switch c.Type {
	case CircumstanceTags:
		r.Tag = tag(c.Tag)
	case CircumstanceColumnTags:
		r.ColumnTag = tag(c.ColumnTag)
	case CircumstanceColumnRegex:
		if d == DialectV1 {
			r.ColumnRegex = &columnRegexJSON{Regex: c.Regex, CaseInsensitive: c.CaseInsensitive}
			break
		}
		regex, ci := c.Regex, c.CaseInsensitive
		r.Regex, r.CaseInsensitive = &regex, &ci
	case CircumstanceServer:
		server := c.Server
		r.Server = &server
	case CircumstanceTime:
		start := FormatDate(c.StartDate)
		r.StartDate = &start
		if !c.EndDate.IsZero() {
			end := FormatDate(c.EndDate)
			r.EndDate = &end
		}
	case CircumstanceDomains:
		r.Domains = make([]domainJSON, len(c.Domains))
		for i, dm := range c.Domains {
			r.Domains[i] = domainJSON(dm)
		}
	}
	return r
}

// AccessRecordJSON is an access record in the seed's response shape, fields in the
// seed's order. Approvals is present for requests (Policy true) only.
type AccessRecordJSON struct {
	IsSubscriptionOverride bool                `json:"isSubscriptionOverride"`
	ID                     int64               `json:"id"`
	ModelID                string              `json:"modelId"`
	ModelType              string              `json:"modelType"`
	State                  RecordState         `json:"state"`
	Metadata               struct{}            `json:"metadata"`
	Admin                  *int64              `json:"admin"`
	DenialReasoning        *string             `json:"denialReasoning"`
	Profile                *int64              `json:"profile"`
	Group                  *int64              `json:"group"`
	Policy                 bool                `json:"policy"`
	Expiration             *string             `json:"expiration"`
	AcknowledgeRequired    bool                `json:"acknowledgeRequired"`
	CreatedAt              *string             `json:"createdAt"`
	UpdatedAt              *string             `json:"updatedAt"`
	AccessGrant            AccessGrant         `json:"accessGrant"`
	Approved               bool                `json:"approved"`
	Approvals              *[]approvalSlotJSON `json:"approvals,omitempty"`
}

type approvalSlotJSON struct {
	RequiredPermission       Permission `json:"requiredPermission"`
	SpecificApproverRequired bool       `json:"specificApproverRequired"`
	SpecificApprover         *int64     `json:"specificApprover"`
	Approver                 *int64     `json:"approver"`
	State                    SlotState  `json:"state"`
}

// AccessRecordResponse returns the response value of r in the seed's shape (an
// *AccessRecordJSON): modelId is the data source id as a string, modelType
// "datasource"; admin, denialReasoning, profile, group and expiration are null when
// unset; approvals (the slots) appear for requests only.
func AccessRecordResponse(r *AccessRecord) any {
	if r == nil {
		return nil
	}
	out := &AccessRecordJSON{
		IsSubscriptionOverride: r.IsSubscriptionOverride, ID: r.ID,
		ModelID: strconv.FormatInt(r.DataSourceID, 10), ModelType: "datasource", State: r.State,
		Admin: r.Admin, Profile: idOrNull(r.Profile), Group: idOrNull(r.Group), Policy: r.Policy,
		Expiration: responseTime(r.Expiration), CreatedAt: responseTime(r.CreatedAt),
		UpdatedAt: responseTime(r.UpdatedAt), AccessGrant: r.AccessGrant, Approved: r.Approved,
	}
	if r.DenialReasoning != "" {
		s := r.DenialReasoning
		out.DenialReasoning = &s
	}
	if r.Policy {
		slots := make([]approvalSlotJSON, len(r.Approvals))
		for i, s := range r.Approvals {
			slots[i] = approvalSlotJSON{RequiredPermission: s.RequiredPermission,
				SpecificApproverRequired: s.SpecificApproverRequired,
				SpecificApprover:         idOrNull(s.SpecificApprover), Approver: idOrNull(s.Approver), State: s.State}
		}
		out.Approvals = &slots
	}
	return out
}
