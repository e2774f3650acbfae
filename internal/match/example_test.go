package match_test

import (
	"fmt"

	"github.com/tollgate-dev/tollgate/internal/match"
	"github.com/tollgate-dev/tollgate/model"
)

func Example() {
	// A policy on data sources tagged Discovered (or below it) on one server.
	p := &model.Policy{ID: 1, CircumstanceOperator: model.All, Circumstances: []model.Circumstance{
		{Type: model.CircumstanceTags, Tag: "Discovered"},
		{Type: model.CircumstanceServer, Server: "db.example.com"},
	}}
	m, err := match.Compile(p)
	if err != nil {
		fmt.Println(err)
		return
	}
	catalog := []*model.DataSource{
		{ID: 10, Tags: []string{"Discovered.Healthcare NPI"}, Server: "DB.EXAMPLE.COM"},
		{ID: 11, Tags: []string{"DiscoveredX"}, Server: "db.example.com"},
		{ID: 12, Tags: []string{"Discovered"}, Server: "other.example.com"},
	}

	// One policy, one data source.
	for _, ds := range catalog {
		r, _ := m.Match(match.NewTarget(ds), false)
		fmt.Println(ds.ID, r)
	}

	// Which policies apply to data source 10?
	ix := match.NewPolicyIndex(nil)
	ix.Add(p.ID, m)
	ix.Applicable(match.NewTarget(catalog[0]), nil, func(id int64, r match.Result, err error) {
		fmt.Println("policy", id, r)
	})

	// On which data sources does policy 1 apply?
	cat := match.NewCatalogIndex(nil)
	for _, ds := range catalog {
		cat.Put(match.NewTarget(ds))
	}
	cat.Applicable(m, nil, func(id int64, r match.Result, err error) {
		fmt.Println("data source", id, r)
	})

	// A regex that does not compile is a field error.
	_, err = match.Compile(&model.Policy{Circumstances: []model.Circumstance{
		{Type: model.CircumstanceColumnRegex, Regex: "(ssn"},
	}})
	for _, fe := range model.Errors(err) {
		fmt.Println(fe.Path, fe.Code)
	}
	// Output:
	// 10 Applies
	// 11 NotApplies
	// 12 NotApplies
	// policy 1 Applies
	// data source 10 Applies
	// circumstances[0].regex compile
}
