package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
)

// opaDecider evaluates a prepared query on pre-parsed inputs.
type opaDecider struct {
	pq     rego.PreparedEvalQuery
	inputs []ast.Value
}

// opaInputs converts each request of the sample to an AST value once:
// {"user": {"groups": [...]}, "resource": {"tagPrefixes": [...]}}.
func opaInputs(w *workload) ([]ast.Value, error) {
	out := make([]ast.Value, len(w.reqs))
	for i, r := range w.reqs {
		groups := make([]any, 0, len(w.userGroups[r[0]]))
		for _, g := range w.userGroups[r[0]] {
			groups = append(groups, groupName(g))
		}
		prefixes := make([]any, 0, 4)
		for _, t := range w.tagPrefixes(r[1]) {
			prefixes = append(prefixes, t)
		}
		v, err := ast.InterfaceToValue(map[string]any{
			"user":     map[string]any{"groups": groups},
			"resource": map[string]any{"tagPrefixes": prefixes},
		})
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// newOPAIndexed writes one rule per policy in the shape OPA's rule index handles:
// equality of a constant with an element of an input array (input.x[_] == "v"),
// which v1/ast/index.go indexes as membership, so evaluation looks at the rules
// whose group and tag prefix occur in the input rather than at all of them.
func newOPAIndexed(w *workload, n int) (decider, error) {
	var sb strings.Builder
	sb.WriteString("package tollgate\n\ndefault allow := false\n")
	for i := range n {
		fmt.Fprintf(&sb, "\nallow if {\n\tinput.user.groups[_] == %q\n\tinput.resource.tagPrefixes[_] == %q\n}\n",
			groupName(i), topicTag(i))
	}
	return newOPADecider(w, "indexed.rego", sb.String(), nil)
}

// opaDataModule is the policies-as-data encoding: one generic rule over
// data.policies, a list of {group, tag}.
const opaDataModule = `package tollgate

default allow := false

allow if {
	some p in data.policies
	p.group in input.user.groups
	p.tag in input.resource.tagPrefixes
}
`

func newOPAData(w *workload, n int) (decider, error) {
	policies := make([]any, n)
	for i := range policies {
		policies[i] = map[string]any{"group": groupName(i), "tag": topicTag(i)}
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{"policies": policies},
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	return newOPADecider(w, "data.rego", opaDataModule, store)
}

// opaIndexModule is the index-as-data encoding: data.idx maps a group to the tags
// its policies name, so a request costs one lookup per (input group, tag prefix)
// pair whatever the number of policies: OPA at its best without one rule per
// policy.
const opaIndexModule = `package tollgate

default allow := false

allow if {
	some g in input.user.groups
	some t in input.resource.tagPrefixes
	data.idx[g][t]
}
`

func newOPAIndexData(w *workload, n int) (decider, error) {
	idx := map[string]any{}
	for i := range n {
		g := groupName(i)
		tags, _ := idx[g].(map[string]any)
		if tags == nil {
			tags = map[string]any{}
			idx[g] = tags
		}
		tags[topicTag(i)] = true
	}
	store := inmem.NewFromObjectWithOpts(map[string]any{"idx": idx},
		inmem.OptRoundTripOnWrite(false), inmem.OptReturnASTValuesOnRead(true))
	return newOPADecider(w, "index.rego", opaIndexModule, store)
}

// newOPADecider prepares the query data.tollgate.allow over one module (and, when
// store is not nil, its data) and the workload's inputs.
func newOPADecider(w *workload, name, module string, store storage.Store) (decider, error) {
	opts := []func(*rego.Rego){rego.Query("data.tollgate.allow"), rego.Module(name, module)}
	if store != nil {
		opts = append(opts, rego.Store(store))
	}
	pq, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		return nil, err
	}
	inputs, err := opaInputs(w)
	if err != nil {
		return nil, err
	}
	return &opaDecider{pq: pq, inputs: inputs}, nil
}

func (o *opaDecider) decide(i int) (bool, error) {
	rs, err := o.pq.Eval(context.Background(), rego.EvalParsedInput(o.inputs[i]))
	if err != nil {
		return false, err
	}
	if len(rs) != 1 {
		return false, fmt.Errorf("opa: %d results", len(rs))
	}
	return rs.Allowed(), nil
}
