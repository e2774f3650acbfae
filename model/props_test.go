package model_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/leanovate/gopter"
	"github.com/leanovate/gopter/prop"
	"sigs.k8s.io/yaml"

	"github.com/tollgate-dev/tollgate/model"
)

// Generators of canonical policies for the laws of encoding and validation.

var stringPool = []string{"a", "Discovered", "Discovered.Healthcare NPI", "null", "yes", "no", "~", "true", "1", "1.5",
	"<b>&</b>", `quote " and \ backslash`, "ünïcødé ✓", "tab\tnew\nline", " leading space", "#comment", "- dash", "key: value",
	"@isInGroups('g')", "2024-01-01"}

func randString(r *rand.Rand) string {
	if r.Intn(3) == 0 {
		return stringPool[r.Intn(len(stringPool))]
	}
	runes := []rune("abcXYZ09 ._-/:'\"\\{}[]<>&é中🙂")
	n := 1 + r.Intn(12)
	out := make([]rune, n)
	for i := range out {
		out[i] = runes[r.Intn(len(runes))]
	}
	return string(out)
}

func randStrings(r *rand.Rand, min, max int) []string {
	n := min + r.Intn(max-min+1)
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = randString(r)
	}
	return out
}

func randTime(r *rand.Rand) time.Time {
	// 1970 .. 2100, nanosecond precision, UTC
	return time.Unix(r.Int63n(4102444800), r.Int63n(1e9)).UTC()
}

func pick[T any](r *rand.Rand, values ...T) T { return values[r.Intn(len(values))] }

func randCircumstance(r *rand.Rand, d model.Dialect) model.Circumstance {
	c := model.Circumstance{Type: pick(r, model.CircumstanceTags, model.CircumstanceColumnTags, model.CircumstanceColumnRegex,
		model.CircumstanceDomains, model.CircumstanceServer, model.CircumstanceTime, model.CircumstanceOwnerSelected)}
	tagExtras := func() {
		if d == model.DialectV1 && r.Intn(2) == 0 {
			c.TagDisplayName = randString(r)
			b := r.Intn(2) == 0
			c.TagHasLeafNodes = &b
		}
	}
	switch c.Type {
	case model.CircumstanceTags:
		c.Tag = randString(r)
		tagExtras()
	case model.CircumstanceColumnTags:
		c.ColumnTag = randString(r)
		tagExtras()
	case model.CircumstanceColumnRegex:
		c.Regex = randString(r)
		c.CaseInsensitive = r.Intn(2) == 0
	case model.CircumstanceServer:
		c.Server = randString(r)
	case model.CircumstanceTime:
		c.StartDate = randTime(r)
		if r.Intn(2) == 0 {
			c.EndDate = c.StartDate.Add(time.Duration(1 + r.Int63n(int64(1000*time.Hour))))
		}
	case model.CircumstanceDomains:
		c.Domains = make([]model.Domain, 1+r.Intn(3))
		for i := range c.Domains {
			switch r.Intn(3) {
			case 0:
				c.Domains[i].ID = randString(r)
			case 1:
				c.Domains[i].Name = randString(r)
			default:
				c.Domains[i] = model.Domain{ID: randString(r), Name: randString(r)}
			}
		}
	}
	return c
}

func randAction(r *rand.Rand) model.Action {
	a := model.Action{Type: pick(r, model.ActionAnyone, model.ActionApproval, model.ActionEntitlements, model.ActionManual),
		AccessGrant: pick(r, model.Read, model.Write), AutomaticSubscription: r.Intn(2) == 0,
		AllowDiscovery: r.Intn(2) == 0, ShareResponsibility: r.Intn(2) == 0}
	if r.Intn(2) == 0 {
		s := pick(r, "", randString(r))
		a.Description = &s
	}
	switch a.Type {
	case model.ActionApproval:
		a.Approvals = make([]model.Approval, 1+r.Intn(3))
		for i := range a.Approvals {
			a.Approvals[i] = model.Approval{RequiredPermission: pick(r, model.Owner, model.UserAdmin, model.Governance, model.Audit),
				SpecificApproverRequired: r.Intn(2) == 0}
		}
	case model.ActionEntitlements:
		if r.Intn(4) != 0 {
			e := &model.Entitlements{Operator: pick(r, model.All, model.Any)}
			for len(e.Groups)+len(e.Attributes) == 0 {
				e.Groups = randStrings(r, 0, 3)
				for range r.Intn(3) {
					e.Attributes = append(e.Attributes, model.Attribute{Name: randString(r), Value: randString(r)})
				}
			}
			a.Entitlements = e
		}
		if a.Entitlements == nil || r.Intn(2) == 0 {
			a.Advanced = randString(r)
		}
	}
	return a
}

// randPolicy returns a valid canonical policy as DecodePolicy of dialect d would
// produce it (defaults filled, empty lists nil), with random response metadata.
func randPolicy(r *rand.Rand, d model.Dialect) *model.Policy {
	p := &model.Policy{Name: randString(r), Key: randString(r), Type: model.PolicySubscription,
		Template: r.Intn(2) == 0, CircumstanceOperator: pick(r, model.All, model.Any), Dialect: d,
		ID: r.Int63n(3), CreatedBy: r.Int63n(5), CreatedByName: randString(r), Deleted: r.Intn(2) == 0}
	if r.Intn(2) == 0 {
		p.CreatedAt = randTime(r)
		p.UpdatedAt = p.CreatedAt
	}
	if r.Intn(3) == 0 {
		p.Certification = &model.Certification{Text: randString(r), Label: randString(r),
			Tags: randStrings(r, 0, 3), Recertify: r.Intn(2) == 0}
	}
	for range r.Intn(5) {
		p.Circumstances = append(p.Circumstances, randCircumstance(r, d))
	}
	p.Staged = !p.OwnerSelected() && r.Intn(3) == 0
	if r.Intn(6) == 0 {
		p.Type = model.PolicyData
		obj := map[string]any{"type": "masking", "rules": []any{map[string]any{"column": randString(r)}}}
		var v any = obj
		if d == model.DialectV1 {
			v = []any{obj}
		}
		p.DataActions, _ = json.Marshal(v)
		return p
	}
	p.Action = randAction(r)
	return p
}

func genPolicy(d model.Dialect) gopter.Gen {
	return func(gp *gopter.GenParameters) *gopter.GenResult {
		return gopter.NewGenResult(randPolicy(gp.Rng, d), gopter.NoShrinker)
	}
}

// roundTrip checks the encoding law for p in dialect d, also through YAML.
func roundTrip(p *model.Policy, d model.Dialect) error {
	b, err := model.EncodePolicy(p, d)
	if err != nil {
		return err
	}
	want := canonical(p)
	if d == model.DialectV2 {
		want = v2Expressible(want)
	} else {
		want = v1Expressible(want)
	}
	y, err := yaml.JSONToYAML(b)
	if err != nil {
		return err
	}
	for _, in := range [][]byte{b, y} {
		q, err := model.DecodePolicy(in, model.Limits{})
		if err != nil {
			return fmt.Errorf("%v\n%s", err, in)
		}
		if q.Dialect != d {
			return fmt.Errorf("dialect %s, want %s", q.Dialect, d)
		}
		if p.Type == model.PolicyData && p.Dialect != d {
			want.DataActions = convertDataActions(p.DataActions, d)
		}
		if got := canonical(q); !reflect.DeepEqual(want, got) {
			return fmt.Errorf("not equal\nwant %+v\ngot  %+v\n%s", want, got, in)
		}
		if errs := model.ValidatePolicy(q); errs != nil {
			return errs
		}
	}
	return nil
}

func properties(t *testing.T) *gopter.Properties {
	params := gopter.DefaultTestParametersWithSeed(20260101)
	params.MinSuccessfulTests = 300
	return gopter.NewProperties(params)
}

func TestPropertyEncodeDecode(t *testing.T) {
	t.Parallel()
	props := properties(t)
	for _, src := range []model.Dialect{model.DialectV1, model.DialectV2} {
		for _, d := range []model.Dialect{model.DialectV1, model.DialectV2} {
			props.Property(fmt.Sprintf("%s policy through %s", src, d), prop.ForAll(func(p *model.Policy) bool {
				if model.ValidatePolicy(p) != nil {
					t.Logf("generated an invalid policy: %v", model.ValidatePolicy(p))
					return false
				}
				if err := roundTrip(p, d); err != nil {
					t.Log(err)
					return false
				}
				return true
			}, genPolicy(src)))
		}
	}
	props.TestingRun(t)
}

// An arbitrary (mostly invalid) policy: enums from valid and invalid values,
// fields set regardless of type.
func genArbitraryPolicy() gopter.Gen {
	return func(gp *gopter.GenParameters) *gopter.GenResult {
		r := gp.Rng
		s := func(valid ...string) string {
			if r.Intn(4) == 0 {
				return pick(r, "", "bogus", "ALL", "null")
			}
			return pick(r, valid...)
		}
		p := randPolicy(r, pick(r, model.DialectV1, model.DialectV2))
		p.Name = pick(r, "", p.Name)
		p.Key = pick(r, "", p.Key)
		p.Type = model.PolicyType(s("subscription", "data"))
		p.Staged = r.Intn(2) == 0
		p.CircumstanceOperator = model.Operator(s("all", "any"))
		if p.Certification != nil {
			p.Certification.Text = pick(r, "", "t")
			p.Certification.Tags = append(p.Certification.Tags, pick(r, "", "x"))
		}
		for i := range p.Circumstances {
			c := &p.Circumstances[i]
			c.Type = model.CircumstanceType(s("tags", "columnTags", "columnRegex", "domains", "server", "time", "null"))
			c.Tag = pick(r, "", c.Tag, "x")
			c.Regex = pick(r, "", c.Regex, "(")
			c.StartDate = pick(r, time.Time{}, c.StartDate, randTime(r))
			c.EndDate = pick(r, time.Time{}, c.EndDate, randTime(r))
			c.Domains = append(c.Domains, model.Domain{})
		}
		a := &p.Action
		a.Type = model.ActionType(s("anyone", "approval", "entitlements", "manual"))
		a.AccessGrant = model.AccessGrant(s("READ", "WRITE"))
		a.Approvals = append(a.Approvals, model.Approval{RequiredPermission: model.Permission(s("OWNER", "AUDIT", "CREATE_DATA_SOURCE"))})
		if r.Intn(2) == 0 {
			a.Entitlements = &model.Entitlements{Operator: model.Operator(s("all", "any")),
				Attributes: []model.Attribute{{Name: pick(r, "", "n")}}}
		}
		a.Advanced = pick(r, "", "x")
		if r.Intn(5) == 0 {
			p.DataActions = json.RawMessage(pick(r, `{}`, `[]`, `3`, `{`, `null`))
		}
		return gopter.NewGenResult(p, gopter.NoShrinker)
	}
}

func TestPropertyValidate(t *testing.T) {
	t.Parallel()
	props := properties(t)
	props.Property("validation is deterministic and never panics", prop.ForAll(func(p *model.Policy) bool {
		a, b := model.ValidatePolicy(p), model.ValidatePolicy(p)
		return reflect.DeepEqual(a, b)
	}, genArbitraryPolicy()))
	props.Property("a policy ValidatePolicy accepts is decoded back from its v2 encoding", prop.ForAll(func(p *model.Policy) bool {
		if p.Type != model.PolicySubscription || model.ValidatePolicy(p) != nil {
			return true
		}
		if err := roundTrip(p, model.DialectV2); err != nil {
			t.Log(err)
			return false
		}
		return true
	}, genArbitraryPolicy()))
	props.Property("decoding a mutated payload is deterministic: a policy or an error, never both", prop.ForAll(
		func(p *model.Policy, seed int64) bool {
			r := rand.New(rand.NewSource(seed))
			b, err := model.EncodePolicy(p, p.Dialect)
			if err != nil {
				return false
			}
			var v any
			if json.Unmarshal(b, &v) != nil {
				return false
			}
			for range 1 + r.Intn(3) {
				v = mutate(r, v)
			}
			in, _ := json.Marshal(v)
			q1, err1 := model.DecodePolicy(in, model.Limits{})
			q2, err2 := model.DecodePolicy(in, model.Limits{})
			if (q1 == nil) == (err1 == nil) || !reflect.DeepEqual(q1, q2) || fmt.Sprint(err1) != fmt.Sprint(err2) {
				t.Logf("%s: %v / %v", in, err1, err2)
				return false
			}
			if q1 != nil && model.ValidatePolicy(q1) != nil {
				t.Logf("%s decoded to an invalid policy: %v", in, model.ValidatePolicy(q1))
				return false
			}
			return true
		}, genPolicy(model.DialectV2), func(gp *gopter.GenParameters) *gopter.GenResult {
			return gopter.NewGenResult(gp.Rng.Int63(), gopter.NoShrinker)
		}))
	props.TestingRun(t)
}

var mutations = []any{nil, true, 3, 2.5, "", "x", "null", []any{}, []any{"a"}, map[string]any{}, map[string]any{"type": nil}}

// mutate replaces, deletes or adds one random value somewhere in v.
func mutate(r *rand.Rand, v any) any {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 0 || r.Intn(4) == 0 {
			if r.Intn(2) == 0 && len(x) > 0 {
				keys := mapKeys(x)
				delete(x, keys[r.Intn(len(keys))])
			} else {
				x[pick(r, "type", "tag", "regex", "operator", "extra", "circumstances", "approvals", "entitlements")] = pick(r, mutations...)
			}
			return x
		}
		keys := mapKeys(x)
		k := keys[r.Intn(len(keys))]
		x[k] = mutate(r, x[k])
		return x
	case []any:
		if len(x) == 0 || r.Intn(4) == 0 {
			return append(x, pick(r, mutations...))
		}
		i := r.Intn(len(x))
		x[i] = mutate(r, x[i])
		return x
	default:
		return pick(r, mutations...)
	}
}

func mapKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return slices.Clip(keys)
}
