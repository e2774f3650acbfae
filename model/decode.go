package model

import (
	"encoding/json"
	"fmt"
	"slices"
)

// responseOnlyFields are accepted at the top level of a policy payload (so that a
// GET response can be PUT back) and ignored.
var responseOnlyFields = []string{"id", "createdBy", "createdByName", "createdAt", "updatedAt",
	"deleted", "systemGenerated", "clonedFrom", "metadata"}

// v1 subscriptionType values and their canonical action types.
var (
	v1SubscriptionTypes = []string{"automatic", "approval", "policy", "manual"}
	v1ToAction          = map[string]ActionType{"automatic": ActionAnyone, "approval": ActionApproval,
		"policy": ActionEntitlements, "manual": ActionManual}
	v1Operators     = []string{"and", "or"}
	v1ToOperator    = map[string]Operator{"and": All, "or": Any}
	v1Conditions    = []string{"groups", "authorizations"}
	circumstanceFor = map[string]CircumstanceType{}
)

func init() {
	for _, t := range circumstanceTypes {
		circumstanceFor[t] = CircumstanceType(t)
	}
}

// DecodePolicy decodes one policy payload, JSON or YAML, in either dialect (v1 when
// actions is a list, v2 when it is an object), applies the defaults and validates it
// structurally. On failure it returns nil and an ErrorList with every problem, each
// with its path in the naming of the payload's dialect.
//
// Defaults: v1 policyKey = name; circumstanceOperator any; accessGrant READ;
// automaticSubscription, allowDiscovery, shareResponsibility, staged and template
// false; description nil. Circumstances omitted, null in v2, or [] mean every data
// source (Circumstances nil); v1 circumstances: null means owner-selected only (one
// circumstance of type CircumstanceOwnerSelected); a circumstance {type: null} (or
// the string "null") is owner-selected in both dialects, which lets v1 express an
// owner-selected circumstance among others. In v1 the per-circumstance operator
// folds to All when every given operator is "and", else Any; mixing "and" and "or"
// is an error. Regexes are not compiled and advanced expressions not parsed here
// (the circumstance and entitlement packages do that).
func DecodePolicy(data []byte, lim Limits) (*Policy, error) {
	p, errs := DecodePolicyDraft(data, lim)
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// DecodePolicyDraft is DecodePolicy for callers that report every problem of a body
// at once: besides the structural problems (nil when there are none) it returns the
// policy as far as it decodes, so that a caller can still compile what is sound in it
// (its regexes and its advanced expression; see docs/semantics.md, Validation). The
// policy is nil only when the payload is not a readable object. A policy returned
// with problems must not be stored.
func DecodePolicyDraft(data []byte, lim Limits) (*Policy, ErrorList) {
	doc, errs := parseDocumentOrder(data, lim, false)
	if errs != nil {
		return nil, errs
	}
	p, errs := decodePolicyValue(doc.value)
	if len(errs) > 0 {
		// the positions of the values are needed only to order problems: the
		// payload is parsed again, tracking them
		if tracked, perrs := parseDocumentOrder(data, lim, true); perrs == nil {
			sortByDocument(errs, tracked.order)
		}
		return p, errs
	}
	if p.DataActions != nil {
		// keep a data policy's actions as written (key order), compacted
		var raw struct {
			Actions json.RawMessage `json:"actions"`
		}
		if rawFields(doc.json, &raw) == nil && raw.Actions != nil {
			p.DataActions = compactRaw(raw.Actions)
		}
	}
	return p, nil
}

// decodePolicyValue decodes and validates a generic policy value. It returns the
// policy as far as it decodes (nil when v is not an object) and every problem.
func decodePolicyValue(v any) (*Policy, ErrorList) {
	w := &walker{}
	o, ok := w.asObject("", v)
	if !ok {
		return nil, w.errs
	}
	p := &Policy{}
	var paths policyPaths = v2Paths{}

	// dialect: a list of actions is v1, an object v2
	actions, hasActions := o.raw("actions")
	known := true
	switch actions.(type) {
	case []any:
		p.Dialect = DialectV1
	case map[string]any:
		p.Dialect = DialectV2
	default:
		known = false
		if !hasActions || actions == nil {
			w.add(Required("actions", ""))
		} else {
			w.add(WrongType("actions", "a list (v1) or an object (v2)", actions))
		}
	}

	p.Name, _ = o.str("name")
	key, hasKey := o.str("policyKey")
	p.Key = key
	if p.Dialect == DialectV1 && (!hasKey || key == "") {
		p.Key = p.Name
		p.KeyDefaulted = true
	}
	t, _ := o.str("type")
	p.Type = PolicyType(t)
	p.Staged = o.boolean("staged")
	p.Template = o.boolean("template")
	if c, ok := o.obj("certification"); ok {
		p.Certification = decodeCertification(c)
	}
	o.ignore(responseOnlyFields...)
	p.OwnerRestrictions = decodeOwnerRestrictions(o)

	if p.Dialect == DialectV1 {
		paths = decodeCircumstancesV1(o, p)
	} else {
		decodeCircumstancesV2(o, p)
	}

	switch {
	case !known:
	case p.Type == PolicyData:
		p.DataActions = canonicalJSON(actions)
	case p.Dialect == DialectV1:
		paths = decodeActionV1(w, actions.([]any), p, paths.(v1Paths))
	default:
		decodeActionV2(w, actions.(map[string]any), &p.Action)
	}
	o.finish()

	var later ErrorList
	validatePolicy(p, paths, &later)
	if p.KeyDefaulted && p.Name == "" {
		// the v1 key defaults to the name: "name is required" says it all
		later = slices.DeleteFunc(later, func(e *FieldError) bool { return e.Path == "policyKey" })
	}
	return p, mergeErrors(w.errs, later)
}

func decodeCertification(c *object) *Certification {
	cert := &Certification{}
	cert.Text, _ = c.str("text")
	cert.Label, _ = c.str("label")
	if tags, ok := c.strings("tags"); ok && len(tags) > 0 {
		cert.Tags = tags
	}
	cert.Recertify = c.boolean("recertify")
	c.finish()
	return cert
}

// decodeCircumstancesV2 reads circumstances and circumstanceOperator (v2).
func decodeCircumstancesV2(o *object, p *Policy) {
	p.CircumstanceOperator = Any
	if op, ok := o.str("circumstanceOperator"); ok {
		p.CircumstanceOperator = Operator(op)
	}
	list, ok := o.list("circumstances")
	if !ok || len(list) == 0 {
		return
	}
	p.Circumstances = make([]Circumstance, len(list))
	for i, v := range list {
		c, ok := o.w.asObject(o.at("circumstances").Index(i), v)
		if !ok {
			continue
		}
		decodeCircumstance(c, &p.Circumstances[i], DialectV2)
		c.finish()
	}
}

// decodeCircumstancesV1 reads circumstances (v1): null is owner-selected, each
// element may carry an operator, folded into p.CircumstanceOperator.
func decodeCircumstancesV1(o *object, p *Policy) v1Paths {
	p.CircumstanceOperator = Any
	raw, present := o.raw("circumstances")
	if present && raw == nil {
		p.Circumstances = []Circumstance{{Type: CircumstanceOwnerSelected}}
		return v1Paths{}
	}
	list, ok := o.list("circumstances")
	if !ok || len(list) == 0 {
		return v1Paths{}
	}
	p.Circumstances = make([]Circumstance, len(list))
	firstOp, firstAt := "", Path("")
	for i, v := range list {
		cp := o.at("circumstances").Index(i)
		c, ok := o.w.asObject(cp, v)
		if !ok {
			continue
		}
		if op, ok := c.str("operator"); ok {
			switch {
			case v1ToOperator[op] == "":
				o.w.add(NotSupported(cp.Child("operator"), op, v1Operators))
			case firstOp == "":
				firstOp, firstAt = op, cp.Child("operator")
			case op != firstOp:
				o.w.add(Invalid(cp.Child("operator"), op,
					fmt.Sprintf("conflicts with %q at %s: mixing and and or is ambiguous", firstOp, firstAt)))
			}
		}
		decodeCircumstance(c, &p.Circumstances[i], DialectV1)
		c.finish()
	}
	if firstOp == "and" {
		p.CircumstanceOperator = All
	}
	return v1Paths{}
}

// allCircumstanceFields are the fields of every circumstance type besides type;
// when the type is missing or unknown they are not reported as unknown.
var allCircumstanceFields = []string{"tag", "columnTag", "regex", "caseInsensitive", "columnRegex", "domains", "server", "startDate", "endDate"}

// decodeCircumstance reads one circumstance; fields of other types stay unread
// (and so are reported as unknown by finish).
func decodeCircumstance(o *object, c *Circumstance, d Dialect) {
	tv, present := o.raw("type")
	switch t := tv.(type) {
	case nil:
		if !present {
			o.w.add(Required(o.at("type"), ""))
			o.ignore(allCircumstanceFields...)
			return
		}
		c.Type = CircumstanceOwnerSelected
	case string:
		ct, ok := circumstanceFor[t]
		if !ok {
			o.w.add(NotSupported(o.at("type"), t, circumstanceTypes))
			o.ignore(allCircumstanceFields...)
			return
		}
		c.Type = ct
	default:
		o.w.add(WrongType(o.at("type"), "a string or null", tv))
		o.ignore(allCircumstanceFields...)
		return
	}
	switch c.Type {
	case CircumstanceTags:
		c.Tag = decodeTag(o, "tag", c, d)
	case CircumstanceColumnTags:
		c.ColumnTag = decodeTag(o, "columnTag", c, d)
	case CircumstanceColumnRegex:
		if _, vendor := o.m["columnRegex"]; vendor && d == DialectV1 {
			nested, _ := o.raw("columnRegex")
			// The vendor's v1 form {columnRegex: {regex, caseInsensitive}}.
			if _, flat := o.m["regex"]; flat {
				o.w.add(Forbidden(o.at("regex"), "give the regex flat or inside columnRegex, not both"))
			}
			if _, flat := o.m["caseInsensitive"]; flat {
				o.w.add(Forbidden(o.at("caseInsensitive"), "give caseInsensitive flat or inside columnRegex, not both"))
			}
			o.ignore("regex", "caseInsensitive")
			if cr, ok := o.w.asObject(o.at("columnRegex"), nested); ok {
				c.Regex, _ = cr.str("regex")
				c.CaseInsensitive = cr.boolean("caseInsensitive")
				if c.Regex == "" {
					if _, given := cr.raw("regex"); !given {
						o.w.add(Required(cr.at("regex"), "is required for type columnRegex"))
						c.Regex = "\x00" // reported here; keeps the flat-form rule quiet
					}
				}
				cr.finish()
			} else {
				c.Regex = "\x00"
			}
			return
		}
		c.Regex, _ = o.str("regex")
		c.CaseInsensitive = o.boolean("caseInsensitive")
	case CircumstanceServer:
		c.Server, _ = o.str("server")
	case CircumstanceTime:
		c.StartDate, _ = o.date("startDate")
		c.EndDate, _ = o.date("endDate")
	case CircumstanceDomains:
		list, ok := o.list("domains")
		if !ok || len(list) == 0 {
			return
		}
		c.Domains = make([]Domain, len(list))
		for i, v := range list {
			dp := o.at("domains").Index(i)
			do, ok := o.w.asObject(dp, v)
			if !ok {
				c.Domains[i] = Domain{Name: "?"} // reported; keeps the id-or-name rule quiet
				continue
			}
			c.Domains[i].ID, _ = idString(do, "id")
			c.Domains[i].Name, _ = do.str("name")
			do.finish()
		}
	}
}

// idString reads an id given as a string or an integer, as a string.
func idString(o *object, key string) (string, bool) {
	v, ok := o.get(key)
	if !ok {
		return "", false
	}
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		if _, err := x.Int64(); err != nil {
			o.w.add(Invalid(o.at(key), x.String(), "is not an integer"))
			return "", false
		}
		return x.String(), true
	default:
		o.w.add(WrongType(o.at(key), "a string or an integer", v))
		return "", false
	}
}

// decodeTag reads a tag: a string in v2, an object {name, displayName,
// hasLeafNodes} in v1.
func decodeTag(o *object, key string, c *Circumstance, d Dialect) string {
	if d == DialectV2 {
		s, _ := o.str(key)
		return s
	}
	t, ok := o.obj(key)
	if !ok {
		return ""
	}
	name, _ := t.str("name")
	c.TagDisplayName, _ = t.str("displayName")
	c.TagSource, _ = t.str("source")
	if v, ok := t.get("hasLeafNodes"); ok {
		if b, isBool := v.(bool); isBool {
			c.TagHasLeafNodes = &b
		} else {
			o.w.add(WrongType(t.at("hasLeafNodes"), "a boolean", v))
		}
	}
	t.finish()
	return name
}

// decodeActionV2 reads the v2 actions object of a subscription policy.
func decodeActionV2(w *walker, v map[string]any, a *Action) {
	o, _ := w.asObject("actions", v)
	t, _ := o.str("type")
	a.Type = ActionType(t)
	decodeActionCommon(o, a)
	if list, ok := o.list("approvals"); ok && len(list) > 0 {
		a.Approvals = decodeApprovals(o, list, "requiredPermissions")
	}
	if e, ok := o.obj("entitlements"); ok {
		ent := &Entitlements{}
		op, _ := e.str("operator")
		ent.Operator = Operator(op)
		if groups, ok := e.strings("groups"); ok && len(groups) > 0 {
			ent.Groups = groups
		}
		if list, ok := e.list("attributes"); ok && len(list) > 0 {
			ent.Attributes = make([]Attribute, len(list))
			for i, av := range list {
				ao, ok := w.asObject(e.at("attributes").Index(i), av)
				if !ok {
					continue
				}
				ent.Attributes[i].Name, _ = ao.str("name")
				ent.Attributes[i].Value, _ = ao.str("value")
				ao.finish()
			}
		}
		e.finish()
		a.Entitlements = ent
	}
	o.finish()
}

// decodeActionCommon reads the action fields both dialects share.
func decodeActionCommon(o *object, a *Action) {
	a.AccessGrant = Read
	if g, ok := o.str("accessGrant"); ok {
		a.AccessGrant = AccessGrant(g)
	}
	a.AutomaticSubscription = o.boolean("automaticSubscription")
	a.AllowDiscovery = o.boolean("allowDiscovery")
	a.ShareResponsibility = o.boolean("shareResponsibility")
	if d, ok := o.str("description"); ok {
		a.Description = &d
	}
	if adv, ok := o.str("advanced"); ok {
		a.Advanced = adv
	} else if v, present := o.get("advanced"); present && v != nil {
		// not a string (reported): a placeholder keeps "entitlements or advanced
		// is required" quiet; the policy is rejected anyway
		a.Advanced = "\x00"
	}
}

// decodeApprovals reads approval slots; permKey is requiredPermissions (v2) or
// requiredPermission (v1).
func decodeApprovals(o *object, list []any, permKey string) []Approval {
	out := make([]Approval, len(list))
	for i, v := range list {
		ao, ok := o.w.asObject(o.at("approvals").Index(i), v)
		if !ok {
			out[i].RequiredPermission = Owner // reported; keeps the required rule quiet
			continue
		}
		perm, _ := ao.str(permKey)
		if permKey == "requiredPermission" {
			// v1 derived subscriptions name their owner model: accepted, ignored.
			ao.ignore("ownerModelId", "ownerModelName")
		}
		out[i].RequiredPermission = Permission(perm)
		out[i].SpecificApproverRequired = ao.boolean("specificApproverRequired")
		ao.finish()
	}
	return out
}

// decodeActionV1 reads the v1 actions list (exactly one element) of a subscription
// policy and returns the paths with the exceptions condition indices filled in.
func decodeActionV1(w *walker, list []any, p *Policy, paths v1Paths) v1Paths {
	if len(list) != 1 {
		w.add(Invalid("actions", nil, fmt.Sprintf("must have exactly one element, has %d", len(list))))
		if len(list) == 0 {
			p.Action = Action{Type: ActionManual, AccessGrant: Read}
			return paths
		}
	}
	o, ok := w.asObject("actions[0]", list[0])
	if !ok {
		p.Action = Action{Type: ActionManual, AccessGrant: Read}
		return paths
	}
	a := &p.Action
	if t, ok := o.str("type"); !ok {
		if _, present := o.raw("type"); !present {
			w.add(Required(o.at("type"), `must be "subscription"`))
		}
	} else if t != "subscription" {
		w.add(NotSupported(o.at("type"), t, []string{"subscription"}))
	}
	if st, ok := o.str("subscriptionType"); ok {
		if at, known := v1ToAction[st]; known {
			a.Type = at
		} else {
			w.add(NotSupported(o.at("subscriptionType"), st, v1SubscriptionTypes))
		}
	}
	decodeActionCommon(o, a)
	if l, ok := o.list("approvals"); ok && len(l) > 0 {
		a.Approvals = decodeApprovals(o, l, "requiredPermission")
	}
	if e, ok := o.obj("exceptions"); ok {
		ent := &Entitlements{}
		if op, ok := e.str("operator"); ok {
			if mapped, known := v1ToOperator[op]; known {
				ent.Operator = mapped
			} else {
				w.add(NotSupported(e.at("operator"), op, v1Operators))
			}
		}
		conds, _ := e.list("conditions")
		for i, cv := range conds {
			cp := e.at("conditions").Index(i)
			co, ok := w.asObject(cp, cv)
			if !ok {
				continue
			}
			ct, present := co.raw("type")
			switch ct {
			case "groups":
				name, info := "", ConditionInfo{}
				if g, ok := co.obj("group"); ok {
					name, _ = g.str("name")
					info.GroupID, _ = positiveID(g, "id", false)
					info.IAM, _ = g.str("iam")
					g.finish()
				}
				info.Field, _ = co.str("field")
				paths.groupAt = append(paths.groupAt, i)
				ent.Groups = append(ent.Groups, name)
				ent.GroupInfo = append(ent.GroupInfo, info)
			case "authorizations":
				var at Attribute
				var info ConditionInfo
				if au, ok := co.obj("authorization"); ok {
					at.Name, _ = au.str("auth")
					at.Value, _ = au.str("value")
					info.IAM, _ = au.str("iam")
					au.finish()
				}
				info.Field, _ = co.str("field")
				paths.attrAt = append(paths.attrAt, i)
				ent.Attributes = append(ent.Attributes, at)
				ent.AttributeInfo = append(ent.AttributeInfo, info)
			default:
				switch {
				case !present || ct == nil:
					w.add(Required(co.at("type"), ""))
				default:
					if s, isStr := ct.(string); isStr {
						w.add(NotSupported(co.at("type"), s, v1Conditions))
					} else {
						w.add(WrongType(co.at("type"), "a string", ct))
					}
				}
				co.ignore("group", "authorization", "field")
				// keep "needs at least one condition" quiet: this one is reported
				paths.groupAt = append(paths.groupAt, i)
				ent.Groups = append(ent.Groups, "?")
				ent.GroupInfo = append(ent.GroupInfo, ConditionInfo{})
			}
			co.finish()
		}
		e.finish()
		ent.GroupInfo = trimInfo(ent.GroupInfo)
		ent.AttributeInfo = trimInfo(ent.AttributeInfo)
		a.Entitlements = ent
	}
	o.finish()
	return paths
}

// trimInfo returns nil when no condition carries informational fields, so that
// policies without them compare equal whatever dialect they came from.
func trimInfo(l []ConditionInfo) []ConditionInfo {
	for _, c := range l {
		if c != (ConditionInfo{}) {
			return l
		}
	}
	return nil
}

// decodeOwnerRestrictions reads the vendor's ownerRestrictions (an object
// {users: [...], groups: [...]} in its documentation): any value but null is kept
// verbatim, to be echoed.
func decodeOwnerRestrictions(o *object) json.RawMessage {
	v, ok := o.get("ownerRestrictions")
	if !ok {
		return nil
	}
	return canonicalJSON(v)
}
