package match_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlclark/regexp2"
	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

func TestMain(m *testing.M) {
	// regexp2 checks match deadlines against a clock that ticks every 100 ms by
	// default; a finer tick keeps the timeout tests short. Set once, before any
	// match runs (the setting is not synchronised).
	regexp2.SetTimeoutCheckPeriod(5 * time.Millisecond)
	os.Exit(m.Run())
}

// policy builds a policy with the given operator and circumstances.
func policy(op model.Operator, cs ...model.Circumstance) *model.Policy {
	return &model.Policy{Name: "p", Key: "p", Type: model.PolicySubscription,
		CircumstanceOperator: op, Circumstances: cs,
		Action: model.Action{Type: model.ActionAnyone, AccessGrant: model.Read}}
}

func tags(tag string) model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceTags, Tag: tag}
}

func columnTags(tag string) model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceColumnTags, ColumnTag: tag}
}

func columnRegex(re string, caseInsensitive bool) model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceColumnRegex, Regex: re, CaseInsensitive: caseInsensitive}
}

func domains(ds ...model.Domain) model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceDomains, Domains: ds}
}

func server(s string) model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceServer, Server: s}
}

func timeRange(start, end time.Time) model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceTime, StartDate: start, EndDate: end}
}

func ownerSelected() model.Circumstance {
	return model.Circumstance{Type: model.CircumstanceOwnerSelected}
}

func cols(names ...string) []model.Column {
	out := make([]model.Column, len(names))
	for i, n := range names {
		out[i] = model.Column{Name: n}
	}
	return out
}

// catastrophic is a column regex that backtracks exponentially on the column
// name slowColumn; it times out under any short timeout.
const catastrophic = `(?=a)(a|aa)*$`

var slowColumn = strings.Repeat("a", 48) + "!"

// reference evaluates a policy on a data source straight from the rules of
// docs/semantics.md, Circumstances, without Target, keys or indexes. Regexes must not time out.
func reference(p *model.Policy, ds *model.DataSource, selected bool) match.Result {
	if len(p.Circumstances) == 0 {
		return match.Applies
	}
	hier := func(policyTag string, dsTags []string) bool {
		for _, t := range dsTags {
			if t == policyTag || strings.HasPrefix(t, policyTag+".") {
				return true
			}
		}
		return false
	}
	one := func(c model.Circumstance) bool {
		switch c.Type {
		case model.CircumstanceTags:
			return hier(c.Tag, ds.Tags)
		case model.CircumstanceColumnTags:
			for _, col := range ds.Columns {
				if hier(c.ColumnTag, col.Tags) {
					return true
				}
			}
			return false
		case model.CircumstanceColumnRegex:
			opt := regexp2.RegexOptions(regexp2.ECMAScript)
			if c.CaseInsensitive {
				opt |= regexp2.IgnoreCase
			}
			re := regexp2.MustCompile(c.Regex, opt)
			for _, col := range ds.Columns {
				if ok, err := re.MatchString(col.Name); err == nil && ok {
					return true
				}
			}
			return false
		case model.CircumstanceDomains:
			for _, want := range c.Domains {
				for _, have := range ds.Domains {
					if want.ID != "" && want.ID == have.ID || want.ID == "" && want.Name == have.Name {
						return true
					}
				}
			}
			return false
		case model.CircumstanceServer:
			return strings.EqualFold(c.Server, ds.Server)
		case model.CircumstanceTime:
			return !ds.CreatedAt.Before(c.StartDate) && (c.EndDate.IsZero() || ds.CreatedAt.Before(c.EndDate))
		case model.CircumstanceOwnerSelected:
			return selected
		}
		panic("unknown circumstance type " + c.Type)
	}
	all := p.CircumstanceOperator == model.All
	if all {
		for _, c := range p.Circumstances {
			if !one(c) {
				return match.NotApplies
			}
		}
		return match.Applies
	}
	if slices.ContainsFunc(p.Circumstances, one) {
		return match.Applies
	}
	return match.NotApplies
}
