package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Enumerations, in the order error messages list them.
var (
	policyTypes        = []string{string(PolicySubscription), string(PolicyData)}
	actionTypes        = []string{string(ActionAnyone), string(ActionApproval), string(ActionEntitlements), string(ActionManual)}
	accessGrants       = []string{string(Read), string(Write)}
	operators          = []string{string(All), string(Any)}
	approvalPerms      = []string{string(Owner), string(UserAdmin), string(Governance), string(Audit)}
	userPerms          = []string{string(Governance), string(UserAdmin), string(Audit), string(CreateDataSource)}
	circumstanceTypes  = []string{string(CircumstanceTags), string(CircumstanceColumnTags), string(CircumstanceColumnRegex), string(CircumstanceDomains), string(CircumstanceServer), string(CircumstanceTime), string(CircumstanceNoTags), string(CircumstanceAnyTag), string(CircumstanceOwnerSelected)}
	grantStates        = []string{string(RecordSubscribed), string(RecordExpert), string(RecordOwner)}
	recordChangeStates = []string{string(RecordSubscribed), string(RecordExpert), string(RecordOwner), string(RecordDenied)}
)

func oneOf[T ~string](v T, valid []string) bool {
	for _, s := range valid {
		if string(v) == s {
			return true
		}
	}
	return false
}

// CircumstanceTypes returns the circumstance types, in the order error messages
// list them (a new slice on each call).
func CircumstanceTypes() []string { return slices.Clone(circumstanceTypes) }

// ValidatePolicy checks a canonical policy built in Go against the structural rules
// DecodePolicy applies, returning every problem (nil when valid) with paths in v2
// naming (actions.entitlements.groups[0], circumstances[1].tag, ...). Unlike
// DecodePolicy it applies no defaults: CircumstanceOperator and, for subscription
// policies, Action.AccessGrant must be set (see ApplyDefaults). Regexes and advanced
// expressions are not compiled here. Action is ignored for data policies.
func ValidatePolicy(p *Policy) ErrorList {
	if p == nil {
		return ErrorList{Required("", "policy is nil")}
	}
	var errs ErrorList
	validatePolicy(p, v2Paths{}, &errs)
	return errs
}

// ApplyDefaults fills the defaults DecodePolicy applies to a policy built in Go:
// CircumstanceOperator Any and, for subscription policies, Action.AccessGrant READ;
// empty lists become nil. It does not default Key (v1 only does).
func (p *Policy) ApplyDefaults() {
	if p.CircumstanceOperator == "" {
		p.CircumstanceOperator = Any
	}
	if len(p.Circumstances) == 0 {
		p.Circumstances = nil
	}
	if p.Type == PolicySubscription && p.Action.AccessGrant == "" {
		p.Action.AccessGrant = Read
	}
	if len(p.Action.Approvals) == 0 {
		p.Action.Approvals = nil
	}
	if c := p.Certification; c != nil && len(c.Tags) == 0 {
		c.Tags = nil
	}
}

// policyPaths names the paths of the fields of a canonical policy in one dialect,
// so that one validator reports in the naming of the payload it came from.
type policyPaths interface {
	actionType() Path
	action() Path
	approvals() Path
	approvalPerm(i int) Path
	entitlements() Path
	entitlementsConditions() Path
	group(i int) Path
	attrName(i int) Path
	attrValue(i int) Path
	circumstanceOperator() Path
	tag(i int) Path
	columnTag(i int) Path
}

// v2Paths names fields as the v2 dialect (and ValidatePolicy) does.
type v2Paths struct{}

func (v2Paths) action() Path       { return "actions" }
func (v2Paths) actionType() Path   { return "actions.type" }
func (v2Paths) approvals() Path    { return "actions.approvals" }
func (v2Paths) entitlements() Path { return "actions.entitlements" }
func (v2Paths) group(i int) Path   { return Path("actions.entitlements.groups").Index(i) }
func (v2Paths) attrName(i int) Path {
	return Path("actions.entitlements.attributes").Index(i).Child("name")
}
func (v2Paths) attrValue(i int) Path {
	return Path("actions.entitlements.attributes").Index(i).Child("value")
}
func (v2Paths) approvalPerm(i int) Path {
	return Path("actions.approvals").Index(i).Child("requiredPermissions")
}
func (v2Paths) entitlementsConditions() Path { return "actions.entitlements" }
func (v2Paths) circumstanceOperator() Path   { return "circumstanceOperator" }
func (v2Paths) tag(i int) Path               { return Path("circumstances").Index(i).Child("tag") }
func (v2Paths) columnTag(i int) Path         { return Path("circumstances").Index(i).Child("columnTag") }

// v1Paths names fields as the v1 dialect does; groupAt and attrAt map the index of
// a canonical group or attribute to the index of its exceptions condition.
type v1Paths struct {
	groupAt, attrAt []int
}

func (v1Paths) action() Path       { return "actions[0]" }
func (v1Paths) actionType() Path   { return "actions[0].subscriptionType" }
func (v1Paths) approvals() Path    { return "actions[0].approvals" }
func (v1Paths) entitlements() Path { return "actions[0].exceptions" }
func (v1Paths) approvalPerm(i int) Path {
	return Path("actions[0].approvals").Index(i).Child("requiredPermission")
}
func (v1Paths) entitlementsConditions() Path { return "actions[0].exceptions.conditions" }
func (m v1Paths) condition(at []int, i int) Path {
	j := i
	if i < len(at) {
		j = at[i]
	}
	return Path("actions[0].exceptions.conditions").Index(j)
}
func (m v1Paths) group(i int) Path { return m.condition(m.groupAt, i).Child("group").Child("name") }
func (m v1Paths) attrName(i int) Path {
	return m.condition(m.attrAt, i).Child("authorization").Child("auth")
}
func (m v1Paths) attrValue(i int) Path {
	return m.condition(m.attrAt, i).Child("authorization").Child("value")
}
func (v1Paths) circumstanceOperator() Path { return "circumstances" }
func (v1Paths) tag(i int) Path             { return Path("circumstances").Index(i).Child("tag").Child("name") }
func (v1Paths) columnTag(i int) Path {
	return Path("circumstances").Index(i).Child("columnTag").Child("name")
}

// validatePolicy appends every structural problem of p to errs.
func validatePolicy(p *Policy, paths policyPaths, errs *ErrorList) {
	add := func(e *FieldError) { *errs = append(*errs, e) }
	if p.Name == "" {
		add(Required("name", ""))
	}
	if e := unsafeText("name", p.Name); e != nil {
		add(e)
	}
	if p.Key == "" {
		add(Required("policyKey", ""))
	}
	if e := unsafeText("policyKey", p.Key); e != nil && !p.KeyDefaulted {
		add(e)
	}
	switch {
	case p.Type == "":
		add(Required("type", ""))
	case !oneOf(p.Type, policyTypes):
		add(NotSupported("type", string(p.Type), policyTypes))
	}
	if c := p.Certification; c != nil {
		if c.Text == "" {
			add(Required("certification.text", ""))
		}
		if c.Label == "" {
			add(Required("certification.label", ""))
		}
		for i, t := range c.Tags {
			if t == "" {
				add(Required(Path("certification.tags").Index(i), "must not be empty"))
			}
		}
	}
	validateCircumstances(p, paths, add)
	if p.Staged && p.OwnerSelected() {
		add(Forbidden("staged", "a policy with an owner-selected circumstance cannot be staged"))
	}
	switch p.Type {
	case PolicyData:
		validateDataActions(p, add)
	default: // subscription, or an invalid type (reported above): check the action
		if p.DataActions != nil {
			add(Forbidden(paths.action(), "DataActions is only for data policies"))
		}
		validateAction(&p.Action, paths, add)
	}
}

func validateDataActions(p *Policy, add func(*FieldError)) {
	var v any
	if len(p.DataActions) == 0 {
		add(Required("actions", ""))
		return
	}
	if err := json.Unmarshal(p.DataActions, &v); err != nil {
		add(Invalid("actions", nil, "is not valid JSON: "+err.Error()))
		return
	}
	switch v.(type) {
	case map[string]any, []any:
	default:
		add(WrongType("actions", "an object (v2) or a list (v1)", v))
	}
}

func validateAction(a *Action, paths policyPaths, add func(*FieldError)) {
	switch {
	case a.Type == "":
		add(Required(paths.actionType(), ""))
	case !oneOf(a.Type, actionTypes):
		add(NotSupported(paths.actionType(), string(a.Type), actionTypes))
	}
	ap := paths.action().Child("accessGrant")
	switch {
	case a.AccessGrant == "":
		add(Required(ap, ""))
	case !oneOf(a.AccessGrant, accessGrants):
		add(NotSupported(ap, string(a.AccessGrant), accessGrants))
	}
	// approvals iff approval
	if a.Type == ActionApproval {
		if len(a.Approvals) == 0 {
			add(Required(paths.approvals(), "is required for type approval"))
		}
	} else if len(a.Approvals) > 0 && a.Type != "" {
		add(Forbidden(paths.approvals(), "is only allowed with type approval"))
	}
	if a.Type == ActionApproval || a.Type == "" {
		for i, s := range a.Approvals {
			pp := paths.approvalPerm(i)
			switch {
			case s.RequiredPermission == "":
				add(Required(pp, ""))
			case !oneOf(s.RequiredPermission, approvalPerms):
				add(NotSupported(pp, string(s.RequiredPermission), approvalPerms))
			}
		}
	}
	// entitlements and advanced only with entitlements, which needs one of them
	if a.Type == ActionEntitlements {
		if a.Entitlements == nil && a.Advanced == "" {
			add(Required(paths.entitlements(), "entitlements or advanced (or both) is required for type entitlements"))
		}
	} else if a.Type != "" {
		if a.Entitlements != nil {
			add(Forbidden(paths.entitlements(), "is only allowed with type entitlements"))
		}
		if a.Advanced != "" {
			add(Forbidden(paths.action().Child("advanced"), "is only allowed with type entitlements"))
		}
	}
	if e := a.Entitlements; e != nil && (a.Type == ActionEntitlements || a.Type == "") {
		op := paths.entitlements().Child("operator")
		switch {
		case e.Operator == "":
			add(Required(op, ""))
		case !oneOf(e.Operator, operators):
			add(NotSupported(op, string(e.Operator), operators))
		}
		if len(e.Groups) == 0 && len(e.Attributes) == 0 {
			add(Required(paths.entitlementsConditions(), "needs at least one group or attribute"))
		}
		for i, g := range e.Groups {
			if g == "" && (i >= len(e.GroupInfo) || e.GroupInfo[i].GroupID == 0) {
				add(Required(paths.group(i), "must not be empty"))
			}
		}
		for i, at := range e.Attributes {
			if at.Name == "" {
				add(Required(paths.attrName(i), ""))
			}
			if at.Value == "" {
				add(Required(paths.attrValue(i), ""))
			}
		}
	}
}

// validateCircumstances checks the operator and each circumstance: its type, the
// fields its type requires, and no field of another type.
func validateCircumstances(p *Policy, paths policyPaths, add func(*FieldError)) {
	switch {
	case p.CircumstanceOperator == "":
		add(Required(paths.circumstanceOperator(), ""))
	case !oneOf(p.CircumstanceOperator, operators):
		add(NotSupported(paths.circumstanceOperator(), string(p.CircumstanceOperator), operators))
	}
	for i := range p.Circumstances {
		c := &p.Circumstances[i]
		cp := Path("circumstances").Index(i)
		switch {
		case c.Type == "":
			add(Required(cp.Child("type"), ""))
			continue
		case !oneOf(c.Type, circumstanceTypes):
			add(NotSupported(cp.Child("type"), string(c.Type), circumstanceTypes))
			continue
		}
		only := func(set bool, field string, t CircumstanceType) {
			if set && c.Type != t {
				add(Forbidden(cp.Child(field), "is only allowed with type "+string(t)))
			}
		}
		only(c.Tag != "", "tag", CircumstanceTags)
		only(c.ColumnTag != "", "columnTag", CircumstanceColumnTags)
		only(c.Regex != "", "regex", CircumstanceColumnRegex)
		only(c.CaseInsensitive, "caseInsensitive", CircumstanceColumnRegex)
		only(len(c.Domains) > 0, "domains", CircumstanceDomains)
		only(c.Server != "", "server", CircumstanceServer)
		only(!c.StartDate.IsZero(), "startDate", CircumstanceTime)
		only(!c.EndDate.IsZero(), "endDate", CircumstanceTime)
		if (c.TagDisplayName != "" || c.TagHasLeafNodes != nil || c.TagSource != "") && c.Type != CircumstanceTags && c.Type != CircumstanceColumnTags {
			add(Forbidden(cp.Child("tag"), "display name, leaf flag and source are only allowed with type tags or columnTags"))
		}
		switch c.Type {
		case CircumstanceTags:
			if c.Tag == "" {
				add(Required(paths.tag(i), "is required for type tags"))
			}
		case CircumstanceColumnTags:
			if c.ColumnTag == "" {
				add(Required(paths.columnTag(i), "is required for type columnTags"))
			}
		case CircumstanceColumnRegex:
			if c.Regex == "" {
				add(Required(cp.Child("regex"), "is required for type columnRegex"))
			}
		case CircumstanceServer:
			if c.Server == "" {
				add(Required(cp.Child("server"), "is required for type server"))
			}
		case CircumstanceDomains:
			if len(c.Domains) == 0 {
				add(Required(cp.Child("domains"), "is required for type domains"))
			}
			for j, d := range c.Domains {
				if d.ID == "" && d.Name == "" {
					add(Required(cp.Child("domains").Index(j), "needs id or name"))
				}
			}
		case CircumstanceTime:
			if c.StartDate.IsZero() {
				add(Required(cp.Child("startDate"), "is required for type time"))
			} else if !c.EndDate.IsZero() && !c.EndDate.After(c.StartDate) {
				add(Invalid(cp.Child("endDate"), FormatDate(c.EndDate), "must be after startDate "+FormatDate(c.StartDate)))
			}
		}
	}
}

// related reports whether a and b are the same path or one is inside the other.
func related(a, b Path) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if !strings.HasPrefix(string(b), string(a)) {
		return false
	}
	if len(a) == len(b) || a == "" {
		return true
	}
	c := b[len(a)]
	return c == '.' || c == '['
}

// mergeErrors appends the problems of later to first, leaving out those at a path
// related to (equal to, inside, or containing) a path of first: a field that could
// not be decoded is reported once.
func mergeErrors(first, later ErrorList) ErrorList {
	out := first
next:
	for _, e := range later {
		for _, f := range first {
			if related(e.Path, f.Path) {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

// unsafeText reports a name or key holding a NUL or a bidirectional embedding,
// override or isolate character (U+202A to U+202E, U+2066 to U+2069): they make a
// name display as something it is not, or cut it short in C-based tools (see
// docs/security.md, Limits).
func unsafeText(p Path, s string) *FieldError {
	for i, r := range s {
		switch {
		case r == 0:
			return Invalid(p, nil, fmt.Sprintf("holds a NUL character (at byte %d), which names and keys may not", i))
		case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return Invalid(p, nil, fmt.Sprintf("holds the bidirectional control character U+%04X (at byte %d), which names and keys may not", r, i))
		}
	}
	return nil
}
