package match_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

// FuzzCompile builds a policy from fuzzed strings — a regex, a tag (also used as
// column tag, server, domain and column name) and a circumstance type — compiles
// it and matches it. Compile must return a Matcher or a model.ErrorList with
// codes compile or notSupported, never panic; a compiled Matcher must agree with
// the indexes. The same strings also go through a v2 payload and
// model.DecodePolicy: what the decoder accepts, Compile accepts or rejects only
// for its regex.
func FuzzCompile(f *testing.F) {
	f.Add(`(a+)+$`, "Discovered", "tags", false, true)
	f.Add(`^(?=.*name)(?!.*_id).*$`, "Discovered.Healthcare NPI", "columnTags", true, false)
	f.Add(`(?<=cust_)id`, "PII", "columnRegex", false, false)
	f.Add(`[`, "", "domains", false, true)
	f.Add(`a{2,1}`, "DB.example.COM", "server", true, true)
	f.Add(`\p{L}+`, "x.y", "time", false, false)
	f.Add(`(?<n>a)\k<n>`, "a.", "null", true, false)
	f.Add(`\`, "ſ", "colour", false, true)
	f.Fuzz(func(t *testing.T, regex, tag, typ string, caseInsensitive, all bool) {
		op := model.Any
		if all {
			op = model.All
		}
		p := policy(op,
			model.Circumstance{Type: model.CircumstanceType(typ), Tag: tag, ColumnTag: tag, Regex: regex,
				CaseInsensitive: caseInsensitive, Server: tag, Domains: []model.Domain{{Name: tag}, {ID: tag}},
				StartDate: time.Unix(int64(len(tag)), 0)},
			columnRegex(regex, caseInsensitive),
		)
		compileDecoded(t, typ, tag, regex, caseInsensitive, op)
		m, err := match.Compile(p, match.WithRegexTimeout(5*time.Millisecond))
		if err != nil {
			if m != nil {
				t.Fatal("a Matcher with an error")
			}
			list := model.Errors(err)
			if len(list) == 0 || !errors.Is(err, model.ErrInvalid) {
				t.Fatalf("not a model.ErrorList: %v", err)
			}
			for _, fe := range list {
				if fe.Code != model.CodeCompile && fe.Code != model.CodeNotSupported {
					t.Fatalf("unexpected code %s: %v", fe.Code, fe)
				}
			}
			return
		}
		ds := &model.DataSource{ID: 1, Tags: []string{tag}, Server: tag, CreatedAt: time.Unix(int64(len(tag)), 0),
			Domains: []model.Domain{{ID: tag, Name: tag}},
			Columns: []model.Column{{Name: tag, Tags: []string{tag}}, {Name: regex}}}
		target := match.NewTarget(ds)
		r, err := m.Match(target, true)
		if (r == match.Indeterminate) != (err != nil) {
			t.Fatalf("result %v with error %v", r, err)
		}
		if r == match.Indeterminate {
			return // the indexes would pay the timeout again
		}
		// The indexes agree with Match.
		ix := match.NewPolicyIndex(nil)
		ix.Add(1, m)
		var fromPolicies []match.Result
		ix.Applicable(target, func(int64) bool { return true }, func(_ int64, r match.Result, _ error) {
			fromPolicies = append(fromPolicies, r)
		})
		cat := match.NewCatalogIndex(nil)
		cat.Put(target)
		var fromCatalog []match.Result
		cat.Applicable(m, []int64{1}, func(_ int64, r match.Result, _ error) {
			fromCatalog = append(fromCatalog, r)
		})
		want := 0
		if r == match.Applies {
			want = 1
		}
		if len(fromPolicies) != want || len(fromCatalog) != want {
			t.Fatalf("Match says %v; policy index %v, catalog index %v", r, fromPolicies, fromCatalog)
		}
	})
}

// compileDecoded builds a v2 payload from the fuzzed strings, decodes it and
// compiles what the decoder accepts.
func compileDecoded(t *testing.T, typ, tag, regex string, caseInsensitive bool, op model.Operator) {
	t.Helper()
	c := map[string]any{"type": typ}
	switch typ {
	case "tags":
		c["tag"] = tag
	case "columnTags":
		c["columnTag"] = tag
	case "columnRegex":
		c["regex"], c["caseInsensitive"] = regex, caseInsensitive
	case "domains":
		c["domains"] = []any{map[string]any{"name": tag}}
	case "server":
		c["server"] = tag
	case "time":
		c["startDate"] = "2024-01-01"
	}
	payload, err := json.Marshal(map[string]any{
		"name": "fuzz", "policyKey": "fuzz", "type": "subscription", "actions": map[string]any{"type": "anyone"},
		"circumstanceOperator": string(op),
		"circumstances":        []any{c, map[string]any{"type": "columnRegex", "regex": regex, "caseInsensitive": caseInsensitive}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := model.DecodePolicy(payload, model.DefaultLimits())
	if err != nil {
		return
	}
	m, err := match.Compile(p, match.WithRegexTimeout(5*time.Millisecond))
	if err != nil {
		for _, fe := range model.Errors(err) {
			if fe.Code != model.CodeCompile {
				t.Fatalf("decoded policy rejected by Compile: %v", fe)
			}
		}
		return
	}
	target := match.NewTarget(&model.DataSource{ID: 1, Tags: []string{tag}, Columns: []model.Column{{Name: tag, Tags: []string{tag}}}})
	if r, err := m.Match(target, false); (r == match.Indeterminate) != (err != nil) {
		t.Fatalf("result %v with error %v", r, err)
	}
}
